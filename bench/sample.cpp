// bench/sample — sampling throughput of ram::generate::Engine against an eager-PyTorch
// baseline (bench/python/sample_baseline.py: HF-style Llama, HF legacy torch.cat KV cache,
// static batching, HF's processors, torch.multinomial), measured in the same run.
//
// Model: llama-shape, hidden 768, 12 layers, 12 heads, intermediate 2048, vocab 32000,
// untied, f32 (--dtype), random weights (the llama plugin's `tiny` node; the baseline draws its own
// random weights of the same shape: speed does not depend on the values). Sampling as
// `ram sample`'s defaults: repetition penalty 1.05, temperature 0.5, top-k 10, top-p 0.95.
// No EOS: every prompt gets exactly --new-tokens (64) new tokens, so both sides generate the
// same number of tokens. Prompts (same formula on both sides): prompt i has 24 + (7 i mod 17)
// tokens, token j = (7919 i + 104729 j + 13) mod vocab.
//
// Each measurement runs in a fresh process (this binary re-executed with --child, and one
// Python process per batch size) so that peak RSS (getrusage ru_maxrss) does not mix. The
// children inherit the environment prepare_process()/configure_threads() settled here
// (OPENBLAS_CORETYPE, OMP_WAIT_POLICY, OMP/OPENBLAS_NUM_THREADS), and Python gets
// torch.set_num_threads(<ram's thread count>): same BLAS kernels, same threads.
//
// JSON lines:
//   {"bench":"sample","case":"config",...}
//   {"bench":"sample","case":"ram","batch":B,"prompts":N,"generated_tokens":..,"seconds":..,
//    "tokens_per_s":..,"peak_rss_mb":..,"forward_only_tokens_per_s":..,"forward_share":..}
//       forward_only: the model's own decode loop (argmax, no processors, no engine) at batch
//       B after a 32-token prefill, 16 steps; forward_share = (generated tokens / forward_only
//       rate) / engine seconds: the engine's decode steps spent in the model (the engine's
//       prefill is not in forward_only, so this is < 1 even with a free sampling tail);
//       after_forward_ms_per_step: logsumexp + clone, each processor alone, the chain, the
//       draw, on [B, 32000] random logits (best of 5), next to forward_ms_per_step.
//   {"bench":"sample","case":"python",...}  the baseline's line as it printed it
//   {"bench":"sample","batch":B,"ram_tokens_per_s":..,"python_tokens_per_s":..,"ratio":..,
//    "ram_peak_rss_mb":..,"python_peak_rss_mb":..,"rss_ratio":..,"ratio_per_round":[..],
//    "ratio_cpu_time":..}
//   --repeat R rounds (default 2) alternate a ram child and a Python child per batch size;
//   the summary takes each side's best round (tokens/s, and tokens per CPU-second for
//   ratio_cpu_time: less sensitive to other processes on a shared machine) and the largest
//   peak RSS; ratio_per_round pairs the rounds that ran back to back.
// Options: --batches 1,8,32  --prompts-per-batch K (N = K B prompts, at least 2 at batch 1;
//          default 1)  --new-tokens 64  --layers 12  --python /usr/bin/python3  --no-python
//          --dtype f32|bf16 (both sides; Python builds the model in bf16)  --repeat R (2)
//          --cache-capacity N (ram's EngineOptions::cache_capacity, 0 = the engine's default)
//          --no-breakdown (skip forward_only and the after-forward timings)
//          --child --batch B --prompts N [--ablate]: one measurement (what the parent runs);
//          --ablate alternates forward-only / greedy engine / sampling engine twice;
//          --profile FILE writes the timed run's ATen ops as a chrome trace (LibTorch's
//          legacy profiler; it slows the run: for where the time goes, not for rates).
#include <c10/core/InferenceMode.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>
#include <torch/csrc/autograd/profiler_legacy.h>

#include "bench_util.hpp"
#include "generate/batch.hpp"
#include "generate/engine.hpp"
#include "generate/processors.hpp"
#include "log/log.hpp"
#include "model/tiny.hpp"
#include "platform/platform.hpp"
#include "ram/error.hpp"
#include "ram/model.hpp"

#ifndef RAM_SOURCE_DIR
#define RAM_SOURCE_DIR "."
#endif

using json = nlohmann::ordered_json;

namespace {

constexpr std::int64_t kVocab = 32000;

struct Options {
  std::vector<std::int64_t> batches = {1, 8, 32};
  std::int64_t prompts_per_batch = 1;
  std::int64_t new_tokens = 64;
  std::int64_t layers = 12;
  std::string python = "/usr/bin/python3";
  bool run_python = true;
  bool breakdown = true;
  bool ablate = false;
  std::string profile;  // --profile FILE: the timed run's ATen ops as a chrome trace
  int repeat = 2;
  std::string dtype = "f32";
  std::int64_t cache_capacity = 0;  // EngineOptions::cache_capacity (0: the engine's default)
  // --child B N: one ram measurement in this process.
  std::int64_t child_batch = 0, child_prompts = 0;
};

using ram::bench::now_s;

void emit(const json& j) { ram::bench::emit("sample", j); }

// User + system CPU seconds of this process so far (all its threads).
double cpu_s() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

double peak_rss_mb() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // Linux: KiB
}

std::int64_t prompts_for(const Options& o, std::int64_t batch) {
  return batch == 1 ? std::max<std::int64_t>(2, o.prompts_per_batch) : o.prompts_per_batch * batch;
}

std::vector<ram::generate::Request> make_requests(std::int64_t n) {
  std::vector<ram::generate::Request> out;
  for (std::int64_t i = 0; i < n; ++i) {
    ram::generate::Request r;
    r.example_index = i;
    for (std::int64_t j = 0; j < 24 + (7 * i) % 17; ++j)
      r.prompt_ids.push_back((7919 * i + 104729 * j + 13) % kVocab);
    out.push_back(std::move(r));
  }
  return out;
}

std::shared_ptr<ram::CausalLM> make_model(const Options& o) {
  ram::model::TinySpec spec;
  spec.arch = "llama";
  spec.dtype = o.dtype;
  spec.vocab = kVocab;
  spec.hidden = 768;
  spec.layers = o.layers;
  spec.heads = 12;
  spec.kv_heads = 12;
  spec.intermediate = 2048;
  spec.max_positions = 1024;
  spec.seed = 1;
  return ram::model::make_tiny_model(spec);
}

ram::generate::EngineOptions engine_options(std::int64_t batch, std::int64_t new_tokens,
                                            std::int64_t cache_capacity = 0) {
  ram::generate::EngineOptions e;
  e.batch_size = batch;
  e.cache_capacity = cache_capacity;
  e.sampling = ram::generate::SamplingParams{};  // ram sample's defaults: 1.05, 0.5, 10, 0.95
  e.stop.max_new_tokens = new_tokens;
  e.stop.max_length = 2048;
  e.stop.eos_ids.clear();
  e.stop.stop_strings.clear();
  return e;
}

// Generated tokens per second of the bare model decode loop (argmax) at batch b: the part of
// the engine's time that is the model's.
double forward_only_tokens_per_s(ram::CausalLM& m, std::int64_t b, std::int64_t steps) {
  const std::int64_t prompt = 32;
  auto cache = m.make_cache(b, prompt + steps + 1);
  auto mask = at::ones({b, prompt}, at::kLong);
  auto logits = m.forward(at::randint(kVocab, {b, prompt}, at::kLong),
                          ram::generate::positions_from_mask(mask), mask, cache.get());
  auto ones = at::ones({b, 1}, at::kLong);
  auto pos = at::full({b, 1}, prompt, at::kLong);
  auto tok = logits.select(1, prompt - 1).argmax(-1).view({b, 1});
  double t0 = now_s();
  for (std::int64_t s = 0; s < steps; ++s) {
    logits = m.forward(tok, pos, ones, cache.get());
    tok = logits.select(1, 0).argmax(-1).view({b, 1});
    pos = pos + 1;
  }
  return static_cast<double>(b * steps) / (now_s() - t0);
}

// Milliseconds per decode step of the engine's work after the forward, on [B, V] logits
// shaped like a real step's: logsumexp + clone (the log-prob bookkeeping), each processor
// alone, the whole chain, and the inverse-CDF draw. Best of `reps` each.
json tail_breakdown(std::int64_t B, int reps) {
  using ram::generate::SamplingParams;
  const at::Tensor logits = at::randn({B, kVocab}) * 3.0;
  auto best_ms = [&](const std::function<void()>& prep, const std::function<void()>& fn) {
    double best = 1e30;
    for (int i = 0; i < reps; ++i) {
      prep();
      double t0 = now_s();
      fn();
      best = std::min(best, now_s() - t0);
    }
    return best * 1e3;
  };
  at::Tensor work;
  auto fresh = [&] { work = logits.clone(); };
  json j;
  j["logsumexp_clone"] = best_ms([] {}, [&] {
    at::Tensor lse = at::logsumexp(logits, {1});
    work = logits.clone();
  });
  auto prompt = make_requests(1)[0].prompt_ids;
  for (const std::string name : {"repetition_penalty", "temperature", "top_k", "top_p"}) {
    SamplingParams sp;
    sp.order = {name};
    sp.repetition_penalty = name == "repetition_penalty" ? 1.05 : 1.0;
    sp.temperature = name == "temperature" ? 0.5 : 1.0;
    sp.top_k = name == "top_k" ? 10 : 0;
    sp.top_p = name == "top_p" ? 0.95 : 1.0;
    ram::generate::Chain one(sp, B, kVocab);
    for (std::int64_t r = 0; r < B; ++r) one.start(r, prompt);
    j[name] = best_ms(fresh, [&] { one.apply(work); });
  }
  ram::generate::Chain chain(SamplingParams{}, B, kVocab);
  for (std::int64_t r = 0; r < B; ++r) chain.start(r, prompt);
  j["chain"] = best_ms(fresh, [&] { chain.apply(work); });
  at::Tensor after = logits.clone();
  chain.apply(after);
  at::Tensor u = at::rand({B, 1}, at::kDouble);
  j["draw"] = best_ms([] {}, [&] { ram::generate::sample_inverse_cdf(after, u); });
  j["total"] = j["logsumexp_clone"].get<double>() + j["chain"].get<double>() + j["draw"].get<double>();
  return j;
}

// --ablate: forward-only loop, the engine with greedy and no processors, the full engine,
// alternated `rounds` times in one process (so that load drift on a shared machine hits all
// three alike). Prints one line per measurement.
int run_ablation(const Options& o, ram::CausalLM& model, const std::vector<ram::generate::Request>& requests) {
  for (int round = 0; round < 2; ++round) {
    double fwd = forward_only_tokens_per_s(model, o.child_batch, o.new_tokens);
    emit({{"case", "ablate"}, {"round", round}, {"what", "forward_only"}, {"batch", o.child_batch},
          {"ms_per_step", 1e3 * static_cast<double>(o.child_batch) / fwd}});
    for (int greedy = 1; greedy >= 0; --greedy) {
      auto eo = engine_options(o.child_batch, o.new_tokens);
      if (greedy) {
        eo.sampling.greedy = true;
        eo.sampling.order.clear();
        eo.sampling.repetition_penalty = 1.0;
        eo.sampling.top_k = 0;
        eo.sampling.top_p = 1.0;
      }
      ram::generate::Engine e(model, nullptr, eo);
      double t0 = now_s();
      e.run(requests, [](ram::generate::Result&&) {});
      double sec = now_s() - t0;
      emit({{"case", "ablate"}, {"round", round}, {"what", greedy ? "engine_greedy_no_processors" : "engine_sampling"},
            {"batch", o.child_batch}, {"ms_per_step", 1e3 * sec / static_cast<double>(e.stats().forward_calls)},
            {"forward_calls", e.stats().forward_calls}});
    }
  }
  return 0;
}

int run_child(const Options& o) {
  c10::InferenceMode guard;
  auto model = make_model(o);
  auto requests = make_requests(o.child_prompts);
  if (o.ablate) return run_ablation(o, *model, requests);
  {  // warm-up, not timed: the first batch's prompts, 4 new tokens
    std::vector<ram::generate::Request> warm(
        requests.begin(), requests.begin() + std::min<std::int64_t>(o.child_batch, requests.size()));
    ram::generate::Engine e(*model, nullptr, engine_options(o.child_batch, 4));
    e.run(warm, [](ram::generate::Result&&) {});
  }
  ram::generate::Engine engine(*model, nullptr, engine_options(o.child_batch, o.new_tokens, o.cache_capacity));
  std::int64_t generated = 0, results = 0;
  double t0 = now_s(), c0 = cpu_s();
  {
    std::unique_ptr<torch::autograd::profiler::RecordProfile> trace;
    if (!o.profile.empty()) trace = std::make_unique<torch::autograd::profiler::RecordProfile>(o.profile);
    engine.run(requests, [&](ram::generate::Result&& r) {
      generated += static_cast<std::int64_t>(r.ids.size());
      ++results;
    });
  }
  const double seconds = now_s() - t0, cpu_seconds = cpu_s() - c0;
  const double rss = peak_rss_mb();  // before the breakdown's own cache
  json j = {{"case", "ram"},
            {"batch", o.child_batch},
            {"prompts", o.child_prompts},
            {"new_tokens", o.new_tokens},
            {"results", results},
            {"generated_tokens", generated},
            {"seconds", seconds},
            {"tokens_per_s", static_cast<double>(generated) / seconds},
            {"cpu_seconds", cpu_seconds},
            {"tokens_per_cpu_s", static_cast<double>(generated) / cpu_seconds},
            {"peak_rss_mb", rss},
            {"forward_calls", engine.stats().forward_calls},
            {"threads", at::get_num_threads()},
            {"dtype", o.dtype},
            {"cache_capacity", o.cache_capacity}};
  if (o.breakdown) {
    double fwd = forward_only_tokens_per_s(*model, o.child_batch, std::min<std::int64_t>(o.new_tokens, 16));
    j["forward_only_tokens_per_s"] = fwd;
    j["forward_share"] = (static_cast<double>(generated) / fwd) / seconds;
    j["forward_ms_per_step"] = 1e3 * static_cast<double>(o.child_batch) / fwd;
    j["engine_ms_per_step"] = 1e3 * seconds / static_cast<double>(engine.stats().forward_calls);
    j["after_forward_ms_per_step"] = tail_breakdown(o.child_batch, 5);
  }
  emit(j);
  return 0;
}

// Runs `cmd` through the shell; returns the last stdout line that parses as a JSON object.
json run_capture(const std::string& cmd) {
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) throw ram::Error("cannot start: " + cmd, "bench_sample", "check the path");
  std::string out;
  std::array<char, 4096> buf{};
  while (std::fgets(buf.data(), static_cast<int>(buf.size()), p)) out += buf.data();
  int rc = ::pclose(p);
  if (rc != 0)
    throw ram::Error("command failed (status " + std::to_string(rc) + "): " + cmd, "bench_sample",
                     "run it by hand to see its error; output was:\n" + out);
  std::istringstream lines(out);
  std::string line;
  json last;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] != '{') continue;
    auto j = json::parse(line, nullptr, false);
    if (!j.is_discarded()) last = j;
  }
  if (last.is_null())
    throw ram::Error("no JSON line from: " + cmd, "bench_sample", "output was:\n" + out);
  return last;
}

std::string self_exe() {
  std::array<char, 4096> buf{};
  ssize_t n = ::readlink("/proc/self/exe", buf.data(), buf.size() - 1);
  return n > 0 ? std::string(buf.data(), static_cast<std::size_t>(n)) : std::string("bench_sample");
}

int run_parent(const Options& o, const ram::platform::Report& report) {
  const int threads = at::get_num_threads();
  const std::string script = std::string(RAM_SOURCE_DIR) + "/bench/python/sample_baseline.py";
  auto env = [](const char* n) { const char* v = std::getenv(n); return v ? json(v) : json(nullptr); };
  emit({{"case", "config"},
        {"summary", report.summary()},
        {"threads", threads},
        {"env", {{"OPENBLAS_CORETYPE", env("OPENBLAS_CORETYPE")},
                 {"OMP_WAIT_POLICY", env("OMP_WAIT_POLICY")},
                 {"OMP_NUM_THREADS", env("OMP_NUM_THREADS")},
                 {"OPENBLAS_NUM_THREADS", env("OPENBLAS_NUM_THREADS")}}},
        {"model", "llama " + o.dtype + " hidden 768, layers " + std::to_string(o.layers) +
                      ", heads 12, intermediate 2048, vocab 32000, untied"},
        {"sampling", "repetition_penalty 1.05, temperature 0.5, top_k 10, top_p 0.95; no EOS"},
        {"new_tokens", o.new_tokens},
        {"baseline", script}});
  std::vector<json> summary;
  for (std::int64_t b : o.batches) {
    const std::int64_t n = prompts_for(o, b);
    std::string common = " --batch " + std::to_string(b) + " --prompts " + std::to_string(n) +
                         " --new-tokens " + std::to_string(o.new_tokens) + " --layers " +
                         std::to_string(o.layers) + " --dtype " + o.dtype;
    // Rounds alternate ram and Python so that load drift on a shared machine hits both; the
    // summary keeps each side's best round and the paired per-round ratios.
    double ram_best = 0, py_best = 0, ram_cpu_best = 0, py_cpu_best = 0, ram_rss = 0, py_rss = 0;
    json ratios = json::array();
    for (int round = 0; round < o.repeat; ++round) {
      const bool breakdown = o.breakdown && round == 0;
      json r = run_capture("'" + self_exe() + "' --child" + common + (breakdown ? "" : " --no-breakdown") +
                           " --cache-capacity " + std::to_string(o.cache_capacity));
      r.erase("bench");
      r["round"] = round;
      emit(r);
      const double rt = r["tokens_per_s"].get<double>();
      ram_best = std::max(ram_best, rt);
      ram_cpu_best = std::max(ram_cpu_best, r["tokens_per_cpu_s"].get<double>());
      ram_rss = std::max(ram_rss, r["peak_rss_mb"].get<double>());
      if (!o.run_python) continue;
      json p = run_capture("'" + o.python + "' '" + script + "'" + common + " --threads " +
                           std::to_string(threads));
      p.erase("bench");
      json pl = {{"case", "python"}, {"round", round}};
      pl.update(p);
      emit(pl);
      const double pt = p["tokens_per_s"].get<double>();
      py_best = std::max(py_best, pt);
      py_cpu_best = std::max(py_cpu_best, p["tokens_per_cpu_s"].get<double>());
      py_rss = std::max(py_rss, p["peak_rss_mb"].get<double>());
      ratios.push_back(rt / pt);
    }
    json row = {{"batch", b}, {"prompts", n}, {"ram_tokens_per_s", ram_best}};
    if (o.run_python) {
      row["python_tokens_per_s"] = py_best;
      row["ratio"] = ram_best / py_best;
      row["ram_peak_rss_mb"] = ram_rss;
      row["python_peak_rss_mb"] = py_rss;
      row["rss_ratio"] = ram_rss / py_rss;
      row["ratio_per_round"] = ratios;
      row["ratio_cpu_time"] = ram_cpu_best / py_cpu_best;
    } else {
      row["ram_peak_rss_mb"] = ram_rss;
    }
    summary.push_back(row);
  }
  for (auto& row : summary) emit(row);
  return 0;
}

std::vector<std::int64_t> parse_list(const std::string& s) {
  std::vector<std::int64_t> out;
  for (const auto& item : ram::bench::split_commas(s)) out.push_back(std::atoll(item.c_str()));
  return out;
}

Options parse(int argc, char** argv) {
  Options o;
  ram::bench::Args args(argc, argv, "bench_sample", "bench/sample.cpp");
  auto next = [&] { return args.value(); };
  while (args.next()) {
    const std::string& a = args.name();
    if (a == "--child") continue;
    if (a == "--batch") o.child_batch = std::atoll(next().c_str());
    else if (a == "--prompts") o.child_prompts = std::atoll(next().c_str());
    else if (a == "--batches") o.batches = parse_list(next());
    else if (a == "--prompts-per-batch") o.prompts_per_batch = std::atoll(next().c_str());
    else if (a == "--new-tokens") o.new_tokens = std::atoll(next().c_str());
    else if (a == "--layers") o.layers = std::atoll(next().c_str());
    else if (a == "--python") o.python = next();
    else if (a == "--no-python") o.run_python = false;
    else if (a == "--no-breakdown") o.breakdown = false;
    else if (a == "--ablate") o.ablate = true;
    else if (a == "--profile") o.profile = next();
    else if (a == "--dtype") o.dtype = next();
    else if (a == "--cache-capacity") o.cache_capacity = std::atoll(next().c_str());
    else if (a == "--repeat") o.repeat = std::max(1, std::atoi(next().c_str()));
    else args.unknown();
  }
  return o;
}

int run(int argc, char** argv) {
  ram::log::init();
  auto report = ram::platform::configure_threads();
  Options o = parse(argc, argv);
  bool child = false;
  for (int i = 1; i < argc; ++i) child = child || std::string(argv[i]) == "--child";
  if (child) {
    if (o.child_batch <= 0 || o.child_prompts <= 0)
      throw ram::ConfigError("--child needs --batch B and --prompts N", "bench_sample command line",
                             "the parent passes them; run without --child");
    return run_child(o);
  }
  return run_parent(o, report);
}

}  // namespace

int main(int argc, char** argv) { return ram::bench::guarded_main(argc, argv, run); }
