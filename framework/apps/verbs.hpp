// apps/verbs.hpp — how a verb joins the CLI. Each cmd_<verb>.cpp defines one
// `RAM_VERB(name)` function that adds its CLI11 subcommand and callback; main.cpp calls
// every registered one. Verbs are thin: parse, call the runtime, print.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

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

}  // namespace ram::apps

#define RAM_VERB(NAME)                                                                 \
  static void ram_verb_setup_##NAME(CLI::App& app);                                    \
  static ::ram::apps::VerbRegistry ram_verb_registry_##NAME(#NAME, &ram_verb_setup_##NAME); \
  static void ram_verb_setup_##NAME(CLI::App& app)
