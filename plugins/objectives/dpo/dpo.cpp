// dpo / ipo / ram_dpo — the preference losses of the original DPO trainer (Rafailov et al.;
// eric-mitchell/direct-preference-optimization trainers.py, preference_loss).
//
// One source, three plugin libraries (CMakeLists.txt compiles it with RAM_PREFERENCE_VARIANT
// = 1 dpo, 2 ipo, 3 ram_dpo); the variants differ only in their config keys and defaults:
//   dpo      beta 0.5, label_smoothing 0, reference_free false   (frozen reference model)
//   ipo      beta 0.1, reference_free false; IPO loss, no label smoothing
//   ram_dpo  beta 1.0, label_smoothing 0; always reference-free (the original's `ours_dpo`:
//            DPO on the aligner itself, no reference model)
//
// Shapes: B pairs; chosen and rejected are right-padded [B,Tc] and [B,Tr] token batches.
//   pc, pr [B]  policy log-probs of chosen / rejected (one forward of both: pair_logprob)
//   rc, rr [B]  the same under the frozen reference, no grad; 0 when reference-free
//   logits      = (pc − pr) − (rc − rr)
//   dpo loss_b  = −logsigmoid(β·logits)·(1 − ls) − logsigmoid(−β·logits)·ls
//   ipo loss_b  = (logits − 1/(2β))²
//   loss_sum    = Σ_b loss_b (differentiable through pc, pr), count = B
// Metric sums over the batch (the trainer divides by the global count):
//   rewards/chosen = Σ β(pc − rc)   rewards/rejected = Σ β(pr − rr)
//   rewards/margins = Σ (β(pc − rc) − β(pr − rr))
//   rewards/accuracies = Σ 1[β(pc − rc) > β(pr − rr)]
//   logps/chosen = Σ pc   logps/rejected = Σ pr   loss = loss_sum
//   tokens = scored tokens of chosen + rejected
// Needs batch.rejected; needs a reference model unless reference-free (a ram::Error names
// what is missing).
#include <cmath>
#include <sstream>
#include <string>
#include <utility>

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <ram/config.hpp>
#include <ram/error.hpp>
#include <ram/model.hpp>
#include <ram/objective.hpp>
#include <ram/plugin.hpp>

#include "../common/pairs.hpp"

#ifndef RAM_PREFERENCE_VARIANT
#error "compile with RAM_PREFERENCE_VARIANT=1 (dpo), 2 (ipo) or 3 (ram_dpo)"
#endif

namespace {

struct Variant {
  const char* name;
  double beta;
  bool ipo;                    // IPO loss instead of DPO's (no label_smoothing key)
  bool fixed_reference_free;   // reference-free always (no reference_free key)
};

#if RAM_PREFERENCE_VARIANT == 1
constexpr Variant kVariant{"dpo", 0.5, false, false};
#elif RAM_PREFERENCE_VARIANT == 2
constexpr Variant kVariant{"ipo", 0.1, true, false};
#elif RAM_PREFERENCE_VARIANT == 3
constexpr Variant kVariant{"ram_dpo", 1.0, false, true};
#else
#error "RAM_PREFERENCE_VARIANT must be 1 (dpo), 2 (ipo) or 3 (ram_dpo)"
#endif

void require(bool ok, const ram::ConfigView& cfg, const std::string& key, const std::string& what) {
  if (!ok)
    throw ram::ConfigError(cfg.dotted(key) + " " + what, cfg.where(key).str(),
                           "fix the value in configs/loss/" + std::string(kVariant.name) +
                               ".yaml or on the command line");
}

class Preference : public ram::Objective {
 public:
  explicit Preference(const ram::ConfigView& cfg) {
    cfg.get<std::string>("name", kVariant.name);
    beta_ = cfg.get<double>("beta", kVariant.beta);
    require(std::isfinite(beta_) && beta_ > 0, cfg, "beta", "must be a positive number, got " + num(beta_));
    if (!kVariant.ipo) {
      label_smoothing_ = cfg.get<double>("label_smoothing", 0.0);
      require(label_smoothing_ >= 0 && label_smoothing_ < 0.5, cfg, "label_smoothing",
              "must be in [0, 0.5) (the fraction of flipped preferences), got " + num(label_smoothing_));
    }
    // ram_dpo has no reference_free key (it is always reference-free): not read, so a
    // reference_free there is an unknown key for finish().
    reference_free_ = kVariant.fixed_reference_free || cfg.get<bool>("reference_free", false);
    cfg.finish();
  }

  bool needs_rejected() const override { return true; }
  bool needs_reference() const override { return !reference_free_; }

  ram::ObjectiveResult compute(ram::CausalLM& policy, ram::CausalLM* reference,
                               const ram::ObjectiveBatch& batch) const override {
    const std::string who = kVariant.name;
    ram::objectives::check_pairs(batch, who);
    if (!reference_free_ && reference == nullptr)
      throw ram::Error(who + " needs the frozen reference model and none was given",
                       "Objective::compute(reference)",
                       "load a reference model (the policy's starting point) or set loss.reference_free=true");

    auto [pc, pr] = ram::pair_logprob(policy, batch.chosen, batch.rejected);  // [B], [B]
    at::Tensor rc = at::zeros_like(pc).detach(), rr = at::zeros_like(pr).detach();
    if (!reference_free_) {
      at::NoGradGuard no_grad;
      auto ref = ram::pair_logprob(*reference, batch.chosen, batch.rejected);
      rc = ref.first.to(pc.device(), at::kFloat);
      rr = ref.second.to(pr.device(), at::kFloat);
    }

    at::Tensor logits = (pc - pr) - (rc - rr);  // [B]
    at::Tensor losses;
    if (kVariant.ipo) {
      losses = (logits - 1.0 / (2.0 * beta_)).pow(2);
    } else {
      losses = -at::log_sigmoid(beta_ * logits) * (1.0 - label_smoothing_) -
               at::log_sigmoid(-beta_ * logits) * label_smoothing_;
    }
    at::Tensor chosen_rewards = (beta_ * (pc - rc)).detach();
    at::Tensor rejected_rewards = (beta_ * (pr - rr)).detach();

    ram::ObjectiveResult r;
    r.loss_sum = losses.sum();
    r.count = batch.chosen.size();
    auto& m = r.metric_sums;
    m["rewards/chosen"] = chosen_rewards.sum();
    m["rewards/rejected"] = rejected_rewards.sum();
    m["rewards/margins"] = (chosen_rewards - rejected_rewards).sum();
    m["rewards/accuracies"] = (chosen_rewards > rejected_rewards).to(at::kFloat).sum();
    m["logps/chosen"] = pc.detach().sum();
    m["logps/rejected"] = pr.detach().sum();
    m["loss"] = r.loss_sum.detach();
    m["tokens"] = (ram::objectives::scored_tokens(batch.chosen) +
                   ram::objectives::scored_tokens(batch.rejected))
                      .to(pc.device());
    return r;
  }

  std::string describe() const override {
    std::ostringstream s;
    s << kVariant.name << ": beta=" << beta_;
    if (!kVariant.ipo) s << " label_smoothing=" << label_smoothing_;
    s << " reference_free=" << (reference_free_ ? "true" : "false");
    return s.str();
  }

 private:
  static std::string num(double x) {
    std::ostringstream s;
    s << x;
    return s.str();
  }

  double beta_ = kVariant.beta;
  double label_smoothing_ = 0.0;
  bool reference_free_ = kVariant.fixed_reference_free;
};

}  // namespace

#if RAM_PREFERENCE_VARIANT == 1
RAM_OBJECTIVE_PLUGIN("dpo", "1.0.0",
                     "DPO: -logsigmoid(beta * policy-vs-reference log-ratio margin), frozen reference",
                     Preference)
#elif RAM_PREFERENCE_VARIANT == 2
RAM_OBJECTIVE_PLUGIN("ipo", "1.0.0",
                     "IPO: (policy-vs-reference log-ratio margin - 1/(2 beta))^2, frozen reference",
                     Preference)
#else
RAM_OBJECTIVE_PLUGIN("ram_dpo", "1.0.0",
                     "the original's ours_dpo: reference-free DPO on the aligner (beta 1.0)",
                     Preference)
#endif
