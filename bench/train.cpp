// bench/train — training tokens/s of `ram train` against an eager-PyTorch training step
// (bench/python/train_baseline.py: HF-style Llama, full logits + log_softmax + gather,
// torch.optim.RMSprop, clip_grad_norm_), measured in the same run (issue 5 item 7).
//
// Model: llama-shape, hidden 768, 12 layers (--layers), 12 heads, intermediate 2048, vocab
// 32000, untied, f32, random weights: written once by `ram make-tiny-model` into a temp dir
// with a byte-level tokenizer (`ram make-tokenizer --byte-level`: one token per byte), so
// the synthetic data has exact token lengths: every example is a --prompt-len-byte prompt
// and --response-len − 1-byte chosen / rejected responses (+ EOS, which ram appends): B
// examples of prompt-len + response-len real tokens, no padding. The baseline draws its own
// random weights and token ids of the same shapes (speed does not depend on the values).
//
// Runs (each a fresh process; peak RSS from wait4's rusage, the maximum over the process
// tree: for mpirun, the largest rank):
//   per loss (--losses sft,ram_sft), --repeat R rounds (default 2) alternating: `ram train`
//     1 rank × T threads (T = this bench's thread count, RAM_NUM_THREADS=T), then the
//     baseline with torch.set_num_threads(T); the comparison takes each side's best round
//     (the machine is shared: the best is the least disturbed) and lists the paired ratios;
//   ranks (sft): `mpirun -np 2` × 1 thread (RAM_NUM_THREADS=1) with the default
//     train.bucket_mb (buckets all-reduced while backward runs), and again with
//     train.bucket_mb=1e6: one bucket, launched when the last gradient arrives, i.e. the
//     same all-reduces done blocking after backward; and the default buckets with
//     train.zero1=true (each rank updates half of the optimizer state, then all-gather).
// --steps S optimizer steps per run (default 3); step 1 is the warm-up; figures are
// Σ tokens / Σ seconds over steps 2..S from metrics.jsonl (ram; per-step "seconds" and
// "tokens_forwarded") or the baseline's step_seconds. The children inherit the environment
// prepare_process()/configure_threads() settled here (OPENBLAS_CORETYPE, OMP_WAIT_POLICY)
// and get RAM_NUM_THREADS / --threads explicitly: same BLAS kernels, same thread counts.
//
// MFU = model FLOP/s / peak; model FLOPs per token = 6 · N_matmul + 12 · L · d · T
// (N_matmul = L (4 d² + 3 d I) + V d: every weight matrix including lm_head, not the
// embedding table; 12 L d T: QKᵀ and AV, forward + backward, counted over the whole
// sequence T as PaLM does); ram_sft has 2B rows of T tokens. Peak = the best f32 2048²
// at::mm GFLOP/s with T threads (bench_blas_gemm's figure), measured at the start and at the
// end of this run; the compare lines use the larger, the per-run lines the start's.
//
// Hidden all-reduce share = 1 − (bucketed run's all-reduce seconds waited after backward) /
// (blocking run's all-reduce seconds), both rank 0's over the timed steps (metrics.jsonl's
// allreduce_seconds / allreduce_wait_seconds).
//
// JSON lines:
//   {"bench":"train","case":"config",...}                   platform, threads, env, shapes
//   {"bench":"train","case":"sgemm_peak","gflops":..}        at the start and at the end
//   {"bench":"train","case":"ram","loss":..,"ranks":R,"threads":T,"bucket_mb":..,
//    "tokens_per_step":..,"step_seconds":[..],"tokens_per_s":..,"phase_seconds":{..},"mfu":..,
//    "peak_rss_mb":..,"allreduce_seconds":..,"allreduce_wait_seconds":..}
//       phase_seconds: metrics.jsonl's time/forward, backward, finish, update, means over the
//       timed steps (the baseline prints forward, backward, update the same way)
//   {"bench":"train","case":"python","loss":..,...}         the baseline's line + mfu
//   {"bench":"train","case":"compare","loss":..,"ram_tokens_per_s":..,
//    "python_tokens_per_s":..,"ratio":..,"ratio_per_round":[..],"ram_peak_rss_mb":..,
//    "python_peak_rss_mb":..,"rss_ratio":..,"peak_gflops":..,"ram_mfu":..,"python_mfu":..}
//       (printed last, after the end-of-run peak)
//   {"bench":"train","case":"ranks","tokens_per_s_1x2":..,"tokens_per_s_2x1":..,
//    "ratio_2x1_over_1x2":..,"tokens_per_s_2x1_blocking":..,"tokens_per_s_2x1_zero1":..,
//    "allreduce_blocking_seconds":..,"allreduce_wait_seconds":..,
//    "allreduce_seconds":..,"hidden_allreduce_share":..}
// Options: --batch 4  --prompt-len 64  --response-len 64  --steps 3  --layers 12
//          --losses sft,ram_sft  --python /usr/bin/python3  --no-python  --no-ranks
//          --repeat 2  --mpirun mpirun  --keep (keep the temp dir; its path is in the config line)
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <nlohmann/json.hpp>

#include "bench_util.hpp"
#include "log/log.hpp"
#include "platform/platform.hpp"
#include "ram/error.hpp"

#ifndef RAM_SOURCE_DIR
#define RAM_SOURCE_DIR "."
#endif

using json = nlohmann::ordered_json;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kVocab = 32000, kHidden = 768, kHeads = 12, kInter = 2048;

struct Options {
  // Default shapes keep the whole run (6 trainings) near 5 minutes on 2 cores; the issue's
  // B 8 × (128 + 128) is --batch 8 --prompt-len 128 --response-len 128 (~4× longer).
  std::int64_t batch = 4, prompt_len = 64, response_len = 64, steps = 3, layers = 12;
  std::vector<std::string> losses = {"sft", "ram_sft"};
  std::string python = "/usr/bin/python3", mpirun = "mpirun";
  bool run_python = true, run_ranks = true, keep = false;
  int repeat = 2;  // ram / Python rounds per loss
};

using ram::bench::now_s;

void emit(const json& j) { ram::bench::emit("train", j); }

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The best f32 2048² at::mm GFLOP/s with this process's threads (as bench_blas_gemm).
double sgemm_peak_gflops() {
  c10::InferenceMode guard;
  const std::int64_t n = 2048;
  at::Tensor a = at::randn({n, n}), b = at::randn({n, n}), c = at::empty({n, n});
  at::mm_out(c, a, b);  // warm-up
  double best = 1e30;
  const double start = now_s();
  for (int i = 0; i < 200 && (i < 5 || now_s() - start < 1.5); ++i) {
    const double t0 = now_s();
    at::mm_out(c, a, b);
    best = std::min(best, now_s() - t0);
  }
  return 2.0 * n * n * n / best / 1e9;
}

struct ChildResult {
  double seconds = 0, peak_rss_mb = 0;
  std::string log;  // its stdout + stderr
};

// Runs `cmd` through /bin/sh (stdout + stderr into `log_path`), waits with wait4: the peak
// RSS is the largest of the process tree's (Linux reports the max over waited descendants).
ChildResult run_child(const std::string& cmd, const fs::path& log_path) {
  const std::string full = "exec " + cmd + " >" + quote(log_path.string()) + " 2>&1";
  const double t0 = now_s();
  pid_t pid = ::fork();
  if (pid < 0) throw ram::Error("fork failed", "bench_train", "check the process limits");
  if (pid == 0) {
    ::execl("/bin/sh", "sh", "-c", full.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  rusage ru{};
  if (::wait4(pid, &status, 0, &ru) < 0) throw ram::Error("wait4 failed", "bench_train", "");
  ChildResult r;
  r.seconds = now_s() - t0;
  r.peak_rss_mb = static_cast<double>(ru.ru_maxrss) / 1024.0;  // KiB
  std::ifstream in(log_path);
  std::stringstream ss;
  ss << in.rdbuf();
  r.log = ss.str();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw ram::Error("command failed (status " + std::to_string(status) + "): " + cmd, "bench_train",
                     "run it by hand; its output (" + log_path.string() + ") ends:\n" +
                         r.log.substr(r.log.size() > 3000 ? r.log.size() - 3000 : 0));
  return r;
}

json last_json_line(const std::string& text, const std::string& what) {
  std::istringstream lines(text);
  std::string line;
  json last;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] != '{') continue;
    auto j = json::parse(line, nullptr, false);
    if (!j.is_discarded()) last = j;
  }
  if (last.is_null()) throw ram::Error("no JSON line from " + what, "bench_train", "its output was:\n" + text);
  return last;
}

std::string self_dir() {
  std::array<char, 4096> buf{};
  ssize_t n = ::readlink("/proc/self/exe", buf.data(), buf.size() - 1);
  if (n <= 0) throw ram::Error("cannot resolve /proc/self/exe", "bench_train", "");
  return fs::path(std::string(buf.data(), static_cast<std::size_t>(n))).parent_path().string();
}

// Model FLOPs per token of a training step (forward + backward), see the header.
double flops_per_token(const Options& o) {
  const double L = static_cast<double>(o.layers), d = kHidden, I = kInter, V = kVocab;
  const double T = static_cast<double>(o.prompt_len + o.response_len);
  const double n_matmul = L * (4 * d * d + 3 * d * I) + V * d;
  return 6.0 * n_matmul + 12.0 * L * d * T;
}

std::int64_t param_count(const Options& o) {
  const std::int64_t d = kHidden;
  return o.layers * (4 * d * d + 3 * d * kInter + 2 * d) + 2 * kVocab * d + d;
}

// Deterministic ASCII text of n bytes (one byte-level token per byte).
std::string text_of(std::int64_t n, std::int64_t seed) {
  static const char* words[] = {"alpha", "beta", "gamma", "delta", "river", "stone", "light", "cloud"};
  std::string s;
  for (std::int64_t k = 0; static_cast<std::int64_t>(s.size()) < n; ++k) {
    if (!s.empty()) s += ' ';
    s += words[(seed * 7 + k * 13 + k * k) % 8];
  }
  s.resize(static_cast<std::size_t>(n));
  if (s.back() == ' ') s.back() = '.';  // a trailing space is still one byte, but keep it tidy
  return s;
}

void write_data(const fs::path& file, const Options& o, std::int64_t examples) {
  std::ofstream f(file);
  for (std::int64_t i = 0; i < examples; ++i) {
    json j = {{"id", "ex" + std::to_string(i)},
              {"prompt", text_of(o.prompt_len, i)},
              {"chosen", text_of(o.response_len - 1, i + 1000)},
              {"rejected", text_of(o.response_len - 1, i + 2000)}};
    f << j.dump() << "\n";
  }
  if (!f) throw ram::Error("cannot write " + file.string(), "bench_train", "check disk space");
}

struct RamRun {
  json line;
  double tokens_per_s = 0, allreduce = 0, wait = 0;
};

// metrics.jsonl's step lines → timed figures (steps 2..S).
RamRun read_metrics(const fs::path& file, std::int64_t expect_tokens_per_step) {
  std::ifstream in(file);
  if (!in) throw ram::Error("no metrics file " + file.string(), "bench_train", "see the run's log");
  std::string l;
  std::vector<json> steps;
  while (std::getline(in, l)) {
    auto j = json::parse(l, nullptr, false);
    if (j.is_discarded() || j.value("eval", false) || !j.contains("seconds")) continue;
    steps.push_back(j);
  }
  if (steps.size() < 2)
    throw ram::Error("metrics file " + file.string() + " has " + std::to_string(steps.size()) + " step lines",
                     "bench_train", "run with --steps ≥ 2");
  RamRun r;
  double tokens = 0, seconds = 0;
  json secs = json::array();
  json phases = json::object();  // mean seconds per timed step: forward, backward, finish, update
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const double s = steps[i]["seconds"].get<double>();
    const double t = steps[i].value("tokens_forwarded", 0.0);
    secs.push_back(s);
    if (static_cast<std::int64_t>(t + 0.5) != expect_tokens_per_step)
      throw ram::Error("step " + std::to_string(i + 1) + " forwarded " + std::to_string(t) + " tokens, expected " +
                           std::to_string(expect_tokens_per_step),
                       file.string(), "the synthetic data no longer gives fixed lengths: check the tokenizer");
    if (i == 0) continue;  // warm-up
    tokens += t;
    seconds += s;
    r.allreduce += steps[i].value("allreduce_seconds", 0.0);
    r.wait += steps[i].value("allreduce_wait_seconds", 0.0);
    for (const char* k : {"forward", "backward", "finish", "update"})
      phases[k] = phases.value(k, 0.0) + steps[i].value(std::string("time/") + k, 0.0) / static_cast<double>(steps.size() - 1);
  }
  r.tokens_per_s = tokens / seconds;
  r.line = {{"tokens_per_step", expect_tokens_per_step}, {"step_seconds", secs}, {"tokens_per_s", r.tokens_per_s},
            {"phase_seconds", phases}};
  return r;
}

struct Bench {
  Options o;
  fs::path tmp, model, data;
  std::string ram_bin;
  std::string summary;  // the platform report (kernels, threads)
  int threads = 1;
  double peak_gflops = 0;

  std::int64_t rows(const std::string& loss) const { return o.batch * (loss == "ram_sft" ? 2 : 1); }
  std::int64_t tokens_per_step(const std::string& loss) const {
    return rows(loss) * (o.prompt_len + o.response_len);
  }
  double mfu(double tokens_per_s) const { return flops_per_token(o) * tokens_per_s / (peak_gflops * 1e9); }

  void prepare() {
    char tmpl[] = "/tmp/bench_train.XXXXXX";
    if (!::mkdtemp(tmpl)) throw ram::Error("mkdtemp failed", "/tmp", "check /tmp");
    tmp = tmpl;
    model = tmp / "model";
    data = tmp / "data.jsonl";
    run_child(quote(ram_bin) + " make-tokenizer --byte-level --out " + quote((tmp / "tok").string()),
              tmp / "make_tokenizer.log");
    run_child(quote(ram_bin) + " make-tiny-model --arch llama --out " + quote(model.string()) + " --tokenizer " +
                  quote((tmp / "tok").string()) + " --vocab " + std::to_string(kVocab) + " --hidden " +
                  std::to_string(kHidden) + " --layers " + std::to_string(o.layers) + " --heads " +
                  std::to_string(kHeads) + " --intermediate " + std::to_string(kInter) +
                  " --max-positions 1024 --init-std 0.02 --seed 1",
              tmp / "make_model.log");
    write_data(data, o, o.batch * o.steps);
  }

  std::string train_args(const std::string& loss, const std::string& name, double bucket_mb, bool zero1) const {
    std::ostringstream a;
    a << " train model.path=" << quote(model.string()) << " dtype=f32 loss=" << loss
      << " dataset.path=" << quote(data.string()) << " dataset.rejected_key=rejected dataset.id_key=id"
      << " train.data=dataset seed=0 lr=1e-6 warmup_steps=2 optimizer=rmsprop max_grad_norm=10"
      << " batch_size=" << o.batch << " n_epochs=1 n_eval_examples=0 do_first_eval=false eval_every=1000000000"
      << " max_length=" << (o.prompt_len + o.response_len + 8) << " max_prompt_length=" << o.prompt_len
      << " train.bucket_mb=" << bucket_mb << " train.zero1=" << (zero1 ? "true" : "false")
      << " run_dir=" << quote((tmp / name).string());
    return a.str();
  }

  RamRun run_ram(const std::string& loss, int ranks, int rank_threads, double bucket_mb, bool zero1 = false,
                 int round = 0) {
    const std::string name = "ram_" + loss + "_" + std::to_string(ranks) + "x" + std::to_string(rank_threads) +
                             (bucket_mb > 1e5 ? "_blocking" : "") + (zero1 ? "_zero1" : "") + "_r" +
                             std::to_string(round);
    std::string env = "env RAM_NUM_THREADS=" + std::to_string(rank_threads) +
                      " RAM_CONFIG_DIR=" + quote(std::string(RAM_SOURCE_DIR) + "/configs") + " ";
    std::string cmd = ranks == 1 ? env + quote(ram_bin) + train_args(loss, name, bucket_mb, zero1)
                                 : env + "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 " + o.mpirun +
                                       " -np " + std::to_string(ranks) + " --oversubscribe --bind-to none " +
                                       quote(ram_bin) + train_args(loss, name, bucket_mb, zero1);
    ChildResult c = run_child(cmd, tmp / (name + ".log"));
    RamRun r = read_metrics(tmp / name / "train" / "metrics.jsonl", tokens_per_step(loss));
    json line = {{"case", "ram"}, {"loss", loss}, {"round", round}, {"ranks", ranks}, {"threads", rank_threads},
                 {"bucket_mb", bucket_mb}, {"zero1", zero1},
                 {"batch", o.batch}, {"rows", rows(loss)}, {"seq_len", o.prompt_len + o.response_len}};
    line.update(r.line);
    line["mfu"] = mfu(r.tokens_per_s);
    line["peak_rss_mb"] = c.peak_rss_mb;
    line["wall_seconds"] = c.seconds;
    if (ranks > 1) {
      line["allreduce_seconds"] = r.allreduce;
      line["allreduce_wait_seconds"] = r.wait;
    }
    r.line = line;
    r.line["peak_rss_mb"] = c.peak_rss_mb;
    emit(line);
    fs::remove_all(tmp / name / "train" / "ckpt");  // ~1 GB per run; the figures are read
    return r;
  }

  json run_python(const std::string& loss, int round) {
    const std::string script = std::string(RAM_SOURCE_DIR) + "/bench/python/train_baseline.py";
    std::string cmd = quote(o.python) + " " + quote(script) + " --loss " + loss + " --batch " +
                      std::to_string(o.batch) + " --prompt-len " + std::to_string(o.prompt_len) +
                      " --response-len " + std::to_string(o.response_len) + " --steps " + std::to_string(o.steps) +
                      " --layers " + std::to_string(o.layers) + " --threads " + std::to_string(threads) +
                      " --lr 1e-6 --warmup-steps 2 --max-grad-norm 10";
    ChildResult c = run_child(cmd, tmp / ("python_" + loss + "_r" + std::to_string(round) + ".log"));
    json p = last_json_line(c.log, "train_baseline.py");
    p.erase("bench");
    json line = {{"case", "python"}, {"round", round}};
    line.update(p);
    line["mfu"] = mfu(p["tokens_per_s"].get<double>());
    line["peak_rss_mb_wait4"] = c.peak_rss_mb;
    line["wall_seconds"] = c.seconds;
    emit(line);
    return line;
  }

  int go() {
    threads = at::get_num_threads();
    ram_bin = self_dir() + "/ram";
    if (!fs::exists(ram_bin))
      throw ram::Error("no ram binary next to bench_train (" + ram_bin + ")", "bench_train",
                       "build the `ram` target too");
    auto env = [](const char* n) { const char* v = std::getenv(n); return v ? json(v) : json(nullptr); };
    peak_gflops = sgemm_peak_gflops();
    prepare();
    emit({{"case", "config"},
          {"summary", summary},
          {"threads", threads},
          {"env", {{"OPENBLAS_CORETYPE", env("OPENBLAS_CORETYPE")},
                   {"OMP_WAIT_POLICY", env("OMP_WAIT_POLICY")},
                   {"OMP_NUM_THREADS", env("OMP_NUM_THREADS")},
                   {"OPENBLAS_NUM_THREADS", env("OPENBLAS_NUM_THREADS")}}},
          {"model", "llama f32 hidden 768, layers " + std::to_string(o.layers) +
                        ", heads 12, intermediate 2048, vocab 32000, untied"},
          {"params", param_count(o)},
          {"flops_per_token", flops_per_token(o)},
          {"flops_formula", "6 * N_matmul + 12 * L * d * T"},
          {"batch", o.batch},
          {"prompt_len", o.prompt_len},
          {"response_len", o.response_len},
          {"steps", o.steps},
          {"timed_steps", o.steps - 1},
          {"optimizer", "rmsprop lr 1e-6, warmup 2, max_grad_norm 10"},
          {"tmp", tmp.string()}});
    emit({{"case", "sgemm_peak"}, {"what", "f32 2048^2 at::mm, best"}, {"threads", threads}, {"gflops", peak_gflops}});

    // Rounds alternate ram and Python so that load drift on a shared machine hits both; the
    // comparison keeps each side's best round, the largest peak RSS, and the paired ratios.
    double sft_1x = 0;
    std::vector<json> compares;
    for (const auto& loss : o.losses) {
      double ram_best = 0, py_best = 0, ram_rss = 0, py_rss = 0;
      json ratios = json::array();
      for (int round = 0; round < o.repeat; ++round) {
        RamRun ours = run_ram(loss, 1, threads, 4.0, false, round);
        ram_best = std::max(ram_best, ours.tokens_per_s);
        ram_rss = std::max(ram_rss, ours.line["peak_rss_mb"].get<double>());
        if (!o.run_python) continue;
        json py = run_python(loss, round);
        const double pt = py["tokens_per_s"].get<double>();
        py_best = std::max(py_best, pt);
        py_rss = std::max(py_rss, py["peak_rss_mb_wait4"].get<double>());
        ratios.push_back(ours.tokens_per_s / pt);
      }
      if (loss == "sft") sft_1x = ram_best;
      if (!o.run_python) continue;
      compares.push_back({{"case", "compare"},
                          {"loss", loss},
                          {"threads", threads},
                          {"ram_tokens_per_s", ram_best},
                          {"python_tokens_per_s", py_best},
                          {"ratio", ram_best / py_best},
                          {"ratio_per_round", ratios},
                          {"ram_peak_rss_mb", ram_rss},
                          {"python_peak_rss_mb", py_rss},
                          {"rss_ratio", ram_rss / py_rss}});
    }
    if (o.run_ranks) {
      if (sft_1x == 0) sft_1x = run_ram("sft", 1, threads, 4.0).tokens_per_s;
      RamRun bucketed = run_ram("sft", 2, 1, 4.0);
      RamRun blocking = run_ram("sft", 2, 1, 1e6);
      RamRun zero1 = run_ram("sft", 2, 1, 4.0, true);
      emit({{"case", "ranks"},
            {"loss", "sft"},
            {"tokens_per_s_1x" + std::to_string(threads), sft_1x},
            {"tokens_per_s_2x1", bucketed.tokens_per_s},
            {"ratio_2x1_over_1x" + std::to_string(threads), bucketed.tokens_per_s / sft_1x},
            {"tokens_per_s_2x1_blocking", blocking.tokens_per_s},
            {"tokens_per_s_2x1_zero1", zero1.tokens_per_s},
            {"allreduce_seconds", bucketed.allreduce},
            {"allreduce_wait_seconds", bucketed.wait},
            {"allreduce_blocking_seconds", blocking.allreduce},
            {"hidden_allreduce_share", blocking.allreduce > 0 ? 1.0 - bucketed.wait / blocking.allreduce : 0.0},
            {"over_steps", o.steps - 1}});
    }
    // The sgemm peak again at the end: MFU is against the better of the two (the machine's
    // load drifts during the run).
    const double peak_end = sgemm_peak_gflops();
    emit({{"case", "sgemm_peak"}, {"what", "f32 2048^2 at::mm, best, at the end"}, {"threads", threads},
          {"gflops", peak_end}});
    peak_gflops = std::max(peak_gflops, peak_end);
    for (auto& c : compares) {
      c["peak_gflops"] = peak_gflops;
      c["ram_mfu"] = mfu(c["ram_tokens_per_s"].get<double>());
      c["python_mfu"] = mfu(c["python_tokens_per_s"].get<double>());
      emit(c);
    }
    if (!o.keep) fs::remove_all(tmp);
    return 0;
  }
};

Options parse(int argc, char** argv) {
  Options o;
  ram::bench::Args args(argc, argv, "bench_train", "bench/train.cpp");
  while (args.next()) {
    const std::string& a = args.name();
    if (a == "--batch") o.batch = args.positive();
    else if (a == "--prompt-len") o.prompt_len = args.positive();
    else if (a == "--response-len") o.response_len = std::max<std::int64_t>(2, args.positive());
    else if (a == "--steps") o.steps = std::max<std::int64_t>(2, args.positive());
    else if (a == "--layers") o.layers = args.positive();
    else if (a == "--losses") o.losses = ram::bench::split_commas(args.value());
    else if (a == "--python") o.python = args.value();
    else if (a == "--mpirun") o.mpirun = args.value();
    else if (a == "--no-python") o.run_python = false;
    else if (a == "--no-ranks") o.run_ranks = false;
    else if (a == "--keep") o.keep = true;
    else if (a == "--repeat") o.repeat = static_cast<int>(args.positive());
    else args.unknown();
  }
  for (const auto& l : o.losses)
    if (l != "sft" && l != "ram_sft")
      throw ram::ConfigError("--losses: '" + l + "' is not benchmarked", "bench_train command line",
                             "use sft and/or ram_sft");
  if (o.batch % 2 != 0 && o.run_ranks)
    throw ram::ConfigError("--batch must be even for the 2-rank runs", "bench_train command line",
                           "use an even batch or --no-ranks");
  return o;
}

int run(int argc, char** argv) {
  ram::log::init();
  Bench b;
  b.summary = ram::platform::configure_threads().summary();
  b.o = parse(argc, argv);
  return b.go();
}

}  // namespace

int main(int argc, char** argv) { return ram::bench::guarded_main(argc, argv, run); }
