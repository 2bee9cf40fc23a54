// bench_nn_linear — the batch-1 linear kernel choice of ram::nn::linear (DESIGN §10) on a
// ~110M-parameter llama-shape model (hidden 768, 12 layers, 12 heads, intermediate 2048,
// vocab 32000, tied embeddings; random weights from the llama plugin's `tiny` node), f32.
// Baseline in the same run: the same work through at::linear (sgemm with m = 1).
// JSON lines:
//   {"bench":"nn_linear","case":"linears","kernel":"gemv"|"sgemm",
//    "ms_per_step":..,"gbps":..}     the 12·7 layer projections + lm_head for one token
//   {"case":"decode_step","kernel":..,"ms_per_step":..,"tokens_per_s":..}
//                                     a whole batch-1 decode step of the model (KV cache
//                                     at 64 tokens), GEMV path on / off (set_linear_gemv)
//   {"case":"ratio","linears":sgemm/gemv,"decode_step":sgemm/gemv}
// Figures are the best of the repetitions (a shared machine: the best is the least
// disturbed), medians beside them.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <nlohmann/json.hpp>

#include "bench_util.hpp"
#include "config/compose.hpp"
#include "platform/platform.hpp"
#include "plugin/registry.hpp"
#include "ram/config.hpp"
#include "ram/model.hpp"
#include "ram/nn.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct Timing {
  double best_s, median_s;
};

Timing time_it(const std::function<void()>& fn, int min_reps = 10, double min_s = 1.5) {
  fn();
  std::vector<double> t;
  const auto start = Clock::now();
  while (static_cast<int>(t.size()) < min_reps ||
         std::chrono::duration<double>(Clock::now() - start).count() < min_s) {
    const auto t0 = Clock::now();
    fn();
    t.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    if (t.size() >= 500) break;
  }
  std::sort(t.begin(), t.end());
  return {t.front(), t[t.size() / 2]};
}

int run() {
  ram::platform::configure_threads();
  auto root = ram::config::parse_yaml(
      "model:\n  dtype: f32\n  tiny: {vocab: 32000, hidden: 768, layers: 12, heads: 12, kv_heads: 12,"
      " intermediate: 2048, max_positions: 2048, tied: true, seed: 1}\n",
      "bench_nn_linear");
  auto model = ram::plugin::Registry::instance().make_model("llama", ram::ConfigView(root).child("model"));
  c10::InferenceMode guard;

  // The projections of one decode step, in the model's own tensors.
  std::vector<at::Tensor> weights;
  std::int64_t bytes = 0;
  for (const auto& p : model->named_parameters()) {
    if (p.value().dim() == 2) {
      weights.push_back(p.value());
      bytes += p.value().numel() * 4;
    }
  }
  const at::Tensor x768 = at::randn({1, 1, 768}), x2048 = at::randn({1, 1, 2048});
  auto step_with = [&](bool gemv) {
    return [&, gemv] {
      for (const auto& w : weights) {
        const at::Tensor& x = w.size(1) == 768 ? x768 : x2048;
        at::Tensor y = gemv ? ram::nn::linear(x, w) : at::linear(x, w);
      }
    };
  };
  json ratio = {{"bench", "nn_linear"}, {"case", "ratio"}};
  double lin[2] = {0, 0};
  for (bool gemv : {true, false}) {
    const Timing t = time_it(step_with(gemv));
    lin[gemv ? 0 : 1] = t.best_s;
    std::cout << json{{"bench", "nn_linear"}, {"case", "linears"}, {"kernel", gemv ? "gemv" : "sgemm"},
                      {"weight_bytes", bytes}, {"ms_per_step", t.best_s * 1e3},
                      {"median_ms", t.median_s * 1e3}, {"gbps", bytes / t.best_s / 1e9}}
                     .dump()
              << std::endl;
  }
  ratio["linears"] = lin[1] / lin[0];

  // Whole decode steps: 64 cached tokens, then one token per step.
  const std::int64_t prompt = 64;
  auto cache = model->make_cache(1, prompt + 4096);
  const at::Tensor ids = at::randint(0, 32000, {1, prompt}, at::kLong);
  model->forward(ids, at::arange(prompt, at::kLong).unsqueeze(0), at::ones({1, prompt}, at::kLong), cache.get());
  const at::Tensor tok = at::randint(0, 32000, {1, 1}, at::kLong), one = at::ones({1, 1}, at::kLong);
  double dec[2] = {0, 0};
  for (bool gemv : {true, false}) {
    ram::nn::set_linear_gemv(gemv);
    const Timing t = time_it([&] {
      // Stay at 64 + a few tokens: roll the cache back by clearing and re-prefilling is
      // costly, so each timed step appends one token (4096 slots are plenty).
      model->forward(tok, at::full({1, 1}, cache->length(), at::kLong), one, cache.get());
    });
    dec[gemv ? 0 : 1] = t.best_s;
    std::cout << json{{"bench", "nn_linear"}, {"case", "decode_step"}, {"kernel", gemv ? "gemv" : "sgemm"},
                      {"cached_tokens_at_end", cache->length()}, {"ms_per_step", t.best_s * 1e3},
                      {"median_ms", t.median_s * 1e3}, {"tokens_per_s", 1.0 / t.best_s}}
                     .dump()
              << std::endl;
  }
  ram::nn::set_linear_gemv(true);
  ratio["decode_step"] = dec[1] / dec[0];
  std::cout << ratio.dump() << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return ram::bench::guarded_main(argc, argv, [](int, char**) { return run(); });
}
