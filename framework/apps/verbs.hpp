// apps/verbs.hpp — how a verb joins the CLI. Each cmd_<verb>.cpp defines one
// `RAM_VERB(name)` function that adds its CLI11 subcommand and callback; main.cpp calls
// every registered one. Verbs are thin: parse, call the runtime, print.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "config/compose.hpp"
#include "log/log.hpp"

namespace ram::apps {

using VerbSetup = void (*)(CLI::App& app);

// The command line as typed ("ram prepare smoke lr=1"), for provenance attributes.
inline std::string& command_line() {
  static std::string s;
  return s;
}

struct VerbRegistry {
  static std::vector<std::pair<std::string, VerbSetup>>& all() {
    static std::vector<std::pair<std::string, VerbSetup>> v;
    return v;
  }
  VerbRegistry(const char* name, VerbSetup setup) { all().emplace_back(name, setup); }
};

// A verb driven by the composed configuration: `ram <name> [EXPERIMENT] [key=value ...]
// [--config-dir DIR]`. Composes, logs the resolved YAML, then calls run(config).
template <class Run>
void add_config_verb(CLI::App& app, const char* name, const char* help, Run run) {
  auto* cmd = app.add_subcommand(name, help);
  auto words = std::make_shared<std::vector<std::string>>();
  auto config_dir = std::make_shared<std::string>();
  cmd->add_option("words", *words, "EXPERIMENT and key=value overrides");
  cmd->add_option("--config-dir", *config_dir, "directory holding config.yaml");
  cmd->callback([words, config_dir, run] {
    auto opts = config::options_from_args(*words);
    opts.config_dir = *config_dir;
    auto cfg = config::compose(opts);
    log::info("resolved config:\n{}", cfg.yaml());
    run(cfg);
  });
}

}  // namespace ram::apps

#define RAM_VERB(NAME)                                                                 \
  static void ram_verb_setup_##NAME(CLI::App& app);                                    \
  static ::ram::apps::VerbRegistry ram_verb_registry_##NAME(#NAME, &ram_verb_setup_##NAME); \
  static void ram_verb_setup_##NAME(CLI::App& app)
