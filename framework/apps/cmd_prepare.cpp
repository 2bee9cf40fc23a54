// `ram prepare [EXPERIMENT] [key=value ...]` — a dataset plugin's examples → one HDF5 file,
// written collectively by all ranks (data/prepare.hpp). Run under mpirun for several ranks.
#include "apps/verbs.hpp"
#include "config/compose.hpp"
#include "data/prepare.hpp"
#include "log/log.hpp"

RAM_VERB(prepare) {
  auto* cmd = app.add_subcommand("prepare", "write a dataset's examples into one HDF5 file (synth.h5 layout)");
  static std::vector<std::string> words;
  static std::string config_dir;
  cmd->add_option("words", words, "EXPERIMENT and key=value overrides");
  cmd->add_option("--config-dir", config_dir, "directory holding config.yaml");
  cmd->callback([] {
    auto opts = ram::config::options_from_args(words);
    opts.config_dir = config_dir;
    auto cfg = ram::config::compose(opts);
    ram::log::info("resolved config:\n{}", cfg.yaml());
    auto s = ram::data::prepare(cfg, ram::apps::command_line());
    ram::log::info("prepare: {} examples ({} skipped) → {} in {:.2f} s", s.examples, s.skipped, s.out,
                   s.seconds);
  });
}
