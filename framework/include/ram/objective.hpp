// ram/objective.hpp — the Objective plugin interface and the shared log-prob helper.
//
// An objective is a small pure function of a batch and the policy (plus an optional frozen
// reference model). It returns the loss *summed* over the batch's examples, the number of
// examples, and metric sums; the trainer divides by the global count (what makes 2 ranks
// equal 1 rank) and never branches on the objective's name.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include <ATen/core/Tensor.h>

namespace ram {

class CausalLM;

// A right-padded batch of token sequences (prompt + response).
//   ids        [B,T] int64
//   attention  [B,T] int64   1 on real tokens, 0 on padding
//   loss_mask  [B,T] float32 1 where token t is a response token to be scored (predicted
//                            from logits at t-1); 0 on prompt, padding and t = 0
struct TokenBatch {
  at::Tensor ids, attention, loss_mask;
  std::int64_t size() const { return ids.defined() ? ids.size(0) : 0; }
};

struct ObjectiveBatch {
  TokenBatch chosen;    // prompt + gold response (+ EOS)
  TokenBatch rejected;  // prompt + proposal sample / rejected response; empty if unused
};

struct ObjectiveResult {
  at::Tensor loss_sum;                          // scalar, differentiable
  std::int64_t count = 0;                       // examples in the batch
  std::map<std::string, at::Tensor> metric_sums;  // scalars, summed over examples
};

class Objective {
 public:
  virtual ~Objective() = default;
  virtual bool needs_rejected() const { return false; }
  virtual bool needs_reference() const { return false; }
  virtual ObjectiveResult compute(CausalLM& policy, CausalLM* reference,
                                  const ObjectiveBatch& batch) const = 0;
  virtual std::string describe() const = 0;
};

// Σ_t loss_mask[b,t] · log softmax(logits[b,t-1])[ids[b,t]]  →  [B] float32.
// logits [B,T,V] as the model returned them for batch.ids.
at::Tensor sequence_logprob(const at::Tensor& logits, const TokenBatch& batch);

// Runs the model over a batch (positions = running count of real tokens − 1) and returns
// sequence_logprob of its logits → [B].
at::Tensor batch_logprob(CausalLM& model, const TokenBatch& batch);

// The rows of `a` then the rows of `b`, each right-padded to the longer T (ids 0,
// attention 0, loss_mask 0) → [Ba+Bb, max(Ta,Tb)]; ids/attention int64, loss_mask float32.
TokenBatch concat_batches(const TokenBatch& a, const TokenBatch& b);

// batch_logprob of a and of b through ONE forward of concat_batches(a, b) (the original
// DPO trainer's concatenated_forward) → {[Ba], [Bb]}; equals two batch_logprob calls.
std::pair<at::Tensor, at::Tensor> pair_logprob(CausalLM& model, const TokenBatch& a,
                                               const TokenBatch& b);

}  // namespace ram
