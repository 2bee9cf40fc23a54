// h5/hdf5_handles.h — INTERNAL to framework/src/h5 (named .h so it is not installed with
// the runtime's public .hpp headers): the only header that includes <hdf5.h>.
//
// RAII for HDF5 ids, error translation (HDF5's own error stack is silenced once and its
// innermost message is folded into our ram::FormatError), type names, attribute helpers,
// and the Impl structs shared by writer.cpp, tensor.cpp, provenance.cpp and reader.cpp.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

#include "h5/reader.hpp"
#include "h5/writer.hpp"

namespace ram::h5::detail {

// Once per process: H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr), so HDF5 never prints
// its error stack; we read it ourselves (last_hdf5_message) and throw.
void init_library();

// Owns one HDF5 id and closes it with the matching H5?close function.
class Id {
 public:
  using Closer = herr_t (*)(hid_t);
  Id() = default;
  Id(hid_t id, Closer close) : id_(id), close_(close) {}
  ~Id() { reset(); }
  Id(Id&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = -1; }
  Id& operator=(Id&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = o.id_;
      close_ = o.close_;
      o.id_ = -1;
    }
    return *this;
  }
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  // Closes now; returns the close function's status (0 when there was nothing to close).
  herr_t reset() {
    herr_t rc = 0;
    if (id_ >= 0 && close_) rc = close_(id_);
    id_ = -1;
    return rc;
  }
  // Forgets the id without closing it (a parallel writer unwinding on one rank only).
  void leak() { id_ = -1; }

 private:
  hid_t id_ = -1;
  Closer close_ = nullptr;
};

// The innermost (most specific) description on HDF5's error stack, then clears the stack.
std::string last_hdf5_message();

// FormatError "<what> in '<file>'" with `object` as where and HDF5's detail appended.
[[noreturn]] void fail(const std::string& what, const std::string& file,
                       const std::string& object, const std::string& hint = {});
// Throws through fail() when an HDF5 call returned a negative id / status.
inline hid_t check(hid_t id, const char* what, const std::string& file,
                   const std::string& object) {
  if (id < 0) fail(what, file, object);
  return id;
}

// "int64", "uint8", "float32", "string", "string[12]", "compound", ...
std::string type_name(hid_t type);
// The native memory type for T (int64, int32, uint8, uint16, float, double).
template <class T>
hid_t native_type();

// Does the link at an absolute path exist (every component)? "/" always does.
bool exists(hid_t file, const std::string& path);
// Normalizes "a/b" to "/a/b"; keeps "/" as is.
std::string absolute(const std::string& path);

// Attribute helpers (serial semantics: the caller handles parallel agreement).
void write_attr(hid_t obj, const std::string& key, hid_t mem_type, hid_t space, const void* data);
void write_string_attr(hid_t obj, const std::string& key, const std::string& value);
void write_strings_attr(hid_t obj, const std::string& key, const std::vector<std::string>& v);

// Attribute names of an object (sorted by name) and one attribute's value as text.
std::vector<std::string> attr_names(hid_t obj);
std::string attr_text(hid_t obj, const std::string& key);

}  // namespace ram::h5::detail

namespace ram::h5 {

struct Writer::Impl {
  std::string path;  // final name
  std::string temp;  // "<path>.tmp-<unique>", where data goes until finalize()
  bool parallel = false;
  bool finalized = false;
  int rank = 0, size = 1;
  detail::Id file, dxpl, lcpl;

  // Opens a group or dataset, creating missing groups (with intermediates).
  detail::Id open_object(const std::string& object);
  // Creates a 1-D dataset of `total` elements and writes this rank's n elements at
  // `offset` (parallel: collective; serial: offset 0, total n).
  void write_1d(const std::string& name, hid_t type, std::int64_t total, std::int64_t offset,
                std::int64_t n, const void* data);
  // Creates an N-D dataset (dims empty = scalar) and writes `data` whole; in parallel
  // mode only rank 0's data is written (collective create and write).
  detail::Id write_root(const std::string& name, hid_t type, const std::vector<std::int64_t>& dims,
                        const void* data);
  // Global layout of a per-rank part of n elements: {offset, total}.
  std::pair<std::int64_t, std::int64_t> layout(std::int64_t n) const;
  // Parallel: rank 0's bytes win on every rank (attributes must agree); serial: as is.
  void agree(std::string& bytes) const;
  void require_open(const char* op) const;
};

struct Reader::Impl {
  std::string path;
  detail::Id file;
  // Opens a dataset or throws FormatError naming file and dataset path.
  detail::Id open_dataset(const std::string& name) const;
  detail::Id open_object(const std::string& object) const;
  // 1-D dataset: its element count (FormatError when not 1-D).
  std::int64_t length(hid_t dset, const std::string& name) const;
  // Reads [begin, end) of a 1-D dataset into out (converted to mem_type).
  void read_1d(hid_t dset, const std::string& name, hid_t mem_type, std::int64_t begin,
               std::int64_t end, void* out) const;
};

}  // namespace ram::h5
