// h5/reader.hpp — reads files written by h5::Writer (and plain HDF5 files from h5py).
// Serial and read-only; any rank may open a file on its own (no collectives).
//
// Errors are ram::FormatError naming the file and the object path:
//   - "cannot open 'x.h5': not an HDF5 file or truncated (...)" with a hint;
//   - a missing dataset or attribute;
//   - a type that does not fit the request (float data read as int64);
//   - corrupt ragged data (offsets not monotone, first != 0, last != data length).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace at {
class Tensor;
}

namespace ram::h5 {

class Reader {
 public:
  static Reader open(const std::string& path);
  Reader(Reader&&) noexcept;
  Reader& operator=(Reader&&) noexcept;
  ~Reader();

  const std::string& path() const;
  // Does a group or dataset exist at this path ("/examples/index" or "examples/index")?
  bool has(const std::string& name) const;
  // Names of a group's children (groups and datasets), sorted.
  std::vector<std::string> list(const std::string& group = "/") const;
  bool is_group(const std::string& name) const;
  std::vector<std::int64_t> shape(const std::string& name) const;

  // A 1-D dataset, all of it or elements [begin, end). T: int64, int32, uint16, uint8,
  // float, double; integer data reads into integer T only, float data into float T only.
  template <class T>
  std::vector<T> read_array(const std::string& name) const;
  template <class T>
  std::vector<T> read_array(const std::string& name, std::int64_t begin, std::int64_t end) const;

  // Ragged data (<name> + <name>_offsets): number of items, all items, or items [i, j).
  std::int64_t ragged_size(const std::string& name) const;
  std::vector<std::string> read_ragged(const std::string& name) const;
  std::vector<std::string> read_ragged(const std::string& name, std::int64_t begin,
                                       std::int64_t end) const;
  std::vector<std::vector<std::int32_t>> read_ragged_ids(const std::string& name) const;
  std::vector<std::vector<std::int32_t>> read_ragged_ids(const std::string& name,
                                                         std::int64_t begin,
                                                         std::int64_t end) const;

  // Restores dtype (from the `dtype` attribute, else from the stored type) and shape.
  at::Tensor read_tensor(const std::string& name) const;
  // Variable-length (or fixed-length) string datasets, e.g. written by h5py.
  std::vector<std::string> read_vlen_strings(const std::string& name) const;

  bool has_attr(const std::string& object, const std::string& key) const;
  std::vector<std::string> attr_names(const std::string& object) const;
  std::string attr_string(const std::string& object, const std::string& key) const;
  std::int64_t attr_int(const std::string& object, const std::string& key) const;
  double attr_double(const std::string& object, const std::string& key) const;
  std::vector<std::string> attr_strings(const std::string& object, const std::string& key) const;

  struct Impl;

 private:
  explicit Reader(std::unique_ptr<Impl> impl);
  // Validated offsets [begin, end] (end - begin + 1 entries) of a ragged pair.
  std::vector<std::int64_t> ragged_offsets(const std::string& name, std::int64_t begin,
                                           std::int64_t end, std::int64_t* data_len) const;
  std::unique_ptr<Impl> impl_;
};

#define RAM_H5_EXTERN_READ(T)                                                       \
  extern template std::vector<T> Reader::read_array<T>(const std::string&) const;  \
  extern template std::vector<T> Reader::read_array<T>(const std::string&, std::int64_t, \
                                                       std::int64_t) const;
RAM_H5_EXTERN_READ(std::int64_t)
RAM_H5_EXTERN_READ(std::int32_t)
RAM_H5_EXTERN_READ(std::uint16_t)
RAM_H5_EXTERN_READ(std::uint8_t)
RAM_H5_EXTERN_READ(float)
RAM_H5_EXTERN_READ(double)
#undef RAM_H5_EXTERN_READ

// The text `ram inspect FILE` prints: groups, datasets (dtype, shape, count, `dtype`
// attribute), ragged pairs as "<name>: N items, B bytes", and every attribute (long or
// multi-line strings cut to one line with their length unless full_attrs).
std::string inspect(const std::string& path, bool full_attrs = false);

}  // namespace ram::h5
