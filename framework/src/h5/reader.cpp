// h5/reader.cpp — serial, read-only access to our HDF5 files (see reader.hpp).
#include "h5/reader.hpp"

#include <algorithm>
#include <filesystem>
#include <type_traits>

#include "h5/hdf5_handles.h"
#include "ram/error.hpp"

namespace ram::h5 {

using detail::Id;

namespace {
std::string file_size_text(const std::string& path) {
  std::error_code ec;
  auto n = std::filesystem::file_size(path, ec);
  return ec ? std::string("size unknown") : std::to_string(n) + " bytes";
}
}  // namespace

Reader::Reader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Reader::Reader(Reader&&) noexcept = default;
Reader& Reader::operator=(Reader&&) noexcept = default;
Reader::~Reader() = default;

const std::string& Reader::path() const { return impl_->path; }

Reader Reader::open(const std::string& path) {
  detail::init_library();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    throw FormatError("cannot open '" + path + "': no such file", path,
                      "check the path (the stage that writes it may not have finished)");
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) {
    std::string why = detail::last_hdf5_message();
    throw FormatError("cannot open '" + path + "': not an HDF5 file or truncated (" +
                          file_size_text(path) + (why.empty() ? "" : "; HDF5: " + why) + ")",
                      path,
                      "re-create it by re-running the stage that wrote it (complete files are "
                      "only ever published under their final name, so this one was copied or "
                      "damaged afterwards)");
  }
  impl->file = Id(f, H5Fclose);
  return Reader(std::move(impl));
}

Id Reader::Impl::open_object(const std::string& object) const {
  std::string p = detail::absolute(object);
  if (!detail::exists(file.get(), p))
    throw FormatError("no object '" + p + "' in '" + path + "'", path + ":" + p,
                      "`ram inspect " + path + "` lists what the file holds");
  Id o(H5Oopen(file.get(), p.c_str(), H5P_DEFAULT), H5Oclose);
  detail::check(o.get(), "cannot open object", path, p);
  return o;
}

Id Reader::Impl::open_dataset(const std::string& name) const {
  std::string p = detail::absolute(name);
  if (!detail::exists(file.get(), p))
    throw FormatError("no dataset '" + p + "' in '" + path + "'", path + ":" + p,
                      "`ram inspect " + path + "` lists what the file holds");
  Id d(H5Dopen2(file.get(), p.c_str(), H5P_DEFAULT), H5Dclose);
  if (!d.valid())
    detail::fail("'" + p + "' is not a readable dataset", path, p);
  return d;
}

std::int64_t Reader::Impl::length(hid_t dset, const std::string& name) const {
  Id space(H5Dget_space(dset), H5Sclose);
  if (H5Sget_simple_extent_ndims(space.get()) != 1)
    throw FormatError("dataset '" + detail::absolute(name) + "' in '" + path + "' is not 1-D",
                      path + ":" + detail::absolute(name), "read it with read_tensor");
  hsize_t n = 0;
  H5Sget_simple_extent_dims(space.get(), &n, nullptr);
  return static_cast<std::int64_t>(n);
}

void Reader::Impl::read_1d(hid_t dset, const std::string& name, hid_t mem_type,
                           std::int64_t begin, std::int64_t end, void* out) const {
  std::string p = detail::absolute(name);
  std::int64_t n = length(dset, name);
  if (begin < 0 || end < begin || end > n)
    throw Error("range [" + std::to_string(begin) + ", " + std::to_string(end) +
                    ") outside dataset '" + p + "' of " + std::to_string(n) + " elements",
                path + ":" + p);
  if (end == begin) return;
  Id fspace(H5Dget_space(dset), H5Sclose);
  hsize_t start = begin, count = end - begin;
  H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, &start, nullptr, &count, nullptr);
  Id mspace(H5Screate_simple(1, &count, nullptr), H5Sclose);
  if (H5Dread(dset, mem_type, mspace.get(), fspace.get(), H5P_DEFAULT, out) < 0)
    detail::fail("cannot read dataset '" + p + "'", path, p,
                 "the file is damaged or truncated; re-create it");
}

bool Reader::has(const std::string& name) const { return detail::exists(impl_->file.get(), name); }

bool Reader::is_group(const std::string& name) const {
  Id o = impl_->open_object(name);
  return H5Iget_type(o.get()) == H5I_GROUP;
}

std::vector<std::string> Reader::list(const std::string& group) const {
  Id g = impl_->open_object(group);
  if (H5Iget_type(g.get()) != H5I_GROUP)
    throw FormatError("'" + detail::absolute(group) + "' in '" + impl_->path + "' is not a group",
                      impl_->path + ":" + detail::absolute(group));
  H5G_info_t info;
  if (H5Gget_info(g.get(), &info) < 0) detail::fail("cannot list group", impl_->path, group);
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    ssize_t len = H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0,
                                     H5P_DEFAULT);
    if (len < 0) detail::fail("cannot list group", impl_->path, group);
    std::string s(len + 1, '\0');
    H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, s.data(), s.size(),
                       H5P_DEFAULT);
    s.resize(len);
    names.push_back(s);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::int64_t> Reader::shape(const std::string& name) const {
  Id d = impl_->open_dataset(name);
  Id space(H5Dget_space(d.get()), H5Sclose);
  int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> dims(rank > 0 ? rank : 0);
  if (rank > 0) H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  return {dims.begin(), dims.end()};
}

template <class T>
std::vector<T> Reader::read_array(const std::string& name, std::int64_t begin,
                                  std::int64_t end) const {
  Id d = impl_->open_dataset(name);
  Id ftype(H5Dget_type(d.get()), H5Tclose);
  H5T_class_t cls = H5Tget_class(ftype.get());
  bool ok = std::is_integral_v<T> ? cls == H5T_INTEGER : cls == H5T_FLOAT;
  if (!ok)
    throw FormatError("dataset '" + detail::absolute(name) + "' in '" + impl_->path + "' holds " +
                          detail::type_name(ftype.get()) + ", which does not read as " +
                          detail::type_name(detail::native_type<T>()),
                      impl_->path + ":" + detail::absolute(name),
                      "`ram inspect " + impl_->path + "` shows each dataset's type");
  std::vector<T> out(end > begin ? end - begin : 0);
  impl_->read_1d(d.get(), name, detail::native_type<T>(), begin, end, out.data());
  return out;
}

template <class T>
std::vector<T> Reader::read_array(const std::string& name) const {
  Id d = impl_->open_dataset(name);
  std::int64_t n = impl_->length(d.get(), name);
  return read_array<T>(name, 0, n);
}

#define RAM_H5_READ(T)                                                             \
  template std::vector<T> Reader::read_array<T>(const std::string&) const;         \
  template std::vector<T> Reader::read_array<T>(const std::string&, std::int64_t, \
                                                std::int64_t) const;
RAM_H5_READ(std::int64_t)
RAM_H5_READ(std::int32_t)
RAM_H5_READ(std::uint16_t)
RAM_H5_READ(std::uint8_t)
RAM_H5_READ(float)
RAM_H5_READ(double)
#undef RAM_H5_READ

// ---- ragged ---------------------------------------------------------------------------

std::int64_t Reader::ragged_size(const std::string& name) const {
  Id o = impl_->open_dataset(name + "_offsets");
  std::int64_t n = impl_->length(o.get(), name + "_offsets");
  if (n < 1)
    throw FormatError("corrupt ragged data '" + detail::absolute(name) + "' in '" + impl_->path +
                          "': empty offsets (needs N+1 entries)",
                      impl_->path + ":" + detail::absolute(name) + "_offsets", "re-create the file");
  return n - 1;
}

std::vector<std::int64_t> Reader::ragged_offsets(const std::string& name, std::int64_t begin,
                                                 std::int64_t end,
                                                 std::int64_t* data_len) const {
  std::string p = detail::absolute(name);
  std::int64_t n = ragged_size(name);
  Id data = impl_->open_dataset(name);
  *data_len = impl_->length(data.get(), name);
  auto corrupt = [&](const std::string& why) {
    return FormatError("corrupt ragged data '" + p + "' in '" + impl_->path + "': " + why,
                       impl_->path + ":" + p + "_offsets", "re-create the file");
  };
  if (begin < 0 || end < begin || end > n)
    throw Error("items [" + std::to_string(begin) + ", " + std::to_string(end) +
                    ") outside ragged '" + p + "' of " + std::to_string(n) + " items",
                impl_->path + ":" + p);
  auto ends = read_array<std::int64_t>(name + "_offsets", 0, 1);
  auto last = read_array<std::int64_t>(name + "_offsets", n, n + 1);
  if (ends[0] != 0) throw corrupt("first offset is " + std::to_string(ends[0]) + ", not 0");
  if (last[0] != *data_len)
    throw corrupt("last offset " + std::to_string(last[0]) + " != data length " +
                  std::to_string(*data_len));
  auto offs = read_array<std::int64_t>(name + "_offsets", begin, end + 1);
  for (size_t i = 1; i < offs.size(); ++i)
    if (offs[i] < offs[i - 1])
      throw corrupt("offsets not monotone at item " + std::to_string(begin + i - 1));
  if (offs.front() < 0 || offs.back() > *data_len) throw corrupt("offset outside the data");
  return offs;
}

std::vector<std::string> Reader::read_ragged(const std::string& name, std::int64_t begin,
                                             std::int64_t end) const {
  std::int64_t len = 0;
  auto offs = ragged_offsets(name, begin, end, &len);
  auto bytes = read_array<std::uint8_t>(name, offs.front(), offs.back());
  std::vector<std::string> out;
  out.reserve(end - begin);
  const char* base = reinterpret_cast<const char*>(bytes.data());
  for (size_t i = 0; i + 1 < offs.size(); ++i)
    out.emplace_back(base + (offs[i] - offs.front()), offs[i + 1] - offs[i]);
  return out;
}

std::vector<std::string> Reader::read_ragged(const std::string& name) const {
  return read_ragged(name, 0, ragged_size(name));
}

std::vector<std::vector<std::int32_t>> Reader::read_ragged_ids(const std::string& name,
                                                               std::int64_t begin,
                                                               std::int64_t end) const {
  std::int64_t len = 0;
  auto offs = ragged_offsets(name, begin, end, &len);
  auto flat = read_array<std::int32_t>(name, offs.front(), offs.back());
  std::vector<std::vector<std::int32_t>> out;
  out.reserve(end - begin);
  for (size_t i = 0; i + 1 < offs.size(); ++i)
    out.emplace_back(flat.begin() + (offs[i] - offs.front()),
                     flat.begin() + (offs[i + 1] - offs.front()));
  return out;
}

std::vector<std::vector<std::int32_t>> Reader::read_ragged_ids(const std::string& name) const {
  return read_ragged_ids(name, 0, ragged_size(name));
}

std::vector<std::string> Reader::read_vlen_strings(const std::string& name) const {
  Id d = impl_->open_dataset(name);
  std::string p = detail::absolute(name);
  Id ftype(H5Dget_type(d.get()), H5Tclose);
  if (H5Tget_class(ftype.get()) != H5T_STRING)
    throw FormatError("dataset '" + p + "' in '" + impl_->path + "' is not a string dataset",
                      impl_->path + ":" + p);
  std::int64_t n = impl_->length(d.get(), name);
  std::vector<std::string> out;
  out.reserve(n);
  if (H5Tis_variable_str(ftype.get()) > 0) {
    Id mtype(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mtype.get(), H5T_VARIABLE);
    H5Tset_cset(mtype.get(), H5Tget_cset(ftype.get()));
    std::vector<char*> ptrs(n);
    if (n > 0 && H5Dread(d.get(), mtype.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()) < 0)
      detail::fail("cannot read strings", impl_->path, p);
    for (char* s : ptrs) out.emplace_back(s ? s : "");
    if (n > 0) {
      Id space(H5Dget_space(d.get()), H5Sclose);
      H5Dvlen_reclaim(mtype.get(), space.get(), H5P_DEFAULT, ptrs.data());
    }
  } else {
    size_t w = H5Tget_size(ftype.get());
    std::vector<char> buf(n * w);
    if (n > 0 && H5Dread(d.get(), ftype.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()) < 0)
      detail::fail("cannot read strings", impl_->path, p);
    for (std::int64_t i = 0; i < n; ++i) {
      std::string s(buf.data() + i * w, w);
      s.resize(s.find('\0') == std::string::npos ? w : s.find('\0'));
      out.push_back(s);
    }
  }
  return out;
}

}  // namespace ram::h5
