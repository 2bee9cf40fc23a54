// config/compose.hpp — Hydra-like composition of YAML files into one resolved ConfigNode tree.
//
// Order (later wins; maps merge deeply, sequences and scalars replace):
//   1. <config_dir>/config.yaml is the primary file. Its `defaults:` list names group files:
//      `- dataset: jsonl` loads <config_dir>/dataset/jsonl.yaml into key `dataset`;
//      `- _self_` is where the primary file's own keys go (default: last, so they win);
//      `- group: null` leaves the group out; `- group@key: name` loads
//      <config_dir>/group/<name>.yaml into `key` instead (Hydra's package syntax: one group
//      of model files serves `model` and `proposal`); that entry is then named by `key`
//      (`- override /model@proposal: qwen14b`, or `proposal=qwen14b` on the command line).
//   2. The experiment (`<config_dir>/experiment/<name>.yaml`, or a path to a .yaml file):
//      its own `defaults:` switch groups (`- override /loss: ram_sft` or `- loss: ram_sft`),
//      then its keys override. Strict: each key must exist in the composed base; a key
//      written `+key:` adds a new one.
//   3. Command-line overrides, in order: `a.b=v` sets an existing key (v is a YAML scalar or
//      flow collection, e.g. [1,2]); `group=name` switches a defaults group; `+a.b=v` adds a
//      key that must not exist; `++a.b=v` sets or adds; `~a.b` deletes a key or a group.
//   4. Interpolation, after all merging: `${env:NAME}`, `${env:NAME,default}` and `${a.b}`
//      (another key; cycles are errors). A scalar that is exactly one `${a.b}` takes that
//      node (its kind, or a whole subtree); text around an interpolation makes a string.
//
// Strictness: an unknown key names its source (file:line or "command line") and the nearest
// existing key; a value of another kind than the base value is an error (an int may replace
// a float; a base null or ??? accepts anything; a base string accepts any scalar as text;
// null may unset any scalar or sequence). Every node keeps the file:line it came from.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ram/config.hpp"

namespace ram::config {

struct ComposeOptions {
  std::string config_dir;              // holds config.yaml; empty: default_config_dir()
  std::string experiment;              // name under experiment/, a .yaml path, or empty
  std::vector<std::string> overrides;  // key=value, group=name, +key=value, ~key
};

struct Resolved {
  std::shared_ptr<ConfigNode> root;
  std::shared_ptr<ConfigUsage> usage;
  std::vector<std::string> sources;  // files merged, in order, then "command line" if any
  ConfigView view() const;           // the strict view over root, recording into usage
  std::string yaml() const;          // root as YAML (what outputs store); marks nothing
};

Resolved compose(const ComposeOptions& options);

// One YAML file as a tree (no defaults processing, no interpolation).
Resolved load_file(const std::string& path);

// Parses YAML text; `file` names it in locations. Throws ConfigError on a syntax error.
std::shared_ptr<ConfigNode> parse_yaml(const std::string& text, const std::string& file);

// Where configs live: $RAM_CONFIG_DIR; else <exe dir>/../share/ram/configs if it exists;
// else the source tree's configs/ (the build-time path, or found by walking up from the
// executable to a folder holding configs/config.yaml). Throws ConfigError if none exists.
std::string default_config_dir();

// Splits "EXPERIMENT key=value ..." command-line words: the first word that is not an
// override (no '=', no leading '~' or '+') is the experiment; more than one is an error.
ComposeOptions options_from_args(const std::vector<std::string>& args);

}  // namespace ram::config
