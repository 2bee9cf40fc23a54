// h5/attrs.cpp — reading attributes (strings, string lists, integers, doubles).
#include "h5/hdf5_handles.h"
#include "h5/reader.hpp"
#include "ram/error.hpp"

namespace ram::h5 {

using detail::Id;

namespace {

herr_t collect_name(hid_t, const char* name, const H5A_info_t*, void* out) {
  static_cast<std::vector<std::string>*>(out)->push_back(name);
  return 0;
}

// Reads every element of a string attribute (variable- or fixed-length).
std::vector<std::string> read_strings(hid_t attr) {
  Id ftype(H5Aget_type(attr), H5Tclose);
  Id space(H5Aget_space(attr), H5Sclose);
  hssize_t n = H5Sget_simple_extent_npoints(space.get());
  std::vector<std::string> out;
  if (n <= 0) return out;
  if (H5Tis_variable_str(ftype.get()) > 0) {
    Id mtype(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mtype.get(), H5T_VARIABLE);
    H5Tset_cset(mtype.get(), H5Tget_cset(ftype.get()));
    std::vector<char*> ptrs(n);
    if (H5Aread(attr, mtype.get(), ptrs.data()) < 0) return out;
    for (char* s : ptrs) out.emplace_back(s ? s : "");
    H5Dvlen_reclaim(mtype.get(), space.get(), H5P_DEFAULT, ptrs.data());
  } else {
    size_t w = H5Tget_size(ftype.get());
    std::vector<char> buf(n * w);
    if (H5Aread(attr, ftype.get(), buf.data()) < 0) return out;
    for (hssize_t i = 0; i < n; ++i) {
      std::string s(buf.data() + i * w, w);
      auto z = s.find('\0');
      if (z != std::string::npos) s.resize(z);
      out.push_back(s);
    }
  }
  return out;
}

}  // namespace

namespace detail {

std::vector<std::string> attr_names(hid_t obj) {
  std::vector<std::string> names;
  hsize_t idx = 0;
  H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_name, &names);
  return names;
}

// The attribute's value as text: strings as is, lists as [a, b], numbers in decimal.
std::string attr_text(hid_t obj, const std::string& key) {
  Id a(H5Aopen(obj, key.c_str(), H5P_DEFAULT), H5Aclose);
  if (!a.valid()) return "<unreadable>";
  Id ftype(H5Aget_type(a.get()), H5Tclose);
  Id space(H5Aget_space(a.get()), H5Sclose);
  bool scalar = H5Sget_simple_extent_type(space.get()) == H5S_SCALAR;
  hssize_t n = H5Sget_simple_extent_npoints(space.get());
  H5T_class_t cls = H5Tget_class(ftype.get());
  std::vector<std::string> items;
  if (cls == H5T_STRING) {
    items = read_strings(a.get());
    if (scalar && items.size() == 1) return items[0];
    for (auto& s : items) s = "\"" + s + "\"";
  } else if (cls == H5T_INTEGER || cls == H5T_FLOAT) {
    bool integer = cls == H5T_INTEGER;
    std::vector<std::int64_t> iv(n > 0 ? n : 0);
    std::vector<double> dv(n > 0 ? n : 0);
    herr_t rc = integer ? H5Aread(a.get(), H5T_NATIVE_INT64, iv.data())
                        : H5Aread(a.get(), H5T_NATIVE_DOUBLE, dv.data());
    if (rc < 0) return "<unreadable>";
    for (hssize_t i = 0; i < n; ++i) {
      if (integer) {
        items.push_back(std::to_string(iv[i]));
      } else {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.17g", dv[i]);
        items.push_back(buf);
      }
    }
    if (scalar && items.size() == 1) return items[0];
  } else {
    return "<" + type_name(ftype.get()) + ">";
  }
  std::string s = "[";
  for (size_t i = 0; i < items.size(); ++i) s += (i ? ", " : "") + items[i];
  return s + "]";
}

}  // namespace detail

namespace {
Id open_attr(const Reader::Impl& r, const std::string& object, const std::string& key,
             H5T_class_t want, const char* want_name) {
  Id o = r.open_object(object);
  std::string where = r.path + ":" + detail::absolute(object) + "@" + key;
  if (H5Aexists(o.get(), key.c_str()) <= 0)
    throw FormatError("no attribute '" + key + "' on '" + detail::absolute(object) + "' in '" +
                          r.path + "'",
                      where, "`ram inspect " + r.path + "` lists the attributes");
  Id a(H5Aopen(o.get(), key.c_str(), H5P_DEFAULT), H5Aclose);
  detail::check(a.get(), "cannot open attribute", r.path, detail::absolute(object) + "@" + key);
  Id t(H5Aget_type(a.get()), H5Tclose);
  if (H5Tget_class(t.get()) != want)
    throw FormatError("attribute '" + key + "' on '" + detail::absolute(object) + "' in '" +
                          r.path + "' is " + detail::type_name(t.get()) + ", not " + want_name,
                      where);
  Id space(H5Aget_space(a.get()), H5Sclose);
  if (want != H5T_STRING && H5Sget_simple_extent_npoints(space.get()) != 1)
    throw FormatError("attribute '" + key + "' on '" + detail::absolute(object) + "' in '" +
                          r.path + "' holds several values, not one",
                      where);
  return a;
}
}  // namespace

bool Reader::has_attr(const std::string& object, const std::string& key) const {
  Id o = impl_->open_object(object);
  return H5Aexists(o.get(), key.c_str()) > 0;
}

std::vector<std::string> Reader::attr_names(const std::string& object) const {
  Id o = impl_->open_object(object);
  return detail::attr_names(o.get());
}

std::string Reader::attr_string(const std::string& object, const std::string& key) const {
  Id a = open_attr(*impl_, object, key, H5T_STRING, "a string");
  auto v = read_strings(a.get());
  if (v.size() != 1)
    throw FormatError("attribute '" + key + "' in '" + impl_->path + "' is a list of " +
                          std::to_string(v.size()) + " strings, not one",
                      impl_->path + ":" + detail::absolute(object) + "@" + key,
                      "read it with attr_strings");
  return v[0];
}

std::vector<std::string> Reader::attr_strings(const std::string& object,
                                              const std::string& key) const {
  Id a = open_attr(*impl_, object, key, H5T_STRING, "strings");
  return read_strings(a.get());
}

std::int64_t Reader::attr_int(const std::string& object, const std::string& key) const {
  Id a = open_attr(*impl_, object, key, H5T_INTEGER, "an integer");
  std::int64_t v = 0;
  if (H5Aread(a.get(), H5T_NATIVE_INT64, &v) < 0)
    detail::fail("cannot read attribute '" + key + "'", impl_->path, object);
  return v;
}

double Reader::attr_double(const std::string& object, const std::string& key) const {
  Id a = open_attr(*impl_, object, key, H5T_FLOAT, "a float");
  double v = 0;
  if (H5Aread(a.get(), H5T_NATIVE_DOUBLE, &v) < 0)
    detail::fail("cannot read attribute '" + key + "'", impl_->path, object);
  return v;
}

}  // namespace ram::h5
