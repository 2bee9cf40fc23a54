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
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

#include "ram/model.hpp"

namespace ram::nn {

// y = x · wᵀ + b (b may be undefined). When x holds a single row (all leading dims 1) and
// is float32, uses at::addmv / at::mv (GEMV streams the weight ~3× faster than sgemm with
// m = 1 on CPU); with 2–64 float32 rows and no autograd, skinny_linear (below); otherwise
// at::linear.
at::Tensor linear(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b = {});
// The batch-1 GEMV path on/off (default on; RAM_NN_GEMV=0 in the environment turns it off
// at start). For benchmarks that compare the two kernels.
void set_linear_gemv(bool enabled);
bool linear_gemv();

// The skinny matrix product: y[m,N] = x[m,K] · W[N,K]ᵀ + b in float32 for decode-sized m,
// through an AVX-512 kernel on W as it is (row-major, no copy): register tiles of 8 weight
// rows × 3 x rows, 16 k per step, the next weight rows prefetched while a block is swept,
// threaded over the weight rows with ATen's pool. bench/skinny_gemm.cpp: 1.6–2.5× OpenBLAS
// sgemm at m = 8–64 on llama-shape weights streamed from memory (sgemm re-packs W per call).
// linear() takes it for float32 with kSkinnyMinRows ≤ m ≤ kSkinnyMaxRows rows, a weight
// with unit column stride and no autograd (GradMode off or nothing requires grad), on a CPU
// with AVX-512F; otherwise at::linear. RAM_NN_SKINNY=0 in the environment turns it off at
// start; set_linear_skinny() for benchmarks.
constexpr std::int64_t kSkinnyMinRows = 2, kSkinnyMaxRows = 64;
void set_linear_skinny(bool enabled);
bool linear_skinny();
// Whether this build and CPU run the kernel (AVX-512F; GCC/Clang on x86-64).
bool skinny_available();
// The kernel itself, for any row count (no autograd): x float32 [..., K], w float32 [N,K]
// with unit column stride, b [N] float32 or undefined → [..., N]. NotSupported when
// !skinny_available(); DataError on shapes or dtypes that do not fit.
at::Tensor skinny_linear(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b = {});

// The same product on W packed once into 32-column panels ([N/32][K][32]: one k step of a
// panel is two adjacent zmm loads, 12 x rows × 32 columns per register tile). ~10–40%
// faster than skinny_linear at m = 8–64 (bench/skinny_gemm.cpp), but the packed copy is
// extra memory (ceil(N/32)·32·K floats) next to W, which training and other shapes still
// need — so linear() does not use it; a caller that can afford the memory may.
// On a CPU without AVX-512F nothing is packed: packed() is false and forward() throws.
class PackedLinear {
 public:
  PackedLinear() = default;
  // w: 2-D float32 CPU tensor, any strides (DataError otherwise).
  explicit PackedLinear(const at::Tensor& w);
  bool packed() const { return packed_.defined(); }
  std::int64_t out_features() const { return n_; }
  std::int64_t in_features() const { return k_; }
  std::int64_t bytes() const;  // of the packed copy (0 when not packed)
  // Whether `w` is the tensor this was packed from and unmodified since (same tensor
  // object, data pointer, shape and version counter: an in-place update makes it stale;
  // an inference tensor has no version counter, so only the rest is checked for it).
  bool packs(const at::Tensor& w) const;
  // x float32 [..., K] (any row count) → [..., N]; b [N] float32 or undefined. No autograd.
  at::Tensor forward(const at::Tensor& x, const at::Tensor& b = {}) const;

 private:
  struct Source;
  at::Tensor packed_;
  std::int64_t n_ = 0, k_ = 0;
  std::shared_ptr<const Source> source_;
};

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
