// h5/writer.cpp — the atomic, optionally parallel HDF5 writer (see writer.hpp).
#include "h5/writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <exception>
#include <filesystem>
#include <random>

#include "dist/dist.hpp"
#include "h5/hdf5_handles.h"
#include "ram/error.hpp"

namespace ram::h5 {

using detail::Id;

namespace {

std::string unique_suffix() {
  std::random_device rd;
  std::uint64_t r = (std::uint64_t(rd()) << 32) ^ rd();
  char buf[64];
  std::snprintf(buf, sizeof buf, "%d-%012llx", static_cast<int>(getpid()),
                static_cast<unsigned long long>(r & 0xffffffffffffULL));
  return buf;
}

// fsync a file or directory by name; best effort (some file systems refuse directories).
void sync_path(const std::string& p, bool directory) {
  int fd = ::open(p.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

// Rank 0's part of finalize: make the bytes durable, then the name.
std::string publish(const std::string& temp, const std::string& path) {
  sync_path(temp, false);
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) return "cannot rename '" + temp + "' to '" + path + "': " + ec.message();
  auto dir = std::filesystem::path(path).parent_path();
  sync_path(dir.empty() ? "." : dir.string(), true);
  return {};
}

}  // namespace

Writer::Writer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Writer::Writer(Writer&&) noexcept = default;
Writer& Writer::operator=(Writer&&) noexcept = default;

Writer::~Writer() {
  if (!impl_ || impl_->finalized) return;
  if (impl_->parallel && std::uncaught_exceptions() > 0) {
    // The peers may be elsewhere; a collective close could hang this rank forever.
    impl_->lcpl.leak();
    impl_->dxpl.leak();
    impl_->file.leak();
    return;
  }
  impl_->lcpl.reset();
  impl_->dxpl.reset();
  impl_->file.reset();  // the temp file stays; the final name is never touched
}

const std::string& Writer::path() const { return impl_->path; }
const std::string& Writer::temp_path() const { return impl_->temp; }
bool Writer::parallel() const { return impl_->parallel; }
bool Writer::finalized() const { return impl_->finalized; }

Writer Writer::create(const std::string& path, bool parallel) {
  detail::init_library();
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->parallel = parallel && dist::initialized() && dist::size() > 1;
  if (impl->parallel) {
    impl->rank = dist::rank();
    impl->size = dist::size();
  }
  std::string suffix = unique_suffix();
  if (impl->parallel) dist::broadcast(suffix, 0);
  impl->temp = path + ".tmp-" + suffix;

  Id fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_EARLIEST, H5F_LIBVER_V18);
  Id dxpl(H5Pcreate(H5P_DATASET_XFER), H5Pclose);
  if (impl->parallel) {
    H5Pset_fapl_mpio(fapl.get(), MPI_COMM_WORLD, MPI_INFO_NULL);
    H5Pset_all_coll_metadata_ops(fapl.get(), 1);
    H5Pset_coll_metadata_write(fapl.get(), 1);
    H5Pset_dxpl_mpio(dxpl.get(), H5FD_MPIO_COLLECTIVE);
  }
  hid_t f = H5Fcreate(impl->temp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get());
  if (f < 0) {
    std::string why = detail::last_hdf5_message();
    throw Error("cannot create '" + impl->temp + "'" + (why.empty() ? "" : ": " + why),
                path, "check that the directory exists and is writable");
  }
  impl->file = Id(f, H5Fclose);
  impl->dxpl = std::move(dxpl);
  impl->lcpl = Id(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  H5Pset_create_intermediate_group(impl->lcpl.get(), 1);
  return Writer(std::move(impl));
}

void Writer::Impl::require_open(const char* op) const {
  if (finalized || !file.valid())
    throw Error(std::string("h5::Writer::") + op + " after finalize()", path,
                "write everything before finalize()");
}

std::pair<std::int64_t, std::int64_t> Writer::Impl::layout(std::int64_t n) const {
  if (!parallel) return {0, n};
  return {dist::exclusive_scan(n), dist::all_reduce(n)};
}

void Writer::Impl::agree(std::string& bytes) const {
  if (parallel) dist::broadcast(bytes, 0);
}

Id Writer::Impl::open_object(const std::string& object) {
  std::string p = detail::absolute(object);
  if (!detail::exists(file.get(), p)) {
    Id g(H5Gcreate2(file.get(), p.c_str(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
    detail::check(g.get(), "cannot create group", temp, p);
    return g;
  }
  Id o(H5Oopen(file.get(), p.c_str(), H5P_DEFAULT), H5Oclose);
  detail::check(o.get(), "cannot open object", temp, p);
  return o;
}

void Writer::Impl::write_1d(const std::string& name, hid_t type, std::int64_t total,
                            std::int64_t offset, std::int64_t n, const void* data) {
  require_open("write");
  std::string p = detail::absolute(name);
  if (detail::exists(file.get(), p))
    throw FormatError("dataset '" + p + "' written twice", path, "use a new name");
  hsize_t dims = static_cast<hsize_t>(total);
  Id fspace(H5Screate_simple(1, &dims, nullptr), H5Sclose);
  Id dset(H5Dcreate2(file.get(), p.c_str(), type, fspace.get(), lcpl.get(), H5P_DEFAULT,
                     H5P_DEFAULT),
          H5Dclose);
  detail::check(dset.get(), "cannot create dataset", temp, p);
  // Nothing to write anywhere (every rank knows total): a parallel write into an empty,
  // never-allocated dataset fails, so all ranks skip it together.
  if (total == 0) return;
  hsize_t count = static_cast<hsize_t>(n), start = static_cast<hsize_t>(offset);
  Id mspace(H5Screate_simple(1, &count, nullptr), H5Sclose);
  if (n > 0) {
    H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, &start, nullptr, &count, nullptr);
  } else {
    H5Sselect_none(fspace.get());
    H5Sselect_none(mspace.get());
  }
  static const char dummy[8] = {};
  if (H5Dwrite(dset.get(), type, mspace.get(), fspace.get(), dxpl.get(), n > 0 ? data : dummy) < 0)
    detail::fail("cannot write dataset", temp, p);
}

Id Writer::Impl::write_root(const std::string& name, hid_t type,
                            const std::vector<std::int64_t>& dims, const void* data) {
  require_open("write");
  std::string p = detail::absolute(name);
  if (detail::exists(file.get(), p))
    throw FormatError("dataset '" + p + "' written twice", path, "use a new name");
  std::vector<hsize_t> d(dims.begin(), dims.end());
  Id fspace(d.empty() ? H5Screate(H5S_SCALAR)
                      : H5Screate_simple(static_cast<int>(d.size()), d.data(), nullptr),
            H5Sclose);
  Id dset(H5Dcreate2(file.get(), p.c_str(), type, fspace.get(), lcpl.get(), H5P_DEFAULT,
                     H5P_DEFAULT),
          H5Dclose);
  detail::check(dset.get(), "cannot create dataset", temp, p);
  if (H5Sget_simple_extent_npoints(fspace.get()) == 0) return dset;  // same on every rank
  Id mspace(H5Scopy(fspace.get()), H5Sclose);
  bool mine = rank == 0;
  if (!mine) {
    H5Sselect_none(fspace.get());
    H5Sselect_none(mspace.get());
  }
  static const char dummy[8] = {};
  if (H5Dwrite(dset.get(), type, mspace.get(), fspace.get(), dxpl.get(),
               mine && data ? data : dummy) < 0)
    detail::fail("cannot write dataset", temp, p);
  return dset;
}

void Writer::create_group(const std::string& group) {
  impl_->require_open("create_group");
  impl_->open_object(group);
}

void Writer::set_attr(const std::string& object, const std::string& key,
                      const std::string& value) {
  impl_->require_open("set_attr");
  std::string v = value;
  impl_->agree(v);
  Id o = impl_->open_object(object);
  detail::write_string_attr(o.get(), key, v);
}

void Writer::set_attr_int(const std::string& object, const std::string& key, std::int64_t value) {
  impl_->require_open("set_attr");
  std::string bytes(reinterpret_cast<const char*>(&value), sizeof value);
  impl_->agree(bytes);
  std::memcpy(&value, bytes.data(), sizeof value);
  Id o = impl_->open_object(object);
  Id space(H5Screate(H5S_SCALAR), H5Sclose);
  detail::write_attr(o.get(), key, H5T_NATIVE_INT64, space.get(), &value);
}

void Writer::set_attr(const std::string& object, const std::string& key, double value) {
  impl_->require_open("set_attr");
  std::string bytes(reinterpret_cast<const char*>(&value), sizeof value);
  impl_->agree(bytes);
  std::memcpy(&value, bytes.data(), sizeof value);
  Id o = impl_->open_object(object);
  Id space(H5Screate(H5S_SCALAR), H5Sclose);
  detail::write_attr(o.get(), key, H5T_NATIVE_DOUBLE, space.get(), &value);
}

void Writer::set_attr(const std::string& object, const std::string& key,
                      const std::vector<std::string>& values) {
  impl_->require_open("set_attr");
  std::vector<std::string> v = values;
  if (impl_->parallel) {  // rank 0's list on every rank: count, then each item
    std::string count = std::to_string(v.size());
    impl_->agree(count);
    v.resize(std::stoull(count));
    for (auto& s : v) impl_->agree(s);
  }
  Id o = impl_->open_object(object);
  detail::write_strings_attr(o.get(), key, v);
}

template <class T>
void Writer::write_array(const std::string& name, const T* data, std::int64_t n) {
  auto [offset, total] = impl_->layout(n);
  impl_->write_1d(name, detail::native_type<T>(), total, offset, n, data);
}

#define RAM_H5_ARRAY(T) \
  template void Writer::write_array<T>(const std::string&, const T*, std::int64_t);
RAM_H5_ARRAY(std::int64_t)
RAM_H5_ARRAY(std::int32_t)
RAM_H5_ARRAY(std::uint16_t)
RAM_H5_ARRAY(std::uint8_t)
RAM_H5_ARRAY(float)
RAM_H5_ARRAY(double)
#undef RAM_H5_ARRAY

namespace {
// Local flat data + local offsets → two collective writes with the global layout.
template <class Flat>
void write_flat_with_offsets(Writer::Impl& w, const std::string& name, hid_t type,
                             const Flat& flat, const std::vector<std::int64_t>& local_starts) {
  auto n_items = static_cast<std::int64_t>(local_starts.size());
  auto n_elems = static_cast<std::int64_t>(flat.size());
  auto [elem_base, elem_total] = w.layout(n_elems);
  auto [item_base, item_total] = w.layout(n_items);
  w.write_1d(name, type, elem_total, elem_base, n_elems, flat.data());
  // offsets: item i's global start; the last rank also writes the closing entry (= total).
  std::vector<std::int64_t> offs;
  offs.reserve(local_starts.size() + 1);
  for (auto s : local_starts) offs.push_back(elem_base + s);
  if (w.rank == w.size - 1) offs.push_back(elem_total);
  w.write_1d(name + "_offsets", H5T_NATIVE_INT64, item_total + 1, item_base,
             static_cast<std::int64_t>(offs.size()), offs.data());
}
}  // namespace

void Writer::write_ragged(const std::string& name, const std::vector<std::string>& local_items) {
  std::string flat;
  std::vector<std::int64_t> starts;
  starts.reserve(local_items.size());
  size_t bytes = 0;
  for (const auto& s : local_items) bytes += s.size();
  flat.reserve(bytes);
  for (const auto& s : local_items) {
    starts.push_back(static_cast<std::int64_t>(flat.size()));
    flat += s;
  }
  write_flat_with_offsets(*impl_, name, H5T_NATIVE_UINT8, flat, starts);
}

void Writer::write_ragged_ids(const std::string& name,
                              const std::vector<std::vector<std::int32_t>>& local_items) {
  std::vector<std::int32_t> flat;
  std::vector<std::int64_t> starts;
  starts.reserve(local_items.size());
  for (const auto& v : local_items) {
    starts.push_back(static_cast<std::int64_t>(flat.size()));
    flat.insert(flat.end(), v.begin(), v.end());
  }
  write_flat_with_offsets(*impl_, name, H5T_NATIVE_INT32, flat, starts);
}

void Writer::write_vlen_strings(const std::string& name, const std::vector<std::string>& items) {
  impl_->require_open("write_vlen_strings");
  if (impl_->parallel)
    throw NotSupported("parallel HDF5 cannot write variable-length strings", name,
                       "use write_ragged (flat bytes + offsets)");
  Id type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  std::vector<const char*> ptrs;
  ptrs.reserve(items.size());
  for (const auto& s : items) ptrs.push_back(s.c_str());
  std::string p = detail::absolute(name);
  hsize_t n = items.size();
  Id space(H5Screate_simple(1, &n, nullptr), H5Sclose);
  Id dset(H5Dcreate2(impl_->file.get(), p.c_str(), type.get(), space.get(), impl_->lcpl.get(),
                     H5P_DEFAULT, H5P_DEFAULT),
          H5Dclose);
  detail::check(dset.get(), "cannot create dataset", impl_->temp, p);
  if (n > 0 && H5Dwrite(dset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()) < 0)
    detail::fail("cannot write dataset", impl_->temp, p);
}

void Writer::finalize() {
  impl_->require_open("finalize");
  Impl& w = *impl_;
  if (H5Fflush(w.file.get(), H5F_SCOPE_GLOBAL) < 0) detail::fail("cannot flush", w.temp, "/");
  w.lcpl.reset();
  w.dxpl.reset();
  if (w.file.reset() < 0) detail::fail("cannot close", w.temp, "/");
  w.finalized = true;
  std::string problem;
  if (w.rank == 0) problem = publish(w.temp, w.path);
  if (w.parallel) dist::broadcast(problem, 0);  // also the barrier: the name exists now
  if (!problem.empty())
    throw Error(problem, w.path, "check free space and permissions of the directory");
}

}  // namespace ram::h5
