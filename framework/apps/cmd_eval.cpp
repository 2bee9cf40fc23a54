// `ram eval [EXPERIMENT] [key=value ...] [--outputs FILE] [--compare BASELINE] [--out FILE]
// [--config-dir DIR]` — runs the judges of `eval.judges` over an outputs file (AlpacaEval
// records) against the examples of the `dataset:` node and writes metrics.json
// (eval/eval.hpp). The flags are shorthands for eval.outputs= / eval.compare= / eval.out=.
// Example: ram eval dataset=demo dataset.split=test --outputs runs/demo/gen/outputs.json
// As a pipeline stage (`eval`) it always runs (it takes seconds); its figures are the primary
// score and, with eval.compare, the win rate.
#include <fmt/format.h>

#include "apps/verbs.hpp"
#include "eval/eval.hpp"
#include "pipeline/pipeline.hpp"

namespace {

const bool eval_stage_registered = (ram::pipeline::register_stage_verb(
    "eval",
    [](const ram::config::Resolved& cfg, const std::string&) {
      auto s = ram::eval::run(cfg);
      std::string figures = fmt::format("{} outputs, primary {:.3f}", s.n, s.primary_mean);
      if (s.compare)
        figures += fmt::format(", win rate {:.3f} ({}/{}/{})",
                               static_cast<double>(s.compare->wins) / static_cast<double>(s.compare->n()),
                               s.compare->wins, s.compare->ties, s.compare->losses);
      return ram::pipeline::StageOutcome{false, figures};
    }),
    true);

// key='value' as a YAML single-quoted scalar (a path is never reinterpreted).
std::string quoted_override(const std::string& key, const std::string& value) {
  std::string q;
  for (char c : value) q += c == '\'' ? std::string("''") : std::string(1, c);
  return key + "='" + q + "'";
}

}  // namespace

RAM_VERB(eval) {
  auto* cmd = app.add_subcommand("eval", "judge generated outputs (AlpacaEval records) → metrics.json");
  static std::vector<std::string> words;
  static std::string config_dir, outputs, compare, out;
  cmd->add_option("words", words, "EXPERIMENT and key=value overrides");
  cmd->add_option("--config-dir", config_dir, "directory holding config.yaml");
  cmd->add_option("--outputs", outputs, "the outputs file to judge (sets eval.outputs)");
  cmd->add_option("--compare", compare, "a baseline outputs file: win rate against it (sets eval.compare)");
  cmd->add_option("--out", out, "metrics.json to write (sets eval.out)");
  cmd->callback([] {
    auto opts = ram::config::options_from_args(words);
    opts.config_dir = config_dir;
    if (!outputs.empty()) opts.overrides.push_back(quoted_override("eval.outputs", outputs));
    if (!compare.empty()) opts.overrides.push_back(quoted_override("eval.compare", compare));
    if (!out.empty()) opts.overrides.push_back(quoted_override("eval.out", out));
    auto cfg = ram::config::compose(opts);
    ram::log::info("resolved config:\n{}", cfg.yaml());
    ram::eval::run(cfg);
  });
}
