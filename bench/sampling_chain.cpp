// bench/sampling_chain — per-step cost of the logits-processor chain + the draw
// (generate/processors: Chain::sample, as the engine calls it) on [B, V] logits, against a
// baseline in the same run: HF's warpers written literally (full-vocabulary where() for the
// penalty, full sort for top-p, softmax + cumsum over V for the draw). Also the chain on whole
// rows (apply + sample_inverse_cdf: no candidates path) as ram_whole_rows_ms. One JSON line
// per (order, B, V): milliseconds per step.
//
//   bench_sampling_chain [--steps 20]
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "generate/engine.hpp"
#include "generate/processors.hpp"

namespace {

namespace g = ram::generate;

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// HF literally: RepetitionPenalty over a [B, V] mask with where(), TopK, TopP by full sort,
// then softmax + cumsum over V in float64 and a search.
at::Tensor baseline_step(at::Tensor l, const at::Tensor& seen, const g::SamplingParams& sp,
                         const at::Tensor& u) {
  const float inf = std::numeric_limits<float>::infinity();
  for (const auto& name : sp.order) {
    if (name == "repetition_penalty") {
      l = at::where(seen, at::where(l < 0, l * sp.repetition_penalty, l / sp.repetition_penalty),
                    l);
    } else if (name == "temperature") {
      l = l / sp.temperature;
    } else if (name == "top_k") {
      l = l.masked_fill(l < std::get<0>(l.topk(sp.top_k)).narrow(1, sp.top_k - 1, 1), -inf);
    } else {
      auto sorted = l.sort(-1);
      at::Tensor rm = std::get<0>(sorted).softmax(-1).cumsum(-1) <= 1 - sp.top_p;
      rm.narrow(1, rm.size(1) - 1, 1).fill_(false);
      l = l.masked_fill(rm.scatter(1, std::get<1>(sorted), rm), -inf);
    }
  }
  at::Tensor cdf = at::softmax(l, -1, at::kDouble).cumsum(-1);
  return at::searchsorted(cdf, u * cdf.narrow(1, l.size(1) - 1, 1), false, true);
}

}  // namespace

int main(int argc, char** argv) {
  c10::InferenceMode guard;
  int steps = 20;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--steps") == 0) steps = std::atoi(argv[i + 1]);
  const std::vector<std::pair<std::string, std::vector<std::string>>> orders = {
      {"vllm", {"repetition_penalty", "temperature", "top_k", "top_p"}},
      {"fastchat", {"temperature", "repetition_penalty", "top_p", "top_k"}}};
  for (const auto& [oname, order] : orders) {
    for (std::int64_t B : {8, 32}) {
      for (std::int64_t V : {32000, 128256}) {
        g::SamplingParams sp;  // ram sample's values: 1.05, 0.5, 10, 0.95
        sp.order = order;
        at::manual_seed(1);
        at::Tensor logits = at::randn({B, V}, at::kFloat) * 4;
        g::Chain chain(sp, B, V);
        at::Tensor seen = at::zeros({B, V}, at::kBool);
        for (std::int64_t r = 0; r < B; ++r) {  // 600 seen ids per row (prompt + output)
          std::vector<std::int64_t> ids;
          for (std::int64_t j = 0; j < 600; ++j) ids.push_back((r * 7919 + j * 104729) % V);
          chain.start(r, ids);
          for (auto id : ids) seen[r][id] = true;
        }
        at::Tensor u = at::rand({B, 1}, at::kDouble);
        double ours = 1e9, dense = 1e9, base = 1e9;  // best of `steps`
        for (int s = 0; s < steps; ++s) {
          at::Tensor w = logits.clone(), wd = logits.clone();
          double t0 = now();
          at::Tensor a = chain.sample(w, u);
          double t1 = now();
          at::Tensor b = baseline_step(logits.clone(), seen, sp, u);
          double t2 = now();
          chain.apply(wd);
          at::Tensor d = g::sample_inverse_cdf(wd, u, chain.finite_bound());
          double t3 = now();
          ours = std::min(ours, t1 - t0);
          base = std::min(base, t2 - t1);
          dense = std::min(dense, t3 - t2);
          if (s == 0 && !at::equal(a, d))
            std::fprintf(stderr, "note: candidates and whole-row draws differ (%s B=%lld V=%lld)\n",
                         oname.c_str(), (long long)B, (long long)V);
          if (s == 0 && !at::equal(a, b))
            std::fprintf(stderr, "note: draws differ (%s B=%lld V=%lld)\n", oname.c_str(),
                         (long long)B, (long long)V);
        }
        std::printf(
            "{\"bench\": \"sampling_chain\", \"order\": \"%s\", \"batch\": %lld, \"vocab\": %lld, "
            "\"ram_ms\": %.3f, \"ram_whole_rows_ms\": %.3f, \"hf_literal_ms\": %.3f, "
            "\"speedup\": %.2f, \"threads\": %d}\n",
            oname.c_str(), (long long)B, (long long)V, ours * 1e3, dense * 1e3, base * 1e3, base / ours,
            at::get_num_threads());
        std::fflush(stdout);
      }
    }
  }
  return 0;
}
