// model/tiny.hpp — a random-weight model built by a model plugin from generic sizes (the
// `tiny:` node of ram/model.hpp), for tests, benchmarks and `ram make-tiny-model`.
//
// Only the sizes that are set are passed on; the plugin supplies its defaults for the
// rest and rejects keys its architecture does not have (e.g. kv_heads for gpt_neox).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace ram {
class CausalLM;
}

namespace ram::model {

// HF's rope_scaling: none, linear (factor), llama3 (factor + the Llama-3.1 defaults
// low_freq_factor 1, high_freq_factor 4, original_max_position_embeddings 8192).
struct RopeScaling {
  std::string type = "none";  // none | linear | llama3
  double factor = 1.0;
  double low_freq_factor = 1.0, high_freq_factor = 4.0;
  std::int64_t original_max_position_embeddings = 8192;
};
// "none" | "linear:F" | "llama3:F[:LOW:HIGH:ORIG]"; a ConfigError naming `where` otherwise.
RopeScaling parse_rope_scaling(const std::string& text, const std::string& where);

struct TinySpec {
  std::string arch;            // the model plugin (HF model_type): llama, qwen2, gpt_neox, ...
  std::string dtype = "f32";   // f32 | bf16
  std::optional<std::int64_t> vocab, hidden, layers, heads, kv_heads, intermediate,
      max_positions, seed;
  std::optional<double> rope_theta, rotary_pct, init_std;
  std::optional<bool> tied;
  std::optional<RopeScaling> rope_scaling;
};

// The plugin's config node for `spec` as JSON text ({name, dtype, tiny: {...}}).
std::string tiny_node_json(const TinySpec& spec);
std::shared_ptr<CausalLM> make_tiny_model(const TinySpec& spec);

}  // namespace ram::model
