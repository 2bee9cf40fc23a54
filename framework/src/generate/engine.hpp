// generate/engine.hpp — the sampling engine (DESIGN §6): batched decoding over one
// preallocated KV cache with continuous refill, a logits-processor chain built in one place,
// per-sample deterministic randomness, stop on EOS / stop strings / max new tokens / max
// total length. Optionally RAM decoding (issue 6): a second model, the proposal, decoded in
// lockstep with its own KV cache (the same slots, the same refill and rebuild events), and
// the joint step of ram_modes.hpp on (aligner logits, proposal logits) before the chain. CONTRACT shared by `ram sample`, `ram generate` and bench/; the
// implementation is engine.cpp, processors.{hpp,cpp}, rng.{hpp,cpp}.
//
// Determinism: the random draw of a sample at step t depends only on
// (seed, example_index, sample_index, t) — a counter-based generator, never the rank, the
// batch slot or the batch size.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "generate/ram_modes.hpp"

namespace ram {
class CausalLM;
namespace tok {
class Tokenizer;
}
}  // namespace ram

namespace ram::generate {

// The logits processors, applied in `order` (names below) before sampling.
// Defaults = `ram sample`'s (vLLM's order, the original's proposal-sampling values).
struct SamplingParams {
  bool greedy = false;               // arg-max after the chain (temperature ignored)
  double temperature = 0.5;          // > 0
  std::int64_t top_k = 10;           // ≤ 0: off
  double top_p = 0.95;               // 1: off
  double repetition_penalty = 1.05;  // HF semantics over prompt + generated ids; 1: off
  std::vector<std::string> order = {"repetition_penalty", "temperature", "top_k", "top_p"};
  std::uint64_t seed = 0;
};

struct StopParams {
  std::int64_t max_new_tokens = 1024;
  std::int64_t max_length = 2048;         // prompt + new tokens
  std::int64_t max_prompt_length = 1024;  // longer prompts keep their END (original keep_end)
  std::vector<std::int64_t> eos_ids;
  std::vector<std::string> stop_strings;  // e.g. "\n\nHuman"; cut from the returned text
};

// Stored in synth.h5 /examples/finish_reason.
enum class Finish : std::uint8_t { eos = 0, stop_string = 1, length = 2 };
const char* to_string(Finish f);

struct Request {
  std::int64_t example_index = 0;  // with sample_index, seeds this sample's randomness
  std::int64_t sample_index = 0;
  std::vector<std::int64_t> prompt_ids;  // non-empty
};

struct Result {
  std::int64_t example_index = 0, sample_index = 0;
  std::vector<std::int64_t> ids;  // new ids (EOS kept; tokens after a stop string dropped)
  std::string text;               // decoded new ids, cut before the stop string
  double logprob = 0;             // Σ log softmax(raw logits)[id] over `ids`, of the engine's
                                  // model (`ram sample`: the proposal; RAM decoding: the aligner)
  double proposal_logprob = 0;    // RAM decoding: the same under the proposal's raw logits
  std::int64_t restricted_steps = 0;  // RAM decoding: steps in the restricted aligner branch
  Finish finish = Finish::length;
  std::int64_t prompt_tokens = 0;     // after truncation
  bool prompt_truncated = false;
};

struct EngineOptions {
  std::int64_t batch_size = 8;  // rows decoded together (slots)
  SamplingParams sampling;
  StopParams stop;
  // KV cache tokens per row. 0: the longest row a run can need (min(max_length,
  // prompt + max_new_tokens) over its requests) plus its longest prompt, room for one
  // refill before a rebuild (bench_sample: twice the longest row cost 22% more memory than
  // an eager PyTorch baseline at batch 32 and was no faster). Refills append padding columns to every
  // row, so a full cache is rebuilt (cleared and re-prefilled with each live row's prompt +
  // generated ids); a larger capacity rebuilds less often. Must hold the longest row.
  // When one batch holds every request (no refill), 0 gives the longest prompt plus the
  // most new tokens of a row instead: all that run can use.
  std::int64_t cache_capacity = 0;
  std::int64_t pad_id = 0;  // token fed at padding places (masked out)
  // Refill free slots only once at least this many are free (or no row is live, or fewer
  // requests remain). 1 = at once. Under the cache contract (all rows advance together) a
  // refill forward computes B × (longest new prompt) positions, padding included, so with
  // long prompts and large batches waiting for several free slots costs less than it saves;
  // see Stats::forward_positions.
  std::int64_t refill_min_free = 1;
  // RAM decoding (with a proposal only): the joint step's mode (par, par_kl or mds) and knobs.
  JointParams joint;
  // Logits columns used: both models' logits are cut to the first `vocab` (the tokenizer's
  // length, ram_modes.hpp joint_vocab). 0: the model's vocabulary (a proposal's must equal it).
  std::int64_t vocab = 0;
};

class Engine {
 public:
  // `tokenizer` may be null when there are no stop strings (text is then empty).
  Engine(CausalLM& model, const tok::Tokenizer* tokenizer, EngineOptions options);
  // RAM decoding: `model` is the aligner, `proposal` the proposal (not null), decoded in
  // lockstep; options.joint.mode must be par, par_kl or mds.
  Engine(CausalLM& model, CausalLM* proposal, const tok::Tokenizer* tokenizer,
         EngineOptions options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;
  // Decodes every request with continuous refill (a finished slot takes the next request at
  // once); calls on_result as each finishes (any order). Call under c10::InferenceMode.
  void run(const std::vector<Request>& requests, const std::function<void(Result&&)>& on_result);
  // Counters since construction.
  struct Stats {
    std::int64_t prompts = 0, generated_tokens = 0, prompt_tokens = 0, truncated_prompts = 0;
    std::int64_t forward_calls = 0;
    std::int64_t cache_rebuilds = 0;  // clear + re-prefill of the live rows (cache full)
    std::int64_t forward_positions = 0;  // Σ B × T over forward calls (padding included)
    std::int64_t joint_steps = 0;        // RAM decoding: row steps through the joint step
    std::int64_t restricted_steps = 0;   // ... that took the restricted aligner branch
    std::int64_t eos_forced = 0;         // ... where EOS priority emitted EOS
  };
  const Stats& stats() const;
  // The processor chain in the order it runs, e.g. "repetition_penalty(1.05) → temperature(0.5)
  // → top_k(10) → top_p(0.95) → sample(seed 0)" (or "→ argmax"); for the start-up log.
  std::string describe() const;

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace ram::generate
