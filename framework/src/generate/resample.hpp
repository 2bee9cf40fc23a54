// generate/resample.hpp — sequence-level importance resampling (`sample_mode: resample`,
// ram-method.md "Decoding", DESIGN §6): the method's aligned model P_M · Q / Z in its exact
// form, against which the token-level modes trade first-token latency.
//
// Per prompt x:
//   1. N proposal samples y_1..y_N: the engine on the proposal alone, requests with
//      sample_index 0..N−1 (so sample i's draws are (seed, example, i, step), rank-free),
//      the proposal's chain: repetition_penalty → temperature(base_temperature) →
//      top_k(base_top_k) → top_p(base_top_p) (the "base" knobs are the proposal's);
//   2. log Q(y_i|x) under the aligner (generate/score.hpp, one forward over prompt ++ y_i,
//      the response's EOS included; the prompt as the engine saw it, after keep-end
//      truncation; logits cut to the shared vocabulary);
//   3. weights  w_i = exp(log Q_i / T) / Σ_j exp(log Q_j / T),  T = expert_temperature
//      (computed with the max subtracted). With samples from P_M itself (base_temperature 1,
//      base_top_p 1, no top-k, no penalty) and T = 1 this is exactly self-normalised
//      importance sampling of P_M · Q / Z: target / proposal = Q. With a warped proposal
//      P_M' the draws follow (approximately) P_M' · Q^(1/T) / Z instead;
//   4. one y drawn by the weights with u = draw_uniform(seed, example, −1, 0) (sample
//      index −1: never one of the proposal's own draws) by inverse CDF over i = 0..N−1; with
//      greedy = true the arg-max weight (the lowest i among ties) instead;
//   5. the effective sample size ESS = 1 / Σ w_i² ∈ [1, N] is reported per prompt.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "generate/engine.hpp"

namespace ram::generate {

struct ResampleOptions {
  std::int64_t n = 4;              // proposal samples per prompt (≥ 1)
  double temperature = 1.0;        // T of the weights (expert_temperature)
  bool greedy = false;             // pick the arg-max weight instead of drawing
  std::int64_t score_batch = 8;    // sequences per aligner scoring forward
};

struct ResampleResult {
  Result chosen;                    // the picked sample; logprob = its log Q (aligner),
                                    // proposal_logprob = its log P_M (raw proposal logits)
  std::int64_t chosen_index = 0;    // its sample index in 0..N−1
  double ess = 0;                   // 1 / Σ w²
  std::vector<double> weights;      // w_0..w_{N−1}
  std::vector<double> aligner_logprobs, proposal_logprobs;  // log Q_i, log P_M(y_i|x)
};

// The statistics of weights ∝ exp(logq / T): fills w and returns the ESS (pure; tests).
double importance_weights(const std::vector<double>& logq, double temperature,
                          std::vector<double>& w);

// Runs steps 1–5 for every request (their sample_index is ignored); `proposal_engine` is an
// Engine over the proposal alone (its options: the proposal's chain, the stop rules, the
// shared vocab, the seed). on_result is called once per request (any order). Call under
// c10::InferenceMode.
void resample(Engine& proposal_engine, CausalLM& aligner, std::uint64_t seed,
              std::int64_t vocab, const ResampleOptions& options,
              const std::vector<Request>& requests,
              const std::function<void(ResampleResult&&)>& on_result);

}  // namespace ram::generate
