// ram/config.hpp — the resolved configuration tree and the strict view plugins read it through.
//
// The runtime composes YAML files (defaults list, experiment, key=value overrides) into one
// tree of ConfigNode, each node remembering the file:line it came from. Components read
// their part through a ConfigView, which records every key it was asked for. finish()
// then reports the keys that nobody read — typos, or options that do not exist — with
// their file:line and the nearest valid key. Values never change type silently: get<int64_t>
// on "abc" is an error naming the key and the file.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace ram {

struct SourceLoc {
  std::string file;  // empty: set on the command line or built in code
  int line = 0;
  std::string str() const;  // "configs/x.yaml:12", "command line", "<code>"
};

// One node of the configuration tree. Maps keep their insertion order.
struct ConfigNode {
  enum class Type { null, scalar, sequence, map };
  Type type = Type::null;
  std::string scalar;    // for scalars: the text as written
  bool quoted = false;   // a quoted scalar is always a string
  std::vector<std::pair<std::string, std::shared_ptr<ConfigNode>>> map;
  std::vector<std::shared_ptr<ConfigNode>> seq;
  SourceLoc loc;

  // The value marking a required key that must be set before use (Hydra's "???").
  static constexpr const char* kRequired = "???";

  const std::shared_ptr<ConfigNode>* find(const std::string& key) const;
  std::shared_ptr<ConfigNode> deep_copy() const;
  bool is_required_marker() const { return type == Type::scalar && !quoted && scalar == kRequired; }
  // Kind of a scalar as YAML would read it: "null", "bool", "int", "float", "string".
  std::string scalar_kind() const;
};

// Records, per tree, which dotted keys were asked for (present or not).
class ConfigUsage {
 public:
  void mark(const std::string& dotted) { asked_.insert(dotted); }
  bool asked(const std::string& dotted) const { return asked_.count(dotted) != 0; }
  const std::set<std::string>& all() const { return asked_; }

 private:
  std::set<std::string> asked_;
};

class ConfigView {
 public:
  ConfigView();  // an empty map (every get<T>(key, fallback) returns the fallback)
  ConfigView(std::shared_ptr<const ConfigNode> node, std::string path = {},
             std::shared_ptr<ConfigUsage> usage = nullptr);

  // Required value: missing, "???" or the wrong type is a ConfigError.
  template <class T> T get(const std::string& key) const;
  // Optional value: the fallback when the key is absent or null; wrong type is an error.
  template <class T> T get(const std::string& key, const T& fallback) const;
  bool has(const std::string& key) const;  // present and not null
  ConfigView child(const std::string& key) const;  // missing child → empty view
  std::vector<std::string> keys() const;           // keys of this map, in order
  std::string path() const { return path_; }       // dotted path of this view ("" = root)
  std::string dotted(const std::string& key) const;  // path + "." + key
  SourceLoc where(const std::string& key = {}) const;
  const ConfigNode& node() const { return *node_; }
  std::shared_ptr<const ConfigNode> node_ptr() const { return node_; }

  // Throws ConfigError naming every key under this view that no one asked for, with
  // file:line and the nearest key that was asked for ("did you mean ...?").
  void finish() const;

  // The subtree as YAML text (for provenance and printing).
  std::string to_yaml() const;

 private:
  const ConfigNode* lookup(const std::string& key) const;
  std::shared_ptr<const ConfigNode> node_;
  std::string path_;
  std::shared_ptr<ConfigUsage> usage_;
};

// Value access is defined for: std::string, bool, int, int64_t, double, float,
// std::vector<std::string>, std::vector<int64_t>, std::vector<double>.
#define RAM_CONFIG_GETTERS(T)                                                   \
  template <> T ConfigView::get<T>(const std::string& key) const;               \
  template <> T ConfigView::get<T>(const std::string& key, const T& fallback) const;
RAM_CONFIG_GETTERS(std::string)
RAM_CONFIG_GETTERS(bool)
RAM_CONFIG_GETTERS(int)
RAM_CONFIG_GETTERS(std::int64_t)
RAM_CONFIG_GETTERS(double)
RAM_CONFIG_GETTERS(float)
RAM_CONFIG_GETTERS(std::vector<std::string>)
RAM_CONFIG_GETTERS(std::vector<std::int64_t>)
RAM_CONFIG_GETTERS(std::vector<double>)
#undef RAM_CONFIG_GETTERS

// Levenshtein distance, and the candidate nearest to `key` (empty when none is close).
std::size_t edit_distance(const std::string& a, const std::string& b);
std::string nearest(const std::string& key, const std::vector<std::string>& candidates);

}  // namespace ram
