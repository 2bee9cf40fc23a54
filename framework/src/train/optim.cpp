// RMSprop / AdamW on flat buffers (optim.hpp).
#include "train/optim.hpp"

#include <cmath>

#include <ATen/ATen.h>

#include <ram/error.hpp>

namespace ram::train {

FlatOptimizer::FlatOptimizer(const OptimSpec& spec, std::int64_t numel) : spec_(spec) {
  const auto f32 = at::TensorOptions().dtype(at::kFloat);
  if (spec.name == "rmsprop") {
    state_["square_avg"] = at::zeros({numel}, f32);
  } else if (spec.name == "adamw") {
    state_["exp_avg"] = at::zeros({numel}, f32);
    state_["exp_avg_sq"] = at::zeros({numel}, f32);
  } else {
    throw ConfigError("optimizer '" + spec.name + "' is not known", "optimizer",
                      "use optimizer=rmsprop (the original's) or optimizer=adamw");
  }
}

void FlatOptimizer::step(at::Tensor& param, const at::Tensor& grad, double lr, std::int64_t t) {
  if (spec_.name == "rmsprop") {
    at::Tensor& v = state_.at("square_avg");
    v.mul_(spec_.alpha).addcmul_(grad, grad, 1.0 - spec_.alpha);
    at::Tensor avg = v.sqrt().add_(spec_.eps);
    param.addcdiv_(grad, avg, -lr);
    return;
  }
  at::Tensor& m = state_.at("exp_avg");
  at::Tensor& v = state_.at("exp_avg_sq");
  param.mul_(1.0 - lr * spec_.weight_decay);
  m.lerp_(grad, 1.0 - spec_.beta1);
  v.mul_(spec_.beta2).addcmul_(grad, grad, 1.0 - spec_.beta2);
  const double bc1 = 1.0 - std::pow(spec_.beta1, static_cast<double>(t));
  const double bc2 = 1.0 - std::pow(spec_.beta2, static_cast<double>(t));
  at::Tensor denom = (v.sqrt() / std::sqrt(bc2)).add_(spec_.eps);
  param.addcdiv_(m, denom, -lr / bc1);
}

}  // namespace ram::train
