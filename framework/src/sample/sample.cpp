#include "sample/sample.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <sstream>
#include <thread>

#include <c10/core/InferenceMode.h>
#include <fmt/format.h>

#include "dist/dist.hpp"
#include "generate/engine.hpp"
#include "h5/reader.hpp"
#include "h5/writer.hpp"
#include "log/log.hpp"
#include "model/hf_dir.hpp"
#include "platform/stop.hpp"
#include "plugin/registry.hpp"
#include "ram/dataset.hpp"
#include "ram/error.hpp"
#include "ram/model.hpp"
#include "sample/parts.hpp"
#include "sample/settings.hpp"
#include "tokenizer/tokenizer.hpp"

namespace ram::sample {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// ------------------------------------------------------------------ tokenizer
tok::Tokenizer load_tokenizer(const Settings& s, std::int64_t model_vocab) {
  const fs::path model_dir(s.model_path);
  const bool model_has = fs::is_regular_file(model_dir / "tokenizer.json");
  if (!model_has && s.tokenizer_dir.empty())
    throw ConfigError("the proposal directory has no tokenizer.json", s.model_path,
                      "give the proposal's tokenizer with sample.tokenizer=DIR");
  auto tok = tok::Tokenizer::from_dir(model_has ? model_dir : fs::path(s.tokenizer_dir));
  if (model_has && !s.tokenizer_dir.empty()) {
    auto named = tok::Tokenizer::from_dir(s.tokenizer_dir);
    if (named.fingerprint() != tok.fingerprint())
      throw ConfigError(fmt::format("tokenizer mismatch: sample.tokenizer {} ({}) differs from the "
                                    "proposal's {} ({})",
                                    named.path().string(), named.fingerprint(),
                                    tok.path().string(), tok.fingerprint()),
                        "sample.tokenizer",
                        "point sample.tokenizer at the proposal's own tokenizer, or remove it");
  } else if (!model_has) {
    log::warn("the proposal directory {} has no tokenizer.json; using sample.tokenizer {} unchecked",
              s.model_path, s.tokenizer_dir);
  }
  if (tok.vocab_size() > model_vocab)
    throw ConfigError(fmt::format("the tokenizer has {} tokens, the proposal's vocabulary only {}",
                                  tok.vocab_size(), model_vocab),
                      tok.path().string(), "use the tokenizer the proposal was trained with");
  return tok;
}

// ------------------------------------------------------------------ resume plan
struct Plan {
  bool complete = false;
  std::vector<std::int64_t> todo;  // chunks to sample, ascending
};

// Rank 0 only: inspects the output and the parts directory (see sample.hpp, step 2).
// Throws ConfigError when earlier work was done under other settings.
Plan scan(const fs::path& out, const fs::path& parts, const std::string& hash,
          std::int64_t n_chunks) {
  Plan plan;
  std::error_code ec;
  const std::string tmp_prefix = out.filename().string() + ".tmp-";
  const fs::path out_dir = out.parent_path().empty() ? fs::path(".") : out.parent_path();
  if (fs::is_directory(out_dir))
    for (const auto& e : fs::directory_iterator(out_dir, ec))
      if (e.path().filename().string().rfind(tmp_prefix, 0) == 0) {
        log::info("removing the temp file of an interrupted merge: {}", e.path().string());
        fs::remove(e.path(), ec);
      }
  if (fs::exists(out)) {
    std::string found;
    try {
      found = h5::Reader::open(out.string()).attr_string("/", "settings_hash");
    } catch (const Error& e) {
      throw ConfigError("sample.out exists and is not a synth.h5 of `ram sample` (" +
                            e.what_part() + ")",
                        out.string(), "delete it or choose another sample.out");
    }
    if (found != hash)
      throw ConfigError("sample.out already holds a synth.h5 sampled with other settings "
                        "(model, dataset, sampling parameters, seed, n or chunk_size differ)",
                        out.string(), "delete it, choose another sample.out, or use the same config");
    plan.complete = true;
    return plan;
  }
  std::vector<char> have(static_cast<std::size_t>(n_chunks), 0);
  if (fs::is_directory(parts)) {
    for (const auto& e : fs::directory_iterator(parts)) {
      const std::string name = e.path().filename().string();
      if (name.find(".tmp-") != std::string::npos) {
        fs::remove(e.path(), ec);  // a writer killed before its rename
        continue;
      }
      const std::int64_t c = part_chunk(name);
      if (c < 0) continue;
      PartInfo info;
      try {
        info = read_part_info(e.path());
      } catch (const Error& err) {
        log::warn("part file {} is unreadable ({}); deleting it, the chunk is redone",
                  e.path().string(), format_error(err));
        fs::remove(e.path(), ec);
        continue;
      }
      if (info.settings_hash != hash || info.chunk != c || c >= n_chunks)
        throw ConfigError("part file " + e.path().string() +
                              " was written under other settings (model, dataset, sampling "
                              "parameters, seed, n or chunk_size differ)",
                          parts.string(),
                          "delete " + parts.string() + " to start over, or rerun with the same config");
      have[static_cast<std::size_t>(c)] = 1;
    }
  }
  for (std::int64_t c = 0; c < n_chunks; ++c)
    if (!have[static_cast<std::size_t>(c)]) plan.todo.push_back(c);
  return plan;
}

// Rank 0 scans; every rank gets the same plan, or the same error.
Plan shared_plan(const fs::path& out, const fs::path& parts, const std::string& hash,
                 std::int64_t n_chunks) {
  std::string msg;
  Plan plan;
  if (dist::is_root()) {
    try {
      plan = scan(out, parts, hash, n_chunks);
      std::ostringstream os;
      os << (plan.complete ? "C" : "T");
      for (auto c : plan.todo) os << ' ' << c;
      msg = os.str();
    } catch (const Error& e) {
      msg = "E" + e.what_part() + '\x1f' + e.where() + '\x1f' + e.hint();
    }
  }
  dist::broadcast(msg, 0);
  if (msg[0] == 'E') {
    auto a = msg.find('\x1f', 1), b = msg.find('\x1f', a + 1);
    throw ConfigError(msg.substr(1, a - 1), msg.substr(a + 1, b - a - 1), msg.substr(b + 1));
  }
  plan = Plan{};
  plan.complete = msg[0] == 'C';
  std::istringstream is(msg.substr(1));
  for (std::int64_t c; is >> c;) plan.todo.push_back(c);
  return plan;
}

// ------------------------------------------------------------------ one chunk
struct Sampler {
  const Settings& s;
  const Dataset& data;
  const tok::Tokenizer& tok;
  generate::Engine& engine;
  std::string hash;
  std::int64_t tokens = 0, chunks = 0;
  double seconds = 0;

  bool empty_prompt(const std::string& text) const {
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
  }

  void run_chunk(std::int64_t c, const fs::path& parts_dir) {
    const std::int64_t begin = c * s.chunk_size;
    const std::int64_t end = std::min(data.size(), begin + s.chunk_size);
    PartInfo info{c, begin, end, 0, 0, hash};
    std::vector<generate::Request> requests;
    std::vector<Example> examples;
    for (std::int64_t i = begin; i < end; ++i) {
      Example e = data.get(i);
      std::vector<std::int32_t> ids;
      if (!empty_prompt(e.prompt)) ids = tok.encode(e.prompt, /*add_special_tokens=*/true);
      if (ids.empty()) {
        auto src = e.meta.find("source");
        std::string where = fmt::format("example {}{}", i, src == e.meta.end() ? "" : ", " + src->second);
        if (s.on_empty == OnEmpty::fail)
          throw DataError("empty prompt", where,
                          "fix or drop the record, or set sample.on_empty_prompt=skip to skip and count such prompts");
        log::warn("skipping an empty prompt ({})", where);
        ++info.skipped_empty;
        continue;
      }
      for (std::int64_t k = 0; k < s.n; ++k)
        requests.push_back({i, k, std::vector<std::int64_t>(ids.begin(), ids.end())});
      examples.push_back(std::move(e));
    }
    std::vector<generate::Result> results;
    results.reserve(requests.size());
    auto t0 = Clock::now();
    engine.run(requests, [&](generate::Result&& r) { results.push_back(std::move(r)); });
    seconds += since(t0);
    std::sort(results.begin(), results.end(), [](const auto& a, const auto& b) {
      return a.example_index != b.example_index ? a.example_index < b.example_index
                                                : a.sample_index < b.sample_index;
    });
    if (results.size() != requests.size())
      throw Error(fmt::format("the engine returned {} results for {} requests", results.size(), requests.size()),
                  fmt::format("chunk {}", c), "this is a bug in generate::Engine");
    Rows rows;
    std::size_t ex = 0;
    for (auto& r : results) {
      while (examples[ex].index != r.example_index) ++ex;
      rows.index.push_back(r.example_index);
      rows.sample_index.push_back(r.sample_index);
      rows.prompt_text.push_back(examples[ex].prompt);
      rows.chosen_text.push_back(examples[ex].chosen);
      rows.proposal_text.push_back(std::move(r.text));
      rows.proposal_ids.emplace_back(r.ids.begin(), r.ids.end());
      rows.proposal_logprob.push_back(static_cast<float>(r.logprob));
      rows.finish_reason.push_back(static_cast<std::uint8_t>(r.finish));
      rows.prompt_truncated.push_back(r.prompt_truncated ? 1 : 0);
      rows.prompt_tokens.push_back(static_cast<std::int32_t>(r.prompt_tokens));
      if (r.sample_index == 0 && r.prompt_truncated) ++info.truncated_prompts;
      tokens += static_cast<std::int64_t>(r.ids.size());
    }
    write_part(parts_dir, info, rows);
    ++chunks;
  }
};

// Hands the chunks in `todo` out over the ranks until none is left (collective), with the
// progress line; fills sum.tokens_this_run and sum.per_rank.
void sample_chunks(const std::vector<std::int64_t>& todo, Sampler& sampler,
                   const fs::path& parts_dir, Summary& sum) {
  const std::int64_t n_ex = sampler.data.size(), cs = sampler.s.chunk_size;
  auto examples_in = [&](std::int64_t c) { return std::min(n_ex, (c + 1) * cs) - c * cs; };
  std::int64_t todo_examples = 0;
  for (auto c : todo) todo_examples += examples_in(c);
  const char* delay_env = std::getenv("RAM_SAMPLE_CHUNK_DELAY_MS");  // test hook (sample.hpp)
  const long delay_ms = delay_env ? std::strtol(delay_env, nullptr, 10) : 0;
  {
    log::Progress progress("sample", todo_examples, "prompts");
    progress.set_extra_unit("tokens");
    dist::WorkQueue queue(static_cast<std::int64_t>(todo.size()), 1);
    // SIGUSR1/SIGTERM (platform/stop.hpp): take no new chunk; the current one is finished
    // and its part file written. Ranks stop independently; sample::run then skips the merge.
    while (!platform::stop_requested()) {
      auto range = queue.next();
      if (!range) break;
      for (std::int64_t k = range->begin; k < range->end; ++k) {
        const std::int64_t c = todo[static_cast<std::size_t>(k)];
        const std::int64_t tokens_before = sampler.tokens;
        sampler.run_chunk(c, parts_dir);
        progress.add(examples_in(c), sampler.tokens - tokens_before);
        if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
      }
    }
    progress.finish();
  }
  sum.tokens_this_run = dist::all_reduce(sampler.tokens);
  auto lines = dist::gather(fmt::format(
      "rank {}: {} chunks, {} tokens in {:.2f} s decoding, {:.1f} tokens/s", dist::rank(),
      sampler.chunks, sampler.tokens, sampler.seconds,
      sampler.seconds > 0 ? static_cast<double>(sampler.tokens) / sampler.seconds : 0.0));
  if (dist::is_root()) sum.per_rank = std::move(lines);
}

// ------------------------------------------------------------------ merge
struct Totals {
  std::int64_t samples = 0, skipped = 0, truncated = 0, tokens = 0;
  std::array<std::int64_t, 3> finish{};
};

void merge(const config::Resolved& cfg, const std::string& command, const Settings& s,
           const Dataset& data, const std::string& hash, const std::string& mhash,
           const std::string& tok_fp, std::int64_t n_chunks, const fs::path& parts_dir,
           Summary& sum) {
  const std::int64_t p = dist::size(), r = dist::rank();
  Rows local;
  Totals t;
  for (std::int64_t c = n_chunks * r / p; c < n_chunks * (r + 1) / p; ++c) {
    auto file = part_path(parts_dir, c);
    PartInfo info = read_part_info(file);
    if (info.settings_hash != hash || info.chunk != c)
      throw FormatError("part file changed while merging", file.string(), "rerun the same command");
    t.skipped += info.skipped_empty;
    t.truncated += info.truncated_prompts;
    local.append(read_part_rows(file));
  }
  t.samples = local.size();
  for (std::size_t i = 0; i < local.proposal_ids.size(); ++i) {
    t.tokens += static_cast<std::int64_t>(local.proposal_ids[i].size());
    auto f = local.finish_reason[i];
    if (f < t.finish.size()) ++t.finish[f];
  }
  std::int64_t v[7] = {t.samples, t.skipped, t.truncated, t.tokens, t.finish[0], t.finish[1], t.finish[2]};
  dist::all_reduce(v, 7);
  sum.samples = v[0];
  sum.skipped_empty = v[1];
  sum.truncated_prompts = v[2];
  sum.generated_tokens = v[3];
  sum.finish = {v[4], v[5], v[6]};

  auto w = h5::Writer::create(s.out, /*parallel=*/true);
  w.write_provenance(command, cfg.yaml());
  write_rows(w, local);
  const auto& sp = s.engine.sampling;
  const auto& st = s.engine.stop;
  w.set_attr("/", "proposal_model", fs::absolute(s.model_path).lexically_normal().string());
  w.set_attr("/", "proposal_model_hash", "sha256:" + mhash);
  w.set_attr("/", "proposal_dtype", s.dtype);
  w.set_attr("/", "tokenizer_fingerprint", tok_fp);
  w.set_attr("/", "proposal_model_type", model::model_type(s.model_path));
  w.set_attr("/", "dataset", data.describe());
  w.set_attr("/", "dataset_fingerprint", data.fingerprint());
  w.set_attr("/", "seed", static_cast<std::int64_t>(sp.seed));
  w.set_attr("/", "temperature", sp.temperature);
  w.set_attr("/", "top_p", sp.top_p);
  w.set_attr("/", "top_k", sp.top_k);
  w.set_attr("/", "repetition_penalty", sp.repetition_penalty);
  w.set_attr("/", "order", sp.order);
  w.set_attr("/", "stop", st.stop_strings);
  w.set_attr("/", "max_new_tokens", st.max_new_tokens);
  w.set_attr("/", "max_length", st.max_length);
  w.set_attr("/", "max_prompt_length", st.max_prompt_length);
  w.set_attr("/", "n", s.n);
  w.set_attr("/", "chunk_size", s.chunk_size);
  w.set_attr("/", "settings_hash", hash);
  w.set_attr("/", "finish_reason_codes", std::vector<std::string>{"eos", "stop_string", "length"});
  w.set_attr("/", "prompts", data.size());
  w.set_attr("/", "samples", sum.samples);
  w.set_attr("/", "skipped_empty_prompts", sum.skipped_empty);
  w.set_attr("/", "skipped_records", data.skipped());
  w.set_attr("/", "truncated_prompts", sum.truncated_prompts);
  w.set_attr("/", "generated_tokens", sum.generated_tokens);
  w.finalize();
  dist::barrier();
  if (dist::is_root()) {
    std::error_code ec;
    fs::remove_all(parts_dir, ec);
    if (ec) log::warn("could not remove {}: {}", parts_dir.string(), ec.message());
  }
  dist::barrier();
}

}  // namespace

Summary run(const config::Resolved& cfg, const std::string& command) {
  const auto t0 = Clock::now();
  ConfigView root = cfg.view();
  Settings s = read_settings(root);
  root.child("model").finish();
  root.child("sample").finish();
  ConfigView dcfg = root.child("dataset");
  auto dataset = plugin::Registry::instance().make_dataset(dcfg.get<std::string>("name"), dcfg);
  log::info("dataset: {}", dataset->describe());
  if (dataset->skipped() > 0)
    log::warn("the dataset skipped {} malformed records (dataset.on_error: skip)", dataset->skipped());

  c10::InferenceMode guard;
  auto model = model::load_model(s.model_path, s.dtype);
  tok::Tokenizer tok = load_tokenizer(s, model->vocab_size());
  s.engine.stop.eos_ids = model::read_generation_info(s.model_path).eos_ids;
  const std::string mhash = model_hash(s.model_path);
  const std::string hash = settings_hash(s, mhash, dataset->fingerprint(), tok.fingerprint());
  log::info("proposal: {}, compute {}, model hash sha256:{}, tokenizer {}", model->describe(), s.dtype,
            mhash.substr(0, 16), tok.fingerprint());
  log::info("sampling: {}", describe(s));

  const std::int64_t n_ex = dataset->size();
  const std::int64_t n_chunks = (n_ex + s.chunk_size - 1) / s.chunk_size;
  const fs::path out(s.out);
  const fs::path parts_dir = out.string() + ".parts";
  if (dist::is_root()) {
    std::error_code ec;
    fs::create_directories(parts_dir, ec);
    if (ec) throw ConfigError("cannot create " + parts_dir.string() + ": " + ec.message(), "sample.out",
                              "check the path and its permissions");
  }
  Plan plan = shared_plan(out, parts_dir, hash, n_chunks);

  Summary sum;
  sum.out = s.out;
  sum.prompts = n_ex;
  sum.skipped_records = dataset->skipped();
  sum.chunks = n_chunks;
  if (plan.complete) {
    if (dist::is_root()) {
      std::error_code ec;
      fs::remove_all(parts_dir, ec);  // left when a run died between its rename and cleanup
      auto r = h5::Reader::open(s.out);
      sum.samples = r.attr_int("/", "samples");
      sum.generated_tokens = r.attr_int("/", "generated_tokens");
      sum.truncated_prompts = r.attr_int("/", "truncated_prompts");
      sum.skipped_empty = r.attr_int("/", "skipped_empty_prompts");
    }
    sum.already_complete = true;
    sum.chunks_reused = n_chunks;
    sum.seconds = since(t0);
    return sum;
  }
  sum.chunks_reused = n_chunks - static_cast<std::int64_t>(plan.todo.size());
  if (sum.chunks_reused > 0)
    log::info("resuming: {} of {} chunks already sampled in {}", sum.chunks_reused, n_chunks,
              parts_dir.string());

  generate::Engine engine(*model, &tok, s.engine);
  Sampler sampler{s, *dataset, tok, engine, hash};
  platform::StopScope stop_scope;  // SIGUSR1/SIGTERM: finish the chunk, keep the parts
  sample_chunks(plan.todo, sampler, parts_dir, sum);
  // Stopped by a signal with chunks left: no merge (collective; every rank agrees through
  // the all-reduce); the part files on disk are the resume point of the next run.
  const std::int64_t done = dist::all_reduce(sampler.chunks);
  if (done < static_cast<std::int64_t>(plan.todo.size())) {
    sum.interrupted = true;
    sum.chunks_reused = n_chunks - static_cast<std::int64_t>(plan.todo.size()) + done;  // now on disk
    sum.seconds = since(t0);
    return sum;
  }
  merge(cfg, command, s, *dataset, hash, mhash, tok.fingerprint(), n_chunks, parts_dir, sum);
  sum.seconds = since(t0);
  return sum;
}

std::string format_summary(const Summary& s) {
  if (s.already_complete)
    return fmt::format("sample: {} is already complete ({} samples of {} prompts); nothing to do",
                       s.out, s.samples, s.prompts);
  if (s.interrupted)
    return fmt::format("sample: interrupted by {}: {} of {} chunks sampled, in {}.parts; interrupted; rerun "
                       "the same command to resume",
                       platform::signal_name(platform::stop_signal()), s.chunks_reused, s.chunks, s.out);
  std::string text = fmt::format(
      "sample: {} samples of {} prompts ({} skipped as empty, {} truncated to max_prompt_length, {} "
      "malformed records skipped by the dataset) → {}\n"
      "  generated tokens: {} in all ({} by this run); finish reasons: eos {}, stop_string {}, length {}\n"
      "  chunks: {} ({} reused from an earlier run); wall {:.2f} s, {:.1f} tokens/s overall",
      s.samples, s.prompts, s.skipped_empty, s.truncated_prompts, s.skipped_records, s.out,
      s.generated_tokens,
      s.tokens_this_run, s.finish[0], s.finish[1], s.finish[2], s.chunks, s.chunks_reused, s.seconds,
      s.seconds > 0 ? static_cast<double>(s.tokens_this_run) / s.seconds : 0.0);
  for (const auto& l : s.per_rank) text += "\n  " + l;
  return text;
}

}  // namespace ram::sample
