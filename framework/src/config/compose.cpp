// Composition: defaults list, experiment, command-line overrides, interpolation.
// The semantics are documented in compose.hpp.
#include "config/compose.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "config/tree.hpp"
#include "ram/error.hpp"

namespace ram::config {

namespace {

namespace fs = std::filesystem;
using namespace detail;

const SourceLoc kCommandLine{"command line", 0};

// One entry of a `defaults:` list.
struct DefaultEntry {
  std::string group;  // "a/b" loads <dir>/a/b/<name>.yaml into key a.b
  std::string package;  // `group@package`: the key it loads into instead (dotted); "" = group's
  std::string name;   // empty: the group is disabled (`group: null`)
  bool self = false;  // the `_self_` marker
  bool optional = false;
  bool override_ = false;  // `override /group: name`: the group must already be listed
  SourceLoc loc;
};

std::string group_key(const std::string& group) {
  std::string k = group;
  std::replace(k.begin(), k.end(), '/', '.');
  return k;
}

// The key an entry's file is loaded into: its package, else the group's own key.
std::string target_key(const DefaultEntry& e) { return e.package.empty() ? group_key(e.group) : e.package; }

// Splits "group@package" (Hydra's package syntax: `- model@proposal: llama8b` loads
// <dir>/model/llama8b.yaml into key `proposal`).
void split_package(const std::string& key, DefaultEntry& e, const SourceLoc& loc) {
  std::size_t at = key.find('@');
  e.group = key.substr(0, at);
  if (at == std::string::npos) return;
  e.package = group_key(key.substr(at + 1));
  if (e.group.empty() || e.package.empty() || e.package.find('@') != std::string::npos)
    throw ConfigError("cannot read defaults entry '" + key + "'", loc.str(),
                      "write `- group@key: name`, e.g. `- model@proposal: llama8b`");
}

std::vector<DefaultEntry> parse_defaults(const ConfigNode& list) {
  std::vector<DefaultEntry> out;
  if (list.type == ConfigNode::Type::null) return out;
  if (list.type != ConfigNode::Type::sequence)
    throw ConfigError("defaults must be a list", list.loc.str(),
                      "write `defaults:` followed by `- group: name` lines");
  for (auto& item : list.seq) {
    DefaultEntry e;
    e.loc = item->loc;
    if (item->type == ConfigNode::Type::scalar && item->scalar == "_self_") {
      e.self = true;
    } else if (item->type == ConfigNode::Type::map && item->map.size() == 1) {
      std::string key = item->map[0].first;
      const auto& value = item->map[0].second;
      for (auto [prefix, flag] : {std::pair{"override ", &e.override_}, {"optional ", &e.optional}}) {
        if (key.rfind(prefix, 0) == 0) {
          *flag = true;
          key = key.substr(std::string(prefix).size());
        }
      }
      if (!key.empty() && key[0] == '/') key = key.substr(1);
      split_package(key, e, item->loc);
      if (value && value->scalar_kind() != "null") {
        if (value->type != ConfigNode::Type::scalar)
          throw ConfigError("defaults entry '" + key + "' must name one config", value->loc.str(),
                            "write `- " + key + ": <name>`");
        e.name = value->scalar;
      }
    } else {
      throw ConfigError("unsupported defaults entry", item->loc.str(),
                        "write `- group: name`, `- override /group: name` or `- _self_`");
    }
    out.push_back(e);
  }
  return out;
}

// Removes the `defaults` key of a file's root and returns its entries.
std::vector<DefaultEntry> take_defaults(ConfigNode& root) {
  for (auto it = root.map.begin(); it != root.map.end(); ++it) {
    if (it->first != "defaults") continue;
    auto list = it->second;
    root.map.erase(it);
    return list ? parse_defaults(*list) : std::vector<DefaultEntry>{};
  }
  return {};
}

std::vector<std::string> yaml_names_in(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (auto& f : fs::directory_iterator(dir, ec))
    if (f.path().extension() == ".yaml") names.push_back(f.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::string list_text(const std::vector<std::string>& names) {
  std::string s;
  for (auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s.empty() ? "(none)" : s;
}

// The group file for an entry, or nullptr when it is optional and absent.
NodePtr load_group(const std::string& dir, const DefaultEntry& e, std::vector<std::string>& sources) {
  fs::path path = fs::path(dir) / e.group / (e.name + ".yaml");
  if (!fs::exists(path)) {
    if (e.optional) return nullptr;
    auto names = yaml_names_in(fs::path(dir) / e.group);
    std::string hint = "available in " + (fs::path(dir) / e.group).string() + ": " + list_text(names);
    std::string near = nearest(e.name, names);
    if (!near.empty()) hint += "; did you mean '" + near + "'?";
    throw ConfigError("no config '" + e.name + "' in group '" + e.group + "' (" + path.string() + ")",
                      e.loc.str(), hint);
  }
  Resolved file = load_file(path.string());
  for (auto& inner : take_defaults(*file.root))
    if (!inner.self)
      throw ConfigError("group file " + path.string() + " has its own defaults list",
                        inner.loc.str(), "only configs/config.yaml and experiments may list defaults");
  sources.push_back(path.string());
  return file.root;
}

// Makes (or finds) the map at a dotted path; intermediate keys must be maps or absent.
NodePtr ensure_map(const NodePtr& root, const std::string& dotted, const SourceLoc& loc) {
  NodePtr cur = root;
  std::string walked;
  for (auto& part : split_path(dotted)) {
    walked = join(walked, part);
    auto* slot = find_slot(*cur, part);
    if (!slot) {
      cur->map.emplace_back(part, make_map(loc));
      cur = cur->map.back().second;
    } else {
      if (!*slot || (*slot)->scalar_kind() == "null") *slot = make_map(loc);
      if ((*slot)->type != ConfigNode::Type::map)
        throw ConfigError("key '" + walked + "' is a " + (*slot)->scalar_kind() + ", not a map",
                          loc.str(), "(" + (*slot)->loc.str() + ")");
      cur = *slot;
    }
  }
  return cur;
}

// Groups first, in list order, and the primary file at `_self_` (last when absent); the
// primary file's top-level keys are then listed first, for reading.
NodePtr build_base(const std::string& dir, const NodePtr& primary,
                   const std::vector<DefaultEntry>& entries, std::vector<std::string>& sources) {
  NodePtr root = make_map(primary->loc);
  bool self_done = false;
  for (auto& e : entries) {
    if (e.self) {
      merge_loose(*root, *primary);
      self_done = true;
      continue;
    }
    if (e.name.empty()) continue;
    NodePtr content = load_group(dir, e, sources);
    if (!content) continue;
    std::vector<std::string> parts = split_path(target_key(e));
    std::string leaf = parts.back();
    parts.pop_back();
    std::string parent_path;
    for (auto& p : parts) parent_path = join(parent_path, p);
    NodePtr parent = parent_path.empty() ? root : ensure_map(root, parent_path, e.loc);
    auto* slot = find_slot(*parent, leaf);
    if (slot && *slot && (*slot)->type == ConfigNode::Type::map) merge_loose(**slot, *content);
    else if (slot) *slot = content;
    else parent->map.emplace_back(leaf, content);
  }
  if (!self_done) merge_loose(*root, *primary);
  std::stable_partition(root->map.begin(), root->map.end(),
                        [&](const auto& kv) { return primary->find(kv.first) != nullptr; });
  return root;
}

std::vector<std::string> group_names(const std::vector<DefaultEntry>& entries) {
  std::vector<std::string> out;
  for (auto& e : entries)
    if (!e.self) out.push_back(target_key(e));
  return out;
}

// The entry loading into `key` (a group's own key, or a package).
DefaultEntry* find_group(std::vector<DefaultEntry>& entries, const std::string& key) {
  for (auto& e : entries)
    if (!e.self && target_key(e) == group_key(key)) return &e;
  return nullptr;
}

// Switches (or adds, when `may_add`) the group of `e` in the base list. New groups go
// before the primary file's `_self_`, so the primary's own keys still win.
void switch_group(std::vector<DefaultEntry>& entries, const DefaultEntry& e, bool may_add) {
  if (DefaultEntry* g = find_group(entries, target_key(e))) {
    if (!e.package.empty() && g->group != e.group)
      throw ConfigError("key '" + target_key(e) + "' is loaded from group '" + g->group + "', not '" +
                            e.group + "'",
                        e.loc.str(), "write `" + g->group + "@" + target_key(e) + ": <name>`");
    g->name = e.name;
    g->loc = e.loc;
    return;
  }
  if (!may_add) {
    std::string hint = suggest(target_key(e), group_names(entries));
    throw ConfigError("no group '" + e.group + "' in the defaults list to override", e.loc.str(),
                      hint.empty() ? "groups: " + list_text(group_names(entries)) : hint);
  }
  auto self = std::find_if(entries.begin(), entries.end(), [](auto& x) { return x.self; });
  entries.insert(self, e);
}

fs::path experiment_path(const std::string& dir, const std::string& exp) {
  bool is_path = exp.find('/') != std::string::npos || fs::path(exp).extension() == ".yaml" ||
                 fs::path(exp).extension() == ".yml";
  fs::path p = is_path ? fs::path(exp) : fs::path(dir) / "experiment" / (exp + ".yaml");
  if (fs::exists(p)) return p;
  auto names = yaml_names_in(fs::path(dir) / "experiment");
  std::string hint = "experiments in " + (fs::path(dir) / "experiment").string() + ": " + list_text(names);
  std::string near = nearest(exp, names);
  if (!near.empty()) hint += "; did you mean '" + near + "'?";
  throw ConfigError("no experiment '" + exp + "'", p.string(), hint);
}

// One command-line override, split.
struct Override {
  enum Kind { set, add, force, del } kind = set;
  std::string key, value;
  bool has_value = false;
  std::string text;
};

Override parse_override(const std::string& word) {
  Override o;
  o.text = word;
  std::string w = word;
  if (w.rfind("++", 0) == 0) o.kind = Override::force, w = w.substr(2);
  else if (w.rfind('+', 0) == 0) o.kind = Override::add, w = w.substr(1);
  else if (w.rfind('~', 0) == 0) o.kind = Override::del, w = w.substr(1);
  std::size_t eq = w.find('=');
  o.key = w.substr(0, eq);
  if (eq != std::string::npos) o.has_value = true, o.value = w.substr(eq + 1);
  if (o.key.empty() || o.key.find("..") != std::string::npos || o.key.back() == '.' ||
      o.key[0] == '.' || (!o.has_value && o.kind != Override::del))
    throw ConfigError("cannot read override '" + word + "'", kCommandLine.str(),
                      "write key=value, +key=value, ++key=value or ~key");
  return o;
}

NodePtr parse_value(const Override& o) {
  NodePtr v;
  if (o.value.empty()) {
    v = std::make_shared<ConfigNode>();
    v->type = ConfigNode::Type::scalar;
    v->quoted = true;
  } else {
    try {
      v = parse_yaml(o.value, kCommandLine.file);
    } catch (const ConfigError& e) {
      throw ConfigError("cannot parse the value of '" + o.key + "': " + e.what_part(),
                        kCommandLine.str(), "quote it: '" + o.key + "=\"...\"'");
    }
  }
  set_loc(*v, kCommandLine);
  return v;
}

// Applies a group switch given on the command line; false when `o` is not about a group.
bool apply_group_override(const std::string& dir, std::vector<DefaultEntry>& entries, const Override& o) {
  if (o.key.find('.') != std::string::npos) return false;
  DefaultEntry e;
  split_package(o.key, e, kCommandLine);  // `model@proposal=llama8b` names a package
  DefaultEntry* g = find_group(entries, target_key(e));
  bool is_dir = fs::is_directory(fs::path(dir) / e.group);
  if (o.kind == Override::del && g) {
    entries.erase(entries.begin() + (g - entries.data()));
    return true;
  }
  if (o.kind == Override::del || !(g || (is_dir && o.kind != Override::set))) return false;
  if (o.kind == Override::add && g)
    throw ConfigError("group '" + o.key + "' is already in the defaults list", kCommandLine.str(),
                      "switch it with " + o.key + "=" + o.value);
  e.name = (o.value == "null" || o.value == "~") ? "" : o.value;
  e.loc = kCommandLine;
  switch_group(entries, e, true);
  return true;
}

void apply_key_override(const NodePtr& root, const Override& o) {
  std::vector<std::string> parts = split_path(o.key);
  std::string leaf = parts.back();
  std::string parent_path;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) parent_path = join(parent_path, parts[i]);
  NodePtr parent = parent_path.empty() ? root : find_path(root, parent_path);
  auto* slot = (parent && parent->type == ConfigNode::Type::map)
                   ? find_slot(*parent, leaf) : nullptr;
  bool exists = slot != nullptr;
  if (!exists && o.kind != Override::add && o.kind != Override::force) {
    std::string hint = suggest(o.key, all_keys(*root));
    if (o.kind != Override::del)
      hint += (hint.empty() ? "use +" : " or use +") + o.key + "=<value> to add a new key";
    if (hint.empty()) hint = "nothing to delete";
    throw ConfigError("unknown key '" + o.key + "' in override '" + o.text + "'",
                      kCommandLine.str(), hint);
  }
  if (o.kind == Override::del) {
    auto& m = parent->map;
    m.erase(std::find_if(m.begin(), m.end(), [&](auto& kv) { return kv.first == leaf; }));
    return;
  }
  if (exists && o.kind == Override::add)
    throw ConfigError("key '" + o.key + "' already exists (" + (*slot ? (*slot)->loc.str() : "") + ")",
                      kCommandLine.str(), "set it with " + o.key + "=" + o.value + " (no '+')");
  NodePtr v = parse_value(o);
  if (!exists) {
    NodePtr p = parent_path.empty() ? root : ensure_map(root, parent_path, kCommandLine);
    p->map.emplace_back(leaf, v);
    return;
  }
  if (o.kind == Override::set && *slot) {
    check_kind(**slot, *v, o.key);
    if ((*slot)->type == ConfigNode::Type::map && v->type == ConfigNode::Type::map) {
      merge_strict(**slot, *v, o.key, *root);
      return;
    }
  }
  *slot = v;
}

}  // namespace

Resolved compose(const ComposeOptions& options) {
  std::string dir = options.config_dir.empty() ? default_config_dir() : options.config_dir;
  fs::path primary_path = fs::path(dir) / "config.yaml";
  if (!fs::exists(primary_path))
    throw ConfigError("no config.yaml in config directory " + dir, primary_path.string(),
                      "pass --config-dir DIR or set RAM_CONFIG_DIR");
  Resolved primary = load_file(primary_path.string());
  std::vector<DefaultEntry> entries = take_defaults(*primary.root);

  Resolved result;
  result.usage = std::make_shared<ConfigUsage>();
  result.sources.push_back(primary_path.string());

  NodePtr experiment;
  if (!options.experiment.empty()) {
    Resolved exp = load_file(experiment_path(dir, options.experiment).string());
    for (auto& e : take_defaults(*exp.root))
      if (!e.self) switch_group(entries, e, !e.override_);
    experiment = exp.root;
  }
  std::vector<Override> key_ops;
  for (auto& word : options.overrides) {
    Override o = parse_override(word);
    if (!apply_group_override(dir, entries, o)) key_ops.push_back(o);
  }

  NodePtr root = build_base(dir, primary.root, entries, result.sources);
  if (experiment) {
    merge_strict(*root, *experiment, "", *root);
    result.sources.push_back(experiment->loc.file);
  }
  for (auto& o : key_ops) apply_key_override(root, o);
  if (!options.overrides.empty()) result.sources.push_back(kCommandLine.file);
  interpolate(root);
  result.root = root;
  return result;
}

std::string default_config_dir() {
  auto has_config = [](const fs::path& d) { return fs::exists(d / "config.yaml"); };
  if (const char* env = std::getenv("RAM_CONFIG_DIR"); env && *env) {
    if (!has_config(env))
      throw ConfigError(std::string("RAM_CONFIG_DIR=") + env + " holds no config.yaml",
                        "environment", "point RAM_CONFIG_DIR at the folder holding config.yaml");
    return env;
  }
  std::error_code ec;
  fs::path exe_dir = fs::read_symlink("/proc/self/exe", ec).parent_path();
  if (!ec && has_config(exe_dir / ".." / "share" / "ram" / "configs"))
    return fs::weakly_canonical(exe_dir / ".." / "share" / "ram" / "configs").string();
#ifdef RAM_SOURCE_CONFIG_DIR
  if (has_config(RAM_SOURCE_CONFIG_DIR)) return RAM_SOURCE_CONFIG_DIR;
#endif
  for (fs::path d = exe_dir; !ec && !d.empty(); d = d.parent_path()) {
    if (has_config(d / "configs")) return (d / "configs").string();
    if (d == d.parent_path()) break;
  }
  throw ConfigError("no config directory found", "",
                    "pass --config-dir DIR or set RAM_CONFIG_DIR to the folder holding config.yaml");
}

ComposeOptions options_from_args(const std::vector<std::string>& args) {
  ComposeOptions o;
  for (auto& a : args) {
    bool is_override = a.find('=') != std::string::npos || (!a.empty() && (a[0] == '~' || a[0] == '+'));
    if (is_override) {
      o.overrides.push_back(a);
    } else if (o.experiment.empty()) {
      o.experiment = a;
    } else {
      throw ConfigError("two experiments given: '" + o.experiment + "' and '" + a + "'",
                        kCommandLine.str(), "give one experiment, then key=value overrides");
    }
  }
  return o;
}

}  // namespace ram::config
