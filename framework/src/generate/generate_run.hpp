// generate/generate_run.hpp — `ram generate [EXPERIMENT] [key=value ...]`, the config route:
// every prompt of the `dataset:` node decoded by the `generate:` node (plain, par, par_kl,
// mds or resample; decoder.hpp), sharded over MPI ranks with dynamic balancing, into
// <generate.out>/outputs.h5 and <generate.out>/outputs.json (docs/formats.md).
//
// Config (configs/config.yaml `generate:` holds the original's defaults, ram-method.md):
//   model, proposal (null: plain generation), sample_mode, dtype, greedy, temperature,
//   top_p, top_k, repetition_penalty, order, base_temperature, base_top_p, base_top_k,
//   div_threshold, expert_temperature, eos_priority, num_candidates, stop, max_new_tokens,
//   max_length, max_prompt_length, batch_size, chunk_size, model_name / proposal_name
//   (short names for the generator tag; null: the directory names), generator (null: the
//   mark()-style tag, decoder.hpp generator_tag), out; `seed` (top level).
//
// outputs.json: AlpacaEval's model_outputs, a JSON array in dataset order of
//   {"instruction": the example's meta "instruction" or else its prompt, "output": the text
//    right-stripped, "generator": tag, "dataset": dataset name, "example_index": i}
// outputs.h5 /examples: index int64, prompt_text / output_text ragged UTF-8, output_ids
//   ragged int32, logprob float64 (the model / aligner), proposal_logprob float64 (NaN for
//   plain), finish_reason uint8, prompt_tokens int32, prompt_truncated uint8,
//   restricted_steps int64 (−1 unless par / par_kl), ess float64 + chosen int64 (resample;
//   NaN / −1 otherwise); root attributes: settings_hash, generator, sample_mode, the knobs.
//
// Completeness: a run whose outputs.h5 carries the same settings_hash and whose
// outputs.json exists is not recomputed ("already complete"); outputs.h5 under other
// settings is a ConfigError. Both files are written by rank 0 under temp names and renamed
// (outputs.h5 first, outputs.json last), so a killed run never leaves a final name
// half-written, and a run killed between the two renames is redone.
#pragma once

#include <cstdint>
#include <string>

#include "config/compose.hpp"

namespace ram::generate {

struct RunSummary {
  bool already_complete = false;
  std::string out_dir, generator;
  std::int64_t prompts = 0, generated_tokens = 0;
  double seconds = 0, mean_ess = 0;  // mean_ess: resample only
  std::int64_t restricted_steps = 0, joint_steps = 0;  // par / par_kl, all ranks
};

RunSummary run_config(const config::Resolved& cfg, const std::string& command);
std::string format_summary(const RunSummary& s);

}  // namespace ram::generate
