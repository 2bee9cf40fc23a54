// model/tiny.cpp — TinySpec → the plugin's `tiny:` config node → a random-weight model.
#include "model/tiny.hpp"

#include <cstdlib>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/compose.hpp"
#include "model/hf_dir.hpp"
#include "plugin/registry.hpp"
#include "ram/config.hpp"
#include "ram/error.hpp"
#include "ram/model.hpp"

namespace ram::model {

namespace {

double parse_number(const std::string& s, const std::string& text, const std::string& where) {
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !(v > 0))
    throw ConfigError("rope scaling '" + text + "': '" + s + "' is not a positive number", where,
                      "write none, linear:F or llama3:F[:LOW:HIGH:ORIG], e.g. llama3:8");
  return v;
}

}  // namespace

RopeScaling parse_rope_scaling(const std::string& text, const std::string& where) {
  std::vector<std::string> parts;
  std::stringstream ss(text);
  for (std::string p; std::getline(ss, p, ':');) parts.push_back(p);
  RopeScaling r;
  const std::string hint = "write none, linear:F or llama3:F[:LOW:HIGH:ORIG], e.g. llama3:8";
  if (parts.empty() || text == "none") {
    if (text != "none" && !text.empty())
      throw ConfigError("unknown rope scaling '" + text + "'", where, hint);
    return r;
  }
  r.type = parts[0];
  if (r.type == "linear" && parts.size() == 2) {
    r.factor = parse_number(parts[1], text, where);
  } else if (r.type == "llama3" && (parts.size() == 2 || parts.size() == 5)) {
    r.factor = parse_number(parts[1], text, where);
    if (parts.size() == 5) {
      r.low_freq_factor = parse_number(parts[2], text, where);
      r.high_freq_factor = parse_number(parts[3], text, where);
      r.original_max_position_embeddings =
          static_cast<std::int64_t>(parse_number(parts[4], text, where));
    }
  } else {
    throw ConfigError("unknown rope scaling '" + text + "'", where, hint);
  }
  return r;
}

std::string tiny_node_json(const TinySpec& s) {
  nlohmann::ordered_json tiny = nlohmann::ordered_json::object();
  auto put = [&](const char* key, const auto& opt) {
    if (opt) tiny[key] = *opt;
  };
  put("vocab", s.vocab);
  put("hidden", s.hidden);
  put("layers", s.layers);
  put("heads", s.heads);
  put("kv_heads", s.kv_heads);
  put("intermediate", s.intermediate);
  put("max_positions", s.max_positions);
  put("rope_theta", s.rope_theta);
  put("rotary_pct", s.rotary_pct);
  put("tied", s.tied);
  put("seed", s.seed);
  put("init_std", s.init_std);
  if (s.rope_scaling) {
    const auto& r = *s.rope_scaling;
    if (r.type == "none") {
      tiny["rope_scaling"] = nullptr;
    } else {
      nlohmann::ordered_json j = {{"type", r.type}, {"factor", r.factor}};
      if (r.type == "llama3") {
        j["low_freq_factor"] = r.low_freq_factor;
        j["high_freq_factor"] = r.high_freq_factor;
        j["original_max_position_embeddings"] = r.original_max_position_embeddings;
      }
      tiny["rope_scaling"] = j;
    }
  }
  nlohmann::ordered_json node = {{"name", s.arch}, {"dtype", s.dtype}, {"tiny", tiny}};
  return node.dump();
}

std::shared_ptr<CausalLM> make_tiny_model(const TinySpec& spec) {
  check_dtype(spec.dtype, "--dtype");
  // JSON is YAML: numbers stay numbers, strings are quoted strings, null is null.
  auto root = config::parse_yaml(tiny_node_json(spec), "make-tiny-model options");
  ConfigView view(root, "model");
  return plugin::Registry::instance().make_model(spec.arch, view);
}

}  // namespace ram::model
