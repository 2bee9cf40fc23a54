// YAML text → ConfigNode, through yaml-cpp. Every node keeps file:line (1-based); a quoted
// scalar (or one tagged !!str) is marked quoted so it always reads as a string.
#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "config/compose.hpp"
#include "config/tree.hpp"
#include "ram/error.hpp"

namespace ram::config {

namespace {

using detail::NodePtr;

SourceLoc loc_of(const YAML::Node& y, const std::string& file, const SourceLoc& parent) {
  YAML::Mark m = y.Mark();
  if (m.is_null() || m.line < 0) return parent;
  return {file, m.line + 1};
}

NodePtr convert(const YAML::Node& y, const std::string& file, const SourceLoc& parent) {
  auto n = std::make_shared<ConfigNode>();
  n->loc = loc_of(y, file, parent);
  switch (y.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      n->type = ConfigNode::Type::null;
      break;
    case YAML::NodeType::Scalar:
      n->type = ConfigNode::Type::scalar;
      n->scalar = y.Scalar();
      n->quoted = y.Tag() == "!" || y.Tag() == "tag:yaml.org,2002:str";
      break;
    case YAML::NodeType::Sequence:
      n->type = ConfigNode::Type::sequence;
      for (const auto& item : y) n->seq.push_back(convert(item, file, n->loc));
      break;
    case YAML::NodeType::Map:
      n->type = ConfigNode::Type::map;
      for (const auto& kv : y) {
        SourceLoc kloc = loc_of(kv.first, file, n->loc);
        if (!kv.first.IsScalar())
          throw ConfigError("a map key must be a scalar", kloc.str(), "write key: value");
        std::string key = kv.first.Scalar();
        if (n->find(key))
          throw ConfigError("duplicate key '" + key + "'", kloc.str(),
                            "keep one of them (first at " + (*n->find(key))->loc.str() + ")");
        if (key.find('.') != std::string::npos)
          throw ConfigError("key '" + key + "' contains a '.'", kloc.str(),
                            "nest it as a map instead: dots separate levels");
        NodePtr v = convert(kv.second, file, kloc);
        // "key:" with no value, and block maps/sequences (marked at their first item), are
        // located at their key's line.
        if (v->type != ConfigNode::Type::scalar) v->loc = kloc;
        n->map.emplace_back(key, v);
      }
      break;
  }
  return n;
}

}  // namespace

std::shared_ptr<ConfigNode> parse_yaml(const std::string& text, const std::string& file) {
  YAML::Node y;
  try {
    y = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    SourceLoc at{file, e.mark.is_null() ? 0 : e.mark.line + 1};
    throw ConfigError("invalid YAML: " + e.msg, at.str(), "fix the syntax at that line");
  }
  return convert(y, file, SourceLoc{file, 0});
}

Resolved load_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw ConfigError("cannot read config file " + path, path, "check the path");
  std::stringstream ss;
  ss << f.rdbuf();
  NodePtr root = parse_yaml(ss.str(), path);
  if (root->type == ConfigNode::Type::null) root = detail::make_map(SourceLoc{path, 1});
  if (root->type != ConfigNode::Type::map)
    throw ConfigError("a config file must hold a map of keys, found a " + root->scalar_kind(),
                      root->loc.str(), "write key: value lines");
  Resolved r;
  r.root = root;
  r.usage = std::make_shared<ConfigUsage>();
  r.sources.push_back(path);
  return r;
}

ConfigView Resolved::view() const { return ConfigView(root, "", usage); }

std::string Resolved::yaml() const { return ConfigView(root).to_yaml(); }

}  // namespace ram::config
