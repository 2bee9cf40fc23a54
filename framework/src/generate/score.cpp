#include "generate/score.hpp"

#include <ATen/ATen.h>

#include "generate/batch.hpp"
#include "ram/model.hpp"

namespace ram::generate {

std::vector<ScoreResult> score_batch(CausalLM& model, const std::vector<ScoreRequest>& batch,
                                     int top_k, std::int64_t vocab) {
  std::vector<std::vector<std::int64_t>> seqs;
  seqs.reserve(batch.size());
  for (const auto& r : batch) {
    auto s = r.prompt;
    s.insert(s.end(), r.response.begin(), r.response.end());
    seqs.push_back(std::move(s));
  }
  auto in = left_pad(seqs);
  auto logits = model.forward(in.ids, in.positions, in.attention, nullptr).to(at::kFloat);
  if (vocab > 0 && vocab < logits.size(2)) logits = logits.narrow(2, 0, vocab);
  const std::int64_t t = logits.size(1);
  auto top = logits.select(1, t - 1).topk(std::min<std::int64_t>(top_k, logits.size(2)), -1);
  auto top_v = std::get<0>(top).to(at::kDouble).contiguous();
  auto top_i = std::get<1>(top).contiguous();

  std::vector<ScoreResult> out(batch.size());
  for (std::size_t r = 0; r < batch.size(); ++r) {
    auto& res = out[r];
    const std::int64_t p = static_cast<std::int64_t>(batch[r].prompt.size());
    const std::int64_t q = static_cast<std::int64_t>(batch[r].response.size());
    if (q > 0) {
      const std::int64_t first = in.pad[r] + p - 1;  // row scoring response[0]
      auto rows = logits[static_cast<std::int64_t>(r)].narrow(0, first, q).log_softmax(-1);
      auto target = at::tensor(batch[r].response, at::kLong).unsqueeze(1);
      auto lp = rows.gather(1, target).squeeze(1).to(at::kDouble).contiguous();
      const double* v = lp.data_ptr<double>();
      res.token_logprobs.assign(v, v + q);
      for (double x : res.token_logprobs) res.logprob += x;
    }
    for (std::int64_t k = 0; k < top_v.size(1); ++k)
      res.top_logits.emplace_back(top_i[r][k].item<std::int64_t>(), top_v[r][k].item<double>());
  }
  return out;
}

}  // namespace ram::generate
