// ram/model.hpp — the CausalLM interface that model plugins implement.
//
// A model plugin (models/<name>/, e.g. llama, qwen2, gpt_neox) is created from its config
// node (the factory gets a ConfigView). Keys every model plugin understands:
//   path:  HF model directory (config.json + model.safetensors or a sharded index)
//   dtype: f32 | bf16       compute and parameter dtype (default f32)
//   tiny:  instead of `path`: build a random-weight model from generic sizes
//          {vocab, hidden, layers, heads, kv_heads, intermediate, max_positions,
//           rope_theta, rope_scaling ({type, factor, ...} or null), tied, seed, ...}
//          — the plugin maps them to its own config.json keys (`ram make-tiny-model`).
// The plugin name is HF's `model_type` (config.json), so a directory selects its plugin.
//
// Shapes: B = batch, T = tokens this call, P = tokens already in the cache, V = vocabulary.
//   forward(ids [B,T] int64, positions [B,T] int64, attention [B,T] int64 (1 = token,
//           0 = padding), cache or nullptr) → logits [B,T,V] float32 (any model dtype)
//   With a cache, the call's tokens are appended to every row of the cache after the P
//   tokens already there and attend to those P (minus the cached padding) and causally to
//   each other. Positions are the caller's: HF's generate uses cumsum(attention) − 1 with
//   padding set to 1, and a left-padded batch then equals its rows run one by one.
// Parameters carry HuggingFace's names (named_parameters(): "model.layers.0.self_attn.
// q_proj.weight"), so checkpoints and HF directories map 1:1. With tied embeddings
// lm_head.weight is not a separate parameter (as HF saves it).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <torch/nn/module.h>

namespace ram {

// Per-model key/value cache for incremental decoding; its layout is the model's business.
// All rows advance together: each forward appends T tokens to every row.
class KVCache {
 public:
  virtual ~KVCache() = default;
  virtual std::int64_t batch() const = 0;
  virtual std::int64_t capacity() const = 0;  // max tokens per row
  virtual std::int64_t length() const = 0;    // tokens held per row (P)
  // Forget row `slot`'s tokens (continuous refill): they are masked out for later calls.
  virtual void reset(std::int64_t slot) = 0;
  // Forget everything: length() becomes 0.
  virtual void clear() = 0;
};

class CausalLM : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& positions,
                                const torch::Tensor& attention, KVCache* cache) = 0;
  // The logits of the last position only, [B,V] float32 (decoding: skips the output
  // layer for the other T − 1 positions). Default: forward(...)[:, T−1].
  virtual torch::Tensor forward_last(const torch::Tensor& ids, const torch::Tensor& positions,
                                     const torch::Tensor& attention, KVCache* cache);
  virtual std::int64_t vocab_size() const = 0;
  // Optional: models without incremental decoding throw NotSupported.
  virtual std::unique_ptr<KVCache> make_cache(std::int64_t batch, std::int64_t capacity);
  virtual std::string describe() const = 0;
  // config.json as HF would write it for this model (for export and make-tiny-model).
  virtual std::string hf_config_json() const;
  // Parameter dtype: torch::kFloat32 or torch::kBFloat16.
  virtual torch::Dtype dtype() const;
};

}  // namespace ram
