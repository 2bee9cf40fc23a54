// ram/model.hpp — the CausalLM interface that model plugins implement (first cut; the
// model issue refines the cache and dtype parts).
//
// Shapes: B = batch, T = tokens this call, V = vocabulary.
//   forward(ids [B,T] int64, positions [B,T] int64, attention [B,T] int64 (1 = token,
//           0 = padding), cache or nullptr) → logits [B,T,V] float32
// Parameters carry HuggingFace's names, so checkpoints and HF directories map 1:1.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <torch/nn/module.h>

namespace ram {

// Per-model key/value cache for incremental decoding; its layout is the model's business.
class KVCache {
 public:
  virtual ~KVCache() = default;
  virtual std::int64_t batch() const = 0;
  virtual std::int64_t capacity() const = 0;  // max tokens per slot
  virtual void reset(std::int64_t slot) = 0;   // forget slot's tokens (continuous refill)
};

class CausalLM : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& positions,
                                const torch::Tensor& attention, KVCache* cache) = 0;
  virtual std::int64_t vocab_size() const = 0;
  // Optional: models without incremental decoding throw NotSupported.
  virtual std::unique_ptr<KVCache> make_cache(std::int64_t batch, std::int64_t capacity);
  virtual std::string describe() const = 0;
};

}  // namespace ram
