// The `llama` model plugin: LlamaForCausalLM (Llama 2 / 3 / 3.1 / 3.2 directories).
#include <ram/plugin.hpp>

#include "llama_model.hpp"

namespace {
class Llama : public ram::models::LlamaLM {
 public:
  explicit Llama(const ram::ConfigView& cfg) : LlamaLM(cfg, Flavor::llama) {}
};
}  // namespace

RAM_MODEL_PLUGIN("llama", "1.0.0",
                 "HF LlamaForCausalLM: RMSNorm, RoPE (none/linear/llama3 scaling), GQA, SwiGLU, f32/bf16",
                 Llama)
