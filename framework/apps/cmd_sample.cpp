// `ram sample [EXPERIMENT] [key=value ...]` — proposal samples for every prompt of the
// dataset into one synth.h5 (sample/sample.hpp), sharded over the ranks of mpirun with
// dynamic balancing; a killed run resumes from its part files when rerun.
#include "apps/verbs.hpp"
#include "config/compose.hpp"
#include "log/log.hpp"
#include "sample/sample.hpp"

RAM_VERB(sample) {
  auto* cmd = app.add_subcommand("sample", "sample the proposal model on every prompt into synth.h5 (resumable)");
  static std::vector<std::string> words;
  static std::string config_dir;
  cmd->add_option("words", words, "EXPERIMENT and key=value overrides");
  cmd->add_option("--config-dir", config_dir, "directory holding config.yaml");
  cmd->callback([] {
    auto opts = ram::config::options_from_args(words);
    opts.config_dir = config_dir;
    auto cfg = ram::config::compose(opts);
    ram::log::info("resolved config:\n{}", cfg.yaml());
    auto s = ram::sample::run(cfg, ram::apps::command_line());
    ram::log::info("{}", ram::sample::format_summary(s));
  });
}
