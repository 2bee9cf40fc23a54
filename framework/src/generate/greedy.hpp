// generate/greedy.hpp — the batched decoder: left-padded prompts, one prefill, then one
// token per step through the model's KV cache, each row stopping at its first EOS (kept
// in its ids, as HF's generate keeps it) or after max_new_tokens.
//
// The logits → next-token step is a separate function (NextToken) so that sampling modes
// (issue 4: temperature, top-k/top-p, RAM's joint modes) plug in without touching the loop.
// Rows that have finished keep being fed (their EOS again) so all rows advance together;
// what they produce is dropped.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include <ATen/core/Tensor.h>

namespace ram {
class CausalLM;
}

namespace ram::generate {

// logits [B, V] float32 of each row's last position → next ids [B] int64.
using NextToken = std::function<at::Tensor(const at::Tensor& logits)>;

// Greedy: the arg-max of each row (the lowest id among equal maxima, as torch.argmax).
at::Tensor next_token_greedy(const at::Tensor& logits);

struct DecodeOptions {
  std::int64_t max_new_tokens = 32;
  std::vector<std::int64_t> eos_ids;  // empty: never stop early
  std::int64_t pad_id = 0;            // fills the left padding (masked out)
};

// New ids per row (call it under c10::InferenceMode). Every prompt must be non-empty.
std::vector<std::vector<std::int64_t>> decode(CausalLM& model,
                                              const std::vector<std::vector<std::int64_t>>& prompts,
                                              const DecodeOptions& options, const NextToken& next);

inline std::vector<std::vector<std::int64_t>> greedy_decode(
    CausalLM& model, const std::vector<std::vector<std::int64_t>>& prompts,
    const DecodeOptions& options) {
  return decode(model, prompts, options, next_token_greedy);
}

}  // namespace ram::generate
