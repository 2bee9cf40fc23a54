// ram_sft — the aligner's training objective (the original's `ours_sft`; see
// ram-method.md "Training"): raise the log-likelihood of the gold response and, with a
// small weight α, lower that of a proposal sample for the same prompt.
//
// Shapes: B pairs; chosen = prompt + gold response [B,Tc], rejected = prompt + proposal
// sample (or the dataset's rejected response) [B,Tr], both right-padded.
//   pc[b] = log Q(chosen_b | prompt_b), pr[b] = log Q(rejected_b | prompt_b)   [B]
//           (response tokens only; one forward of both batches: pair_logprob)
//   loss_sum = Σ_b [ −pc[b] + α · pr[b] ]   scalar, differentiable;   count = B
// Metric sums over the batch (the trainer divides by the global count):
//   logps/chosen = Σ pc   logps/rejected = Σ pr   loss = loss_sum
//   rewards/margins = Σ (pc − pr)   rewards/accuracies = Σ 1[pc > pr]   (DPO's names)
//   tokens = scored tokens of chosen + rejected
// No reference model. Config: `name` (ram_sft), `alpha` (default 1e-4, ≥ 0).
#include <cmath>
#include <sstream>
#include <string>

#include <ATen/ATen.h>

#include <ram/config.hpp>
#include <ram/error.hpp>
#include <ram/objective.hpp>
#include <ram/plugin.hpp>

#include "../common/pairs.hpp"

namespace {

class RamSft : public ram::Objective {
 public:
  explicit RamSft(const ram::ConfigView& cfg) {
    cfg.get<std::string>("name", "ram_sft");
    alpha_ = cfg.get<double>("alpha", 1e-4);
    if (!std::isfinite(alpha_) || alpha_ < 0) {
      std::ostringstream v;
      v << alpha_;
      throw ram::ConfigError(cfg.dotted("alpha") + " must be a finite number ≥ 0, got " + v.str(),
                             cfg.where("alpha").str(),
                             "the paper's default is 1e-4 (robust from 1e-5 to 0.1)");
    }
    cfg.finish();
  }

  bool needs_rejected() const override { return true; }

  ram::ObjectiveResult compute(ram::CausalLM& policy, ram::CausalLM* /*reference*/,
                               const ram::ObjectiveBatch& batch) const override {
    ram::objectives::check_pairs(batch, "ram_sft");
    auto [pc, pr] = ram::pair_logprob(policy, batch.chosen, batch.rejected);  // [B], [B]

    ram::ObjectiveResult r;
    r.loss_sum = (-pc + alpha_ * pr).sum();
    r.count = batch.chosen.size();
    at::Tensor c = pc.detach(), j = pr.detach();
    auto& m = r.metric_sums;
    m["logps/chosen"] = c.sum();
    m["logps/rejected"] = j.sum();
    m["rewards/margins"] = (c - j).sum();
    m["rewards/accuracies"] = (c > j).to(at::kFloat).sum();
    m["loss"] = r.loss_sum.detach();
    m["tokens"] = (ram::objectives::scored_tokens(batch.chosen) +
                   ram::objectives::scored_tokens(batch.rejected))
                      .to(pc.device());
    return r;
  }

  std::string describe() const override {
    std::ostringstream s;
    s << "ram_sft: -log p(chosen) + alpha * log p(rejected), alpha=" << alpha_;
    return s.str();
  }

 private:
  double alpha_ = 1e-4;
};

}  // namespace

RAM_OBJECTIVE_PLUGIN("ram_sft", "1.0.0",
                     "the aligner's loss (ours_sft): -log p(gold) + alpha * log p(proposal sample)",
                     RamSft)
