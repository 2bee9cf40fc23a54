// generate/ram_modes.hpp — RAM's joint decoding step (DESIGN §6, ram-method.md "Decoding"):
// the aligner's logits q and the proposal's logits m of one decoding step → the warped
// logits the aligner-side chain (temperature → repetition penalty → top-p → top-k) and the
// draw then work on. Pure functions on [B, V] float32 tensors, one row per sequence.
//
// Modes (m, q: the RAW logits of the step; "nucleus" below):
//   par     warped = q on the proposal's nucleus, −∞ elsewhere; EOS priority always on.
//   par_kl  KL(softmax(m) ‖ softmax(q)) per row, over the whole vocabulary, raw logits
//           (float64 sum). Rows with KL ≤ div_threshold: as par (the restricted aligner
//           branch); other rows: warped = m (a plain proposal step). EOS priority optional.
//   mds     warped = log( normalise( softmax(m / base_temperature) · softmax(q / expert_temperature) )
//                         + 1e-10 ); EOS priority optional.
// The proposal's nucleus: m / base_temperature, then top-k (base_top_k; ≤ 0 off), then top-p
// (base_top_p; 1 off) with HuggingFace's warper semantics (processors.hpp: the token crossing
// the threshold stays, the largest always stays, ties at the k-th value stay) — the set
// of tokens whose filtered logit is finite.
// EOS priority: a row whose proposal arg-max (= the filtered proposal's arg-max: temperature,
// top-k and top-p keep the largest) is one of `eos_ids` gets warped = −∞ everywhere but
// that id (0 there), so whatever follows emits EOS.
//
// Differences from the original (documented in docs/generate.md):
//   * the original checks EOS priority and the KL branch on batch row 0 only, and sums the
//     KL over the batch; here both are decided per sequence (batch composition never
//     changes a sequence's output);
//   * the original draws two tokens without replacement and keeps the first (which fails
//     when only one token is possible); the engine draws one.
//
// Vocabulary: both models' logits are cut to the tokenizer's length before the step, as the
// original resizes both embedding tables to len(tokenizer) (Qwen2.5-3B's 151936 rows vs
// 14B's 152064 differ only by padding rows). joint_vocab() decides that length.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace ram::generate {

// none: single-model decoding (no proposal). resample is sequence level (resample.hpp).
enum class JointMode { none, par, par_kl, mds, resample };
JointMode parse_joint_mode(const std::string& name);  // ConfigError naming the valid names
const char* to_string(JointMode m);

struct JointParams {
  JointMode mode = JointMode::none;
  double base_temperature = 1.0;    // > 0: the proposal's temperature for the nucleus (and mds)
  double base_top_p = 0.95;         // (0, 1]: the proposal nucleus' mass; 1: off
  std::int64_t base_top_k = 0;      // ≤ 0: off
  double div_threshold = 0.1;       // par_kl: the KL bound of the restricted branch
  double expert_temperature = 1.0;  // > 0: mds's aligner temperature (resample: weight temperature)
  bool eos_priority = false;        // mds / par_kl (par: always on)
};

// Throws ConfigError for an out-of-range value (naming the key).
void check(const JointParams& p);

// "par_kl(base_temperature 0.5, base_top_p 0.95, div_threshold 0.1)" for the start-up log.
std::string describe(const JointParams& p);

// KL(softmax(m) ‖ softmax(q)) per row: Σ_v p_m(v) (log p_m(v) − log p_q(v)), log-softmax in
// float32, the sum in float64. m, q [B, V] float32 → [B] float64.
at::Tensor kl_rows(const at::Tensor& m, const at::Tensor& q);

// The proposal's nucleus as a mask: m [B, V] float32 → [B, V] bool (true: a candidate).
at::Tensor proposal_nucleus(const at::Tensor& m, const JointParams& p);

// What the step decided per row (for statistics and tests).
struct JointInfo {
  std::vector<double> kl;                // par_kl: each row's KL; empty otherwise
  std::vector<std::uint8_t> restricted;  // 1: the restricted aligner branch (par: all rows)
  std::vector<std::uint8_t> eos_forced;  // 1: EOS priority fired
};

// The warped logits [B, V] float32 (a new tensor; q and m are not changed). q, m: [B, V]
// float32 contiguous, same shape. eos_ids: the ids EOS priority looks for.
at::Tensor joint_step(const at::Tensor& q, const at::Tensor& m, const JointParams& p,
                      const std::vector<std::int64_t>& eos_ids, JointInfo* info = nullptr);

// The shared vocabulary length. Two tokenizer fingerprints ("" where a directory has no
// tokenizer.json) that are both given and differ are a real vocabulary mismatch: a
// ConfigError naming both model directories. tokenizer_size ≥ 0 (the tokenizer's length,
// added tokens included): V = tokenizer_size, which must fit both embedding tables;
// tokenizer_size < 0 (no tokenizer at all): the two vocabulary sizes must be equal.
std::int64_t joint_vocab(std::int64_t aligner_vocab, std::int64_t proposal_vocab,
                         const std::string& aligner_dir, const std::string& proposal_dir,
                         const std::string& aligner_tokenizer_fp,
                         const std::string& proposal_tokenizer_fp, std::int64_t tokenizer_size);

}  // namespace ram::generate
