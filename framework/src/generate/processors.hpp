// generate/processors.hpp — the logits-processor chain of sampling (DESIGN §6), built in
// exactly one place (make_chain) in the order the config gives.
//
// Each stage works on a batch of rows at once, in place, on logits [B, V] float32 (one row
// per engine slot), with HuggingFace transformers' semantics (4.x, generation/logits_process.py):
//   repetition_penalty  RepetitionPenaltyLogitsProcessor: for every id in the row's prompt
//                       + generated ids, logit < 0 → logit·p, else logit / p. The set is a
//                       [B, V] "seen" mask kept per slot and updated per accepted token,
//                       with the list of its ids (applied by gather/scatter, as HF does).
//   temperature         TemperatureLogitsWarper: logits / T.
//   top_k               TopKLogitsWarper: −inf below the k-th largest logit (ties kept).
//   top_p               TopPLogitsWarper: sort ascending, softmax, cumulative sum; −inf where
//                       the cumulative probability ≤ 1 − top_p, the largest always kept.
// A stage at its neutral value (penalty 1, temperature 1, top_k ≤ 0, top_p ≥ 1) is left out,
// and greedy decoding leaves out the temperature (an arg-max does not depend on it).
//
// Verbs (llama.cpp's sampler interface): apply(logits) on all rows; start(slot, prompt) when a
// slot takes a new sequence; accept(slot, id) for each token the slot generates.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace ram::generate {

struct SamplingParams;

// The rows' candidates after a top-k: the k largest logits per row and their ids, [B, k]
// each (vals float32, ids int64; any order within a row). The stages after a top-k work on
// these instead of the whole [B, V] row (Chain::sample): the same values, k instead of V.
struct Candidates {
  at::Tensor vals, ids;
};

class LogitsProcessor {
 public:
  virtual ~LogitsProcessor() = default;
  virtual std::string describe() const = 0;  // "top_p(0.95)"
  // logits [B, V] float32, in place. `finite` is an upper bound on the finite logits of any
  // row (V at the start of the chain): a stage that masks lowers it, and top-p and the draw
  // then work on that many candidates instead of the whole vocabulary.
  virtual void apply(at::Tensor& logits, std::int64_t& finite) = 0;
  // The same stage on a top-k's candidates (exactly the values apply() would leave there);
  // stages that need the whole row (a second top-k) say false in compact().
  virtual bool compact() const { return true; }
  virtual void apply(Candidates& c) = 0;
  virtual void start(std::int64_t /*slot*/, const std::vector<std::int64_t>& /*prompt*/) {}
  virtual void accept(std::int64_t /*slot*/, std::int64_t /*id*/) {}
};

class RepetitionPenalty : public LogitsProcessor {
 public:
  RepetitionPenalty(double penalty, std::int64_t batch, std::int64_t vocab);
  std::string describe() const override;
  void apply(at::Tensor& logits, std::int64_t& finite) override;
  void apply(Candidates& c) override;
  void start(std::int64_t slot, const std::vector<std::int64_t>& prompt) override;
  void accept(std::int64_t slot, std::int64_t id) override;
  const at::Tensor& seen() const { return seen_; }  // [B, V] bool

 private:
  double penalty_;
  std::int64_t vocab_;
  at::Tensor seen_;                               // [B, V] bool
  std::vector<std::vector<std::int64_t>> lists_;  // per slot: the distinct seen ids
};

class Temperature : public LogitsProcessor {
 public:
  explicit Temperature(double t);
  std::string describe() const override;
  void apply(at::Tensor& logits, std::int64_t& finite) override;
  void apply(Candidates& c) override;

 private:
  double t_;
};

class TopK : public LogitsProcessor {
 public:
  explicit TopK(std::int64_t k);
  std::string describe() const override;
  void apply(at::Tensor& logits, std::int64_t& finite) override;
  bool compact() const override { return false; }
  void apply(Candidates& c) override;  // throws: never called (compact() is false)
  // The candidates apply() would keep, without touching `logits`: false (nothing written)
  // when they are not exactly k per row — k ≥ V, or a tie with the k-th largest finite
  // logit (HF keeps ties: more than k survive) — and the whole row must be filtered.
  bool select(const at::Tensor& logits, Candidates& c) const;

 private:
  std::int64_t k_;
};

class TopP : public LogitsProcessor {
 public:
  explicit TopP(double p);
  std::string describe() const override;
  void apply(at::Tensor& logits, std::int64_t& finite) override;
  void apply(Candidates& c) override;

 private:
  double p_;
};

// The stages of `params` in params.order, for `batch` slots over a vocabulary of `vocab`.
// An unknown or repeated name, or an out-of-range value (temperature ≤ 0, top_p outside
// (0, 1], repetition_penalty ≤ 0), is one ConfigError naming the valid names / range.
class Chain {
 public:
  Chain() = default;
  Chain(const SamplingParams& params, std::int64_t batch, std::int64_t vocab);
  void apply(at::Tensor& logits);
  // apply() and the draw (sample_inverse_cdf) in one: ids [B, 1] int64 for u [B, 1]. With a
  // top-k in the chain and only compact stages after it, those stages and the draw work on
  // the k candidates per row (no pass over [B, V] after the top-k; `logits` is left
  // partly filtered): the same ids as apply() + sample_inverse_cdf but for the rounding of
  // the draw's softmax denominator, as sample_inverse_cdf's own candidates path.
  at::Tensor sample(at::Tensor& logits, const at::Tensor& u);
  // After apply(): an upper bound on the finite logits of any row (for sample_inverse_cdf).
  std::int64_t finite_bound() const { return finite_; }
  void start(std::int64_t slot, const std::vector<std::int64_t>& prompt);
  void accept(std::int64_t slot, std::int64_t id);
  // "repetition_penalty(1.05) → temperature(0.5) → top_k(10) → top_p(0.95)" ("none" if empty).
  std::string describe() const;
  std::size_t size() const { return stages_.size(); }

 private:
  std::vector<std::unique_ptr<LogitsProcessor>> stages_;
  std::int64_t finite_ = 0;
};

// The draw after the chain: per row, the first id in vocabulary order whose float64
// cumulative probability (softmax of `logits` in float64, summed left to right) exceeds
// u · total. Ids of probability 0 are never drawn. Deterministic: the same row and u give
// the same id whatever the other rows. logits [B, V] float32, u [B, 1] float64 in [0, 1)
// → ids [B, 1] int64.
// When at most a quarter of the logits are finite (after top-k / top-p) only those
// candidates are summed (sample_inverse_cdf_full on the gathered candidates, in vocabulary
// order): the same draw but for the rounding of the softmax denominator.
// `finite`: an upper bound on the finite logits per row (Chain::finite_bound()); 0: count.
at::Tensor sample_inverse_cdf(const at::Tensor& logits, const at::Tensor& u,
                              std::int64_t finite = 0);
at::Tensor sample_inverse_cdf_full(const at::Tensor& logits, const at::Tensor& u);

// The largest number of finite logits in a row of `logits` [B, V].
std::int64_t finite_candidates(const at::Tensor& logits);

// The names `order` accepts, in the default (vLLM) order.
const std::vector<std::string>& processor_names();

}  // namespace ram::generate
