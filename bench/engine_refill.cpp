// bench/engine_refill — what continuous refill costs under the KV-cache contract (all rows
// advance together): a refill forward computes B × (longest new prompt) positions, padding
// included. Runs the same requests (varied prompt lengths, EOS spread over many ids so rows
// end at different steps) at one batch size with refill_min_free = 1 (refill at once, the
// baseline) and larger values (wait for several free slots), and prints one JSON line per
// setting: generated tokens/s, forwards, positions computed, ratio to the baseline.
//
//   bench_engine_refill [--batch 16] [--requests 48] [--new 64] [--hidden 384] [--layers 4]
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "generate/engine.hpp"
#include "model/tiny.hpp"
#include "ram/model.hpp"

namespace {

std::int64_t arg(int argc, char** argv, const char* name, std::int64_t fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return std::atoll(argv[i + 1]);
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  c10::InferenceMode guard;
  const std::int64_t batch = arg(argc, argv, "--batch", 16), n = arg(argc, argv, "--requests", 48),
                     new_tokens = arg(argc, argv, "--new", 64),
                     hidden = arg(argc, argv, "--hidden", 384),
                     layers = arg(argc, argv, "--layers", 4), vocab = 4096;
  ram::model::TinySpec spec;
  spec.arch = "llama";
  spec.vocab = vocab;
  spec.hidden = hidden;
  spec.layers = layers;
  spec.heads = hidden / 64;
  spec.kv_heads = hidden / 64;
  spec.intermediate = hidden * 8 / 3;
  spec.seed = 3;
  spec.init_std = 0.02;  // near-uniform next-token distributions
  auto model = ram::model::make_tiny_model(spec);
  std::vector<ram::generate::Request> reqs;
  for (std::int64_t i = 0; i < n; ++i) {
    ram::generate::Request r;
    r.example_index = i;
    for (std::int64_t j = 0; j < 32 + (37 * i) % 65; ++j)
      r.prompt_ids.push_back((7919 * i + 104729 * j + 13) % vocab);
    reqs.push_back(std::move(r));
  }
  double base = 0;
  for (std::int64_t min_free : {std::int64_t{1}, batch / 4, batch / 2, batch}) {
    ram::generate::EngineOptions o;
    o.batch_size = batch;
    o.sampling.temperature = 1.0;
    o.stop.max_new_tokens = new_tokens;
    for (std::int64_t id = 0; id < vocab; id += vocab / 80)
      o.stop.eos_ids.push_back(id);  // ~2% a step
    o.refill_min_free = std::max<std::int64_t>(min_free, 1);
    ram::generate::Engine engine(*model, nullptr, o);
    const auto t0 = std::chrono::steady_clock::now();
    engine.run(reqs, [](ram::generate::Result&&) {});
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const auto& st = engine.stats();
    const double tps = static_cast<double>(st.generated_tokens) / s;
    if (base == 0) base = tps;
    std::printf(
        "{\"bench\": \"engine_refill\", \"batch\": %lld, \"refill_min_free\": %lld, \"requests\": "
        "%lld, "
        "\"generated_tokens\": %lld, \"seconds\": %.3f, \"tokens_per_s\": %.1f, \"forward_calls\": "
        "%lld, "
        "\"forward_positions\": %lld, \"prompt_tokens\": %lld, \"vs_refill_at_once\": %.2f, "
        "\"threads\": %d}\n",
        static_cast<long long>(batch), static_cast<long long>(o.refill_min_free),
        static_cast<long long>(n), static_cast<long long>(st.generated_tokens), s, tps,
        static_cast<long long>(st.forward_calls), static_cast<long long>(st.forward_positions),
        static_cast<long long>(st.prompt_tokens), tps / base, at::get_num_threads());
    std::fflush(stdout);
  }
  return 0;
}
