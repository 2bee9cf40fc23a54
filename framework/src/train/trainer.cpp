// `ram train` (trainer.hpp): the loop, evaluation, checkpoints, metrics and resume.
#include "train/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <cstdlib>

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <ram/error.hpp>
#include <ram/model.hpp>
#include <ram/objective.hpp>

#include "dist/dist.hpp"
#include "log/log.hpp"
#include "model/hf_dir.hpp"
#include "platform/stop.hpp"
#include "plugin/registry.hpp"
#include "tokenizer/tokenizer.hpp"
#include "train/checkpoint.hpp"
#include "train/data.hpp"
#include "train/grad_sync.hpp"
#include "train/optim.hpp"

namespace ram::train {

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string fmt_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const auto t = static_cast<std::int64_t>(s + 0.5);
  if (t >= 3600) return fmt::format("{}h{:02}m", t / 3600, (t % 3600) / 60);
  if (t >= 60) return fmt::format("{}m{:02}s", t / 60, t % 60);
  return fmt::format("{}s", t);
}

struct Settings {
  std::string model_path, dtype, reference_path;
  std::int64_t batch_size = 64, grad_accum = 1;
  double lr = 0, max_grad_norm = 10;
  std::optional<std::int64_t> warmup_steps, n_examples;
  std::int64_t n_epochs = 1;
  std::int64_t eval_every = 20000, n_eval_examples = 256, eval_batch_size = 16;
  bool do_first_eval = true;
  std::uint64_t seed = 0;
  bool resume = false;
  OptimSpec optim;
  std::string data, synth, out, init_from;
  bool zero1 = false;
  double bucket_mb = 4;
  TokenizeOptions tok;
  std::int64_t log_every = 1;
  double min_log_interval = 1.0;
};

Settings read_settings(const ConfigView& root) {
  Settings s;
  ConfigView m = root.child("model");
  s.model_path = m.get<std::string>("path");
  m.get<std::string>("dtype", "f32");  // the inference dtype (sample/generate); training uses `dtype`
  s.dtype = model::check_dtype(root.get<std::string>("dtype", "f32"), root.dotted("dtype"));
  s.batch_size = root.get<std::int64_t>("batch_size");
  s.grad_accum = root.get<std::int64_t>("gradient_accumulation_steps", 1);
  s.lr = root.get<double>("lr");
  if (root.has("warmup_steps")) s.warmup_steps = root.get<std::int64_t>("warmup_steps");
  s.optim.name = root.get<std::string>("optimizer", "rmsprop");
  s.max_grad_norm = root.get<double>("max_grad_norm", 10.0);
  s.n_epochs = root.get<std::int64_t>("n_epochs", 1);
  if (root.has("n_examples")) s.n_examples = root.get<std::int64_t>("n_examples");
  s.eval_every = root.get<std::int64_t>("eval_every", 20000);
  s.n_eval_examples = root.get<std::int64_t>("n_eval_examples", 256);
  s.eval_batch_size = root.get<std::int64_t>("eval_batch_size", 16);
  s.do_first_eval = root.get<bool>("do_first_eval", true);
  s.tok.max_length = root.get<std::int64_t>("max_length");
  s.tok.max_prompt_length = root.get<std::int64_t>("max_prompt_length");
  s.seed = static_cast<std::uint64_t>(root.get<std::int64_t>("seed", 0));
  s.resume = root.get<bool>("resume", false);

  ConfigView t = root.child("train");
  s.data = t.get<std::string>("data", "synth");
  s.synth = t.get<std::string>("synth", "");
  s.out = t.get<std::string>("out");
  s.init_from = t.get<std::string>("init_from", "");
  s.reference_path = t.get<std::string>("reference", "");
  s.zero1 = t.get<bool>("zero1", false);
  s.bucket_mb = t.get<double>("bucket_mb", 4.0);
  s.tok.add_bos = t.get<bool>("add_bos", false);
  const std::string mode = t.get<std::string>("truncation_mode", "keep_end");
  if (mode != "keep_end" && mode != "keep_start")
    throw ConfigError("train.truncation_mode '" + mode + "' is not known", t.where("truncation_mode").str(),
                      "use keep_end (the original's for HH) or keep_start");
  s.tok.keep_end = mode == "keep_end";
  s.optim.weight_decay = t.get<double>("weight_decay", 0.01);
  s.log_every = t.get<std::int64_t>("log_every", 1);
  s.min_log_interval = t.get<double>("min_log_interval_secs", 1.0);
  t.finish();

  auto positive = [&](std::int64_t v, const char* key) {
    if (v <= 0)
      throw ConfigError(std::string(key) + " must be > 0, got " + std::to_string(v), root.where(key).str(),
                        "set a positive value");
  };
  positive(s.batch_size, "batch_size");
  positive(s.grad_accum, "gradient_accumulation_steps");
  positive(s.n_epochs, "n_epochs");
  positive(s.eval_every, "eval_every");
  positive(s.eval_batch_size, "eval_batch_size");
  if (s.n_eval_examples < 0)
    throw ConfigError("n_eval_examples must be ≥ 0", root.where("n_eval_examples").str(), "set 0 to skip eval");
  if (!(s.lr >= 0) || !std::isfinite(s.lr))
    throw ConfigError("lr must be a finite number ≥ 0", root.where("lr").str(), "e.g. lr=2e-7");
  if (s.data != "synth" && s.data != "dataset")
    throw ConfigError("train.data '" + s.data + "' is not known", t.where("data").str(),
                      "use synth (a synth.h5 from `ram sample`) or dataset (the dataset plugin's responses)");
  const int W = dist::size();
  if (s.batch_size % (W * s.grad_accum) != 0)
    throw ConfigError("batch_size " + std::to_string(s.batch_size) + " is not divisible by ranks × " +
                          "gradient_accumulation_steps = " + std::to_string(W) + " × " +
                          std::to_string(s.grad_accum),
                      root.where("batch_size").str(),
                      "pick batch_size a multiple of " + std::to_string(W * s.grad_accum) +
                          " or change the number of ranks / gradient_accumulation_steps");
  return s;
}

// Running sums of named metrics (and the example count) on this rank; reduced over ranks
// into means.
struct MetricSums {
  std::map<std::string, double> sums;
  double count = 0;
  void add(const ObjectiveResult& r) {
    count += static_cast<double>(r.count);
    for (const auto& [k, v] : r.metric_sums) sums[k] += v.item<double>();
  }
  // Collective. A rank may have seen no batch (a small eval set), so the key sets are
  // united over ranks first; the reduction then runs over the same keys everywhere.
  std::map<std::string, double> means() {
    std::string mine;
    for (const auto& [k, v] : sums) mine += k + "\n";
    std::set<std::string> keys;
    for (const auto& text : dist::all_gather(mine)) {
      std::size_t b = 0;
      for (std::size_t e = text.find('\n'); e != std::string::npos; b = e + 1, e = text.find('\n', b))
        keys.insert(text.substr(b, e - b));
    }
    std::vector<double> buf;
    for (const auto& k : keys) buf.push_back(sums.count(k) ? sums.at(k) : 0.0);
    buf.push_back(count);
    dist::all_reduce(buf.data(), static_cast<std::int64_t>(buf.size()));
    std::map<std::string, double> out;
    const double n = std::max(buf.back(), 1.0);
    std::size_t i = 0;
    for (const auto& k : keys) out[k] = buf[i++] / n;
    return out;
  }
};

class Run {
 public:
  Run(const config::Resolved& cfg, const std::string& command) : cfg_(cfg), command_(command) {}
  Summary go();

 private:
  void setup();
  std::vector<std::int64_t> global_batch(std::int64_t step);
  std::vector<TokenizedExample> tokenize(const std::vector<std::int64_t>& idx);
  Json train_step(std::int64_t step);
  Json evaluate();
  void save(const Json& eval_metrics);
  void write_metrics(const Json& line);
  void trim_metrics(std::int64_t upto_step);
  std::int64_t tokens_of(const ObjectiveBatch& b) const;

  const config::Resolved& cfg_;
  std::string command_;
  Settings s_;
  std::shared_ptr<CausalLM> model_, reference_;
  std::shared_ptr<Objective> objective_;
  std::optional<tok::Tokenizer> tok_;
  std::int32_t pad_id_ = 0;
  std::unique_ptr<ExampleSource> source_;
  Split split_;
  std::unique_ptr<GradSync> sync_;
  std::unique_ptr<FlatOptimizer> opt_;
  at::Tensor master_;  // f32 [N], full on every rank
  std::int64_t shard_begin_ = 0, shard_end_ = 0;
  TrainerState state_;
  std::int64_t total_steps_ = 0, warmup_ = 0;
  std::int64_t cached_epoch_ = -1;
  std::vector<std::int64_t> order_;
  fs::path out_;
  std::string last_ckpt_;
  std::int64_t last_ckpt_step_ = -1;
  // Test hooks: RAM_TRAIN_STEP_DELAY_MS=<ms> sleeps after each step (the kill test);
  // RAM_TRAIN_TEST_NAN_AT_STEP=<k> makes step k's loss NaN (the non-finite test).
  long nan_at_step_ = std::getenv("RAM_TRAIN_TEST_NAN_AT_STEP") ? std::atol(std::getenv("RAM_TRAIN_TEST_NAN_AT_STEP")) : -1;
  long step_delay_ms_ = std::getenv("RAM_TRAIN_STEP_DELAY_MS") ? std::atol(std::getenv("RAM_TRAIN_STEP_DELAY_MS")) : 0;
};

void Run::setup() {
  ConfigView root = cfg_.view();
  s_ = read_settings(root);
  root.child("model").finish();
  out_ = s_.out;

  model_ = model::load_model(s_.model_path, s_.dtype);
  for (auto& p : model_->parameters()) p.set_requires_grad(true);
  model_->train();
  if (!s_.init_from.empty()) {
    auto file = resolve_checkpoint(s_.init_from);
    if (!file)
      throw ConfigError("train.init_from " + s_.init_from + " holds no checkpoint (no LATEST)",
                        "train.init_from", "name a step-N.h5 file or a run's ckpt/ directory");
    load_model_weights(*file, *model_);
    log::info("warm start: weights from {}", file->string());
  }
  tok_ = tok::Tokenizer::from_dir(s_.model_path);
  if (!tok_->eos_id())
    throw ConfigError("the aligner's tokenizer (" + s_.model_path + ") has no EOS token", "model.path",
                      "training appends EOS to every response: use a tokenizer that defines eos_token");
  pad_id_ = tok_->pad_id().value_or(*tok_->eos_id());

  ConfigView loss = root.child("loss");
  objective_ = plugin::Registry::instance().make_objective(loss.get<std::string>("name"), loss);
  s_.tok.with_rejected = objective_->needs_rejected();
  if (objective_->needs_reference()) {
    const std::string ref = s_.reference_path.empty() ? s_.model_path : s_.reference_path;
    reference_ = model::load_model(ref, s_.dtype);
    for (auto& p : reference_->parameters()) p.set_requires_grad(false);
    reference_->eval();
    log::info("reference (frozen): {}", reference_->describe());
  }

  if (s_.data == "synth") {
    if (s_.synth.empty())
      throw ConfigError("train.data is synth but train.synth is empty", "train.synth",
                        "set train.synth to a synth.h5 from `ram sample`");
    source_ = open_synth(s_.synth, tok_->fingerprint(), model::model_type(s_.model_path));
  } else {
    source_ = open_dataset(root.child("dataset"));
  }
  if (objective_->needs_rejected() && !source_->has_rejected())
    throw ConfigError("objective '" + loss.get<std::string>("name") + "' needs a rejected/proposal response, " +
                          "but " + source_->describe() + " has none",
                      "train.data", "train on a synth.h5 (train.data=synth) or a dataset with rejected responses");
  split_ = split(source_->size(), s_.n_eval_examples, s_.seed);
  const auto n_train = static_cast<std::int64_t>(split_.train.size());
  const std::int64_t total_examples = s_.n_examples ? *s_.n_examples : s_.n_epochs * n_train;
  total_steps_ = total_examples / s_.batch_size;
  if (total_steps_ <= 0)
    throw ConfigError("no full batch to train on: " + std::to_string(total_examples) + " training examples, batch_size " +
                          std::to_string(s_.batch_size),
                      "batch_size", "lower batch_size or n_eval_examples, or raise n_examples / n_epochs");
  warmup_ = s_.warmup_steps ? *s_.warmup_steps : n_train / s_.batch_size / 10;

  sync_ = std::make_unique<GradSync>(*model_, s_.bucket_mb);
  const auto N = sync_->layout().numel();
  if (s_.zero1) {
    std::tie(shard_begin_, shard_end_) = shard_range(N, dist::rank(), dist::size());
  } else {
    shard_begin_ = 0;
    shard_end_ = N;
  }
  opt_ = std::make_unique<FlatOptimizer>(s_.optim, shard_end_ - shard_begin_);
  master_ = sync_->flatten_params();
  state_.seed = s_.seed;

  log::info("policy: {} ({} parameters, {} buckets of ≤ {} MiB), objective: {}", model_->describe(), N,
            sync_->buckets(), s_.bucket_mb, objective_->describe());
  log::info("data: {}: {} train / {} eval examples; {} steps of {} examples ({} ranks × {} micro-batches of {}), "
            "warmup {} steps, optimizer {}{}",
            source_->describe(), n_train, split_.eval.size(), total_steps_, s_.batch_size, dist::size(),
            s_.grad_accum, s_.batch_size / dist::size() / s_.grad_accum, warmup_, s_.optim.name,
            s_.zero1 ? " (ZeRO-1: state sharded over ranks)" : "");

  if (s_.resume) {
    if (auto file = resolve_checkpoint(out_ / "ckpt")) {
      CheckpointData d = read_checkpoint(*file, sync_->layout(), shard_begin_, shard_end_);
      if (d.optimizer != s_.optim.name)
        throw ConfigError("resume: " + file->string() + " was written with optimizer " + d.optimizer, "optimizer",
                          "resume with the same optimizer, or start a new train.out");
      load_model_weights(*file, *model_);
      master_ = sync_->flatten_params();
      if (d.master.defined()) {
        // Mixed precision: the f32 master is the truth (the model holds its rounding).
        master_.slice(0, shard_begin_, shard_end_).copy_(d.master);
        if (s_.zero1 && dist::size() > 1) dist::all_gather_shards(master_, shard_begin_, shard_end_);
      }
      for (auto& [k, v] : d.optimizer_state) opt_->state().at(k).copy_(v);
      state_ = d.trainer;
      last_ckpt_ = file->string();
      last_ckpt_step_ = state_.step;
      log::info("resume: {} (step {}, {} examples seen)", file->string(), state_.step, state_.examples_seen);
      if (dist::is_root()) trim_metrics(state_.step);
    } else {
      log::info("resume: no checkpoint under {} yet, starting at step 0", (out_ / "ckpt").string());
    }
  }
  if (dist::is_root()) {
    fs::create_directories(out_);
    // Temp files of checkpoint writers that were killed (never a final name): remove them.
    std::error_code ec;
    if (fs::is_directory(out_ / "ckpt", ec)) {
      for (const auto& e : fs::directory_iterator(out_ / "ckpt", ec)) {
        const std::string n = e.path().filename().string();
        if (n.find(".tmp-") != std::string::npos) {
          fs::remove_all(e.path(), ec);
          log::info("removed {} (left by a killed run)", e.path().string());
        }
      }
    }
    if (!s_.resume || last_ckpt_step_ < 0) std::ofstream(out_ / "metrics.jsonl", std::ios::trunc);
  }
}

std::vector<std::int64_t> Run::global_batch(std::int64_t step) {
  const auto n_train = static_cast<std::int64_t>(split_.train.size());
  std::vector<std::int64_t> out;
  out.reserve(static_cast<std::size_t>(s_.batch_size));
  for (std::int64_t p = step * s_.batch_size; p < (step + 1) * s_.batch_size; ++p) {
    const std::int64_t epoch = p / n_train, off = p % n_train;
    if (epoch != cached_epoch_) {
      order_ = epoch_order(split_.train, s_.seed, epoch);
      cached_epoch_ = epoch;
    }
    out.push_back(order_[static_cast<std::size_t>(off)]);
  }
  return out;
}

std::vector<TokenizedExample> Run::tokenize(const std::vector<std::int64_t>& idx) {
  std::vector<TokenizedExample> out;
  out.reserve(idx.size());
  for (auto i : idx) out.push_back(train::tokenize(source_->get(i), *tok_, s_.tok));
  return out;
}

std::int64_t Run::tokens_of(const ObjectiveBatch& b) const {
  std::int64_t n = b.chosen.attention.sum().item<std::int64_t>();
  if (b.rejected.size() > 0) n += b.rejected.attention.sum().item<std::int64_t>();
  return n;
}

Json Run::train_step(std::int64_t step) {
  const int W = dist::size(), r = dist::rank();
  const auto per_rank = s_.batch_size / W, micro = per_rank / s_.grad_accum;
  const auto batch = global_batch(step);
  const double inv_b = 1.0 / static_cast<double>(s_.batch_size);

  MetricSums ms;
  std::vector<std::string> bad_ids;
  std::int64_t tokens = 0;
  double t_forward = 0, t_backward = 0;
  sync_->zero();
  for (std::int64_t g = 0; g < s_.grad_accum; ++g) {
    const auto b0 = batch.begin() + r * per_rank + g * micro;
    std::vector<std::int64_t> idx(b0, b0 + micro);
    auto ex = tokenize(idx);
    ObjectiveBatch ob = make_objective_batch(ex, s_.tok.with_rejected, pad_id_);
    tokens += tokens_of(ob);
    const double tf = now();
    ObjectiveResult res = objective_->compute(*model_, reference_.get(), ob);
    t_forward += now() - tf;
    if (nan_at_step_ == step + 1) res.loss_sum = res.loss_sum * std::nan("");
    if (!std::isfinite(res.loss_sum.item<double>())) {
      for (const auto& e : ex) bad_ids.push_back(e.id);
    }
    ms.add(res);
    sync_->arm(g == s_.grad_accum - 1);
    const double tb = now();
    (res.loss_sum * inv_b).backward();
    sync_->after_backward();
    t_backward += now() - tb;
  }
  const double t_sync = now();
  sync_->finish();
  const double t_update = now();

  ms.sums["tokens_forwarded"] += static_cast<double>(tokens);
  ms.sums["nonfinite"] += static_cast<double>(bad_ids.size());
  auto means = ms.means();
  const double n_batch = static_cast<double>(s_.batch_size);
  if (means["nonfinite"] > 0) {
    std::string ids;
    for (const auto& v : dist::all_gather(fmt::format("{}", fmt::join(bad_ids, ", ")))) {
      if (!v.empty()) ids += (ids.empty() ? "" : ", ") + v;
    }
    throw DataError("non-finite loss at step " + std::to_string(step + 1) + " (micro-batches with examples " + ids + ")",
                    out_.string(),
                    "the last good checkpoint stays (" + (last_ckpt_.empty() ? std::string("none yet") : last_ckpt_) +
                        "); lower lr, check these examples, or use dtype=f32");
  }
  at::Tensor& grad = sync_->grad();
  const double norm = grad.norm().item<double>();
  if (!std::isfinite(norm))
    throw DataError("non-finite gradient norm at step " + std::to_string(step + 1), out_.string(),
                    "the last good checkpoint stays (" + (last_ckpt_.empty() ? std::string("none yet") : last_ckpt_) +
                        "); lower lr or max_grad_norm, or use dtype=f32");
  const double coef = std::min(1.0, s_.max_grad_norm / (norm + 1e-6));
  if (coef < 1.0) grad.mul_(coef);
  const double lr = s_.lr * std::min(1.0, static_cast<double>(step + 1) / static_cast<double>(warmup_ + 1));
  {
    at::NoGradGuard ng;
    at::Tensor shard = master_.slice(0, shard_begin_, shard_end_);
    opt_->step(shard, grad.slice(0, shard_begin_, shard_end_), lr, step + 1);
    if (s_.zero1 && W > 1) dist::all_gather_shards(master_, shard_begin_, shard_end_);
    sync_->load_params(master_);
  }

  Json line;
  line["step"] = step + 1;
  // Where the step's time went (rank 0; bench_train prints them): forward (objective),
  // backward (incl. the gradient hooks), finish (all-reduce wait), update (norm, clip,
  // optimizer, parameters copied back).
  line["time/forward"] = t_forward;
  line["time/backward"] = t_backward;
  line["time/finish"] = t_update - t_sync;
  line["time/update"] = now() - t_update;
  line["examples"] = (step + 1) * s_.batch_size;
  line["lr"] = lr;
  line["grad_norm"] = norm;
  for (const auto& [k, v] : means) {
    if (k == "nonfinite") continue;
    if (k == "tokens_forwarded") {
      line["tokens_forwarded"] = v * n_batch;
    } else {
      line[k] = v;
    }
  }
  return line;
}

Json Run::evaluate() {
  at::NoGradGuard ng;
  model_->eval();
  MetricSums ms;
  const auto n = static_cast<std::int64_t>(split_.eval.size());
  const int W = dist::size(), r = dist::rank();
  // Static slices: rank r evaluates batches r, r + W, ...
  for (std::int64_t b = r * s_.eval_batch_size; b < n; b += W * s_.eval_batch_size) {
    std::vector<std::int64_t> idx(split_.eval.begin() + b, split_.eval.begin() + std::min(n, b + s_.eval_batch_size));
    auto ex = tokenize(idx);
    ObjectiveBatch ob = make_objective_batch(ex, s_.tok.with_rejected, pad_id_);
    ms.add(objective_->compute(*model_, reference_.get(), ob));
  }
  auto means = ms.means();
  model_->train();
  const double eval_loss = means.count("loss") ? means["loss"] : 0.0;
  if (!std::isfinite(eval_loss))
    throw DataError("non-finite eval loss after step " + std::to_string(state_.step), out_.string(),
                    "no checkpoint was written for this step; the last good one stays (" +
                        (last_ckpt_.empty() ? std::string("none yet") : last_ckpt_) + "); lower lr");
  Json line;
  line["eval"] = true;
  line["step"] = state_.step;
  line["examples"] = state_.examples_seen;
  line["n_eval_examples"] = n;
  for (const auto& [k, v] : means) line["eval/" + k] = v;
  log::info("eval at step {} ({} examples): loss {:.6g}", state_.step, n,
            means.count("loss") ? means["loss"] : std::nan(""));
  return line;
}

void Run::save(const Json& eval_metrics) {
  CheckpointData d;
  d.optimizer = s_.optim.name;
  d.layout = sync_->layout();
  d.zero1 = s_.zero1;
  d.trainer = state_;
  d.trainer.metrics_json = eval_metrics.dump();
  const bool mine = s_.zero1 || dist::is_root();
  for (const auto& [k, v] : opt_->state()) d.optimizer_state[k] = mine ? v : at::empty({0}, v.options());
  if (s_.dtype != "f32") {
    at::Tensor m = master_.slice(0, shard_begin_, shard_end_);
    d.master = mine ? m : at::empty({0}, m.options());
  }
  auto file = write_checkpoint(out_, *model_, d, s_.model_path, cfg_.yaml(), command_);
  last_ckpt_ = file.string();
  last_ckpt_step_ = state_.step;
  log::info("checkpoint: {}", file.string());
}

void Run::write_metrics(const Json& line) {
  if (!dist::is_root()) return;
  std::ofstream f(out_ / "metrics.jsonl", std::ios::app);
  f << line.dump() << "\n";
  if (!f) throw Error("cannot append to " + (out_ / "metrics.jsonl").string(), "train.out", "check disk space");
}

// On resume, lines of steps after the checkpoint were not kept: drop them.
void Run::trim_metrics(std::int64_t upto_step) {
  const fs::path p = out_ / "metrics.jsonl";
  std::ifstream in(p);
  if (!in) return;
  std::vector<std::string> keep;
  std::string l;
  while (std::getline(in, l)) {
    try {
      auto j = Json::parse(l);
      if (j.value("step", std::int64_t{0}) > upto_step) continue;
    } catch (...) {
      continue;  // a line cut by the kill
    }
    keep.push_back(l);
  }
  in.close();
  const fs::path tmp = p.string() + ".tmp";
  {
    std::ofstream o(tmp, std::ios::trunc);
    for (const auto& k : keep) o << k << "\n";
  }
  fs::rename(tmp, p);
}

Summary Run::go() {
  setup();
  Summary sum;
  sum.metrics_file = (out_ / "metrics.jsonl").string();
  if (state_.step >= total_steps_) {
    sum.already_complete = true;
    sum.steps = state_.step;
    sum.examples_seen = state_.examples_seen;
    sum.last_checkpoint = last_ckpt_;
    log::info("train: already complete ({} steps, {})", state_.step, last_ckpt_);
    return sum;
  }
  const bool have_eval = !split_.eval.empty();
  Json last_eval = Json::object();
  if (have_eval && state_.step == 0 && s_.do_first_eval) {
    last_eval = evaluate();
    write_metrics(last_eval);
  }

  const double t_start = now();
  double last_log = 0;
  const std::int64_t first_step = state_.step;
  std::int64_t tokens = 0;
  double loss = 0;
  platform::StopScope stop_scope;  // SIGUSR1/SIGTERM set a flag checked after each step
  while (state_.step < total_steps_) {
    const double t0 = now(), comm0 = sync_->comm_seconds(), wait0 = sync_->wait_seconds();
    Json line = train_step(state_.step);
    const double dt = now() - t0;
    if (dist::size() > 1) {  // rank 0's gradient all-reduce time in this step (bench_train)
      line["allreduce_seconds"] = sync_->comm_seconds() - comm0;
      line["allreduce_wait_seconds"] = sync_->wait_seconds() - wait0;
    }
    const std::int64_t prev_seen = state_.examples_seen;
    state_.step += 1;
    state_.examples_seen += s_.batch_size;
    const auto n_train = static_cast<std::int64_t>(split_.train.size());
    state_.epoch = state_.examples_seen / n_train;
    state_.epoch_cursor = state_.examples_seen % n_train;
    const std::int64_t step_tokens = line.value("tokens_forwarded", 0.0) > 0
                                         ? static_cast<std::int64_t>(line["tokens_forwarded"].get<double>())
                                         : 0;
    tokens += step_tokens;
    loss = line.value("loss", std::nan(""));
    const double elapsed = now() - t_start;
    line["seconds"] = dt;
    line["examples_per_s"] = static_cast<double>(s_.batch_size) / dt;
    line["tokens_per_s"] = static_cast<double>(step_tokens) / dt;
    if (state_.step % s_.log_every == 0 || state_.step == total_steps_) write_metrics(line);
    if (step_delay_ms_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(step_delay_ms_));
    if (elapsed - last_log >= s_.min_log_interval || state_.step == total_steps_) {
      last_log = elapsed;
      const double per_step = elapsed / static_cast<double>(state_.step - first_step);
      log::info("train: step {}/{} · loss {:.5g} · {:.2f} examples/s · {:.0f} tokens/s · ETA {}", state_.step,
                total_steps_, loss, static_cast<double>((state_.step - first_step) * s_.batch_size) / elapsed,
                static_cast<double>(tokens) / elapsed,
                fmt_duration(per_step * static_cast<double>(total_steps_ - state_.step)));
    }
    const bool eval_due = state_.examples_seen / s_.eval_every > prev_seen / s_.eval_every;
    if (eval_due) {
      if (have_eval) {
        last_eval = evaluate();
        write_metrics(last_eval);
      }
      save(last_eval);
    }
    // Preemption / time-limit warning (platform/stop.hpp): stop after this step, on every
    // rank alike — the signal may reach the ranks at different moments, so the flag is
    // all-reduced (max; one 8-byte all-reduce per step). The checkpoint below is the
    // resume point (resume=true).
    const std::int64_t stop = dist::all_reduce(std::int64_t{platform::stop_requested() ? 1 : 0}, dist::ReduceOp::max);
    if (stop > 0 && state_.step < total_steps_) {
      sum.interrupted = true;
      const int sig = platform::stop_signal();
      log::warn("train: {}: stopping after step {}/{} to checkpoint",
                sig ? std::string(platform::signal_name(sig)) + " received" : std::string("another rank got a stop signal"),
                state_.step, total_steps_);
      break;
    }
  }
  const double train_seconds = now() - t_start;
  if (last_ckpt_step_ != state_.step) save(last_eval);

  sum.steps = state_.step;
  sum.total_steps = total_steps_;
  sum.steps_this_run = state_.step - first_step;
  sum.examples_seen = state_.examples_seen;
  sum.tokens_this_run = tokens;
  sum.seconds = train_seconds;
  sum.step_seconds_mean = train_seconds / static_cast<double>(std::max<std::int64_t>(1, sum.steps_this_run));
  sum.tokens_per_s = static_cast<double>(tokens) / std::max(train_seconds, 1e-9);
  sum.allreduce_seconds = sync_->comm_seconds();
  sum.allreduce_wait_seconds = sync_->wait_seconds();
  sum.final_loss = loss;
  sum.last_checkpoint = last_ckpt_;
  return sum;
}

}  // namespace

Summary run(const config::Resolved& cfg, const std::string& command) {
  Run r(cfg, command);
  return r.go();
}

std::string format_summary(const Summary& s) {
  if (s.already_complete)
    return fmt::format("train: already complete: {} steps, {} examples; checkpoint {}", s.steps, s.examples_seen,
                       s.last_checkpoint);
  if (s.interrupted)
    return fmt::format("train: interrupted at step {} of {} ({} this run); checkpoint {}; rerun the same command "
                       "with resume=true to continue",
                       s.steps, s.total_steps, s.steps_this_run, s.last_checkpoint);
  return fmt::format(
      "train: {} steps ({} this run), {} examples; {:.1f} s, {:.2f} s/step, {:.0f} tokens/s; final loss {:.6g}; "
      "all-reduce {:.2f} s ({:.2f} s waited after backward); checkpoint {}; metrics {}",
      s.steps, s.steps_this_run, s.examples_seen, s.seconds, s.step_seconds_mean, s.tokens_per_s, s.final_loss,
      s.allreduce_seconds, s.allreduce_wait_seconds, s.last_checkpoint, s.metrics_file);
}

}  // namespace ram::train
