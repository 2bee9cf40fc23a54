#include "generate/greedy.hpp"

#include <algorithm>

#include <ATen/ATen.h>

#include "generate/batch.hpp"
#include "ram/model.hpp"

namespace ram::generate {

at::Tensor next_token_greedy(const at::Tensor& logits) { return logits.argmax(-1); }

std::vector<std::vector<std::int64_t>> decode(CausalLM& model,
                                              const std::vector<std::vector<std::int64_t>>& prompts,
                                              const DecodeOptions& opt, const NextToken& next) {
  const std::int64_t b = static_cast<std::int64_t>(prompts.size());
  std::vector<std::vector<std::int64_t>> out(prompts.size());
  if (b == 0 || opt.max_new_tokens <= 0) return out;
  auto in = left_pad(prompts, opt.pad_id);
  auto cache = model.make_cache(b, in.ids.size(1) + opt.max_new_tokens);
  auto last = model.forward_last(in.ids, in.positions, in.attention, cache.get()).to(at::kFloat);
  auto pos = in.positions.select(1, in.positions.size(1) - 1).unsqueeze(1) + 1;  // [B, 1]
  auto ones = at::ones({b, 1}, at::kLong);
  std::vector<bool> done(prompts.size(), false);
  std::int64_t live = b;
  for (std::int64_t step = 0; step < opt.max_new_tokens; ++step) {
    auto tok = next(last).to(at::kLong).contiguous();
    const std::int64_t* t = tok.data_ptr<std::int64_t>();
    for (std::int64_t r = 0; r < b; ++r) {
      if (done[r]) continue;
      out[r].push_back(t[r]);
      if (std::find(opt.eos_ids.begin(), opt.eos_ids.end(), t[r]) != opt.eos_ids.end()) {
        done[r] = true;
        --live;
      }
    }
    if (live == 0 || step + 1 == opt.max_new_tokens) break;
    last = model.forward_last(tok.view({b, 1}), pos, ones, cache.get()).to(at::kFloat);
    pos = pos + 1;
  }
  return out;
}

}  // namespace ram::generate
