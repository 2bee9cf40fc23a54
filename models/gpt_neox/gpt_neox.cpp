// The `gpt_neox` model plugin: HF GPTNeoXForCausalLM (Pythia).
//
// Per layer (x [B,T,hidden]), LayerNorms ln1 = input_layernorm, ln2 = post_attention_layernorm:
//   a = dense(attn(ln1(x)))      with q, k, v from the fused query_key_value, which HF lays
//                                out per head: output [B,T,H,3·D] → q | k | v along the last
//                                axis; rotary on the first R = int(D · rotary_pct) dims
//   parallel (use_parallel_residual): x' = x + a + mlp(ln2(x))
//   serial:                           h = x + a;  x' = h + mlp(ln2(h))
//   mlp(y) = dense_4h_to_h(gelu(dense_h_to_4h(y)))
// logits = embed_out(final_layer_norm(x_L)).
// Names: gpt_neox.embed_in.weight, gpt_neox.layers.N.{input_layernorm,post_attention_layernorm}.
// {weight,bias}, gpt_neox.layers.N.attention.{query_key_value,dense}.{weight,bias},
// gpt_neox.layers.N.mlp.{dense_h_to_4h,dense_4h_to_h}.{weight,bias},
// gpt_neox.final_layer_norm.{weight,bias}, embed_out.weight.
#include <cmath>
#include <sstream>

#include <ATen/ATen.h>

#include <ram/config.hpp>
#include <ram/error.hpp>
#include <ram/model.hpp>
#include <ram/nn.hpp>
#include <ram/plugin.hpp>

#include "../common/hf_config.hpp"

namespace {

using ram::models::HfConfig;
using ram::models::Json;
namespace nn = ram::nn;

Json tiny_config(const ram::ConfigView& t, at::ScalarType dtype) {
  const auto heads = t.get<std::int64_t>("heads");
  if (t.has("kv_heads") && t.get<std::int64_t>("kv_heads") != heads) {
    throw ram::ConfigError("gpt_neox has no grouped-query attention: kv_heads must equal heads",
                           t.dotted("kv_heads"), "drop kv_heads");
  }
  Json j;
  j["architectures"] = {"GPTNeoXForCausalLM"};
  j["model_type"] = "gpt_neox";
  j["vocab_size"] = t.get<std::int64_t>("vocab");
  j["hidden_size"] = t.get<std::int64_t>("hidden");
  j["intermediate_size"] = t.get<std::int64_t>("intermediate");
  j["num_hidden_layers"] = t.get<std::int64_t>("layers");
  j["num_attention_heads"] = heads;
  j["hidden_act"] = "gelu";
  j["rotary_pct"] = t.get<double>("rotary_pct", 0.25);
  const double theta = t.get<double>("rope_theta", 10000.0);
  j["rotary_emb_base"] = theta;
  j["rope_theta"] = theta;
  j["rope_scaling"] = ram::models::tiny_rope_scaling(t);
  j["max_position_embeddings"] = t.get<std::int64_t>("max_positions", 2048);
  j["initializer_range"] = t.get<double>("init_std", 0.02);
  j["layer_norm_eps"] = t.get<double>("norm_eps", 1e-5);
  j["use_cache"] = true;
  j["bos_token_id"] = t.get<std::int64_t>("bos", 0);
  j["eos_token_id"] = t.get<std::int64_t>("eos", 0);
  j["tie_word_embeddings"] = t.get<bool>("tied", false);
  j["use_parallel_residual"] = t.get<bool>("parallel_residual", true);
  j["attention_bias"] = true;
  j["attention_dropout"] = 0.0;
  j["hidden_dropout"] = 0.0;
  j["classifier_dropout"] = 0.1;
  j["torch_dtype"] = ram::models::torch_dtype_name(dtype);
  j["transformers_version"] = "4.46.0";
  return j;
}

class GptNeoX : public ram::CausalLM {
 public:
  explicit GptNeoX(const ram::ConfigView& cfg);

  at::Tensor forward(const at::Tensor& ids, const at::Tensor& positions, const at::Tensor& attention,
                     ram::KVCache* cache) override;
  at::Tensor forward_last(const at::Tensor& ids, const at::Tensor& positions,
                          const at::Tensor& attention, ram::KVCache* cache) override;
  std::int64_t vocab_size() const override { return vocab_; }
  std::unique_ptr<ram::KVCache> make_cache(std::int64_t batch, std::int64_t capacity) override {
    return std::make_unique<nn::LayerKVCache>(layers_n_, batch, heads_, head_dim_, capacity, dtype_);
  }
  std::string describe() const override;
  std::string hf_config_json() const override { return config_json_; }
  torch::Dtype dtype() const override { return dtype_; }

 private:
  at::Tensor trunk(const at::Tensor& ids, const at::Tensor& positions, const at::Tensor& attention,
                   ram::KVCache* cache);
  struct Layer {
    at::Tensor ln1_w, ln1_b, ln2_w, ln2_b, qkv_w, qkv_b, dense_w, dense_b, up_w, up_b, down_w, down_b;
  };
  at::Tensor ln(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) const {
    return at::layer_norm(x, {hidden_}, w, b, eps_);
  }
  at::Tensor mlp(const Layer& l, const at::Tensor& x) const {
    at::Tensor u = nn::linear(x, l.up_w, l.up_b);
    u = act_ == "gelu" ? at::gelu(u) : act_ == "relu" ? at::relu(u) : at::gelu(u, "tanh");
    return nn::linear(u, l.down_w, l.down_b);
  }

  std::string source_, config_json_, act_;
  at::ScalarType dtype_ = at::kFloat;
  std::int64_t vocab_ = 0, hidden_ = 0, layers_n_ = 0, heads_ = 0, head_dim_ = 0, intermediate_ = 0;
  double eps_ = 1e-5;
  bool tied_ = false, parallel_ = true;
  nn::Rotary rotary_;
  at::Tensor embed_, final_w_, final_b_, embed_out_;
  std::vector<Layer> layers_;
};

GptNeoX::GptNeoX(const ram::ConfigView& cfg) {
  const auto pc = ram::models::read_plugin_config(cfg);
  dtype_ = pc.dtype;
  const bool tiny = pc.path.empty();
  std::uint64_t seed = 0;
  HfConfig hf = tiny ? HfConfig(tiny_config(pc.tiny, dtype_), "tiny model config") : HfConfig::read(pc.path);
  if (tiny) {
    seed = static_cast<std::uint64_t>(pc.tiny.get<std::int64_t>("seed", 0));
    pc.tiny.finish();
  }
  cfg.finish();
  source_ = tiny ? "tiny, seed " + std::to_string(seed) : pc.path;

  const std::string type = hf.get<std::string>("model_type");
  if (type != "gpt_neox") {
    hf.unsupported("model_type", "model_type '" + type + "' is not gpt_neox",
                   "load it with the '" + type + "' model plugin");
  }
  vocab_ = hf.get<std::int64_t>("vocab_size");
  hidden_ = hf.get<std::int64_t>("hidden_size");
  intermediate_ = hf.get<std::int64_t>("intermediate_size");
  layers_n_ = hf.get<std::int64_t>("num_hidden_layers");
  heads_ = hf.get<std::int64_t>("num_attention_heads");
  if (heads_ <= 0 || hidden_ % heads_ != 0) {
    hf.unsupported("num_attention_heads",
                   "hidden_size " + std::to_string(hidden_) + " is not divisible by num_attention_heads " +
                       std::to_string(heads_),
                   "fix config.json");
  }
  head_dim_ = hidden_ / heads_;
  eps_ = hf.get<double>("layer_norm_eps", 1e-5);
  act_ = hf.get<std::string>("hidden_act", "gelu");
  if (act_ != "gelu" && act_ != "relu" && act_ != "gelu_new" && act_ != "gelu_pytorch_tanh") {
    hf.unsupported("hidden_act", "hidden_act '" + act_ + "' is not supported",
                   "supported: gelu, gelu_new, gelu_pytorch_tanh, relu");
  }
  tied_ = hf.get<bool>("tie_word_embeddings", false);
  parallel_ = hf.get<bool>("use_parallel_residual", true);
  if (!hf.get<bool>("attention_bias", true)) {
    hf.unsupported("attention_bias", "attention_bias false is not supported", "Pythia uses true");
  }
  const double pct = hf.get<double>("rotary_pct", hf.get<double>("partial_rotary_factor", 0.25));
  const auto rot = static_cast<std::int64_t>(static_cast<double>(head_dim_) * pct);
  const double theta = hf.has("rotary_emb_base") ? hf.get<double>("rotary_emb_base")
                                                 : hf.get<double>("rope_theta", 10000.0);
  rotary_ = nn::Rotary(hf.rope(theta, rot));
  config_json_ = hf.json().dump(2) + "\n";

  const auto opts = at::TensorOptions().dtype(dtype_);
  auto param = [&](const std::string& name, at::IntArrayRef shape) {
    return nn::register_param(*this, name, at::zeros(shape, opts));
  };
  embed_ = param("gpt_neox.embed_in.weight", {vocab_, hidden_});
  for (std::int64_t i = 0; i < layers_n_; ++i) {
    const std::string p = "gpt_neox.layers." + std::to_string(i) + ".";
    Layer l;
    l.ln1_w = param(p + "input_layernorm.weight", {hidden_});
    l.ln1_b = param(p + "input_layernorm.bias", {hidden_});
    l.ln2_w = param(p + "post_attention_layernorm.weight", {hidden_});
    l.ln2_b = param(p + "post_attention_layernorm.bias", {hidden_});
    l.qkv_w = param(p + "attention.query_key_value.weight", {3 * hidden_, hidden_});
    l.qkv_b = param(p + "attention.query_key_value.bias", {3 * hidden_});
    l.dense_w = param(p + "attention.dense.weight", {hidden_, hidden_});
    l.dense_b = param(p + "attention.dense.bias", {hidden_});
    l.up_w = param(p + "mlp.dense_h_to_4h.weight", {intermediate_, hidden_});
    l.up_b = param(p + "mlp.dense_h_to_4h.bias", {intermediate_});
    l.down_w = param(p + "mlp.dense_4h_to_h.weight", {hidden_, intermediate_});
    l.down_b = param(p + "mlp.dense_4h_to_h.bias", {hidden_});
    layers_.push_back(l);
  }
  final_w_ = param("gpt_neox.final_layer_norm.weight", {hidden_});
  final_b_ = param("gpt_neox.final_layer_norm.bias", {hidden_});
  if (!tied_) embed_out_ = param("embed_out.weight", {vocab_, hidden_});

  if (tiny) {
    // HF _init_weights: Linear/Embedding weights ~ N(0, initializer_range), biases 0,
    // LayerNorm weight 1 and bias 0.
    ram::models::TinyInit init(seed, hf.get<double>("initializer_range", 0.02));
    at::NoGradGuard no_grad;
    for (auto& item : named_parameters()) {
      const std::string& n = item.key();
      const bool norm = n.find("layernorm") != std::string::npos || n.find("layer_norm") != std::string::npos;
      const bool bias = n.size() > 5 && n.compare(n.size() - 5, 5, ".bias") == 0;
      if (bias) {
        item.value().zero_();
      } else if (norm) {
        item.value().fill_(1.0);
      } else {
        init.normal(item.value());
      }
    }
  } else {
    std::vector<std::string> ignore_names;
    if (tied_) ignore_names.push_back("embed_out.weight");
    // Old Pythia checkpoints carry the causal-mask and rotary buffers.
    nn::load_weights(*this, pc.path, {"rotary_emb.inv_freq", "attention.bias", "attention.masked_bias"},
                     ignore_names);
  }
}

at::Tensor GptNeoX::forward(const at::Tensor& ids, const at::Tensor& positions, const at::Tensor& attention,
                            ram::KVCache* cache) {
  return nn::linear(trunk(ids, positions, attention, cache), tied_ ? embed_ : embed_out_)
      .to(at::kFloat);
}

at::Tensor GptNeoX::forward_last(const at::Tensor& ids, const at::Tensor& positions,
                                 const at::Tensor& attention, ram::KVCache* cache) {
  const at::Tensor h = trunk(ids, positions, attention, cache);
  return nn::linear(h.select(1, h.size(1) - 1), tied_ ? embed_ : embed_out_).to(at::kFloat);
}

// The layers and the final norm: hidden states [B,T,hidden].
at::Tensor GptNeoX::trunk(const at::Tensor& ids, const at::Tensor& positions, const at::Tensor& attention,
                          ram::KVCache* cache) {
  if (ids.dim() != 2 || positions.sizes() != ids.sizes() || attention.sizes() != ids.sizes()) {
    throw ram::DataError("forward: ids " + nn::shape_str(ids.sizes()) + ", positions " +
                             nn::shape_str(positions.sizes()) + " and attention " +
                             nn::shape_str(attention.sizes()) + " must all be [B,T]",
                         describe(), "pass int64 tensors of one shape");
  }
  nn::LayerKVCache* kv = nullptr;
  if (cache != nullptr) {
    kv = dynamic_cast<nn::LayerKVCache*>(cache);
    if (kv == nullptr || kv->layers() != layers_n_) {
      throw ram::DataError("forward: the KV cache was not made by this model", describe(),
                           "use the cache from this model's make_cache()");
    }
  }
  const auto B = ids.size(0), T = ids.size(1), D = head_dim_;
  const at::Tensor key_valid = kv ? kv->begin(attention) : attention;
  const at::Tensor allowed = nn::causal_mask(key_valid, T);
  const auto [cos, sin] = rotary_.cos_sin(positions, dtype_);
  const double scale = 1.0 / std::sqrt(static_cast<double>(D));

  at::Tensor h = at::embedding(embed_, ids);
  for (std::int64_t i = 0; i < layers_n_; ++i) {
    const Layer& l = layers_[static_cast<std::size_t>(i)];
    at::Tensor qkv = nn::linear(ln(h, l.ln1_w, l.ln1_b), l.qkv_w, l.qkv_b)
                         .view({B, T, heads_, 3 * D})
                         .transpose(1, 2);  // [B,H,T,3D]
    at::Tensor q = nn::Rotary::apply(qkv.narrow(-1, 0, D), cos, sin);
    at::Tensor k = nn::Rotary::apply(qkv.narrow(-1, D, D), cos, sin);
    at::Tensor v = qkv.narrow(-1, 2 * D, D);
    if (kv) std::tie(k, v) = kv->store(i, k, v);
    at::Tensor a = nn::linear(nn::attention(q, k, v, allowed, scale), l.dense_w, l.dense_b);
    if (parallel_) {
      h = mlp(l, ln(h, l.ln2_w, l.ln2_b)) + a + h;
    } else {
      at::Tensor r = a + h;
      h = mlp(l, ln(r, l.ln2_w, l.ln2_b)) + r;
    }
  }
  if (kv) kv->end();
  return ln(h, final_w_, final_b_);
}

std::string GptNeoX::describe() const {
  std::ostringstream s;
  s << "gpt_neox (" << source_ << "): " << layers_n_ << " layers, hidden " << hidden_ << ", heads " << heads_
    << ", rotary " << rotary_.dim() << "/" << head_dim_ << (parallel_ ? ", parallel residual" : "")
    << ", vocab " << vocab_ << ", " << (dtype_ == at::kBFloat16 ? "bf16" : "f32");
  return s.str();
}

}  // namespace

RAM_MODEL_PLUGIN("gpt_neox", "1.0.0",
                 "HF GPTNeoXForCausalLM (Pythia): LayerNorm, fused QKV, partial rotary, parallel residual",
                 GptNeoX)
