// The `qwen2` model plugin: Qwen2ForCausalLM (Qwen2 / Qwen2.5), the llama implementation with
// q/k/v biases; sliding-window attention is refused.
#include <ram/plugin.hpp>

#include "../llama/llama_model.hpp"

namespace {
class Qwen2 : public ram::models::LlamaLM {
 public:
  explicit Qwen2(const ram::ConfigView& cfg) : LlamaLM(cfg, Flavor::qwen2) {}
};
}  // namespace

RAM_MODEL_PLUGIN("qwen2", "1.0.0",
                 "HF Qwen2ForCausalLM: llama with q/k/v biases (Qwen2, Qwen2.5), f32/bf16", Qwen2)
