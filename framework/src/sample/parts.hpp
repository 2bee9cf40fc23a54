// sample/parts.hpp — the rows of synth.h5 and the per-chunk part files `ram sample`
// writes before merging them.
//
// A chunk is examples [c·chunk_size, min(N, (c+1)·chunk_size)). The rank that sampled it
// writes `<out>.parts/chunk-<c, 6 digits>.h5` alone (serial h5::Writer: temp name, fsync,
// rename), so a part file that exists under its final name is complete. Each part holds
// the /examples datasets below for its rows (example order, then sample order) and root
// attributes: settings_hash, chunk, begin, end, rows, skipped_empty, truncated_prompts.
//
// synth.h5 (DESIGN §5, docs/formats.md) holds the same datasets for all rows:
//   /examples/index            int64[R]   example index in the dataset
//   /examples/sample_index     int64[R]   0..n-1
//   /examples/prompt_text, chosen_text, proposal_text   ragged UTF-8 (+ _offsets int64[R+1])
//   /examples/proposal_ids     ragged int32 (+ _offsets)
//   /examples/proposal_logprob float32[R] Σ log P_M(token) over proposal_ids
//   /examples/finish_reason    uint8[R]   generate::Finish (0 eos, 1 stop_string, 2 length)
//   /examples/prompt_truncated uint8[R]   1 when the prompt lost its start (keep-end)
//   /examples/prompt_tokens    int32[R]   prompt tokens the proposal saw (after truncation)
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace ram::h5 {
class Writer;
}

namespace ram::sample {

struct Rows {
  std::vector<std::int64_t> index, sample_index;
  std::vector<std::string> prompt_text, chosen_text, proposal_text;
  std::vector<std::vector<std::int32_t>> proposal_ids;
  std::vector<float> proposal_logprob;
  std::vector<std::uint8_t> finish_reason, prompt_truncated;
  std::vector<std::int32_t> prompt_tokens;

  std::int64_t size() const { return static_cast<std::int64_t>(index.size()); }
  void append(Rows&& other);
};

struct PartInfo {
  std::int64_t chunk = 0, begin = 0, end = 0;
  std::int64_t skipped_empty = 0;      // prompts skipped (on_empty_prompt: skip)
  std::int64_t truncated_prompts = 0;  // prompts that lost their start
  std::string settings_hash;
};

// "<dir>/chunk-000123.h5"
std::filesystem::path part_path(const std::filesystem::path& parts_dir, std::int64_t chunk);
// The chunk number of a part file name, or -1 when `name` is not one.
std::int64_t part_chunk(const std::string& filename);

// Writes rows + info to part_path(...) atomically (serial; any rank on its own).
void write_part(const std::filesystem::path& parts_dir, const PartInfo& info, const Rows& rows);
// Reads a part back. Throws FormatError when it is unreadable or inconsistent.
PartInfo read_part_info(const std::filesystem::path& file);
Rows read_part_rows(const std::filesystem::path& file);

// The /examples datasets of `rows` through `w` (collective when w is parallel: each rank
// passes its local rows, the file holds rank 0's, then rank 1's, ...).
void write_rows(h5::Writer& w, const Rows& rows);

}  // namespace ram::sample
