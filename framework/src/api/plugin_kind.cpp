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

}  // namespace ram
