// `ram pipeline EXPERIMENT [key=value ...]` — run the experiment's stages in order
// (pipeline/pipeline.hpp): sample → train → generate → eval, each under runs/<experiment>/,
// skipping complete stages and resuming incomplete ones; ends with a summary table.
#include "apps/verbs.hpp"
#include "dist/dist.hpp"
#include "pipeline/pipeline.hpp"

RAM_VERB(pipeline) {
  auto* cmd = app.add_subcommand("pipeline", "run an experiment's stages (sample, train, generate, eval) in order");
  auto words = std::make_shared<std::vector<std::string>>();
  auto config_dir = std::make_shared<std::string>();
  cmd->add_option("words", *words, "EXPERIMENT and key=value overrides (applied to every stage)");
  cmd->add_option("--config-dir", *config_dir, "directory holding config.yaml");
  cmd->callback([words, config_dir] {
    auto opts = ram::config::options_from_args(*words);
    opts.config_dir = *config_dir;
    auto reports = ram::pipeline::run(opts, ram::apps::command_line());
    if (ram::dist::is_root()) ram::log::info("pipeline summary:\n{}", ram::pipeline::format_table(reports));
  });
}
