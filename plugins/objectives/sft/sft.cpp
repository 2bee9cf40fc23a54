// sft — supervised fine-tuning: maximise the log-likelihood of the gold response.
//
// Shapes: B examples, T tokens (prompt + response, right-padded), V vocabulary.
//   logp[b]  = Σ_t loss_mask[b,t] · log p_θ(ids[b,t] | ids[b,<t])   [B]   (batch_logprob)
//              = log p_θ(chosen | prompt): the prompt and the padding are masked out
//   loss_sum = −Σ_b logp[b]                                          scalar, differentiable
//   count    = B
// Metric sums over the batch (the trainer divides by the global count):
//   logps/chosen = Σ_b logp[b]      loss = loss_sum (detached)
//   tokens       = Σ_{b,t≥1} loss_mask[b,t]   (scored tokens; t = 0 is never scored)
// Uses batch.chosen only; no reference model. Config: `name` (sft), nothing else.
#include <string>

#include <ATen/core/Tensor.h>

#include <ram/config.hpp>
#include <ram/objective.hpp>
#include <ram/plugin.hpp>

namespace {

class Sft : public ram::Objective {
 public:
  explicit Sft(const ram::ConfigView& cfg) {
    cfg.get<std::string>("name", "sft");
    cfg.finish();
  }

  ram::ObjectiveResult compute(ram::CausalLM& policy, ram::CausalLM* /*reference*/,
                               const ram::ObjectiveBatch& batch) const override {
    const ram::TokenBatch& chosen = batch.chosen;
    at::Tensor logp = ram::batch_logprob(policy, chosen);  // [B]
    ram::ObjectiveResult r;
    r.loss_sum = -logp.sum();
    r.count = chosen.size();
    const auto T = chosen.loss_mask.size(1);
    r.metric_sums["logps/chosen"] = logp.detach().sum();
    r.metric_sums["loss"] = r.loss_sum.detach();
    r.metric_sums["tokens"] =
        chosen.loss_mask.slice(1, 1, T).to(at::kFloat).sum().to(logp.device());
    return r;
  }

  std::string describe() const override { return "sft: -sum_t log p(chosen_t | prompt, chosen_<t)"; }
};

}  // namespace

RAM_OBJECTIVE_PLUGIN("sft", "1.0.0", "supervised fine-tuning: negative log-likelihood of the chosen response", Sft)
