// Sequence log-probabilities, shared by every objective (see ram/objective.hpp).
//
//   sequence_logprob(logits [B,T,V], batch) → [B] float32
//     lp[b,t] = log softmax(logits[b,t-1])[ids[b,t]]          for t = 1..T-1
//     out[b]  = Σ_{t≥1} loss_mask[b,t] · lp[b,t]
//   Position 0 is never scored (nothing predicts it); the logits of the last position
//   predict a token outside the sequence and are unused.
//
//   batch_logprob(model, batch): positions = cumsum(attention) − 1, clamped at 0, so a
//   right-padded row counts 0,1,2,… over its real tokens and padding repeats the last
//   position (its logits are masked anyway).
//
//   concat_batches / pair_logprob: chosen and rejected through one forward, as the
//   original DPO trainer's concatenated_forward; right padding is masked, so each row's
//   log-prob is what a forward of its own batch gives.
#include <ATen/ATen.h>

#include <algorithm>
#include <string>

#include "ram/error.hpp"
#include "ram/model.hpp"
#include "ram/objective.hpp"

namespace ram {

namespace {

std::string shape_str(const at::Tensor& t) {
  if (!t.defined()) return "undefined";
  std::string s = "[";
  for (std::int64_t i = 0; i < t.dim(); ++i) s += (i ? "," : "") + std::to_string(t.size(i));
  return s + "]";
}

// Throws ram::Error unless ids [B,T] integer, attention [B,T] (when defined), loss_mask [B,T].
void check_batch(const TokenBatch& batch, const char* who) {
  const std::string w = who;
  if (!batch.ids.defined() || batch.ids.dim() != 2)
    throw Error(w + ": ids must be [B,T], got " + shape_str(batch.ids), "TokenBatch.ids",
                "build the batch with ids of shape [batch, tokens]");
  if (at::isFloatingType(batch.ids.scalar_type()))
    throw Error(w + ": ids must be an integer tensor, got " +
                    std::string(c10::toString(batch.ids.scalar_type())),
                "TokenBatch.ids", "store token ids as int64");
  if (!batch.loss_mask.defined() || !batch.loss_mask.sizes().equals(batch.ids.sizes()))
    throw Error(w + ": loss_mask " + shape_str(batch.loss_mask) + " does not match ids " +
                    shape_str(batch.ids),
                "TokenBatch.loss_mask", "loss_mask must be [B,T] like ids");
  if (batch.attention.defined() && !batch.attention.sizes().equals(batch.ids.sizes()))
    throw Error(w + ": attention " + shape_str(batch.attention) + " does not match ids " +
                    shape_str(batch.ids),
                "TokenBatch.attention", "attention must be [B,T] like ids");
}

}  // namespace

at::Tensor sequence_logprob(const at::Tensor& logits, const TokenBatch& batch) {
  check_batch(batch, "sequence_logprob");
  const auto B = batch.ids.size(0), T = batch.ids.size(1);
  if (!logits.defined() || logits.dim() != 3 || logits.size(0) != B || logits.size(1) != T)
    throw Error("sequence_logprob: logits " + shape_str(logits) + " do not match ids " +
                    shape_str(batch.ids) + " (want [B,T,V])",
                "logits", "pass the logits the model returned for batch.ids");
  const auto V = logits.size(2);
  if (T < 2) return at::zeros({B}, logits.options().dtype(at::kFloat));

  at::Tensor target = batch.ids.slice(1, 1, T).to(at::kLong);  // [B,T-1]
  if (target.numel() > 0) {
    const auto lo = target.min().item<std::int64_t>(), hi = target.max().item<std::int64_t>();
    if (lo < 0 || hi >= V)
      throw Error("sequence_logprob: token id " + std::to_string(lo < 0 ? lo : hi) +
                      " is outside the vocabulary [0," + std::to_string(V) + ")",
                  "TokenBatch.ids", "the tokenizer and the model disagree on the vocabulary");
  }
  at::Tensor lp = at::log_softmax(logits.slice(1, 0, T - 1).to(at::kFloat), -1);  // [B,T-1,V]
  at::Tensor tok = lp.gather(2, target.to(lp.device()).unsqueeze(-1)).squeeze(-1);  // [B,T-1]
  at::Tensor mask = batch.loss_mask.slice(1, 1, T).to(lp.device(), at::kFloat);    // [B,T-1]
  // where(), not tok · mask: a non-finite log-probability at a masked place (padding after
  // the sequence) must not turn the row's sum into NaN.
  return at::where(mask != 0, tok * mask, at::zeros({}, tok.options())).sum(1);     // [B]
}

at::Tensor batch_logprob(CausalLM& model, const TokenBatch& batch) {
  check_batch(batch, "batch_logprob");
  if (!batch.attention.defined())
    throw Error("batch_logprob: attention is undefined", "TokenBatch.attention",
                "set attention to 1 on real tokens and 0 on padding");
  at::Tensor attention = batch.attention.to(at::kLong);
  at::Tensor positions = (attention.cumsum(1) - 1).clamp_min(0);  // [B,T]
  at::Tensor logits = model.forward(batch.ids, positions, attention, nullptr);
  if (!logits.defined() || logits.dim() != 3 || logits.size(0) != batch.ids.size(0) ||
      logits.size(1) != batch.ids.size(1))
    throw Error("batch_logprob: model " + model.describe() + " returned logits " +
                    shape_str(logits) + " for ids " + shape_str(batch.ids) + " (want [B,T,V])",
                "CausalLM::forward", "the model plugin must return one row of logits per token");
  return sequence_logprob(logits, batch);
}

TokenBatch concat_batches(const TokenBatch& a, const TokenBatch& b) {
  check_batch(a, "concat_batches (first)");
  check_batch(b, "concat_batches (second)");
  if (!a.attention.defined() || !b.attention.defined())
    throw Error("concat_batches: attention is undefined", "TokenBatch.attention",
                "set attention to 1 on real tokens and 0 on padding");
  const auto T = std::max(a.ids.size(1), b.ids.size(1));
  auto pad = [T](const at::Tensor& x, at::ScalarType type) {  // [B,t] → [B,T], zeros right
    at::Tensor y = x.to(type);
    const auto extra = T - y.size(1);
    return extra == 0 ? y : at::constant_pad_nd(y, {0, extra}, 0);
  };
  TokenBatch out;
  out.ids = at::cat({pad(a.ids, at::kLong), pad(b.ids.to(a.ids.device()), at::kLong)}, 0);
  out.attention = at::cat({pad(a.attention, at::kLong), pad(b.attention.to(a.attention.device()), at::kLong)}, 0);
  out.loss_mask = at::cat({pad(a.loss_mask, at::kFloat), pad(b.loss_mask.to(a.loss_mask.device()), at::kFloat)}, 0);
  return out;
}

std::pair<at::Tensor, at::Tensor> pair_logprob(CausalLM& model, const TokenBatch& a,
                                               const TokenBatch& b) {
  at::Tensor all = batch_logprob(model, concat_batches(a, b));  // [Ba+Bb]
  const auto na = a.ids.size(0);
  return {all.slice(0, 0, na), all.slice(0, na, all.size(0))};
}

}  // namespace ram
