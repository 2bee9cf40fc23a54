// generate/decoder.hpp — what `ram generate` runs per prompt, whatever the route (flags or
// config): plain single-model decoding, RAM's token-level modes (par, par_kl, mds: the
// engine with a proposal, ram_modes.hpp) or sequence-level resampling (resample.hpp); and
// the sharding of prompts over MPI ranks with dynamic balancing (dist::WorkQueue hands out
// chunks of consecutive prompts; fast ranks take more).
//
// Every draw is seeded from (seed, example index, sample index, step) (rng.hpp), never the
// rank or the batch, so outputs do not depend on the number of ranks or on batch_size (up
// to float rounding of padded batches, which does not change the tokens in practice: the
// tests check 1 = 2 ranks).
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "generate/engine.hpp"
#include "generate/resample.hpp"

namespace ram::generate {

struct DecodeSettings {
  // The aligner-side chain (sampling: temperature, repetition_penalty, top_p, top_k in
  // `order`, greedy, seed), the stop rules, batch_size, the shared vocab, and the joint
  // step's mode + knobs (engine.joint; mode none = no proposal).
  EngineOptions engine;
  std::int64_t num_candidates = 4;  // resample: N
};

// FastChat's order, the original's for generation (DESIGN §6).
const std::vector<std::string>& generate_order();

struct Output {
  std::int64_t example_index = 0;
  std::vector<std::int64_t> ids;
  std::string text;
  Finish finish = Finish::length;
  double logprob = 0;           // under the model (plain) / the aligner (RAM modes, resample)
  double proposal_logprob = std::numeric_limits<double>::quiet_NaN();  // RAM modes, resample
  std::int64_t restricted_steps = -1;  // par / par_kl: steps in the restricted branch; else −1
  std::int64_t prompt_tokens = 0;
  bool prompt_truncated = false;
  // resample only (ess NaN and chosen −1 otherwise)
  double ess = std::numeric_limits<double>::quiet_NaN();
  std::int64_t chosen = -1;
  std::vector<double> weights;
};

class Decoder {
 public:
  // proposal: null for plain decoding (engine.joint.mode must be none then).
  Decoder(CausalLM& model, CausalLM* proposal, const tok::Tokenizer* tokenizer,
          DecodeSettings settings);
  ~Decoder();
  // Decodes the requests (sample_index 0; example indices unique); on_output per request.
  void run(const std::vector<Request>& requests, const std::function<void(Output&&)>& on_output);
  // The whole decoding for the start-up log.
  std::string describe() const;
  // Forward calls and generated tokens so far (the engines' counters summed).
  Engine::Stats stats() const;

 private:
  CausalLM& model_;
  CausalLM* proposal_;
  DecodeSettings s_;
  std::unique_ptr<Engine> engine_;  // plain / RAM modes: the aligner (+ proposal); resample: the proposal
};

// Runs all requests over the ranks (collective): a WorkQueue hands out `chunk` consecutive
// requests at a time; on_output is called on the rank that decoded the request.
void run_sharded(Decoder& decoder, const std::vector<Request>& requests, std::int64_t chunk,
                 const std::function<void(Output&&)>& on_output);

// The original's mark(): a generator tag naming the decoding, e.g.
// "llama1b+llama8b_par_kl_t0.5_bt0.7_d0.1" (aligner + proposal, mode, aligner temperature,
// base temperature, div threshold); plain: "qwen3b_t0.7" or "qwen3b_greedy".
std::string generator_tag(const std::string& model_name, const std::string& proposal_name,
                          const DecodeSettings& s);

}  // namespace ram::generate
