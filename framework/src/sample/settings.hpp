// sample/settings.hpp — what `ram sample` reads from the resolved config, and the hashes
// that decide whether earlier work (part files, a finished synth.h5) may be reused.
//
// Config (configs/config.yaml holds the defaults, the original's vLLM settings):
//   model.path, model.dtype                the proposal: an HF directory, f32 | bf16
//   seed                                   the run seed (top level)
//   sample.temperature, top_p, top_k, repetition_penalty, order   the logits chain
//   sample.stop, max_new_tokens, max_length, max_prompt_length    when a sample ends
//   sample.n                               samples per prompt
//   sample.batch_size                      rows decoded together (does not change results)
//   sample.refill_min_free                 free slots that trigger a refill (speed only)
//   sample.chunk_size                      consecutive examples per work item / part file
//   sample.out                             the synth.h5 written
//   sample.on_empty_prompt                 fail | skip (skipped prompts are counted)
//   sample.tokenizer                       optional: a directory whose tokenizer.json must
//                                          be the proposal's (same fingerprint)
//
// settings_hash: SHA-256 over everything that decides the contents of synth.h5 (model
// hash, dtype, dataset fingerprint, every sampling and stopping parameter, seed, n,
// chunk_size, on_empty_prompt, the tokenizer's fingerprint) — not batch_size, the output
// path or the number of ranks. Part files and synth.h5 carry it; a resumed run reuses
// them only when it is equal.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "generate/engine.hpp"

namespace ram {
class ConfigView;
}

namespace ram::sample {

enum class OnEmpty { fail, skip };

struct Settings {
  std::string model_path, dtype, tokenizer_dir;  // tokenizer_dir empty: the model's own
  generate::EngineOptions engine;                // batch_size, sampling (seed), stop
  std::int64_t n = 1, chunk_size = 64;
  std::string out;
  OnEmpty on_empty = OnEmpty::fail;
};

// Reads and checks model.*, seed and sample.* (ConfigError naming the key on a bad
// value). Marks the keys read; the caller runs finish() on the nodes.
Settings read_settings(const ConfigView& root);

// SHA-256 (hex) of config.json's bytes and, for every *.safetensors file in name order,
// its name, size, JSON header and the first and last 64 KiB of its data. Cheap on a large
// model; equal names, shapes and sampled bytes are taken as the same model.
std::string model_hash(const std::filesystem::path& dir);

// The settings hash described above.
std::string settings_hash(const Settings& s, const std::string& model_hash,
                          const std::string& dataset_fingerprint,
                          const std::string& tokenizer_fingerprint);

// One line for logs and the summary: "temperature 0.5, top_p 0.95, ...".
std::string describe(const Settings& s);

}  // namespace ram::sample
