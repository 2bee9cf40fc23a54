// ram/safetensors.hpp — HuggingFace safetensors: read (memory-mapped, validated) and write.
//
// Format: u64 little-endian header length N, N bytes of JSON
//   {"__metadata__": {str: str}, "<name>": {"dtype": "F32", "shape": [..],
//    "data_offsets": [begin, end]}, ...}
// then the data; offsets are relative to the end of the header. A sharded checkpoint is a
// directory with model.safetensors.index.json {"metadata": {...}, "weight_map": {name: file}}.
//
// Validation on open (each failure is a ram::FormatError naming the file and, where there
// is one, the tensor): header length within the file and ≤ 100 MB, valid JSON of the shape
// above, known dtype, offsets within the data area, end − begin = numel × element size,
// no two tensors overlapping; an index naming a missing file or a tensor absent from its
// shard.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

namespace ram::safetensors {

struct TensorInfo {
  std::string name;
  std::string dtype;                 // safetensors name: "F32", "F16", "BF16", "I64", ...
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0, end = 0;  // byte range, relative to the data area
  std::filesystem::path file;        // the shard holding it
};

// One safetensors file, or all shards of a sharded checkpoint, open and memory-mapped.
class Archive {
 public:
  // `path`: a .safetensors file, a model.safetensors.index.json, or an HF directory
  // (index.json preferred, else model.safetensors).
  static Archive open(const std::filesystem::path& path);

  std::vector<std::string> names() const;  // sorted
  bool contains(const std::string& name) const;
  const TensorInfo& info(const std::string& name) const;  // throws FormatError if absent
  // A CPU tensor viewing the mapped bytes (no copy), read-only: clone() before writing to
  // it. The mapping stays alive while any tensor from it does.
  at::Tensor get(const std::string& name) const;
  const std::map<std::string, std::string>& metadata() const;

  struct Impl;
 private:
  std::shared_ptr<Impl> impl_;
};

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

// Writes one file atomically (temporary name, fsync, rename). Tensors are written
// contiguous, in the given order; F32, F16, BF16 and integer dtypes.
void save(const std::filesystem::path& file, const NamedTensors& tensors,
          const std::map<std::string, std::string>& metadata = {});

// Writes model-0000i-of-0000n.safetensors shards of at most max_shard_bytes each (a tensor
// larger than that gets a shard of its own) plus model.safetensors.index.json, as HF does;
// a single shard is written as model.safetensors without an index.
void save_sharded(const std::filesystem::path& dir, const NamedTensors& tensors,
                  std::uint64_t max_shard_bytes,
                  const std::map<std::string, std::string>& metadata = {});

}  // namespace ram::safetensors
