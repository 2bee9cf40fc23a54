// `ram config [EXPERIMENT] [key=value ...] [--config-dir DIR]` — prints the resolved config.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "apps/verbs.hpp"
#include "config/compose.hpp"
#include "dist/dist.hpp"

namespace {

struct ConfigArgs {
  std::vector<std::string> words;
  std::string config_dir;
};

void run_config(const ConfigArgs& args) {
  ram::config::ComposeOptions options = ram::config::options_from_args(args.words);
  options.config_dir = args.config_dir;
  ram::config::Resolved resolved = ram::config::compose(options);
  if (!ram::dist::is_root()) return;
  std::string text;
  for (auto& s : resolved.sources) text += "# from: " + s + "\n";
  text += resolved.yaml();
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

}  // namespace

RAM_VERB(config) {
  auto args = std::make_shared<ConfigArgs>();
  CLI::App* cmd = app.add_subcommand(
      "config", "print the resolved configuration (defaults + experiment + key=value overrides)");
  cmd->add_option("args", args->words,
                  "EXPERIMENT (a name under configs/experiment/ or a .yaml path), then "
                  "key=value, group=name, +key=value, ~key");
  cmd->add_option("--config-dir", args->config_dir,
                  "folder holding config.yaml (default: $RAM_CONFIG_DIR, the installed or "
                  "source configs/)");
  cmd->callback([args] { run_config(*args); });
}
