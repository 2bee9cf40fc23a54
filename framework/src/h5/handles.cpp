// h5/handles.cpp — HDF5 library setup, error translation, type names, attribute helpers.
#include <mutex>

#include "h5/hdf5_handles.h"
#include "ram/error.hpp"

namespace ram::h5::detail {

void init_library() {
  static std::once_flag once;
  std::call_once(once, [] {
    H5open();
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  });
}

namespace {
herr_t innermost(unsigned n, const H5E_error2_t* err, void* out) {
  auto* s = static_cast<std::string*>(out);
  if (n == 0 && err && err->desc) *s = err->desc;
  return 0;
}
}  // namespace

std::string last_hdf5_message() {
  std::string msg;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost, &msg);
  H5Eclear2(H5E_DEFAULT);
  return msg;
}

void fail(const std::string& what, const std::string& file, const std::string& object,
          const std::string& hint) {
  std::string detail = last_hdf5_message();
  std::string w = what + " in '" + file + "'";
  if (!detail.empty()) w += ": " + detail;
  throw FormatError(w, object.empty() ? file : file + ":" + object,
                    hint.empty() ? "check the file with `ram inspect " + file + "`" : hint);
}

std::string type_name(hid_t type) {
  H5T_class_t cls = H5Tget_class(type);
  size_t size = H5Tget_size(type);
  switch (cls) {
    case H5T_INTEGER: {
      bool sign = H5Tget_sign(type) == H5T_SGN_2;
      return std::string(sign ? "int" : "uint") + std::to_string(size * 8);
    }
    case H5T_FLOAT:
      return "float" + std::to_string(size * 8);
    case H5T_STRING:
      if (H5Tis_variable_str(type) > 0) return "string";
      return "string[" + std::to_string(size) + "]";
    case H5T_COMPOUND: return "compound";
    case H5T_ENUM: return "enum";
    case H5T_VLEN: return "vlen";
    case H5T_ARRAY: return "array";
    case H5T_OPAQUE: return "opaque";
    case H5T_BITFIELD: return "bitfield";
    case H5T_REFERENCE: return "reference";
    default: return "unknown";
  }
}

template <>
hid_t native_type<std::int64_t>() { return H5T_NATIVE_INT64; }
template <>
hid_t native_type<std::int32_t>() { return H5T_NATIVE_INT32; }
template <>
hid_t native_type<std::uint16_t>() { return H5T_NATIVE_UINT16; }
template <>
hid_t native_type<std::uint8_t>() { return H5T_NATIVE_UINT8; }
template <>
hid_t native_type<float>() { return H5T_NATIVE_FLOAT; }
template <>
hid_t native_type<double>() { return H5T_NATIVE_DOUBLE; }

std::string absolute(const std::string& path) {
  if (path.empty() || path[0] != '/') return "/" + path;
  return path;
}

bool exists(hid_t file, const std::string& path) {
  std::string p = absolute(path);
  if (p == "/") return true;
  size_t pos = 1;
  while (true) {
    size_t next = p.find('/', pos);
    std::string prefix = p.substr(0, next);
    if (!prefix.empty() && prefix.back() != '/') {
      if (H5Lexists(file, prefix.c_str(), H5P_DEFAULT) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return false;
      }
    }
    if (next == std::string::npos) return true;
    pos = next + 1;
  }
}

void write_attr(hid_t obj, const std::string& key, hid_t mem_type, hid_t space,
                const void* data) {
  if (H5Aexists(obj, key.c_str()) > 0) H5Adelete(obj, key.c_str());
  Id attr(H5Acreate2(obj, key.c_str(), mem_type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (!attr.valid() || H5Awrite(attr.get(), mem_type, data) < 0)
    throw FormatError("cannot write attribute '" + key + "': " + last_hdf5_message());
}

namespace {
Id utf8_vlen_type() {
  Id t(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(t.get(), H5T_VARIABLE);
  H5Tset_cset(t.get(), H5T_CSET_UTF8);
  return t;
}
}  // namespace

void write_string_attr(hid_t obj, const std::string& key, const std::string& value) {
  Id type = utf8_vlen_type();
  Id space(H5Screate(H5S_SCALAR), H5Sclose);
  const char* p = value.c_str();
  write_attr(obj, key, type.get(), space.get(), &p);
}

void write_strings_attr(hid_t obj, const std::string& key, const std::vector<std::string>& v) {
  Id type = utf8_vlen_type();
  hsize_t n = v.size();
  Id space(H5Screate_simple(1, &n, nullptr), H5Sclose);
  std::vector<const char*> ptrs;
  for (const auto& s : v) ptrs.push_back(s.c_str());
  const char* dummy = "";
  write_attr(obj, key, type.get(), space.get(), ptrs.empty() ? &dummy : ptrs.data());
}

}  // namespace ram::h5::detail
