#include "config/tree.hpp"

#include "ram/error.hpp"

namespace ram::config::detail {

NodePtr make_map(const SourceLoc& loc) {
  auto n = std::make_shared<ConfigNode>();
  n->type = ConfigNode::Type::map;
  n->loc = loc;
  return n;
}

std::vector<std::string> split_path(const std::string& dotted) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = dotted.find('.', start);
    parts.push_back(dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return parts;
}

std::string join(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return a + "." + b;
}

NodePtr* find_slot(ConfigNode& map, const std::string& key) {
  if (map.type != ConfigNode::Type::map) return nullptr;
  for (auto& kv : map.map)
    if (kv.first == key) return &kv.second;
  return nullptr;
}

NodePtr find_path(const NodePtr& root, const std::string& dotted) {
  NodePtr cur = root;
  for (auto& part : split_path(dotted)) {
    auto* p = cur ? cur->find(part) : nullptr;
    if (!p) return nullptr;
    cur = *p;
  }
  return cur;
}

namespace {
void collect_keys(const ConfigNode& n, const std::string& path, std::vector<std::string>& out) {
  for (auto& [k, v] : n.map) {
    std::string d = join(path, k);
    out.push_back(d);
    if (v) collect_keys(*v, d, out);
  }
}
}  // namespace

std::vector<std::string> all_keys(const ConfigNode& root) {
  std::vector<std::string> out;
  collect_keys(root, "", out);
  return out;
}

std::string suggest(const std::string& key, const std::vector<std::string>& candidates) {
  std::string near = nearest(key, candidates);
  return near.empty() ? std::string() : "did you mean '" + near + "'?";
}

void merge_loose(ConfigNode& dst, const ConfigNode& src) {
  for (auto& [k, v] : src.map) {
    auto* existing = find_slot(dst, k);
    if (existing && *existing && v && (*existing)->type == ConfigNode::Type::map &&
        v->type == ConfigNode::Type::map) {
      merge_loose(**existing, *v);
    } else if (existing) {
      *existing = v ? v->deep_copy() : nullptr;
    } else {
      dst.map.emplace_back(k, v ? v->deep_copy() : nullptr);
    }
  }
}

void set_loc(ConfigNode& n, const SourceLoc& loc) {
  n.loc = loc;
  for (auto& kv : n.map)
    if (kv.second) set_loc(*kv.second, loc);
  for (auto& s : n.seq)
    if (s) set_loc(*s, loc);
}

namespace {

bool is_null(const ConfigNode& n) { return n.scalar_kind() == "null"; }

bool has_interpolation(const ConfigNode& n) {
  return n.type == ConfigNode::Type::scalar && n.scalar.find("${") != std::string::npos;
}

std::string describe(const ConfigNode& n) {
  std::string k = n.scalar_kind();
  if (n.type == ConfigNode::Type::scalar) k += " '" + n.scalar + "'";
  return k;
}

bool scalar_kinds_agree(const std::string& base, const std::string& value) {
  if (base == "string") return true;  // any scalar reads as text
  if (base == "float") return value == "float" || value == "int";
  return base == value;
}

}  // namespace

void check_kind(const ConfigNode& base, const ConfigNode& value, const std::string& dotted) {
  using T = ConfigNode::Type;
  if (is_null(base) || base.is_required_marker()) return;
  if (value.is_required_marker() || has_interpolation(value)) return;
  bool ok;
  if (is_null(value)) ok = base.type != T::map;
  else if (base.type == T::map) ok = value.type == T::map;
  else if (base.type == T::sequence) ok = value.type == T::sequence;
  else ok = value.type == T::scalar && scalar_kinds_agree(base.scalar_kind(), value.scalar_kind());
  if (ok) return;
  std::string want = base.scalar_kind();
  throw ConfigError("key '" + dotted + "' is " + (want == "int" ? "an " : "a ") + want +
                        " (" + base.loc.str() + "), got " + describe(value),
                    value.loc.str(),
                    base.type == T::map ? "set its keys one by one (" + dotted + ".<key>=...)"
                                        : "give a value of the same kind");
}

void merge_strict(ConfigNode& dst, const ConfigNode& src, const std::string& path,
                  const ConfigNode& root) {
  for (auto& [raw, v] : src.map) {
    bool add = !raw.empty() && raw[0] == '+';
    std::string k = add ? raw.substr(1) : raw;
    std::string d = join(path, k);
    auto* existing = find_slot(dst, k);
    SourceLoc loc = v ? v->loc : src.loc;
    if (add && existing)
      throw ConfigError("key '" + d + "' already exists (" + (*existing ? (*existing)->loc.str() : "") + ")",
                        loc.str(), "write '" + k + ":' without the '+'");
    if (add) {
      dst.map.emplace_back(k, v ? v->deep_copy() : nullptr);
      continue;
    }
    if (!existing) {
      std::string hint = suggest(d, all_keys(root));
      hint += (hint.empty() ? "write '+" : " or write '+") + k + ":' to add a new key";
      throw ConfigError("unknown key '" + d + "'", loc.str(), hint);
    }
    if (!v || !*existing) {
      *existing = v ? v->deep_copy() : nullptr;
      continue;
    }
    check_kind(**existing, *v, d);
    if ((*existing)->type == ConfigNode::Type::map && v->type == ConfigNode::Type::map)
      merge_strict(**existing, *v, d, root);
    else
      *existing = v->deep_copy();
  }
}

}  // namespace ram::config::detail
