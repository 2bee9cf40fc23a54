// Interpolation of ${env:NAME}, ${env:NAME,default} and ${a.b} in the composed tree.
//
// Resolution runs once, after every merge, depth first: a reference to a key whose own value
// has interpolations resolves that key first; a key met again while it is being resolved
// is a cycle (an error listing the chain). A scalar that is exactly one ${a.b} becomes a
// copy of the target node (kind kept, maps and sequences included); a scalar with text
// around its interpolations becomes a quoted string. ${env:..} alone keeps YAML's reading
// of the variable's text (so ${env:N,3} is an int). A reference to a required (???) key
// makes the referring key required too.
#include <cstdlib>
#include <map>

#include "config/tree.hpp"
#include "ram/error.hpp"

namespace ram::config::detail {

namespace {

class Resolver {
 public:
  explicit Resolver(NodePtr root) : root_(std::move(root)) {}

  void walk(const NodePtr& n, const std::string& path) {
    if (!n) return;
    if (n->type == ConfigNode::Type::map) {
      if (!enter(n.get(), path)) return;
      for (auto& [k, v] : n->map) {
        if (v && v->type == ConfigNode::Type::scalar) resolve_scalar(v, join(path, k));
        else walk(v, join(path, k));
      }
      leave(n.get());
    } else if (n->type == ConfigNode::Type::sequence) {
      if (!enter(n.get(), path)) return;
      for (std::size_t i = 0; i < n->seq.size(); ++i) {
        std::string p = path + "[" + std::to_string(i) + "]";
        if (n->seq[i] && n->seq[i]->type == ConfigNode::Type::scalar) resolve_scalar(n->seq[i], p);
        else walk(n->seq[i], p);
      }
      leave(n.get());
    }
  }

 private:
  NodePtr root_;
  std::map<const ConfigNode*, int> state_;  // 1 = resolving, 2 = done
  std::vector<std::string> chain_;

  bool enter(const ConfigNode* n, const std::string& path) {
    int s = state_[n];
    if (s == 2) return false;
    if (s == 1) {
      std::string c;
      for (auto& k : chain_) c += k + " -> ";
      throw ConfigError("interpolation cycle: " + c + path, n->loc.str(),
                        "break the cycle by giving one of these keys a value");
    }
    state_[n] = 1;
    chain_.push_back(path);
    return true;
  }
  void leave(const ConfigNode* n) {
    state_[n] = 2;
    chain_.pop_back();
  }

  // Replaces `slot`'s scalar by its resolved value (in place: the tree holds this pointer).
  void resolve_scalar(NodePtr& slot, const std::string& path) {
    auto st = state_.find(slot.get());
    if (st != state_.end() && st->second == 2) return;
    if (slot->scalar.find("${") == std::string::npos) return;
    if (!enter(slot.get(), path)) return;
    NodePtr self = slot;  // keeps the node alive for leave() if slot is replaced
    std::string text = slot->scalar;
    std::size_t open = text.find("${");
    std::size_t close = matching_brace(text, open, path, *slot);
    if (open == 0 && close == text.size() - 1) {
      NodePtr whole = resolve_one(text.substr(2, close - 2), path, *slot);
      whole->loc = slot->loc;
      if (slot->quoted && whole->type == ConfigNode::Type::scalar) whole->quoted = true;
      slot = whole;
    } else {
      bool required = false;
      std::string out = concat(text, path, *slot, required);
      auto n = std::make_shared<ConfigNode>(*slot);
      n->scalar = required ? ConfigNode::kRequired : out;
      n->quoted = !required;
      slot = n;
    }
    leave(self.get());
    state_[slot.get()] = 2;
  }

  std::size_t matching_brace(const std::string& s, std::size_t open, const std::string& path,
                             const ConfigNode& at) {
    int depth = 0;
    for (std::size_t i = open; i < s.size(); ++i) {
      if (s.compare(i, 2, "${") == 0) {
        ++depth;
        ++i;
      } else if (s[i] == '}' && --depth == 0) {
        return i;
      }
    }
    throw ConfigError("key '" + path + "': unclosed '${' in '" + s + "'", at.loc.str(),
                      "write ${key} or ${env:NAME,default}");
  }

  std::string concat(const std::string& text, const std::string& path, const ConfigNode& at,
                     bool& required) {
    std::string out;
    std::size_t pos = 0;
    while (true) {
      std::size_t open = text.find("${", pos);
      if (open == std::string::npos) break;
      std::size_t close = matching_brace(text, open, path, at);
      out += text.substr(pos, open - pos);
      NodePtr v = resolve_one(text.substr(open + 2, close - open - 2), path, at);
      if (v->is_required_marker()) required = true;
      if (v->type == ConfigNode::Type::map || v->type == ConfigNode::Type::sequence)
        throw ConfigError("key '" + path + "': '" + text.substr(open, close - open + 1) +
                              "' is a " + v->scalar_kind() + " inside text",
                          at.loc.str(), "interpolate a scalar key into text");
      out += v->type == ConfigNode::Type::null ? "null" : v->scalar;
      pos = close + 1;
    }
    return out + text.substr(pos);
  }

  // Resolves the inside of one ${...}; nested interpolations in it resolve first.
  NodePtr resolve_one(std::string inner, const std::string& path, const ConfigNode& at) {
    if (inner.find("${") != std::string::npos) {
      bool required = false;
      inner = concat(inner, path, at, required);
    }
    if (inner.compare(0, 4, "env:") == 0) return resolve_env(inner.substr(4), path, at);
    return resolve_key(inner, path, at);
  }

  NodePtr resolve_env(const std::string& spec, const std::string& path, const ConfigNode& at) {
    std::size_t comma = spec.find(',');
    std::string name = trim(spec.substr(0, comma));
    const char* v = std::getenv(name.c_str());
    std::string value;
    if (v) {
      value = v;
    } else if (comma != std::string::npos) {
      value = trim(spec.substr(comma + 1));
      if (value.size() >= 2 && (value[0] == '\'' || value[0] == '"') && value.back() == value[0])
        value = value.substr(1, value.size() - 2);
    } else {
      throw ConfigError("key '" + path + "': environment variable " + name + " is not set",
                        at.loc.str(),
                        "export " + name + "=..., or write ${env:" + name + ",<default>}");
    }
    auto n = std::make_shared<ConfigNode>();
    n->type = ConfigNode::Type::scalar;
    n->scalar = value;
    n->quoted = value.empty();
    n->loc = at.loc;
    if (!n->quoted && n->scalar_kind() == "null") n->type = ConfigNode::Type::null;
    return n;
  }

  NodePtr resolve_key(const std::string& raw, const std::string& path, const ConfigNode& at) {
    std::string key = trim(raw);
    std::vector<std::string> parts = split_path(key);
    NodePtr* slot = nullptr;
    NodePtr cur = root_;
    std::string walked;
    for (auto& part : parts) {
      walked = join(walked, part);
      if (!cur || cur->type != ConfigNode::Type::map) { slot = nullptr; break; }
      slot = find_slot(*cur, part);
      if (!slot) break;
      // An intermediate scalar like ${other} may turn into a map once resolved.
      if (*slot && (*slot)->type == ConfigNode::Type::scalar) resolve_scalar(*slot, walked);
      cur = *slot;
    }
    if (!slot) {
      std::string hint = suggest(key, all_keys(*root_));
      throw ConfigError("key '" + path + "' refers to ${" + key + "}, which does not exist",
                        at.loc.str(), hint.empty() ? "check the key's spelling" : hint);
    }
    if (!*slot) return std::make_shared<ConfigNode>();
    walk(*slot, key);  // resolve interpolations inside a referenced map or sequence
    return (*slot)->deep_copy();
  }

  static std::string trim(const std::string& s) {
    std::size_t b = s.find_first_not_of(" \t");
    if (b == std::string::npos) return {};
    std::size_t e = s.find_last_not_of(" \t");
    return s.substr(b, e - b + 1);
  }
};

}  // namespace

void interpolate(const NodePtr& root) {
  Resolver r(root);
  r.walk(root, "");
}

}  // namespace ram::config::detail
