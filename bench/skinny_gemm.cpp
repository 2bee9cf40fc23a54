// bench_skinny_gemm — the f32 matrix product at decode-sized batches, y[m,N] = x[m,K] · W[N,K]ᵀ
// + b, three ways with the same threads (ram's configure_threads), in the same run:
// at::linear (OpenBLAS sgemm, which re-packs W on every call), ram::nn::skinny_linear (the
// AVX-512 kernel on W as it is: what nn::linear takes for 2–64 rows) and
// ram::nn::PackedLinear (W packed once; extra memory).
//
// Shapes: m ∈ {1,2,4,8,16,32,64} × (K,N) ∈ {(768,768),(768,2048),(2048,768),(768,32000)}
// (the llama-shape bench model: hidden 768, intermediate 2048, vocab 32000).
// Each call takes the next of C copies of the weight, C chosen so that the copies hold
// --working-set-mb (default 440: the bench model's f32 weights) — as in a decode step, the
// weights come from memory, not from a warm cache; --working-set-mb 0 reuses one weight.
// JSON line per shape:
//   {"bench":"skinny_gemm","m":..,"K":..,"N":..,"sgemm_gflops":..,"skinny_gflops":..,
//    "packed_gflops":..,"ratio":skinny/sgemm,"packed_ratio":packed/sgemm,
//    "skinny_gbps":..(weight bytes streamed per second),"skinny_rel_err":..,
//    "packed_rel_err":..,"sgemm_rel_err":..}
//   errors against a float64 reference: max |y − ref| / max |ref|.
// Figures are the best of the repetitions (a shared machine: the least disturbed); the
// three sides alternate over --rounds rounds (default 2), each keeping its best.
// Options: --m 1,2,4,.. --shapes 768x768,768x2048 (KxN) --working-set-mb MB
//          --min-seconds S (per side and round, default 0.25) --rounds R
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>

#include "bench_util.hpp"
#include "platform/platform.hpp"
#include "ram/error.hpp"
#include "ram/nn.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double best_seconds(const std::function<void()>& fn, double min_s) {
  fn();
  double best = 1e30;
  int reps = 0;
  const auto start = Clock::now();
  while (reps < 5 || std::chrono::duration<double>(Clock::now() - start).count() < min_s) {
    const auto t0 = Clock::now();
    fn();
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
    if (++reps >= 20000) break;
  }
  return best;
}

std::vector<std::int64_t> parse_ints(const std::string& s, char sep) {
  std::vector<std::int64_t> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, sep)) out.push_back(std::stoll(item));
  return out;
}

int run(int argc, char** argv) {
  std::vector<std::int64_t> ms = {1, 2, 4, 8, 16, 32, 64};
  std::vector<std::pair<std::int64_t, std::int64_t>> shapes = {
      {768, 768}, {768, 2048}, {2048, 768}, {768, 32000}};
  double working_set_mb = 440, min_s = 0.25;
  int rounds = 2;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw ram::ConfigError("option " + a + " needs a value", "bench_skinny_gemm", "");
      return argv[++i];
    };
    if (a == "--m") {
      ms = parse_ints(next(), ',');
    } else if (a == "--shapes") {
      shapes.clear();
      std::stringstream in(next());
      std::string item;
      while (std::getline(in, item, ',')) {
        const auto kn = parse_ints(item, 'x');
        if (kn.size() != 2) throw ram::ConfigError("bad shape '" + item + "'", "--shapes", "write KxN, e.g. 768x2048");
        shapes.emplace_back(kn[0], kn[1]);
      }
    } else if (a == "--working-set-mb") {
      working_set_mb = std::stod(next());
    } else if (a == "--rounds") {
      rounds = std::max(1, std::stoi(next()));
    } else if (a == "--min-seconds") {
      min_s = std::stod(next());
    } else {
      throw ram::ConfigError("unknown option " + a, "bench_skinny_gemm",
                             "options: --m --shapes --working-set-mb --min-seconds --rounds");
    }
  }
  const auto report = ram::platform::configure_threads();
  ram::bench::emit("skinny_gemm", {{"case", "config"},
                                   {"threads", report.threads},
                                   {"aten_threads", at::get_num_threads()},
                                   {"blas_core", report.blas_core},
                                   {"skinny_available", ram::nn::skinny_available()},
                                   {"working_set_mb", working_set_mb}});
  c10::InferenceMode guard;
  at::manual_seed(0);
  for (const auto& [K, N] : shapes) {
    const double w_bytes = static_cast<double>(N * K * 4);
    const auto copies = std::max<std::int64_t>(1, static_cast<std::int64_t>(working_set_mb * 1e6 / w_bytes));
    std::vector<at::Tensor> ws;
    std::vector<ram::nn::PackedLinear> packed;
    for (std::int64_t c = 0; c < copies; ++c) {
      ws.push_back(at::randn({N, K}) * 0.02);
      packed.emplace_back(ws.back());
    }
    if (!packed.front().packed()) {
      throw ram::NotSupported("this CPU has no AVX-512F: nothing to compare", "bench_skinny_gemm", "");
    }
    const at::Tensor b = at::randn({N});
    for (const auto m : ms) {
      const at::Tensor x = at::randn({m, K});
      std::size_t next_s = 0, next_d = 0, next_p = 0;
      double s_sgemm = 1e30, s_skinny = 1e30, s_packed = 1e30;
      for (int round = 0; round < rounds; ++round) {
        s_sgemm = std::min(s_sgemm, best_seconds([&] { at::linear(x, ws[next_s++ % ws.size()], b); }, min_s));
        s_skinny = std::min(s_skinny, best_seconds([&] { ram::nn::skinny_linear(x, ws[next_d++ % ws.size()], b); }, min_s));
        s_packed = std::min(s_packed, best_seconds([&] { packed[next_p++ % packed.size()].forward(x, b); }, min_s));
      }
      const at::Tensor ref = at::linear(x.to(at::kDouble), ws[0].to(at::kDouble), b.to(at::kDouble));
      const double scale = ref.abs().max().item<double>();
      auto rel_err = [&](const at::Tensor& y) { return (y.to(at::kDouble) - ref).abs().max().item<double>() / scale; };
      const double flops = 2.0 * static_cast<double>(m * K * N);
      ram::bench::emit("skinny_gemm", {{"m", m},
                                       {"K", K},
                                       {"N", N},
                                       {"sgemm_gflops", flops / s_sgemm / 1e9},
                                       {"skinny_gflops", flops / s_skinny / 1e9},
                                       {"packed_gflops", flops / s_packed / 1e9},
                                       {"ratio", s_sgemm / s_skinny},
                                       {"packed_ratio", s_sgemm / s_packed},
                                       {"skinny_gbps", w_bytes / s_skinny / 1e9},
                                       {"skinny_rel_err", rel_err(ram::nn::skinny_linear(x, ws[0], b))},
                                       {"packed_rel_err", rel_err(packed[0].forward(x, b))},
                                       {"sgemm_rel_err", rel_err(at::linear(x, ws[0], b))}});
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return ram::bench::guarded_main(argc, argv, run); }
