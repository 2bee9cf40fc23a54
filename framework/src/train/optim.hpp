// train/optim.hpp — RMSprop and AdamW on flat float32 buffers (one shard or the whole).
//
// The maths are torch.optim's (1.13, defaults the original used: `torch.optim.RMSprop(
// params, lr)` / `AdamW(params, lr)`), applied elementwise, so a flat buffer gives the
// same numbers as per-parameter tensors:
//   rmsprop (alpha 0.99, eps 1e-8, no momentum, not centred, no weight decay):
//     v ← α·v + (1 − α)·g²;  p ← p − lr · g / (√v + eps)
//   adamw (β1 0.9, β2 0.999, eps 1e-8, weight_decay 0.01), t = this step (1-based):
//     p ← p·(1 − lr·wd); m ← β1·m + (1 − β1)·g; v ← β2·v + (1 − β2)·g²
//     p ← p − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + eps)
// State tensors ("square_avg"; "exp_avg", "exp_avg_sq") are f32 with the shard's length;
// they are what the checkpoint stores under /optimizer/<name>.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <ATen/core/Tensor.h>

namespace ram::train {

struct OptimSpec {
  std::string name = "rmsprop";  // rmsprop | adamw
  double alpha = 0.99;           // rmsprop
  double beta1 = 0.9, beta2 = 0.999, weight_decay = 0.01;  // adamw
  double eps = 1e-8;
};

class FlatOptimizer {
 public:
  // `numel`: length of the shard this rank updates. Throws ConfigError for another name.
  FlatOptimizer(const OptimSpec& spec, std::int64_t numel);
  // One step on the shard: `param` and `grad` are f32 [numel]; `t` is the 1-based step.
  void step(at::Tensor& param, const at::Tensor& grad, double lr, std::int64_t t);
  std::map<std::string, at::Tensor>& state() { return state_; }
  const std::map<std::string, at::Tensor>& state() const { return state_; }
  const OptimSpec& spec() const { return spec_; }

 private:
  OptimSpec spec_;
  std::map<std::string, at::Tensor> state_;
};

}  // namespace ram::train
