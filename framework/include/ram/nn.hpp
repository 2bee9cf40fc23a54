// ram/nn.hpp — building blocks shared by the transformer model plugins (and usable by an
// out-of-tree model plugin): linear with a batch-1 GEMV path, RMSNorm as HF computes it,
// rotary embeddings (rope_scaling none / linear / llama3, partial rotary), the attention
// core (GQA, causal + padding mask, softmax in float32) and the KV cache.
//
// Shapes: B batch, T tokens this call, P tokens already cached, S = P + T keys,
// H query heads, G kv heads (H % G == 0), D head dim, R rotary dims (R ≤ D, even).
// Numerics follow HuggingFace transformers (modeling_llama.py, eager attention):
//   rms_norm:  y = w · (x_f32 · rsqrt(mean(x_f32²) + eps)).to(x.dtype)
//   rotary:    inv_freq and cos/sin in float32, then cast to the activation dtype;
//              q' = q·cos + rotate_half(q)·sin on the first R dims, the rest unchanged
//   attention: scores = (q @ kᵀ) · scale in the activation dtype, masked entries set to
//              the dtype's lowest value, softmax in float32, cast back, @ v.
// A query row whose keys are all masked (a padded query) gets a uniform softmax: finite
// garbage, never NaN, as in HF.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

#include "ram/model.hpp"

namespace ram::nn {

// y = x · wᵀ + b (b may be undefined). When x holds a single row (all leading dims 1) and
// is float32, uses at::addmv / at::mv (GEMV streams the weight ~3× faster than sgemm with
// m = 1 on CPU); otherwise at::linear.
at::Tensor linear(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b = {});
// The batch-1 GEMV path on/off (default on; RAM_NN_GEMV=0 in the environment turns it off
// at start). For benchmarks that compare the two kernels.
void set_linear_gemv(bool enabled);
bool linear_gemv();

// HF LlamaRMSNorm.
at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps);

// Rotary embedding parameters, as HF's config.json spells them.
struct RopeSpec {
  double theta = 10000.0;         // rope_theta (rotary_emb_base for gpt_neox)
  std::int64_t dim = 0;           // R: rotary dims (head_dim · partial factor), even
  std::string type = "default";   // "default" | "linear" | "llama3"
  double factor = 1.0;            // linear, llama3
  double low_freq_factor = 1.0;   // llama3
  double high_freq_factor = 4.0;  // llama3
  std::int64_t original_max_position_embeddings = 8192;  // llama3
};

// float32 [R/2] inverse frequencies: HF's _compute_default_rope_parameters, then
// linear (÷ factor) or _compute_llama3_parameters. Throws ConfigError for another type.
at::Tensor rope_inv_freq(const RopeSpec& spec);

class Rotary {
 public:
  Rotary() = default;
  explicit Rotary(const RopeSpec& spec);
  std::int64_t dim() const { return dim_; }
  // positions [B,T] int64 → {cos, sin} [B,1,T,R] in `dtype` (computed in float32).
  std::pair<at::Tensor, at::Tensor> cos_sin(const at::Tensor& positions, at::ScalarType dtype) const;
  // x [B,H,T,D]: rotates the first R dims (rotate_half convention), returns a new tensor.
  static at::Tensor apply(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin);

 private:
  at::Tensor inv_freq_;  // float32 [R/2]
  std::int64_t dim_ = 0;
};

// Preallocated KV cache: per layer K and V [B, G, cap, D] in the model dtype, and a
// [B, cap] bool mask of the cached tokens that are valid keys (not padding, not reset).
// A forward with a cache: begin(attention [B,T]) → for each layer store(l, k, v) → the
// keys/values [B,G,P+T,D] to attend to (views, no copy) → end() advances length by T.
// Decode steps allocate nothing in the cache: new tokens are copied into narrow() views.
class LayerKVCache : public ram::KVCache {
 public:
  LayerKVCache(std::int64_t layers, std::int64_t batch, std::int64_t kv_heads,
               std::int64_t head_dim, std::int64_t capacity, at::ScalarType dtype);
  std::int64_t batch() const override { return batch_; }
  std::int64_t capacity() const override { return capacity_; }
  std::int64_t length() const override { return length_; }
  void reset(std::int64_t slot) override;
  void clear() override;

  // Validates shapes and room (DataError when T tokens do not fit), writes the mask of
  // the new tokens; returns the key mask [B, P+T] (bool) to attend with.
  at::Tensor begin(const at::Tensor& attention);
  // Copies k, v [B,G,T,D] at positions P..P+T−1 of layer l; returns views [B,G,P+T,D].
  std::pair<at::Tensor, at::Tensor> store(std::int64_t layer, const at::Tensor& k,
                                          const at::Tensor& v);
  void end();
  std::int64_t layers() const { return static_cast<std::int64_t>(k_.size()); }

 private:
  std::int64_t batch_, capacity_, length_ = 0, pending_ = 0;
  std::vector<at::Tensor> k_, v_;
  at::Tensor mask_;  // bool [B, cap]
};

// Additive-free boolean attention mask [B,1,T,S]: query t (absolute index P + t) may see
// key s when key_valid[b,s] and s ≤ P + t. key_valid: [B,S] bool or int.
at::Tensor causal_mask(const at::Tensor& key_valid, std::int64_t T);

// Attention core. q [B,H,T,D]; k, v [B,G,S,D]; allowed [B,1,T,S] bool; returns
// [B,T,H·D] in q's dtype. Grouped-query attention expands the G kv heads to H.
at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                     const at::Tensor& allowed, double scale);

// Registers `value` as parameter `dotted` of `root` ("model.layers.0.self_attn.q_proj.
// weight"), creating plain child modules on the way, so named_parameters() yields HF's
// state-dict keys. Returns the registered tensor (shares storage with the parameter).
at::Tensor register_param(torch::nn::Module& root, const std::string& dotted, at::Tensor value);

// Copies the tensors of an HF checkpoint (ram::safetensors::Archive::open(dir): one file or
// shards) into `model`'s named parameters, converting dtype. Strict both ways: a missing
// tensor, a shape mismatch, or a tensor the model does not have is one FormatError listing
// every problem with its file, tensor and both shapes. Tensors whose name ends with one of
// `ignore_suffixes` (non-persistent buffers old checkpoints carry, e.g.
// "rotary_emb.inv_freq") and the names in `ignore_names` (e.g. lm_head.weight of a tied
// model) are skipped.
void load_weights(torch::nn::Module& model, const std::filesystem::path& dir,
                  const std::vector<std::string>& ignore_suffixes = {},
                  const std::vector<std::string>& ignore_names = {});

// Shape as "[2, 3, 4]" (for error messages).
std::string shape_str(at::IntArrayRef shape);

}  // namespace ram::nn
