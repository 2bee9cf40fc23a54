// The strict configuration view: typed getters over a ConfigNode tree, usage recording,
// finish() reporting unread keys, and the resolved tree printed back as YAML.
//
// Scalars are read as YAML 1.2's core schema reads them: bool is true/false (also True,
// TRUE, False, FALSE), int is decimal with an optional sign, float is an int or a
// decimal/exponent number or .inf/.nan, null is null/~/empty. A quoted scalar is always a
// string. Nothing is converted silently: get<int64_t> on 1.5 is an error.
//
// Usage: every get/has/child marks the dotted key (and, for a dotted key "a.b", its
// prefix "a") in the view's ConfigUsage. finish() walks the view's subtree: a key nobody
// asked for is reported (a whole unread map is one entry); an asked-for map is walked
// into. A component that consumes a map wholesale marks "<dotted>.*" to skip the walk.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <sstream>

#include "ram/config.hpp"
#include "ram/error.hpp"

namespace ram {

// ---------------------------------------------------------------- SourceLoc, ConfigNode

std::string SourceLoc::str() const {
  if (file.empty()) return "<code>";
  if (line <= 0) return file;
  return file + ":" + std::to_string(line);
}

const std::shared_ptr<ConfigNode>* ConfigNode::find(const std::string& key) const {
  if (type != Type::map) return nullptr;
  for (auto& kv : map)
    if (kv.first == key) return &kv.second;
  return nullptr;
}

std::shared_ptr<ConfigNode> ConfigNode::deep_copy() const {
  auto n = std::make_shared<ConfigNode>();
  n->type = type;
  n->scalar = scalar;
  n->quoted = quoted;
  n->loc = loc;
  for (auto& kv : map) n->map.emplace_back(kv.first, kv.second ? kv.second->deep_copy() : nullptr);
  for (auto& s : seq) n->seq.push_back(s ? s->deep_copy() : nullptr);
  return n;
}

namespace {

bool all_digits(const std::string& s, std::size_t from, std::size_t to) {
  if (from >= to) return false;
  for (std::size_t i = from; i < to; ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

bool is_null_text(const std::string& s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}
bool is_true_text(const std::string& s) { return s == "true" || s == "True" || s == "TRUE"; }
bool is_false_text(const std::string& s) { return s == "false" || s == "False" || s == "FALSE"; }

bool is_int_text(const std::string& s) {
  std::size_t b = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
  return all_digits(s, b, s.size());
}

bool is_special_float(const std::string& s) {
  std::size_t b = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
  std::string r = s.substr(b);
  if (r == ".inf" || r == ".Inf" || r == ".INF") return true;
  return b == 0 && (r == ".nan" || r == ".NaN" || r == ".NAN");
}

// [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
bool is_float_text(const std::string& s) {
  if (is_special_float(s)) return true;
  std::size_t i = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
  std::size_t int_begin = i;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  bool int_part = i > int_begin;
  bool frac_part = false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    std::size_t f = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    frac_part = i > f;
  }
  if (!int_part && !frac_part) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!all_digits(s, i, s.size())) return false;
    i = s.size();
  }
  return i == s.size();
}

std::string plain_kind(const std::string& s) {
  if (is_null_text(s)) return "null";
  if (is_true_text(s) || is_false_text(s)) return "bool";
  if (is_int_text(s)) return "int";
  if (is_float_text(s)) return "float";
  return "string";
}

}  // namespace

std::string ConfigNode::scalar_kind() const {
  switch (type) {
    case Type::null: return "null";
    case Type::sequence: return "sequence";
    case Type::map: return "map";
    case Type::scalar: break;
  }
  if (quoted) return "string";
  return plain_kind(scalar);
}

// ---------------------------------------------------------------- edit distance

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string nearest(const std::string& key, const std::vector<std::string>& candidates) {
  std::size_t limit = std::max<std::size_t>(2, key.size() / 3);
  std::string best;
  std::size_t best_d = limit + 1;
  for (auto& c : candidates) {
    if (c == key) continue;
    std::size_t d = edit_distance(key, c);
    if (d >= std::max(key.size(), c.size())) continue;  // nothing in common: no hint
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

// ---------------------------------------------------------------- ConfigView basics

namespace {

std::shared_ptr<const ConfigNode> empty_map() {
  auto n = std::make_shared<ConfigNode>();
  n->type = ConfigNode::Type::map;
  return n;
}

std::vector<std::string> split_dots(const std::string& key) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t dot = key.find('.', start);
    parts.push_back(key.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return parts;
}

std::string join_path(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return a + "." + b;
}

}  // namespace

ConfigView::ConfigView() : ConfigView(empty_map()) {}

ConfigView::ConfigView(std::shared_ptr<const ConfigNode> node, std::string path,
                       std::shared_ptr<ConfigUsage> usage)
    : node_(node ? std::move(node) : empty_map()),
      path_(std::move(path)),
      usage_(usage ? std::move(usage) : std::make_shared<ConfigUsage>()) {}

std::string ConfigView::dotted(const std::string& key) const { return join_path(path_, key); }

// Finds `key` (dotted keys walk down maps) and marks it and its prefixes as asked for.
const ConfigNode* ConfigView::lookup(const std::string& key) const {
  const ConfigNode* cur = node_.get();
  std::string walked;
  for (auto& part : split_dots(key)) {
    walked = join_path(walked, part);
    usage_->mark(dotted(walked));
    if (!cur) continue;
    auto* p = cur->find(part);
    cur = p ? p->get() : nullptr;
  }
  return cur;
}

bool ConfigView::has(const std::string& key) const {
  const ConfigNode* n = lookup(key);
  return n && n->type != ConfigNode::Type::null &&
         !(n->type == ConfigNode::Type::scalar && !n->quoted && is_null_text(n->scalar));
}

ConfigView ConfigView::child(const std::string& key) const {
  lookup(key);
  const ConfigNode* cur = node_.get();
  std::shared_ptr<const ConfigNode> found;
  for (auto& part : split_dots(key)) {
    auto* p = cur ? cur->find(part) : nullptr;
    if (!p || !*p) {
      found = nullptr;
      break;
    }
    found = *p;
    cur = p->get();
  }
  if (found && found->type != ConfigNode::Type::map) {
    if (found->type == ConfigNode::Type::null) found = nullptr;
    else if (found->is_required_marker())
      throw ConfigError("key " + dotted(key) + " is required", found->loc.str(),
                        "set it with " + dotted(key) + "=<value>");
    else
      throw ConfigError("key '" + dotted(key) + "' must be a map, got " + found->scalar_kind(),
                        found->loc.str());
  }
  return ConfigView(found, dotted(key), usage_);
}

std::vector<std::string> ConfigView::keys() const {
  std::vector<std::string> out;
  for (auto& kv : node_->map) out.push_back(kv.first);
  return out;
}

SourceLoc ConfigView::where(const std::string& key) const {
  if (key.empty()) return node_->loc;
  const ConfigNode* cur = node_.get();
  for (auto& part : split_dots(key)) {
    auto* p = cur ? cur->find(part) : nullptr;
    if (!p || !*p) return node_->loc;
    cur = p->get();
  }
  return cur->loc;
}

// ---------------------------------------------------------------- typed getters

namespace {

bool is_null_node(const ConfigNode* n) {
  return !n || n->type == ConfigNode::Type::null ||
         (n->type == ConfigNode::Type::scalar && !n->quoted && is_null_text(n->scalar));
}

[[noreturn]] void type_error(const std::string& dotted, const ConfigNode& n, const char* want) {
  std::string got = n.scalar_kind();
  if (n.type == ConfigNode::Type::scalar) got += " '" + n.scalar + "'";
  throw ConfigError("key '" + dotted + "' must be " + want + ", got " + got, n.loc.str(),
                    "write it as " + std::string(want) + " (e.g. " + dotted + "=<" + want + ">)");
}

// Converters from one scalar node; `dotted` names it in errors.
std::string as_string(const std::string& dotted, const ConfigNode& n) {
  if (n.type != ConfigNode::Type::scalar) type_error(dotted, n, "a string");
  return n.scalar;
}

bool as_bool(const std::string& dotted, const ConfigNode& n) {
  if (n.type == ConfigNode::Type::scalar && !n.quoted) {
    if (is_true_text(n.scalar)) return true;
    if (is_false_text(n.scalar)) return false;
  }
  type_error(dotted, n, "a bool (true/false)");
}

std::int64_t as_int(const std::string& dotted, const ConfigNode& n) {
  if (n.type != ConfigNode::Type::scalar || n.quoted || !is_int_text(n.scalar))
    type_error(dotted, n, "an int");
  errno = 0;
  long long v = std::strtoll(n.scalar.c_str(), nullptr, 10);
  if (errno == ERANGE)
    throw ConfigError("key '" + dotted + "': " + n.scalar + " is out of the int64 range",
                      n.loc.str());
  return v;
}

double as_double(const std::string& dotted, const ConfigNode& n) {
  if (n.type != ConfigNode::Type::scalar || n.quoted || !is_float_text(n.scalar))
    type_error(dotted, n, "a number");
  const std::string& s = n.scalar;
  if (is_special_float(s)) {
    if (s.find_first_of("nN") != std::string::npos && s.find_first_of("iI") == std::string::npos)
      return std::numeric_limits<double>::quiet_NaN();
    return s[0] == '-' ? -std::numeric_limits<double>::infinity()
                       : std::numeric_limits<double>::infinity();
  }
  return std::strtod(s.c_str(), nullptr);
}

int as_int32(const std::string& dotted, const ConfigNode& n) {
  std::int64_t v = as_int(dotted, n);
  if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max())
    throw ConfigError("key '" + dotted + "': " + n.scalar + " is out of the int32 range",
                      n.loc.str());
  return static_cast<int>(v);
}

template <class E, class F>
std::vector<E> as_vector(const std::string& dotted, const ConfigNode& n, F convert) {
  if (n.type != ConfigNode::Type::sequence) type_error(dotted, n, "a sequence");
  std::vector<E> out;
  for (std::size_t i = 0; i < n.seq.size(); ++i) {
    std::string item = dotted + "[" + std::to_string(i) + "]";
    if (!n.seq[i]) throw ConfigError("key '" + item + "' is empty", n.loc.str());
    out.push_back(convert(item, *n.seq[i]));
  }
  return out;
}

}  // namespace

#define RAM_DEFINE_GETTER(T, CONVERT)                                                      \
  template <> T ConfigView::get<T>(const std::string& key) const {                          \
    const ConfigNode* n = lookup(key);                                                      \
    if (!n)                                                                                 \
      throw ConfigError("key '" + dotted(key) + "' is missing", node_->loc.str(),           \
                        "add it with +" + dotted(key) + "=<value>");                       \
    if (n->is_required_marker())                                                            \
      throw ConfigError("key " + dotted(key) + " is required", n->loc.str(),                \
                        "set it with " + dotted(key) + "=<value>");                        \
    return CONVERT(dotted(key), *n);                                                        \
  }                                                                                         \
  template <> T ConfigView::get<T>(const std::string& key, const T& fallback) const {       \
    const ConfigNode* n = lookup(key);                                                      \
    if (is_null_node(n)) return fallback;                                                   \
    if (n->is_required_marker())                                                            \
      throw ConfigError("key " + dotted(key) + " is required", n->loc.str(),                \
                        "set it with " + dotted(key) + "=<value>");                        \
    return CONVERT(dotted(key), *n);                                                        \
  }

namespace {
float as_float(const std::string& d, const ConfigNode& n) { return static_cast<float>(as_double(d, n)); }
std::vector<std::string> as_strings(const std::string& d, const ConfigNode& n) {
  return as_vector<std::string>(d, n, as_string);
}
std::vector<std::int64_t> as_ints(const std::string& d, const ConfigNode& n) {
  return as_vector<std::int64_t>(d, n, as_int);
}
std::vector<double> as_doubles(const std::string& d, const ConfigNode& n) {
  return as_vector<double>(d, n, as_double);
}
}  // namespace

RAM_DEFINE_GETTER(std::string, as_string)
RAM_DEFINE_GETTER(bool, as_bool)
RAM_DEFINE_GETTER(int, as_int32)
RAM_DEFINE_GETTER(std::int64_t, as_int)
RAM_DEFINE_GETTER(double, as_double)
RAM_DEFINE_GETTER(float, as_float)
RAM_DEFINE_GETTER(std::vector<std::string>, as_strings)
RAM_DEFINE_GETTER(std::vector<std::int64_t>, as_ints)
RAM_DEFINE_GETTER(std::vector<double>, as_doubles)
#undef RAM_DEFINE_GETTER

// ---------------------------------------------------------------- finish()

namespace {

struct Unread {
  std::string key, loc, suggestion;
};

// Keys asked for directly under `level` (their last component), for suggestions.
std::vector<std::string> asked_at_level(const ConfigUsage& usage, const std::string& level) {
  std::vector<std::string> out;
  std::string prefix = level.empty() ? "" : level + ".";
  for (auto& k : usage.all()) {
    if (k.compare(0, prefix.size(), prefix) != 0) continue;
    std::string rest = k.substr(prefix.size());
    if (!rest.empty() && rest.find('.') == std::string::npos && rest != "*") out.push_back(rest);
  }
  return out;
}

void collect_unread(const ConfigNode& n, const std::string& path, const ConfigUsage& usage,
                    std::vector<Unread>& out) {
  if (n.type != ConfigNode::Type::map || usage.asked(join_path(path, "*"))) return;
  for (auto& [k, child] : n.map) {
    std::string d = join_path(path, k);
    if (usage.asked(d) || usage.asked(join_path(d, "*"))) {
      if (child) collect_unread(*child, d, usage, out);
      continue;
    }
    std::string near = nearest(k, asked_at_level(usage, path));
    out.push_back({d, child ? child->loc.str() : n.loc.str(),
                   near.empty() ? "" : join_path(path, near)});
  }
}

}  // namespace

void ConfigView::finish() const {
  std::vector<Unread> unread;
  collect_unread(*node_, path_, *usage_, unread);
  if (unread.empty()) return;
  if (unread.size() == 1) {
    auto& u = unread[0];
    throw ConfigError("unknown key '" + u.key + "'", u.loc,
                      u.suggestion.empty() ? "remove it or check its spelling"
                                           : "did you mean '" + u.suggestion + "'?");
  }
  std::string what = std::to_string(unread.size()) + " unknown keys: ";
  for (std::size_t i = 0; i < unread.size(); ++i) {
    auto& u = unread[i];
    if (i) what += ", ";
    what += "'" + u.key + "' (" + u.loc;
    if (!u.suggestion.empty()) what += "; did you mean '" + u.suggestion + "'?";
    what += ")";
  }
  throw ConfigError(what, path_.empty() ? std::string() : "under '" + path_ + "'",
                    "remove them or check their spelling");
}

// ---------------------------------------------------------------- to_yaml()

namespace {

// A scalar may be written plain when YAML reads the same text and kind back.
bool plain_ok(const std::string& s, bool quoted) {
  if (s.empty()) return false;
  if (quoted && plain_kind(s) != "string") return false;
  if (s == ConfigNode::kRequired) return true;
  unsigned char c0 = static_cast<unsigned char>(s[0]);
  bool first_ok = std::isalnum(c0) || c0 == '_' || c0 == '.' || c0 == '/' || c0 == '$' ||
                  c0 == '+' || c0 >= 0x80 || (c0 == '-' && s.size() > 1 && s[1] != ' ');
  if (!first_ok || s.back() == ' ') return false;
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return false;
    if (std::string(":#,[]{}\"'\\|>&*!%@`").find(static_cast<char>(c)) != std::string::npos)
      return false;
  }
  return true;
}

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string scalar_text(const ConfigNode* n) {
  if (!n || n->type == ConfigNode::Type::null) return "null";
  return plain_ok(n->scalar, n->quoted) ? n->scalar : quote(n->scalar);
}

bool is_flat(const ConfigNode& n) {
  if (n.map.empty() && n.seq.empty()) return true;
  if (n.type != ConfigNode::Type::sequence) return false;
  for (auto& s : n.seq)
    if (s && (s->type == ConfigNode::Type::map || s->type == ConfigNode::Type::sequence))
      return false;
  return true;
}

std::string inline_text(const ConfigNode* n) {
  if (!n || n->type == ConfigNode::Type::null || n->type == ConfigNode::Type::scalar)
    return scalar_text(n);
  if (n->type == ConfigNode::Type::map) return "{}";
  std::string out = "[";
  for (std::size_t i = 0; i < n->seq.size(); ++i) out += (i ? ", " : "") + scalar_text(n->seq[i].get());
  return out + "]";
}

void emit(const ConfigNode& n, int indent, std::ostringstream& os);

void emit_value_after_key(const ConfigNode* v, int indent, std::ostringstream& os) {
  if (!v || is_flat(*v)) {
    os << " " << inline_text(v) << "\n";
  } else {
    os << "\n";
    emit(*v, indent + 2, os);
  }
}

void emit(const ConfigNode& n, int indent, std::ostringstream& os) {
  std::string pad(indent, ' ');
  if (n.type == ConfigNode::Type::map) {
    for (auto& [k, v] : n.map) {
      os << pad << (plain_ok(k, true) ? k : quote(k)) << ":";
      emit_value_after_key(v.get(), indent, os);
    }
  } else if (n.type == ConfigNode::Type::sequence) {
    for (auto& item : n.seq) {
      if (item && item->type == ConfigNode::Type::map && !item->map.empty()) {
        std::ostringstream inner;
        emit(*item, indent + 2, inner);
        std::string text = inner.str();
        os << pad << "- " << text.substr(indent + 2);  // first key on the dash's line
      } else {
        os << pad << "-";
        emit_value_after_key(item.get(), indent, os);
      }
    }
  } else {
    os << pad << inline_text(&n) << "\n";
  }
}

}  // namespace

std::string ConfigView::to_yaml() const {
  std::ostringstream os;
  if (node_->type != ConfigNode::Type::map && node_->type != ConfigNode::Type::sequence) {
    os << inline_text(node_.get()) << "\n";
  } else if (is_flat(*node_)) {
    os << inline_text(node_.get()) << "\n";
  } else {
    emit(*node_, 0, os);
  }
  return os.str();
}

}  // namespace ram
