// `ram generate` — continue prompts with an HF model, alone or RAM-decoded with a proposal
// (issue 6; DESIGN §6; docs/generate.md). Two routes:
//
// Flags (outside checks drive this one):
//   ram generate --model ALIGNER_DIR [--proposal PROPOSAL_DIR --sample-mode par|par_kl|mds|resample]
//     --input FILE.jsonl [--output FILE] [--greedy] [--max-new-tokens N] [--temperature T]
//     [--top-p P] [--top-k K] [--repetition-penalty R] [--base-temperature T] [--base-top-p P]
//     [--base-top-k K] [--div-threshold D] [--expert-temperature T] [--eos-priority]
//     [--num-candidates N] [--seed S]   (+ --batch-size, --dtype, --stop)
//   Input lines: {"prompt_ids": [...]} or {"prompt": "..."} (encoded with add_special_tokens
//   = true). Output, one line per input line, in order: {"ids": [new ids], "text": decoded
//   with skip_special_tokens = true, or null without a tokenizer}; RAM modes add "logprob"
//   (aligner) and "proposal_logprob"; resample adds "ess", "chosen" and "weights".
//   Without --proposal it is plain single-model generation. The aligner-side chain runs in
//   FastChat's order (temperature → repetition_penalty → top_p → top_k); the flags default
//   to neutral values (temperature 1, top_p 1, top_k off, penalty 1), so `--greedy` is the
//   plain arg-max of the model (or of the warped logits); the config route carries the
//   original's defaults. Greedy when --greedy or temperature < 1e-5. Each row stops at
//   its first EOS (kept in "ids"), at a --stop string (cut from the text) or after N new
//   tokens. Prompts are sharded over mpirun's ranks with dynamic balancing, each seeded by
//   its line number; rank 0 writes the lines in input order.
//
// Config: `ram generate [EXPERIMENT] [key=value ...]` — the `generate:` node of
//   configs/config.yaml over the dataset's prompts → outputs.h5 + outputs.json (AlpacaEval)
//   in generate.out (generate/generate_run.hpp).
#include <c10/core/InferenceMode.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>

#include "apps/inference_io.hpp"
#include "apps/verbs.hpp"
#include "generate/decoder.hpp"
#include "generate/generate_run.hpp"
#include "log/log.hpp"
#include "pipeline/pipeline.hpp"
#include "ram/model.hpp"

namespace {

// `ram pipeline`'s generate stage: the config route.
const bool generate_stage_registered = (ram::pipeline::register_stage_verb(
    "generate",
    [](const ram::config::Resolved& cfg, const std::string& command) {
      auto s = ram::generate::run_config(cfg, command);
      ram::log::info("{}", ram::generate::format_summary(s));
      std::string figures = fmt::format("{} prompts, {} tokens, generator {}", s.prompts,
                                        s.generated_tokens, s.generator);
      if (s.joint_steps > 0)
        figures += fmt::format(", aligner branch {:.1f}%",
                               100.0 * static_cast<double>(s.restricted_steps) /
                                   static_cast<double>(s.joint_steps));
      if (s.mean_ess > 0) figures += fmt::format(", mean ESS {:.2f}", s.mean_ess);
      return ram::pipeline::StageOutcome{s.already_complete, figures};
    }),
    true);

struct Flags {
  std::string model_dir, proposal_dir, mode, input, output, dtype = "f32";
  std::int64_t batch_size = 8, max_new = 64, top_k = 0, base_top_k = 0, num_candidates = 4;
  double temperature = 1.0, top_p = 1.0, repetition_penalty = 1.0;
  double base_temperature = 1.0, base_top_p = 0.95, div_threshold = 0.1, expert_temperature = 1.0;
  bool greedy = false, eos_priority = false;
  std::uint64_t seed = 0;
  std::vector<std::string> stop;
  std::vector<std::string> words;
  std::string config_dir;
};

std::string fingerprint_of(const std::string& dir) {
  if (!std::filesystem::is_regular_file(std::filesystem::path(dir) / "tokenizer.json")) return "";
  return ram::tok::Tokenizer::from_dir(dir).fingerprint();
}

void run_flags(const Flags& f) {
  using namespace ram::generate;
  if (f.input.empty())
    throw ram::ConfigError("--input is required with --model", "ram generate",
                           "pass --input FILE.jsonl ({\"prompt_ids\"} or {\"prompt\"} per line)");
  c10::InferenceMode guard;
  ram::model::check_dtype(f.dtype, "--dtype");
  const bool ram_mode = !f.proposal_dir.empty();
  if (ram_mode != !f.mode.empty())
    throw ram::ConfigError(ram_mode ? "--proposal needs --sample-mode" : "--sample-mode needs --proposal",
                           "ram generate", "give both (par | par_kl | mds | resample), or neither for plain generation");
  auto model = ram::model::load_model(f.model_dir, f.dtype);
  std::shared_ptr<ram::CausalLM> proposal;
  ram::apps::LazyTokenizer tok(f.model_dir);
  DecodeSettings s;
  s.engine.batch_size = f.batch_size;
  s.engine.vocab = model->vocab_size();
  if (ram_mode) {
    s.engine.joint.mode = parse_joint_mode(f.mode);
    // The tokenizers first: a mismatch is reported before the proposal's weights load.
    const std::string afp = fingerprint_of(f.model_dir), pfp = fingerprint_of(f.proposal_dir);
    proposal = ram::model::load_model(f.proposal_dir, f.dtype);
    s.engine.vocab = joint_vocab(model->vocab_size(), proposal->vocab_size(), f.model_dir,
                                 f.proposal_dir, afp, pfp,
                                 tok.available() ? tok.get().vocab_size() : std::int64_t{-1});
  }
  auto lines = read_requests(f.input, false, s.engine.vocab, tok.encoder());
  auto gen = ram::model::read_generation_info(f.model_dir);
  s.engine.stop.eos_ids = gen.eos_ids;
  if (ram_mode)
    for (auto id : ram::model::read_generation_info(f.proposal_dir).eos_ids)
      if (std::find(s.engine.stop.eos_ids.begin(), s.engine.stop.eos_ids.end(), id) ==
          s.engine.stop.eos_ids.end())
        s.engine.stop.eos_ids.push_back(id);
  std::int64_t longest = 1;
  for (const auto& l : lines) longest = std::max<std::int64_t>(longest, static_cast<std::int64_t>(l.prompt.size()));
  s.engine.stop.max_new_tokens = f.max_new;
  s.engine.stop.max_prompt_length = longest;  // no truncation on this route
  s.engine.stop.max_length = longest + f.max_new;
  s.engine.stop.stop_strings = f.stop;
  auto& sp = s.engine.sampling;
  sp.greedy = f.greedy || f.temperature < 1e-5;
  sp.temperature = sp.greedy ? 1.0 : f.temperature;
  sp.top_p = f.top_p;
  sp.top_k = f.top_k;
  sp.repetition_penalty = f.repetition_penalty;
  sp.order = generate_order();
  sp.seed = f.seed;
  auto& j = s.engine.joint;
  j.base_temperature = f.base_temperature;
  j.base_top_p = f.base_top_p;
  j.base_top_k = f.base_top_k;
  j.div_threshold = f.div_threshold;
  j.expert_temperature = f.expert_temperature;
  j.eos_priority = f.eos_priority;
  s.num_candidates = f.num_candidates;
  const bool has_tok = tok.available();
  const ram::tok::Tokenizer* tk = has_tok ? &tok.get() : nullptr;
  Decoder decoder(*model, proposal.get(), tk, s);
  ram::log::info("generate: {} prompts on {} rank(s), ≤ {} new tokens, model {} ({}){}; {}", lines.size(),
                 ram::dist::size(), f.max_new, model->describe(), f.dtype,
                 ram_mode ? ", proposal " + proposal->describe() : std::string(), decoder.describe());
  std::vector<Request> requests;
  for (std::size_t i = 0; i < lines.size(); ++i)
    requests.push_back({static_cast<std::int64_t>(i), 0, lines[i].prompt});
  std::vector<std::pair<std::size_t, std::string>> results;
  double ess_sum = 0, ess_min = INFINITY;
  std::int64_t n_ess = 0;
  run_sharded(decoder, requests, f.batch_size, [&](Output&& o) {
    nlohmann::ordered_json jl = {{"ids", o.ids}};
    jl["text"] = has_tok ? nlohmann::ordered_json(o.text) : nlohmann::ordered_json();
    if (ram_mode) {
      jl["logprob"] = o.logprob;
      jl["proposal_logprob"] = o.proposal_logprob;
    }
    if (s.engine.joint.mode == JointMode::resample) {
      jl["ess"] = o.ess;
      jl["chosen"] = o.chosen;
      jl["weights"] = o.weights;
      ess_sum += o.ess;
      ess_min = std::min(ess_min, o.ess);
      ++n_ess;
    }
    results.emplace_back(static_cast<std::size_t>(o.example_index),
                         jl.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
  });
  const auto& st = decoder.stats();
  if (s.engine.joint.mode == JointMode::par_kl && st.joint_steps > 0)
    ram::log::info("par_kl: {} of {} steps on this rank took the restricted aligner branch ({:.1f}%)",
                   st.restricted_steps, st.joint_steps, 100.0 * st.restricted_steps / st.joint_steps);
  if (s.engine.joint.mode == JointMode::resample) {
    double v[2] = {ess_sum, static_cast<double>(n_ess)};
    ram::dist::all_reduce(v, 2);
    ram::log::info("resample: effective sample size (1/Σw²) mean {:.3f} over {} prompts (N = {}); "
                   "per prompt in the output's \"ess\"",
                   v[1] > 0 ? v[0] / v[1] : 0.0, static_cast<std::int64_t>(v[1]), f.num_candidates);
  }
  ram::apps::write_in_order(std::move(results), f.output);
}

}  // namespace

RAM_VERB(generate) {
  auto* cmd = app.add_subcommand(
      "generate",
      "continue prompts with an HF model, alone or RAM-decoded with a proposal (flags: "
      "--model ... --input; or the config route: [EXPERIMENT] [key=value ...])");
  static Flags f;
  cmd->add_option("words", f.words, "config route: EXPERIMENT and key=value overrides");
  cmd->add_option("--config-dir", f.config_dir, "config route: directory holding config.yaml");
  cmd->add_option("--model", f.model_dir, "the (aligner) HF model directory");
  cmd->add_option("--proposal", f.proposal_dir, "RAM decoding: the proposal's HF model directory");
  cmd->add_option("--sample-mode", f.mode, "RAM decoding: par | par_kl | mds | resample");
  cmd->add_option("--input", f.input, "JSONL: {\"prompt_ids\"} or {\"prompt\"} per line; - reads stdin");
  cmd->add_option("--output", f.output, "JSONL output (default: stdout)");
  cmd->add_flag("--greedy", f.greedy, "arg-max decoding (resample: the arg-max weight)");
  cmd->add_option("--max-new-tokens", f.max_new, "new tokens per prompt at most")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--temperature", f.temperature, "the aligner's temperature (< 1e-5: greedy)")->capture_default_str();
  cmd->add_option("--top-p", f.top_p, "the aligner's top-p (1: off)")->capture_default_str();
  cmd->add_option("--top-k", f.top_k, "the aligner's top-k (0: off)")->capture_default_str();
  cmd->add_option("--repetition-penalty", f.repetition_penalty, "HF repetition penalty (1: off)")
      ->capture_default_str();
  cmd->add_option("--base-temperature", f.base_temperature, "the proposal's temperature")->capture_default_str();
  cmd->add_option("--base-top-p", f.base_top_p, "the proposal's nucleus mass")->capture_default_str();
  cmd->add_option("--base-top-k", f.base_top_k, "the proposal's top-k (0: off)")->capture_default_str();
  cmd->add_option("--div-threshold", f.div_threshold, "par_kl: KL bound of the aligner branch")
      ->capture_default_str();
  cmd->add_option("--expert-temperature", f.expert_temperature,
                  "mds: the aligner's temperature in the product; resample: weight temperature")
      ->capture_default_str();
  cmd->add_flag("--eos-priority", f.eos_priority, "mds / par_kl: emit EOS when the proposal's arg-max is EOS");
  cmd->add_option("--num-candidates", f.num_candidates, "resample: proposal samples per prompt")
      ->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--seed", f.seed, "run seed (draws depend on seed, line number, step)")->capture_default_str();
  cmd->add_option("--stop", f.stop, "stop string (repeatable), cut from the text");
  cmd->add_option("--dtype", f.dtype, "f32 | bf16 (compute dtype)")->capture_default_str();
  cmd->add_option("--batch-size", f.batch_size, "prompts decoded together")->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->callback([] {
    if (f.model_dir.empty()) {
      auto opts = ram::config::options_from_args(f.words);
      opts.config_dir = f.config_dir;
      auto cfg = ram::config::compose(opts);
      ram::log::info("resolved config:\n{}", cfg.yaml());
      auto sum = ram::generate::run_config(cfg, ram::apps::command_line());
      ram::log::info("{}", ram::generate::format_summary(sum));
      return;
    }
    if (!f.words.empty())
      throw ram::ConfigError("config words (" + f.words.front() + " ...) together with --model",
                             "ram generate", "use either the flags (--model ... --input ...) or the config route");
    run_flags(f);
  });
}
