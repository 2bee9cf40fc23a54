// objectives/common/pairs.hpp — header-only helpers shared by the pairwise objectives
// (ram_sft, dpo, ipo, ram_dpo): the checks on a chosen/rejected batch and the token count.
//
//   check_pairs(batch, who): batch.chosen and batch.rejected both present, same B (row b of
//     rejected pairs with row b of chosen: same prompt); a ram::Error naming `who` otherwise.
//   scored_tokens(tb) → scalar float32 = Σ_{b,t≥1} loss_mask[b,t] (t = 0 is never scored).
#pragma once

#include <string>

#include <ATen/ATen.h>

#include <ram/error.hpp>
#include <ram/objective.hpp>

namespace ram::objectives {

inline void check_pairs(const ObjectiveBatch& batch, const std::string& who) {
  if (batch.chosen.size() == 0)
    throw Error(who + ": the batch has no chosen responses", "ObjectiveBatch.chosen",
                "the trainer must fill batch.chosen");
  if (batch.rejected.size() == 0)
    throw Error(who + ": the batch has no rejected responses, and " + who +
                    " compares chosen with rejected",
                "ObjectiveBatch.rejected",
                "train on a dataset with a rejected / proposal response per prompt "
                "(e.g. the sample stage's output), or use the sft objective");
  if (batch.rejected.size() != batch.chosen.size())
    throw Error(who + ": " + std::to_string(batch.chosen.size()) + " chosen but " +
                    std::to_string(batch.rejected.size()) + " rejected responses",
                "ObjectiveBatch.rejected", "row b of rejected must pair with row b of chosen");
}

inline at::Tensor scored_tokens(const TokenBatch& tb) {
  const auto T = tb.loss_mask.size(1);
  return tb.loss_mask.slice(1, 1, T).to(at::kFloat).sum();
}

}  // namespace ram::objectives
