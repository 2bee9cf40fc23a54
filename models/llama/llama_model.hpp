// models/llama/llama_model.hpp — LlamaForCausalLM and Qwen2ForCausalLM (one implementation;
// Qwen2 = Llama with q/k/v biases), as HF transformers computes them.
//
// Per layer (x [B,T,hidden]):
//   h  = x + o_proj(attn(rope(q_proj(n1)), rope(k_proj(n1)), v_proj(n1)))   n1 = RMSNorm(x)
//   x' = h + down_proj(act(gate_proj(n2)) · up_proj(n2))                      n2 = RMSNorm(h)
// logits = lm_head(RMSNorm(x_L)) (lm_head = embed_tokens when tie_word_embeddings).
// Parameter names are HF's: model.embed_tokens.weight, model.layers.N.self_attn.{q,k,v,o}_proj.
// {weight,bias}, model.layers.N.mlp.{gate,up,down}_proj.weight, model.layers.N.{input,
// post_attention}_layernorm.weight, model.norm.weight, lm_head.weight.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <ram/config.hpp>
#include <ram/model.hpp>
#include <ram/nn.hpp>

namespace ram::models {

class LlamaLM : public ram::CausalLM {
 public:
  enum class Flavor { llama, qwen2 };
  LlamaLM(const ram::ConfigView& cfg, Flavor flavor);

  at::Tensor forward(const at::Tensor& ids, const at::Tensor& positions,
                     const at::Tensor& attention, ram::KVCache* cache) override;
  at::Tensor forward_last(const at::Tensor& ids, const at::Tensor& positions,
                          const at::Tensor& attention, ram::KVCache* cache) override;
  std::int64_t vocab_size() const override { return vocab_; }
  std::unique_ptr<ram::KVCache> make_cache(std::int64_t batch, std::int64_t capacity) override;
  std::string describe() const override;
  std::string hf_config_json() const override { return config_json_; }
  torch::Dtype dtype() const override { return dtype_; }

 private:
  // The layers and the final norm: hidden states [B,T,hidden].
  at::Tensor trunk(const at::Tensor& ids, const at::Tensor& positions,
                   const at::Tensor& attention, ram::KVCache* cache);
  struct Layer {
    at::Tensor in_norm, post_norm;
    at::Tensor q_w, q_b, k_w, k_b, v_w, v_b, o_w, o_b;
    at::Tensor gate_w, gate_b, up_w, up_b, down_w, down_b;
  };
  at::Tensor mlp(const Layer& l, const at::Tensor& x) const;

  Flavor flavor_;
  std::string source_, config_json_, act_;
  at::ScalarType dtype_ = at::kFloat;
  std::int64_t vocab_ = 0, hidden_ = 0, layers_n_ = 0, heads_ = 0, kv_heads_ = 0, head_dim_ = 0,
               intermediate_ = 0;
  double eps_ = 1e-6;
  bool tied_ = false;
  nn::Rotary rotary_;
  at::Tensor embed_, norm_, lm_head_;
  std::vector<Layer> layers_;
};

}  // namespace ram::models
