// models/common/hf_config.hpp — shared by the model plugins (compiled into each; not part
// of ram::api because it exposes nlohmann::json): reading an HF config.json strictly,
// the plugin config keys (path | tiny, dtype), rope_scaling, and HF-style random init.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>

#include <ram/config.hpp>
#include <ram/error.hpp>
#include <ram/nn.hpp>

namespace ram::models {

using Json = nlohmann::json;

// Typed access to config.json: a missing key or a value of the wrong type is a FormatError
// naming the file and the key.
class HfConfig {
 public:
  HfConfig(Json j, std::string file) : j_(std::move(j)), file_(std::move(file)) {}

  static HfConfig read(const std::filesystem::path& dir) {
    const auto file = (dir / "config.json").string();
    std::ifstream in(file);
    if (!in) {
      throw FormatError("cannot open config.json", file,
                        "`path:` must be an HF model directory (config.json + model.safetensors)");
    }
    std::stringstream text;
    text << in.rdbuf();
    Json j;
    try {
      j = Json::parse(text.str());
    } catch (const std::exception& e) {
      throw FormatError(std::string("config.json is not valid JSON: ") + e.what(), file, "fix the file");
    }
    if (!j.is_object()) throw FormatError("config.json is not a JSON object", file, "fix the file");
    return HfConfig(std::move(j), file);
  }

  bool has(const std::string& key) const { return j_.contains(key) && !j_[key].is_null(); }

  template <class T> T get(const std::string& key) const {
    if (!has(key)) {
      throw FormatError("config.json has no key '" + key + "'", file_ + ": " + key,
                        "add it as transformers writes it for this model_type");
    }
    return as<T>(key, j_[key]);
  }
  template <class T> T get(const std::string& key, const T& fallback) const {
    return has(key) ? as<T>(key, j_[key]) : fallback;
  }
  const Json& json() const { return j_; }
  const std::string& file() const { return file_; }
  std::string where(const std::string& key) const { return file_ + ": " + key; }

  // A ConfigError for a value we do not support, naming file and key.
  [[noreturn]] void unsupported(const std::string& key, const std::string& why,
                                const std::string& hint) const {
    throw ConfigError(why, where(key), hint);
  }

  // rope_scaling (null, {rope_type|type: linear|llama3|default, factor, ...}) → RopeSpec.
  nn::RopeSpec rope(double theta, std::int64_t dim) const {
    nn::RopeSpec spec;
    spec.theta = theta;
    spec.dim = dim;
    if (!has("rope_scaling")) return spec;
    const Json& rs = j_["rope_scaling"];
    if (!rs.is_object()) {
      throw FormatError("rope_scaling must be an object or null", where("rope_scaling"), "fix the file");
    }
    HfConfig sub(rs, file_ + ": rope_scaling");
    spec.type = sub.has("rope_type") ? sub.get<std::string>("rope_type") : sub.get<std::string>("type");
    if (spec.type == "default") return spec;
    if (spec.type != "linear" && spec.type != "llama3") {
      unsupported("rope_scaling", "rope_scaling type '" + spec.type + "' is not supported",
                  "supported: null, linear, llama3");
    }
    spec.factor = sub.get<double>("factor");
    if (spec.type == "llama3") {
      spec.low_freq_factor = sub.get<double>("low_freq_factor");
      spec.high_freq_factor = sub.get<double>("high_freq_factor");
      spec.original_max_position_embeddings = sub.get<std::int64_t>("original_max_position_embeddings");
    }
    return spec;
  }

 private:
  template <class T> T as(const std::string& key, const Json& v) const {
    try {
      if constexpr (std::is_same_v<T, double>) {
        if (!v.is_number()) throw std::runtime_error("not a number");
      } else if constexpr (std::is_same_v<T, std::int64_t>) {
        if (!v.is_number_integer()) throw std::runtime_error("not an integer");
      } else if constexpr (std::is_same_v<T, bool>) {
        if (!v.is_boolean()) throw std::runtime_error("not a boolean");
      } else if constexpr (std::is_same_v<T, std::string>) {
        if (!v.is_string()) throw std::runtime_error("not a string");
      }
      return v.get<T>();
    } catch (const std::exception& e) {
      throw FormatError("config.json key '" + key + "' has the wrong type (" + e.what() + "): " + v.dump(),
                        where(key), "fix the value");
    }
  }

  Json j_;
  std::string file_;
};

// The plugin's own config node: `path` or `tiny`, `dtype`, `name`.
struct PluginConfig {
  std::string path;      // HF directory, or empty for tiny
  ConfigView tiny;       // valid when path is empty
  at::ScalarType dtype = at::kFloat;
};

inline PluginConfig read_plugin_config(const ConfigView& cfg) {
  PluginConfig pc;
  cfg.get<std::string>("name", "");
  const std::string dtype = cfg.get<std::string>("dtype", "f32");
  if (dtype == "f32" || dtype == "float32") {
    pc.dtype = at::kFloat;
  } else if (dtype == "bf16" || dtype == "bfloat16") {
    pc.dtype = at::kBFloat16;
  } else {
    throw ConfigError("dtype '" + dtype + "' is not supported", cfg.dotted("dtype"), "use f32 or bf16");
  }
  const bool has_path = cfg.has("path"), has_tiny = cfg.has("tiny");
  if (has_path == has_tiny) {
    throw ConfigError(has_path ? "both `path` and `tiny` are set" : "neither `path` nor `tiny` is set",
                      cfg.path().empty() ? "model" : cfg.path(),
                      "set path: <HF model directory> or tiny: {vocab, hidden, layers, ...}");
  }
  if (has_path) pc.path = cfg.get<std::string>("path");
  if (has_tiny) pc.tiny = cfg.child("tiny");
  return pc;
}

inline const char* torch_dtype_name(at::ScalarType t) {
  return t == at::kBFloat16 ? "bfloat16" : "float32";
}

// rope_scaling of a tiny node ({type, factor, low_freq_factor, high_freq_factor,
// original_max_position_embeddings} or absent/null) as HF's config.json writes it.
inline Json tiny_rope_scaling(const ConfigView& tiny) {
  if (!tiny.has("rope_scaling")) {
    tiny.get<std::string>("rope_scaling", "");  // mark as read (null)
    return nullptr;
  }
  const ConfigView rs = tiny.child("rope_scaling");
  std::string type = rs.get<std::string>("type", "");
  if (type.empty()) type = rs.get<std::string>("rope_type");
  Json j = {{"rope_type", type}};
  if (type == "linear" || type == "llama3") j["factor"] = rs.get<double>("factor");
  if (type == "llama3") {
    j["low_freq_factor"] = rs.get<double>("low_freq_factor", 1.0);
    j["high_freq_factor"] = rs.get<double>("high_freq_factor", 4.0);
    j["original_max_position_embeddings"] = rs.get<std::int64_t>("original_max_position_embeddings", 8192);
  }
  rs.finish();
  return j;
}

// HF's _init_weights: normal(0, initializer_range) drawn from a generator seeded by
// tiny.seed, in float32 (so f32 and bf16 models of one seed hold the same values).
class TinyInit {
 public:
  TinyInit(std::uint64_t seed, double std) : gen_(at::make_generator<at::CPUGeneratorImpl>(seed)), std_(std) {}
  void normal(at::Tensor& p) {
    at::NoGradGuard g;
    p.copy_(at::normal(0.0, std_, p.sizes(), gen_, at::TensorOptions().dtype(at::kFloat)));
  }

 private:
  at::Generator gen_;
  double std_;
};

}  // namespace ram::models
