// h5/writer.hpp — writes synth.h5, outputs.h5 and checkpoints (DESIGN §5; schema for
// h5py users in docs/formats.md). No HDF5 header here: the HDF5 ids live in the pimpl.
//
// Contract:
//   - Writer::create(path, parallel=true): every rank of MPI_COMM_WORLD opens ONE file
//     (MPI-IO, collective transfers). Every method below is then COLLECTIVE: all ranks call
//     it, in the same order, with the same names. Array/ragged methods take each rank's
//     LOCAL part; the global layout is rank 0's elements, then rank 1's, ... Attribute and
//     tensor methods write rank 0's value (the other ranks' values are ignored).
//   - Writer::create(path, parallel=false): a rank-local file (checkpoints from rank 0);
//     nothing is collective and the local part is the whole dataset.
//   - Atomic: data goes to "<path>.tmp-<unique>" in the same directory. finalize()
//     flushes, closes, fsyncs and renames it to <path> (rank 0; then all ranks agree on
//     the outcome). A Writer destroyed without finalize() leaves the temp file and removes
//     nothing, so <path> never names a half-written file.
//   - Names are HDF5 paths ("/examples/index" or "examples/index"); missing groups are
//     created. Writing a dataset that already exists is a FormatError.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace at {
class Tensor;
}

namespace ram::h5 {

class Writer {
 public:
  static Writer create(const std::string& path, bool parallel);
  Writer(Writer&&) noexcept;
  Writer& operator=(Writer&&) noexcept;
  // Without finalize(): closes the temp file and leaves it on disk. (Parallel writer
  // unwinding from an exception: handles are dropped without the collective close, since
  // the peers may not be here; the job is about to end anyway.)
  ~Writer();

  const std::string& path() const;       // the final name
  const std::string& temp_path() const;  // the name while writing
  bool parallel() const;
  bool finalized() const;

  void create_group(const std::string& group);

  // Attributes on the root ("/"), a group (created when missing) or a dataset.
  void set_attr(const std::string& object, const std::string& key, const std::string& value);
  void set_attr(const std::string& object, const std::string& key, const char* value) {
    set_attr(object, key, std::string(value));
  }
  void set_attr(const std::string& object, const std::string& key, double value);
  void set_attr(const std::string& object, const std::string& key,
                const std::vector<std::string>& values);
  template <class I, std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool>, int> = 0>
  void set_attr(const std::string& object, const std::string& key, I value) {
    set_attr_int(object, key, static_cast<std::int64_t>(value));
  }
  // Root attributes: ram_version, git_commit, config, created (UTC ISO 8601), command,
  // world_size.
  void write_provenance(const std::string& command, const std::string& config_yaml);

  // 1-D dataset from each rank's local elements. T: int64, int32, uint16, uint8, float,
  // double.
  template <class T>
  void write_array(const std::string& name, const T* data, std::int64_t n);
  template <class T>
  void write_array(const std::string& name, const std::vector<T>& local) {
    write_array<T>(name, local.data(), static_cast<std::int64_t>(local.size()));
  }
  // Ragged text: <name> uint8[total bytes] + <name>_offsets int64[N+1] (global byte
  // offsets; first 0, last = total bytes). Items are raw bytes (UTF-8 by convention).
  void write_ragged(const std::string& name, const std::vector<std::string>& local_items);
  // Ragged token ids: <name> int32[total] + <name>_offsets int64[N+1].
  void write_ragged_ids(const std::string& name,
                        const std::vector<std::vector<std::int32_t>>& local_items);
  // A tensor with its shape and a `dtype` attribute ("float32", "bfloat16", "int64", ...;
  // float16 and bfloat16 are stored as their uint16 bits). Parallel: rank 0's tensor is
  // written; the others must pass the same shape and dtype.
  void write_tensor(const std::string& name, const at::Tensor& t);
  // HDF5 variable-length UTF-8 strings (interop and the bench baseline). Serial only:
  // parallel HDF5 cannot write variable-length data (NotSupported).
  void write_vlen_strings(const std::string& name, const std::vector<std::string>& items);

  // Flush, close, rename the temp file to path(). Collective when parallel.
  void finalize();

  struct Impl;

 private:
  explicit Writer(std::unique_ptr<Impl> impl);
  void set_attr_int(const std::string& object, const std::string& key, std::int64_t value);
  std::unique_ptr<Impl> impl_;
};

#define RAM_H5_EXTERN_ARRAY(T) \
  extern template void Writer::write_array<T>(const std::string&, const T*, std::int64_t);
RAM_H5_EXTERN_ARRAY(std::int64_t)
RAM_H5_EXTERN_ARRAY(std::int32_t)
RAM_H5_EXTERN_ARRAY(std::uint16_t)
RAM_H5_EXTERN_ARRAY(std::uint8_t)
RAM_H5_EXTERN_ARRAY(float)
RAM_H5_EXTERN_ARRAY(double)
#undef RAM_H5_EXTERN_ARRAY

}  // namespace ram::h5
