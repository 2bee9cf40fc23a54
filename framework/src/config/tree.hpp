// config/tree.hpp — internal helpers of composition over ConfigNode trees: path lookup,
// key listing for suggestions, strict and loose merges, kind checks, interpolation.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ram/config.hpp"

namespace ram::config::detail {

using NodePtr = std::shared_ptr<ConfigNode>;

NodePtr make_map(const SourceLoc& loc);
std::vector<std::string> split_path(const std::string& dotted);
std::string join(const std::string& a, const std::string& b);

// The mutable slot holding `key` in a map node, or nullptr.
NodePtr* find_slot(ConfigNode& map, const std::string& key);
// The node at a dotted path, or nullptr.
NodePtr find_path(const NodePtr& root, const std::string& dotted);
// Every dotted key in the tree (maps and leaves), for "did you mean".
std::vector<std::string> all_keys(const ConfigNode& root);
// " ; did you mean 'x'?" or "" when nothing is close.
std::string suggest(const std::string& key, const std::vector<std::string>& candidates);

// Base layers: src's keys replace dst's, maps merge, no checks.
void merge_loose(ConfigNode& dst, const ConfigNode& src);
// Experiment layer: every key of src must exist in dst (a key written "+k" adds k); kinds
// must agree (see compose.hpp). `root` is the whole tree, for suggestions.
void merge_strict(ConfigNode& dst, const ConfigNode& src, const std::string& path,
                  const ConfigNode& root);
// Throws ConfigError when `value` may not replace `base` at `dotted`.
void check_kind(const ConfigNode& base, const ConfigNode& value, const std::string& dotted);
// Sets every node's location in the tree.
void set_loc(ConfigNode& n, const SourceLoc& loc);

// Resolves ${env:..} and ${key} in every scalar of root, in place.
void interpolate(const NodePtr& root);

}  // namespace ram::config::detail
