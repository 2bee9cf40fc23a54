// `ram generate`'s config route (generate_run.hpp).
#include "generate/generate_run.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include <c10/core/InferenceMode.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "dist/dist.hpp"
#include "generate/decoder.hpp"
#include "h5/reader.hpp"
#include "h5/writer.hpp"
#include "log/log.hpp"
#include "model/hf_dir.hpp"
#include "plugin/registry.hpp"
#include "ram/config.hpp"
#include "ram/dataset.hpp"
#include "ram/error.hpp"
#include "ram/model.hpp"
#include "sample/settings.hpp"
#include "tokenizer/tokenizer.hpp"

namespace ram::generate {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

struct Settings {
  std::string model, proposal, dtype, model_name, proposal_name, generator, out;
  DecodeSettings decode;
  std::int64_t chunk_size = 16;
};

void require(bool ok, const ConfigView& v, const std::string& key, const std::string& what) {
  if (!ok)
    throw ConfigError(v.dotted(key) + " " + what, v.where(key).str(),
                      "fix the value in the config or on the command line");
}

std::string short_name(const std::string& dir) {
  fs::path p = fs::path(dir).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  return p.filename().string();
}

Settings read_settings(const ConfigView& root) {
  Settings s;
  ConfigView c = root.child("generate");
  s.model = c.get<std::string>("model");
  s.proposal = c.get<std::string>("proposal", std::string());
  s.dtype = model::check_dtype(c.get<std::string>("dtype", std::string("f32")), c.dotted("dtype"));
  auto& e = s.decode.engine;
  auto& sp = e.sampling;
  auto& st = e.stop;
  auto& j = e.joint;
  const std::string mode = c.get<std::string>("sample_mode", std::string("par_kl"));
  j.mode = s.proposal.empty() ? JointMode::none : parse_joint_mode(mode);
  sp.seed = static_cast<std::uint64_t>(root.get<std::int64_t>("seed", 0));
  const double t = c.get<double>("temperature", 0.7);
  sp.greedy = c.get<bool>("greedy", false) || t < 1e-5;
  require(sp.greedy || t > 0, c, "temperature", "must be > 0");
  sp.temperature = sp.greedy ? 1.0 : t;
  sp.top_p = c.get<double>("top_p", 0.9);
  require(sp.top_p > 0 && sp.top_p <= 1, c, "top_p", "must lie in (0, 1]");
  sp.top_k = c.get<std::int64_t>("top_k", 0);
  sp.repetition_penalty = c.get<double>("repetition_penalty", 1.05);
  require(sp.repetition_penalty > 0, c, "repetition_penalty", "must be > 0");
  sp.order = c.get<std::vector<std::string>>("order", generate_order());
  j.base_temperature = c.get<double>("base_temperature", 0.5);
  j.base_top_p = c.get<double>("base_top_p", 0.95);
  j.base_top_k = c.get<std::int64_t>("base_top_k", 0);
  j.div_threshold = c.get<double>("div_threshold", 0.1);
  j.expert_temperature = c.get<double>("expert_temperature", 1.0);
  j.eos_priority = c.get<bool>("eos_priority", false);
  check(j);
  s.decode.num_candidates = c.get<std::int64_t>("num_candidates", 4);
  require(s.decode.num_candidates >= 1, c, "num_candidates", "must be ≥ 1");
  st.stop_strings = c.get<std::vector<std::string>>("stop", {});
  for (const auto& x : st.stop_strings) require(!x.empty(), c, "stop", "holds an empty string");
  st.max_length = c.get<std::int64_t>("max_length", 2048);
  st.max_prompt_length = c.get<std::int64_t>("max_prompt_length", 1024);
  require(st.max_prompt_length >= 1, c, "max_prompt_length", "must be ≥ 1");
  require(st.max_length > st.max_prompt_length, c, "max_length", "must exceed max_prompt_length");
  st.max_new_tokens = c.get<std::int64_t>("max_new_tokens", st.max_length - st.max_prompt_length);
  require(st.max_new_tokens >= 1, c, "max_new_tokens", "must be ≥ 1");
  e.batch_size = c.get<std::int64_t>("batch_size", 8);
  require(e.batch_size >= 1, c, "batch_size", "must be ≥ 1");
  s.chunk_size = c.get<std::int64_t>("chunk_size", 16);
  require(s.chunk_size >= 1, c, "chunk_size", "must be ≥ 1");
  s.model_name = c.get<std::string>("model_name", short_name(s.model));
  s.proposal_name = c.get<std::string>("proposal_name", s.proposal.empty() ? std::string() : short_name(s.proposal));
  s.generator = c.get<std::string>("generator", generator_tag(s.model_name, s.proposal_name, s.decode));
  s.out = c.get<std::string>("out");
  require(!s.out.empty(), c, "out", "is empty");
  c.finish();
  return s;
}

std::string settings_hash(const Settings& s, const std::string& mhash, const std::string& phash,
                          const std::string& data_fp, const std::string& tok_fp) {
  const auto& e = s.decode.engine;
  const auto& sp = e.sampling;
  const auto& st = e.stop;
  const auto& j = e.joint;
  std::string text = fmt::format(
      "ram-generate-v1\nmodel={}\nproposal={}\ndtype={}\ndataset={}\ntokenizer={}\nmode={}\n"
      "greedy={}\ntemperature={:.17g}\ntop_k={}\ntop_p={:.17g}\nrepetition_penalty={:.17g}\n"
      "order={}\nseed={}\nbase_temperature={:.17g}\nbase_top_p={:.17g}\nbase_top_k={}\n"
      "div_threshold={:.17g}\nexpert_temperature={:.17g}\neos_priority={}\nnum_candidates={}\n"
      "max_new_tokens={}\nmax_length={}\nmax_prompt_length={}\ngenerator={}\n",
      mhash, phash, s.dtype, data_fp, tok_fp, to_string(j.mode), sp.greedy, sp.temperature,
      sp.top_k, sp.top_p, sp.repetition_penalty, fmt::join(sp.order, ","), sp.seed,
      j.base_temperature, j.base_top_p, j.base_top_k, j.div_threshold, j.expert_temperature,
      j.eos_priority, s.decode.num_candidates, st.max_new_tokens, st.max_length,
      st.max_prompt_length, s.generator);
  for (const auto& x : st.stop_strings) text += "stop=" + std::to_string(x.size()) + ":" + x + "\n";
  return tok::sha256_hex(text);
}

std::string rstrip(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\t' || s.back() == '\r'))
    s.pop_back();
  return s;
}

// Rank 0: 'C' complete, 'T' to do; throws for outputs.h5 written under other settings.
char scan(const fs::path& h5_path, const fs::path& json_path, const std::string& hash) {
  if (!fs::exists(h5_path)) return 'T';
  std::string found;
  try {
    found = h5::Reader::open(h5_path.string()).attr_string("/", "settings_hash");
  } catch (const Error& e) {
    throw ConfigError("generate.out holds an outputs.h5 that `ram generate` did not write (" +
                          e.what_part() + ")",
                      h5_path.string(), "delete it or choose another generate.out");
  }
  if (found != hash)
    throw ConfigError("generate.out already holds outputs generated with other settings (models, "
                      "dataset, decoding parameters, seed or generator differ)",
                      h5_path.string(), "delete it, choose another generate.out, or use the same config");
  return fs::exists(json_path) ? 'C' : 'T';
}

// JSON line per output (rank → rank 0).
std::string pack(const Output& o) {
  nlohmann::json j = {{"i", o.example_index}, {"ids", o.ids}, {"text", o.text},
                      {"finish", static_cast<int>(o.finish)}, {"lp", o.logprob},
                      {"plp", std::isnan(o.proposal_logprob) ? nlohmann::json() : nlohmann::json(o.proposal_logprob)},
                      {"rs", o.restricted_steps}, {"pt", o.prompt_tokens}, {"tr", o.prompt_truncated},
                      {"ess", std::isnan(o.ess) ? nlohmann::json() : nlohmann::json(o.ess)},
                      {"ch", o.chosen}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Output unpack(const std::string& line) {
  auto j = nlohmann::json::parse(line);
  Output o;
  o.example_index = j["i"].get<std::int64_t>();
  o.ids = j["ids"].get<std::vector<std::int64_t>>();
  o.text = j["text"].get<std::string>();
  o.finish = static_cast<Finish>(j["finish"].get<int>());
  o.logprob = j["lp"].get<double>();
  if (!j["plp"].is_null()) o.proposal_logprob = j["plp"].get<double>();
  o.restricted_steps = j["rs"].get<std::int64_t>();
  o.prompt_tokens = j["pt"].get<std::int64_t>();
  o.prompt_truncated = j["tr"].get<bool>();
  if (!j["ess"].is_null()) o.ess = j["ess"].get<double>();
  o.chosen = j["ch"].get<std::int64_t>();
  return o;
}

}  // namespace

RunSummary run_config(const config::Resolved& cfg, const std::string& command) {
  const auto t0 = Clock::now();
  auto t_decode = t0;  // start of decoding (after loading), for decode_seconds
  ConfigView root = cfg.view();
  Settings s = read_settings(root);
  ConfigView dcfg = root.child("dataset");
  auto dataset = plugin::Registry::instance().make_dataset(dcfg.get<std::string>("name"), dcfg);
  log::info("dataset: {}", dataset->describe());

  c10::InferenceMode guard;
  const bool ram_mode = !s.proposal.empty();
  auto model = model::load_model(s.model, s.dtype);
  if (!fs::is_regular_file(fs::path(s.model) / "tokenizer.json"))
    throw ConfigError("the model directory has no tokenizer.json", s.model,
                      "the config route encodes the dataset's prompts: use a model directory with its tokenizer");
  tok::Tokenizer tok = tok::Tokenizer::from_dir(s.model);
  std::shared_ptr<CausalLM> proposal;
  auto& e = s.decode.engine;
  e.vocab = std::min<std::int64_t>(model->vocab_size(), tok.vocab_size());
  if (ram_mode) {
    const fs::path ptok = fs::path(s.proposal) / "tokenizer.json";
    const std::string pfp = fs::is_regular_file(ptok) ? tok::Tokenizer::from_dir(s.proposal).fingerprint() : "";
    proposal = model::load_model(s.proposal, s.dtype);
    e.vocab = joint_vocab(model->vocab_size(), proposal->vocab_size(), s.model, s.proposal,
                          tok.fingerprint(), pfp, tok.vocab_size());
  }
  e.stop.eos_ids = model::read_generation_info(s.model).eos_ids;
  if (ram_mode)
    for (auto id : model::read_generation_info(s.proposal).eos_ids)
      if (std::find(e.stop.eos_ids.begin(), e.stop.eos_ids.end(), id) == e.stop.eos_ids.end())
        e.stop.eos_ids.push_back(id);
  const std::string mhash = sample::model_hash(s.model);
  const std::string phash = ram_mode ? sample::model_hash(s.proposal) : std::string();
  const std::string hash = settings_hash(s, mhash, phash, dataset->fingerprint(), tok.fingerprint());

  RunSummary sum;
  sum.out_dir = s.out;
  sum.generator = s.generator;
  sum.prompts = dataset->size();
  const fs::path out_dir(s.out), h5_path = out_dir / "outputs.h5", json_path = out_dir / "outputs.json";
  std::string msg;
  if (dist::is_root()) {
    try {
      fs::create_directories(out_dir);
      msg = std::string(1, scan(h5_path, json_path, hash));
    } catch (const Error& err) {
      msg = "E" + err.what_part() + '\x1f' + err.where() + '\x1f' + err.hint();
    } catch (const std::exception& err) {
      msg = std::string("E") + err.what() + '\x1f' + out_dir.string() + '\x1f' + "check the path and its permissions";
    }
  }
  dist::broadcast(msg, 0);
  if (msg[0] == 'E') {
    auto a = msg.find('\x1f', 1), b = msg.find('\x1f', a + 1);
    throw ConfigError(msg.substr(1, a - 1), msg.substr(a + 1, b - a - 1), msg.substr(b + 1));
  }
  if (msg[0] == 'C') {
    sum.already_complete = true;
    sum.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    return sum;
  }

  Decoder decoder(*model, proposal.get(), &tok, s.decode);
  log::info("generate: model {} ({}){}, generator \"{}\"; {}", model->describe(), s.dtype,
            ram_mode ? ", proposal " + proposal->describe() : std::string(), s.generator,
            decoder.describe());
  std::vector<Example> examples;
  std::vector<Request> requests;
  for (std::int64_t i = 0; i < dataset->size(); ++i) {
    Example ex = dataset->get(i);
    auto ids = tok.encode(ex.prompt, /*add_special_tokens=*/true);
    if (ids.empty()) {
      auto src = ex.meta.find("source");
      throw DataError("empty prompt", fmt::format("example {}{}", i, src == ex.meta.end() ? "" : ", " + src->second),
                      "fix or drop the record");
    }
    requests.push_back({i, 0, std::vector<std::int64_t>(ids.begin(), ids.end())});
    examples.push_back(std::move(ex));
  }
  std::string packed;
  std::int64_t tokens = 0;
  {
    log::Progress progress("generate", static_cast<std::int64_t>(requests.size()), "prompts");
    t_decode = Clock::now();
    run_sharded(decoder, requests, s.chunk_size, [&](Output&& o) {
      tokens += static_cast<std::int64_t>(o.ids.size());
      progress.add(1, 0);
      packed += pack(o) + "\n";
    });
    progress.finish();
  }
  const auto& st = decoder.stats();
  std::int64_t counts[3] = {tokens, st.restricted_steps, st.joint_steps};
  dist::all_reduce(counts, 3);
  sum.generated_tokens = counts[0];
  sum.restricted_steps = counts[1];
  sum.joint_steps = counts[2];
  // The slowest rank's decoding time: outputs.h5's decode_seconds (tokens/s in reports).
  const double decode_seconds =
      dist::all_reduce(std::chrono::duration<double>(Clock::now() - t_decode).count(), dist::ReduceOp::max);
  auto parts = dist::gather(packed);
  if (dist::is_root()) {
    std::vector<Output> outs;
    for (const auto& part : parts) {
      std::istringstream is(part);
      for (std::string line; std::getline(is, line);)
        if (!line.empty()) outs.push_back(unpack(line));
    }
    std::sort(outs.begin(), outs.end(),
              [](const Output& a, const Output& b) { return a.example_index < b.example_index; });
    if (outs.size() != examples.size())
      throw Error(fmt::format("{} outputs for {} prompts", outs.size(), examples.size()), "ram generate",
                  "this is a bug in the generate sharding");
    std::vector<std::int64_t> index, rs, chosen;
    std::vector<std::string> prompt_text, output_text;
    std::vector<std::vector<std::int32_t>> ids;
    std::vector<double> lp, plp, ess;
    std::vector<std::uint8_t> finish, truncated;
    std::vector<std::int32_t> prompt_tokens;
    double ess_sum = 0;
    nlohmann::ordered_json records = nlohmann::ordered_json::array();
    const std::string dname = dcfg.get<std::string>("name");
    for (auto& o : outs) {
      const Example& ex = examples[static_cast<std::size_t>(o.example_index)];
      index.push_back(o.example_index);
      prompt_text.push_back(ex.prompt);
      output_text.push_back(o.text);
      ids.emplace_back(o.ids.begin(), o.ids.end());
      lp.push_back(o.logprob);
      plp.push_back(o.proposal_logprob);
      finish.push_back(static_cast<std::uint8_t>(o.finish));
      prompt_tokens.push_back(static_cast<std::int32_t>(o.prompt_tokens));
      truncated.push_back(o.prompt_truncated ? 1 : 0);
      rs.push_back(o.restricted_steps);
      ess.push_back(o.ess);
      chosen.push_back(o.chosen);
      if (!std::isnan(o.ess)) ess_sum += o.ess;
      auto instr = ex.meta.find("instruction");
      auto src = ex.meta.find("dataset");
      records.push_back({{"instruction", instr != ex.meta.end() ? instr->second : ex.prompt},
                         {"output", rstrip(o.text)},
                         {"generator", s.generator},
                         {"dataset", src != ex.meta.end() ? src->second : dname},
                         {"example_index", o.example_index}});
    }
    sum.mean_ess = outs.empty() ? 0.0 : ess_sum / static_cast<double>(outs.size());
    auto w = h5::Writer::create(h5_path.string(), /*parallel=*/false);
    w.write_provenance(command, cfg.yaml());
    w.write_array("examples/index", index);
    w.write_ragged("examples/prompt_text", prompt_text);
    w.write_ragged("examples/output_text", output_text);
    w.write_ragged_ids("examples/output_ids", ids);
    w.write_array("examples/logprob", lp);
    w.write_array("examples/proposal_logprob", plp);
    w.write_array("examples/finish_reason", finish);
    w.write_array("examples/prompt_tokens", prompt_tokens);
    w.write_array("examples/prompt_truncated", truncated);
    w.write_array("examples/restricted_steps", rs);
    w.write_array("examples/ess", ess);
    w.write_array("examples/chosen", chosen);
    const auto& sp = e.sampling;
    const auto& j = e.joint;
    w.set_attr("/", "settings_hash", hash);
    w.set_attr("/", "generator", s.generator);
    w.set_attr("/", "model", fs::absolute(s.model).lexically_normal().string());
    w.set_attr("/", "model_hash", "sha256:" + mhash);
    w.set_attr("/", "proposal", ram_mode ? fs::absolute(s.proposal).lexically_normal().string() : std::string());
    w.set_attr("/", "proposal_hash", ram_mode ? "sha256:" + phash : std::string());
    w.set_attr("/", "tokenizer_fingerprint", tok.fingerprint());
    w.set_attr("/", "dataset", dataset->describe());
    w.set_attr("/", "dataset_fingerprint", dataset->fingerprint());
    w.set_attr("/", "sample_mode", std::string(to_string(j.mode)));
    w.set_attr("/", "decoding", decoder.describe());
    w.set_attr("/", "seed", static_cast<std::int64_t>(sp.seed));
    w.set_attr("/", "greedy", static_cast<std::int64_t>(sp.greedy));
    w.set_attr("/", "temperature", sp.temperature);
    w.set_attr("/", "top_p", sp.top_p);
    w.set_attr("/", "top_k", sp.top_k);
    w.set_attr("/", "repetition_penalty", sp.repetition_penalty);
    w.set_attr("/", "order", sp.order);
    w.set_attr("/", "base_temperature", j.base_temperature);
    w.set_attr("/", "base_top_p", j.base_top_p);
    w.set_attr("/", "base_top_k", j.base_top_k);
    w.set_attr("/", "div_threshold", j.div_threshold);
    w.set_attr("/", "expert_temperature", j.expert_temperature);
    w.set_attr("/", "eos_priority", static_cast<std::int64_t>(j.eos_priority));
    w.set_attr("/", "num_candidates", s.decode.num_candidates);
    w.set_attr("/", "stop", e.stop.stop_strings);
    w.set_attr("/", "max_new_tokens", e.stop.max_new_tokens);
    w.set_attr("/", "max_length", e.stop.max_length);
    w.set_attr("/", "max_prompt_length", e.stop.max_prompt_length);
    w.set_attr("/", "finish_reason_codes", std::vector<std::string>{"eos", "stop_string", "length"});
    w.set_attr("/", "prompts", static_cast<std::int64_t>(outs.size()));
    w.set_attr("/", "generated_tokens", sum.generated_tokens);
    w.set_attr("/", "decode_seconds", decode_seconds);
    w.finalize();
    const fs::path tmp = json_path.string() + ".tmp-" + std::to_string(::getpid());
    {
      std::ofstream f(tmp, std::ios::binary);
      f << records.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
      f.close();
      if (!f) throw FormatError("cannot write outputs.json", tmp.string(), "check free space and permissions");
    }
    fs::rename(tmp, json_path);
  }
  dist::barrier();
  sum.mean_ess = dist::all_reduce(dist::is_root() ? sum.mean_ess : 0.0);
  sum.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return sum;
}

std::string format_summary(const RunSummary& s) {
  if (s.already_complete)
    return fmt::format("generate: {} is already complete (generator \"{}\"); nothing to do",
                       s.out_dir, s.generator);
  std::string text = fmt::format(
      "generate: {} prompts → {}/outputs.h5 + outputs.json (generator \"{}\"); {} tokens in "
      "{:.2f} s, {:.1f} tokens/s",
      s.prompts, s.out_dir, s.generator, s.generated_tokens, s.seconds,
      s.seconds > 0 ? static_cast<double>(s.generated_tokens) / s.seconds : 0.0);
  if (s.joint_steps > 0)
    text += fmt::format("\n  restricted aligner branch: {} of {} steps ({:.1f}%)", s.restricted_steps,
                        s.joint_steps, 100.0 * static_cast<double>(s.restricted_steps) / static_cast<double>(s.joint_steps));
  if (s.mean_ess > 0) text += fmt::format("\n  resample: mean effective sample size {:.3f}", s.mean_ess);
  return text;
}

}  // namespace ram::generate
