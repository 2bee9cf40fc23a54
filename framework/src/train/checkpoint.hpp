// train/checkpoint.hpp — training checkpoints in HDF5 (DESIGN §5) and `ram export`.
//
// A checkpoint is one file <out>/ckpt/step-<N>.h5, self-contained (export needs nothing
// else):
//   /model/<HF name>          every named parameter, model dtype (bf16 as uint16 bits with
//                             dtype=bfloat16, h5/writer.hpp write_tensor)
//   /optimizer/<state>        float32[N] flat optimizer state (e.g. square_avg; exp_avg,
//                             exp_avg_sq), in the FlatLayout order below
//   /optimizer/master         float32[N] f32 master weights — only when the model dtype
//                             is not f32 (otherwise the model tensors are the master)
//   /optimizer/layout_names   ragged text (h5 write_ragged) + /optimizer/layout_offsets
//                             int64[P+1]: parameter p occupies [off[p], off[p+1]) of N
//   /tokenizer/tokenizer.json, /tokenizer/tokenizer_config.json, ... ragged bytes of the
//                             aligner's tokenizer files (model::tokenizer_files)
//   attributes on "/": provenance (write_provenance), hf_config_json (the model's
//     config.json text), model_type, tokenizer_fingerprint, optimizer (rmsprop|adamw),
//     step, examples_seen, epoch, epoch_cursor (examples of this epoch consumed),
//     seed, world_size, zero1 (0|1), metrics_json (last eval metrics, JSON object text)
// Writing is collective (parallel h5 Writer): every rank passes its LOCAL shard of each
// optimizer state (ZeRO-1: rank r holds [r·N/W, (r+1)·N/W) — shard_range) or, without
// ZeRO-1, rank 0's full arrays are written and the others pass empty ones. Written to a
// temp name and renamed; then rank 0 writes <out>/ckpt/LATEST (temp + rename) holding the
// file name ("step-120.h5\n"). A killed writer never leaves a final name half-written.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace ram {
class CausalLM;
}

namespace ram::train {

// Parameter p of the flat f32 buffers: name, shape, [offset, offset + numel).
struct FlatLayout {
  std::vector<std::string> names;
  std::vector<std::vector<std::int64_t>> shapes;
  std::vector<std::int64_t> offsets;  // size P+1
  std::int64_t numel() const { return offsets.empty() ? 0 : offsets.back(); }
};

// [begin, end) of the N-element flat buffer owned by `rank` of `world` (contiguous, sizes
// differ by at most one: the first N % W ranks get one more).
std::pair<std::int64_t, std::int64_t> shard_range(std::int64_t n, int rank, int world);

struct TrainerState {
  std::int64_t step = 0;           // optimizer steps done
  std::int64_t examples_seen = 0;  // training examples consumed (global)
  std::int64_t epoch = 0;
  std::int64_t epoch_cursor = 0;   // position in this epoch's order
  std::uint64_t seed = 0;
  std::string metrics_json = "{}";
};

struct CheckpointData {
  std::string optimizer;                      // "rmsprop" | "adamw"
  FlatLayout layout;
  // Local parts (see the file comment): state name → f32 1-D tensor of this rank's range.
  std::map<std::string, at::Tensor> optimizer_state;
  at::Tensor master;                          // local part, undefined when the model is f32
  bool zero1 = false;
  TrainerState trainer;
};

// Collective. Writes <out_dir>/ckpt/step-<trainer.step>.h5 and LATEST; returns the file.
// `tokenizer_dir` holds the aligner's tokenizer files. `config_yaml`, `command` go to the
// provenance attributes.
std::filesystem::path write_checkpoint(const std::filesystem::path& out_dir, const CausalLM& model,
                                       const CheckpointData& data,
                                       const std::filesystem::path& tokenizer_dir,
                                       const std::string& config_yaml, const std::string& command);

// The file a path names: a .h5 file itself, or a directory holding LATEST (the run's
// ckpt/ dir or the run's train dir containing ckpt/LATEST). nullopt when a directory has
// no LATEST yet. A LATEST naming a missing file is a FormatError.
std::optional<std::filesystem::path> resolve_checkpoint(const std::filesystem::path& path);

// Copies /model/* into `model`'s parameters (dtype converted). Strict both ways like
// nn::load_weights: missing tensors, extra tensors, shape mismatches → one FormatError
// listing them with the file name. Any rank, independently (read-only).
void load_model_weights(const std::filesystem::path& file, CausalLM& model);

// Reads everything but the model: the optimizer state and master restricted to
// [begin, end) of the flat buffers (the caller's shard, or the whole range), the layout
// and the trainer state. A layout that differs from `expect` (names, shapes) is a
// FormatError naming the first difference.
CheckpointData read_checkpoint(const std::filesystem::path& file, const FlatLayout& expect,
                               std::int64_t begin, std::int64_t end);

// `ram export CKPT --out DIR`: an HF directory (config.json from hf_config_json,
// model.safetensors from /model/*, generation_config.json as model::save_hf_dir writes
// it, the tokenizer files) that `ram score` loads with identical logits. Atomic like
// save_hf_dir; existing non-empty DIR is a ConfigError unless force.
void export_hf(const std::filesystem::path& checkpoint, const std::filesystem::path& dir, bool force);

}  // namespace ram::train
