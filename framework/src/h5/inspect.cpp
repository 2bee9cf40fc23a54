// h5/inspect.cpp — the text of `ram inspect FILE`: groups, datasets, ragged pairs,
// attributes. Reads through the same checks as Reader (a truncated file is a FormatError).
#include <filesystem>
#include <set>
#include <sstream>

#include "h5/hdf5_handles.h"
#include "h5/reader.hpp"
#include "ram/error.hpp"

namespace ram::h5 {

using detail::Id;

namespace {

constexpr size_t kShortAttr = 72;  // longer (or multi-line) values are cut unless full

std::string shorten(const std::string& v, bool full, const std::string& indent) {
  bool multiline = v.find('\n') != std::string::npos;
  if (full) {
    if (!multiline) return v;
    std::string out = "|\n" + indent + "  ";
    for (char c : v) out += c == '\n' ? "\n" + indent + "  " : std::string(1, c);
    return out;
  }
  if (!multiline && v.size() <= kShortAttr) return v;
  std::string first = v.substr(0, v.find('\n'));
  if (first.size() > 60) first = first.substr(0, 60);
  return first + " ... (" + std::to_string(v.size()) + " chars; --attrs-full shows all)";
}

void print_attrs(std::ostream& os, hid_t obj, const std::string& indent, bool full,
                 const std::set<std::string>& skip = {}) {
  for (const auto& key : detail::attr_names(obj)) {
    if (skip.count(key)) continue;
    os << indent << "@" << key << " = " << shorten(detail::attr_text(obj, key), full, indent)
       << "\n";
  }
}

std::string dims_text(hid_t dset, hssize_t* count) {
  Id space(H5Dget_space(dset), H5Sclose);
  int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> d(rank > 0 ? rank : 0);
  if (rank > 0) H5Sget_simple_extent_dims(space.get(), d.data(), nullptr);
  *count = H5Sget_simple_extent_npoints(space.get());
  std::string s = "[";
  for (size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
  return s + "]";
}

std::int64_t length_1d(hid_t dset) {
  Id space(H5Dget_space(dset), H5Sclose);
  if (H5Sget_simple_extent_ndims(space.get()) != 1) return -1;
  hsize_t n = 0;
  H5Sget_simple_extent_dims(space.get(), &n, nullptr);
  return static_cast<std::int64_t>(n);
}

class Walker {
 public:
  Walker(std::ostream& os, hid_t file, std::string path, bool full)
      : os_(os), file_(file), path_(std::move(path)), full_(full) {}

  void group(const std::string& gpath) {
    Id g(H5Gopen2(file_, gpath.c_str(), H5P_DEFAULT), H5Gclose);
    detail::check(g.get(), "cannot open group", path_, gpath);
    os_ << gpath << (gpath == "/" ? "" : "/") << "\n";
    print_attrs(os_, g.get(), "  ", full_);
    auto names = children(g.get(), gpath);
    std::set<std::string> set(names.begin(), names.end());
    std::vector<std::string> subgroups;
    for (const auto& n : names) {
      std::string child = (gpath == "/" ? "/" : gpath + "/") + n;
      Id o(H5Oopen(file_, child.c_str(), H5P_DEFAULT), H5Oclose);
      detail::check(o.get(), "cannot open object", path_, child);
      if (H5Iget_type(o.get()) == H5I_GROUP) {
        subgroups.push_back(child);
        continue;
      }
      // The offsets half of a ragged pair is shown with its data.
      bool is_offsets = n.size() > 8 && n.compare(n.size() - 8, 8, "_offsets") == 0 &&
                        set.count(n.substr(0, n.size() - 8)) && ragged(g.get(), n.substr(0, n.size() - 8));
      if (is_offsets) continue;
      if (set.count(n + "_offsets") && ragged(g.get(), n))
        ragged_line(g.get(), n);
      else
        dataset_line(o.get(), n);
    }
    for (const auto& s : subgroups) group(s);
  }

 private:
  std::vector<std::string> children(hid_t g, const std::string& gpath) {
    H5G_info_t info;
    if (H5Gget_info(g, &info) < 0) detail::fail("cannot list group", path_, gpath);
    std::vector<std::string> names;
    for (hsize_t i = 0; i < info.nlinks; ++i) {
      ssize_t len =
          H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
      if (len < 0) detail::fail("cannot list group", path_, gpath);
      std::string s(len + 1, '\0');
      H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, s.data(), s.size(), H5P_DEFAULT);
      s.resize(len);
      names.push_back(s);
    }
    return names;
  }

  // <name> 1-D and <name>_offsets 1-D integer with at least one entry.
  bool ragged(hid_t g, const std::string& name) {
    Id d(H5Dopen2(g, name.c_str(), H5P_DEFAULT), H5Dclose);
    Id o(H5Dopen2(g, (name + "_offsets").c_str(), H5P_DEFAULT), H5Dclose);
    if (!d.valid() || !o.valid()) {
      H5Eclear2(H5E_DEFAULT);
      return false;
    }
    Id ot(H5Dget_type(o.get()), H5Tclose);
    return length_1d(d.get()) >= 0 && length_1d(o.get()) >= 1 &&
           H5Tget_class(ot.get()) == H5T_INTEGER;
  }

  void ragged_line(hid_t g, const std::string& name) {
    Id d(H5Dopen2(g, name.c_str(), H5P_DEFAULT), H5Dclose);
    Id o(H5Dopen2(g, (name + "_offsets").c_str(), H5P_DEFAULT), H5Dclose);
    Id t(H5Dget_type(d.get()), H5Tclose);
    std::string type = detail::type_name(t.get());
    std::int64_t n = length_1d(o.get()) - 1, elems = length_1d(d.get());
    os_ << "  " << name << ": " << n << " items, ";
    if (type == "uint8" || type == "int8")
      os_ << elems << " bytes (ragged text: " << type << "[" << elems << "] + " << name
          << "_offsets[" << n + 1 << "])\n";
    else
      os_ << elems << " " << type << " values (ragged: " << type << "[" << elems << "] + "
          << name << "_offsets[" << n + 1 << "])\n";
    print_attrs(os_, d.get(), "    ", full_);
  }

  void dataset_line(hid_t dset, const std::string& name) {
    Id t(H5Dget_type(dset), H5Tclose);
    std::string stored = detail::type_name(t.get());
    hssize_t count = 0;
    std::string dims = dims_text(dset, &count);
    std::string dtype;
    if (H5Aexists(dset, "dtype") > 0) dtype = detail::attr_text(dset, "dtype");
    os_ << "  " << name << ": " << (dtype.empty() ? stored : dtype) << dims << " (" << count
        << (count == 1 ? " element" : " elements");
    if (!dtype.empty() && dtype != stored) os_ << ", stored as " << stored;
    os_ << ")\n";
    print_attrs(os_, dset, "    ", full_, {"dtype"});
  }

  std::ostream& os_;
  hid_t file_;
  std::string path_;
  bool full_;
};

}  // namespace

std::string inspect(const std::string& path, bool full_attrs) {
  Reader r = Reader::open(path);  // the clear error for missing / truncated files
  (void)r;
  detail::init_library();
  Id f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  detail::check(f.get(), "cannot open", path, "/");
  std::ostringstream os;
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  os << path << " (HDF5, " << (ec ? 0 : size) << " bytes)\n";
  Walker(os, f.get(), path, full_attrs).group("/");
  return os.str();
}

}  // namespace ram::h5
