// generate/score.hpp — log P(response | prompt) under a CausalLM, batched with left padding.
//
// For a row with prompt p (≥ 1 token) and response r, the model runs once over p ++ r.
// Response token j is scored by the logits row before it:
//   token_logprobs[j] = log_softmax(logits[|p| + j − 1])[r[j]],  logprob = Σ_j token_logprobs[j]
// top_logits: the k largest raw logits (id, logit), largest first, of the LAST position's
// row — the logits after the full sequence p ++ r, i.e. the distribution of the token that
// would follow the response. log_softmax is taken in float32 (logits are float32 for every
// model dtype); the sum is accumulated in double.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace ram {
class CausalLM;
}

namespace ram::generate {

struct ScoreRequest {
  std::vector<std::int64_t> prompt, response;
};

struct ScoreResult {
  double logprob = 0;
  std::vector<double> token_logprobs;
  std::vector<std::pair<std::int64_t, double>> top_logits;
};

// One forward over the whole batch (call it under c10::InferenceMode). vocab > 0: only the
// first `vocab` logits count (a vocabulary padded past its tokenizer's length, as RAM
// decoding cuts it: ram_modes.hpp joint_vocab); 0: all.
std::vector<ScoreResult> score_batch(CausalLM& model, const std::vector<ScoreRequest>& batch,
                                     int top_k = 5, std::int64_t vocab = 0);

}  // namespace ram::generate
