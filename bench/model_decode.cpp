// bench/model_decode — prefill and decode throughput of a ~110M-parameter llama-shape model
// (hidden 768, 12 layers, 12 heads, intermediate 2048, vocab 32000; random weights built
// in-process by the llama plugin's `tiny` node), f32 and bf16, against the same run's
// weight-streaming roofline. JSON lines:
//   {"bench":"model_decode","case":"bandwidth","gbps":..}        at::mv over a 256 MiB f32
//                                                                 matrix, best of 5
//   {"case":"prefill","dtype":..,"batch":B,"tokens":128,"tokens_per_s":..}
//   {"case":"decode","dtype":..,"batch":B,"prompt":32,"steps":64,"tokens_per_s":..,
//    "ms_per_step":..}
//   {"case":"roofline","dtype":..,"weight_bytes":..,"bound_tokens_per_s":gbps/weight bytes,
//    "batch1_decode_tokens_per_s":..,"ratio":measured/bound}
// Batch-1 decoding reads every weight once per token (the embedding table only by row),
// so memory bandwidth / streamed weight bytes bounds it; `ratio` says how close we get.
// Options: --layers N (default 12), --steps N (64), --dtypes f32,bf16.
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>

#include "bench_util.hpp"
#include "generate/batch.hpp"
#include "log/log.hpp"
#include "model/tiny.hpp"
#include "platform/platform.hpp"
#include "ram/error.hpp"
#include "ram/model.hpp"

using json = nlohmann::ordered_json;

namespace {

using ram::bench::now_s;

void emit(const json& j) { ram::bench::emit("model_decode", j); }

double bandwidth_gbps() {
  auto a = at::randn({8192, 8192});  // 256 MiB
  auto x = at::randn({8192});
  at::mv(a, x);  // warm
  double best = 1e30;
  for (int i = 0; i < 5; ++i) {
    double t0 = now_s();
    auto y = at::mv(a, x);
    best = std::min(best, now_s() - t0);
  }
  return static_cast<double>(a.numel() * a.element_size()) / best / 1e9;
}

at::Tensor random_ids(std::int64_t b, std::int64_t t, std::int64_t vocab) {
  return at::randint(vocab, {b, t}, at::kLong);
}

double prefill(ram::CausalLM& m, std::int64_t b, std::int64_t t, int reps) {
  auto ids = random_ids(b, t, m.vocab_size());
  auto mask = at::ones({b, t}, at::kLong);
  auto pos = ram::generate::positions_from_mask(mask);
  double best = 1e30;
  for (int i = 0; i < reps; ++i) {
    double t0 = now_s();
    m.forward(ids, pos, mask, nullptr);
    best = std::min(best, now_s() - t0);
  }
  return static_cast<double>(b * t) / best;
}

// Seconds per decode step at batch b (after a `prompt`-token prefill through the cache).
double decode_step_s(ram::CausalLM& m, std::int64_t b, std::int64_t prompt, std::int64_t steps) {
  auto cache = m.make_cache(b, prompt + steps + 1);
  auto mask = at::ones({b, prompt}, at::kLong);
  auto logits = m.forward(random_ids(b, prompt, m.vocab_size()), ram::generate::positions_from_mask(mask),
                          mask, cache.get());
  auto ones = at::ones({b, 1}, at::kLong);
  auto pos = at::full({b, 1}, prompt, at::kLong);
  auto tok = logits.select(1, prompt - 1).argmax(-1).view({b, 1});
  double t0 = now_s();
  for (std::int64_t s = 0; s < steps; ++s) {
    logits = m.forward(tok, pos, ones, cache.get());
    tok = logits.select(1, 0).argmax(-1).view({b, 1});
    pos = pos + 1;
  }
  return (now_s() - t0) / static_cast<double>(steps);
}

int run(int argc, char** argv) {
  ram::log::init();
  auto report = ram::platform::configure_threads();
  std::int64_t layers = 12, steps = 64;
  std::string dtypes = "f32,bf16";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--layers") layers = std::atoll(argv[i + 1]);
    if (a == "--steps") steps = std::atoll(argv[i + 1]);
    if (a == "--dtypes") dtypes = argv[i + 1];
  }
  c10::InferenceMode guard;
  emit({{"case", "config"}, {"summary", report.summary()}, {"threads", at::get_num_threads()}});
  const double gbps = bandwidth_gbps();
  emit({{"case", "bandwidth"}, {"gbps", gbps}, {"how", "at::mv f32 8192x8192, best of 5"}});
  for (const std::string dtype : {"f32", "bf16"}) {
    if (dtypes.find(dtype) == std::string::npos) continue;
    ram::model::TinySpec spec;
    spec.arch = "llama";
    spec.dtype = dtype;
    spec.vocab = 32000;
    spec.hidden = 768;
    spec.layers = layers;
    spec.heads = 12;
    spec.kv_heads = 12;
    spec.intermediate = 2048;
    spec.max_positions = 1024;
    spec.seed = 1;
    double t0 = now_s();
    auto model = ram::model::make_tiny_model(spec);
    std::int64_t params = 0, streamed = 0;
    for (const auto& p : model->named_parameters()) {
      params += p.value().numel();
      if (p.key().find("embed_tokens") == std::string::npos)
        streamed += p.value().numel() * p.value().element_size();
    }
    emit({{"case", "model"}, {"dtype", dtype}, {"parameters", params}, {"streamed_weight_bytes", streamed},
          {"build_s", now_s() - t0}, {"describe", model->describe()}});
    for (std::int64_t b : {1, 16})
      emit({{"case", "prefill"}, {"dtype", dtype}, {"batch", b}, {"tokens", 128},
            {"tokens_per_s", prefill(*model, b, 128, b == 1 ? 3 : 2)}});
    double b1 = 0;
    for (std::int64_t b : {1, 16}) {
      double s = decode_step_s(*model, b, 32, steps);
      if (b == 1) b1 = 1.0 / s;
      emit({{"case", "decode"}, {"dtype", dtype}, {"batch", b}, {"prompt", 32}, {"steps", steps},
            {"tokens_per_s", static_cast<double>(b) / s}, {"ms_per_step", s * 1e3}});
    }
    double bound = gbps * 1e9 / static_cast<double>(streamed);
    emit({{"case", "roofline"}, {"dtype", dtype}, {"weight_bytes", streamed},
          {"bound_tokens_per_s", bound}, {"batch1_decode_tokens_per_s", b1}, {"ratio", b1 / bound}});
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return ram::bench::guarded_main(argc, argv, run); }
