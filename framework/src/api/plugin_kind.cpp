#include "ram/model.hpp"
#include "ram/error.hpp"
#include "ram/plugin.hpp"

namespace ram {

const char* to_string(PluginKind kind) {
  switch (kind) {
    case PluginKind::dataset: return "dataset";
    case PluginKind::model: return "model";
    case PluginKind::objective: return "objective";
    case PluginKind::judge: return "judge";
  }
  return "unknown";
}

std::unique_ptr<KVCache> CausalLM::make_cache(std::int64_t, std::int64_t) {
  throw NotSupported("model " + describe() + " does not support incremental decoding (KV cache)",
                     "", "use a model plugin that implements CausalLM::make_cache");
}

torch::Tensor CausalLM::forward_last(const torch::Tensor& ids, const torch::Tensor& positions,
                                     const torch::Tensor& attention, KVCache* cache) {
  return forward(ids, positions, attention, cache).select(1, ids.size(1) - 1);
}

std::string CausalLM::hf_config_json() const {
  throw NotSupported("model " + describe() + " cannot write an HF config.json", "",
                     "implement CausalLM::hf_config_json in the model plugin");
}

torch::Dtype CausalLM::dtype() const {
  for (const auto& p : parameters()) return p.scalar_type();
  return torch::kFloat32;
}

}  // namespace ram
