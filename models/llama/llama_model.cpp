// LlamaForCausalLM / Qwen2ForCausalLM from config.json + safetensors or from a tiny spec.
#include "llama_model.hpp"

#include <cmath>
#include <sstream>

#include <ATen/ATen.h>

#include <ram/error.hpp>

#include "../common/hf_config.hpp"

namespace ram::models {

namespace {

const char* flavor_name(LlamaLM::Flavor f) { return f == LlamaLM::Flavor::qwen2 ? "qwen2" : "llama"; }

// tiny: {...} → config.json as transformers writes it for LlamaConfig / Qwen2Config.
Json tiny_config(const ConfigView& t, LlamaLM::Flavor flavor, at::ScalarType dtype) {
  const bool qwen = flavor == LlamaLM::Flavor::qwen2;
  const auto hidden = t.get<std::int64_t>("hidden");
  const auto heads = t.get<std::int64_t>("heads");
  const auto layers = t.get<std::int64_t>("layers");
  Json j;
  j["architectures"] = {qwen ? "Qwen2ForCausalLM" : "LlamaForCausalLM"};
  j["model_type"] = flavor_name(flavor);
  j["vocab_size"] = t.get<std::int64_t>("vocab");
  j["hidden_size"] = hidden;
  j["intermediate_size"] = t.get<std::int64_t>("intermediate");
  j["num_hidden_layers"] = layers;
  j["num_attention_heads"] = heads;
  j["num_key_value_heads"] = t.get<std::int64_t>("kv_heads", heads);
  if (!qwen && t.has("head_dim")) j["head_dim"] = t.get<std::int64_t>("head_dim");
  j["hidden_act"] = "silu";
  j["max_position_embeddings"] = t.get<std::int64_t>("max_positions", 2048);
  j["initializer_range"] = t.get<double>("init_std", 0.02);
  j["rms_norm_eps"] = t.get<double>("norm_eps", qwen ? 1e-6 : 1e-5);
  j["use_cache"] = true;
  j["bos_token_id"] = t.get<std::int64_t>("bos", 1);
  j["eos_token_id"] = t.get<std::int64_t>("eos", 2);
  j["tie_word_embeddings"] = t.get<bool>("tied", false);
  j["rope_theta"] = t.get<double>("rope_theta", qwen ? 1000000.0 : 10000.0);
  j["rope_scaling"] = tiny_rope_scaling(t);
  j["attention_dropout"] = 0.0;
  if (qwen) {
    j["use_sliding_window"] = false;
    j["sliding_window"] = j["max_position_embeddings"];
    j["max_window_layers"] = layers;
  } else {
    j["attention_bias"] = false;
    j["mlp_bias"] = false;
    j["pretraining_tp"] = 1;
  }
  j["torch_dtype"] = torch_dtype_name(dtype);
  j["transformers_version"] = "4.46.0";
  return j;
}

}  // namespace

LlamaLM::LlamaLM(const ConfigView& cfg, Flavor flavor) : flavor_(flavor) {
  const PluginConfig pc = read_plugin_config(cfg);
  dtype_ = pc.dtype;
  std::uint64_t seed = 0;
  const bool tiny = pc.path.empty();
  HfConfig hf = tiny ? HfConfig(tiny_config(pc.tiny, flavor, dtype_), "tiny model config")
                     : HfConfig::read(pc.path);
  if (tiny) {
    seed = static_cast<std::uint64_t>(pc.tiny.get<std::int64_t>("seed", 0));
    pc.tiny.finish();
  }
  cfg.finish();
  source_ = tiny ? "tiny, seed " + std::to_string(seed) : pc.path;

  const std::string type = hf.get<std::string>("model_type");
  if (type != flavor_name(flavor)) {
    hf.unsupported("model_type", "model_type '" + type + "' is not " + flavor_name(flavor),
                   std::string("load it with the '") + type + "' model plugin");
  }
  vocab_ = hf.get<std::int64_t>("vocab_size");
  hidden_ = hf.get<std::int64_t>("hidden_size");
  intermediate_ = hf.get<std::int64_t>("intermediate_size");
  layers_n_ = hf.get<std::int64_t>("num_hidden_layers");
  heads_ = hf.get<std::int64_t>("num_attention_heads");
  kv_heads_ = hf.get<std::int64_t>("num_key_value_heads", heads_);
  if (heads_ <= 0 || kv_heads_ <= 0 || heads_ % kv_heads_ != 0) {
    hf.unsupported("num_key_value_heads",
                   "num_attention_heads " + std::to_string(heads_) + " is not a multiple of num_key_value_heads " +
                       std::to_string(kv_heads_),
                   "fix config.json");
  }
  if (!hf.has("head_dim") && hidden_ % heads_ != 0) {
    hf.unsupported("num_attention_heads",
                   "hidden_size " + std::to_string(hidden_) + " is not divisible by num_attention_heads " +
                       std::to_string(heads_),
                   "fix config.json (or give head_dim)");
  }
  head_dim_ = hf.get<std::int64_t>("head_dim", hidden_ / heads_);
  eps_ = hf.get<double>("rms_norm_eps", 1e-6);
  act_ = hf.get<std::string>("hidden_act", "silu");
  if (act_ != "silu" && act_ != "gelu" && act_ != "relu" && act_ != "gelu_pytorch_tanh" && act_ != "gelu_new") {
    hf.unsupported("hidden_act", "hidden_act '" + act_ + "' is not supported",
                   "supported: silu, gelu, gelu_new, gelu_pytorch_tanh, relu");
  }
  tied_ = hf.get<bool>("tie_word_embeddings", false);
  bool qkv_bias = false, o_bias = false, mlp_bias = false;
  if (flavor == Flavor::qwen2) {
    qkv_bias = true;
    if (hf.get<bool>("use_sliding_window", false)) {
      hf.unsupported("use_sliding_window", "sliding-window attention is not supported",
                     "set use_sliding_window to false (Qwen2.5 ships it false)");
    }
  } else {
    qkv_bias = o_bias = hf.get<bool>("attention_bias", false);
    mlp_bias = hf.get<bool>("mlp_bias", false);
  }
  rotary_ = nn::Rotary(hf.rope(hf.get<double>("rope_theta", 10000.0), head_dim_));
  config_json_ = hf.json().dump(2) + "\n";

  // Parameters, in HF's order and names.
  const auto opts = at::TensorOptions().dtype(dtype_);
  auto param = [&](const std::string& name, at::IntArrayRef shape) {
    return nn::register_param(*this, name, at::zeros(shape, opts));
  };
  embed_ = param("model.embed_tokens.weight", {vocab_, hidden_});
  for (std::int64_t i = 0; i < layers_n_; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    Layer l;
    const auto q_out = heads_ * head_dim_, kv_out = kv_heads_ * head_dim_;
    l.q_w = param(p + "self_attn.q_proj.weight", {q_out, hidden_});
    if (qkv_bias) l.q_b = param(p + "self_attn.q_proj.bias", {q_out});
    l.k_w = param(p + "self_attn.k_proj.weight", {kv_out, hidden_});
    if (qkv_bias) l.k_b = param(p + "self_attn.k_proj.bias", {kv_out});
    l.v_w = param(p + "self_attn.v_proj.weight", {kv_out, hidden_});
    if (qkv_bias) l.v_b = param(p + "self_attn.v_proj.bias", {kv_out});
    l.o_w = param(p + "self_attn.o_proj.weight", {hidden_, q_out});
    if (o_bias) l.o_b = param(p + "self_attn.o_proj.bias", {hidden_});
    l.gate_w = param(p + "mlp.gate_proj.weight", {intermediate_, hidden_});
    if (mlp_bias) l.gate_b = param(p + "mlp.gate_proj.bias", {intermediate_});
    l.up_w = param(p + "mlp.up_proj.weight", {intermediate_, hidden_});
    if (mlp_bias) l.up_b = param(p + "mlp.up_proj.bias", {intermediate_});
    l.down_w = param(p + "mlp.down_proj.weight", {hidden_, intermediate_});
    if (mlp_bias) l.down_b = param(p + "mlp.down_proj.bias", {hidden_});
    l.in_norm = param(p + "input_layernorm.weight", {hidden_});
    l.post_norm = param(p + "post_attention_layernorm.weight", {hidden_});
    layers_.push_back(l);
  }
  norm_ = param("model.norm.weight", {hidden_});
  if (!tied_) lm_head_ = param("lm_head.weight", {vocab_, hidden_});

  if (tiny) {
    // HF _init_weights: Linear and Embedding weights ~ N(0, initializer_range), biases 0,
    // RMSNorm weights 1.
    TinyInit init(seed, hf.get<double>("initializer_range", 0.02));
    at::NoGradGuard no_grad;
    for (auto& item : named_parameters()) {
      const std::string& n = item.key();
      if (n.find("norm") != std::string::npos) {
        item.value().fill_(1.0);
      } else if (n.size() > 5 && n.compare(n.size() - 5, 5, ".bias") == 0) {
        item.value().zero_();
      } else {
        init.normal(item.value());
      }
    }
  } else {
    std::vector<std::string> ignore_names;
    if (tied_) ignore_names.push_back("lm_head.weight");  // HF ties it; the file may carry a copy
    nn::load_weights(*this, pc.path, {"rotary_emb.inv_freq"}, ignore_names);
  }
}

at::Tensor LlamaLM::mlp(const Layer& l, const at::Tensor& x) const {
  at::Tensor gate = nn::linear(x, l.gate_w, l.gate_b);
  if (act_ == "silu") {
    gate = at::silu(gate);
  } else if (act_ == "gelu") {
    gate = at::gelu(gate);
  } else if (act_ == "relu") {
    gate = at::relu(gate);
  } else {
    gate = at::gelu(gate, "tanh");
  }
  return nn::linear(gate * nn::linear(x, l.up_w, l.up_b), l.down_w, l.down_b);
}

at::Tensor LlamaLM::forward(const at::Tensor& ids, const at::Tensor& positions,
                            const at::Tensor& attention, ram::KVCache* cache) {
  return nn::linear(trunk(ids, positions, attention, cache), tied_ ? embed_ : lm_head_)
      .to(at::kFloat);
}

at::Tensor LlamaLM::forward_last(const at::Tensor& ids, const at::Tensor& positions,
                                 const at::Tensor& attention, ram::KVCache* cache) {
  const at::Tensor h = trunk(ids, positions, attention, cache);
  return nn::linear(h.select(1, h.size(1) - 1), tied_ ? embed_ : lm_head_).to(at::kFloat);
}

at::Tensor LlamaLM::trunk(const at::Tensor& ids, const at::Tensor& positions,
                          const at::Tensor& attention, ram::KVCache* cache) {
  if (ids.dim() != 2 || positions.sizes() != ids.sizes() || attention.sizes() != ids.sizes()) {
    throw DataError("forward: ids " + nn::shape_str(ids.sizes()) + ", positions " +
                        nn::shape_str(positions.sizes()) + " and attention " +
                        nn::shape_str(attention.sizes()) + " must all be [B,T]",
                    describe(), "pass int64 tensors of one shape");
  }
  nn::LayerKVCache* kv = nullptr;
  if (cache != nullptr) {
    kv = dynamic_cast<nn::LayerKVCache*>(cache);
    if (kv == nullptr || kv->layers() != layers_n_) {
      throw DataError("forward: the KV cache was not made by this model", describe(),
                      "use the cache from this model's make_cache()");
    }
  }
  const auto B = ids.size(0), T = ids.size(1);
  const at::Tensor key_valid = kv ? kv->begin(attention) : attention;
  const at::Tensor allowed = nn::causal_mask(key_valid, T);
  const auto [cos, sin] = rotary_.cos_sin(positions, dtype_);
  const double scale = 1.0 / std::sqrt(static_cast<double>(head_dim_));

  at::Tensor h = at::embedding(embed_, ids);
  for (std::int64_t i = 0; i < layers_n_; ++i) {
    const Layer& l = layers_[static_cast<std::size_t>(i)];
    at::Tensor x = nn::rms_norm(h, l.in_norm, eps_);
    at::Tensor q = nn::linear(x, l.q_w, l.q_b).view({B, T, heads_, head_dim_}).transpose(1, 2);
    at::Tensor k = nn::linear(x, l.k_w, l.k_b).view({B, T, kv_heads_, head_dim_}).transpose(1, 2);
    at::Tensor v = nn::linear(x, l.v_w, l.v_b).view({B, T, kv_heads_, head_dim_}).transpose(1, 2);
    q = nn::Rotary::apply(q, cos, sin);
    k = nn::Rotary::apply(k, cos, sin);
    if (kv) std::tie(k, v) = kv->store(i, k, v);
    at::Tensor a = nn::attention(q, k, v, allowed, scale);
    h = h + nn::linear(a, l.o_w, l.o_b);
    h = h + mlp(l, nn::rms_norm(h, l.post_norm, eps_));
  }
  if (kv) kv->end();
  return nn::rms_norm(h, norm_, eps_);
}

std::unique_ptr<ram::KVCache> LlamaLM::make_cache(std::int64_t batch, std::int64_t capacity) {
  return std::make_unique<nn::LayerKVCache>(layers_n_, batch, kv_heads_, head_dim_, capacity, dtype_);
}

std::string LlamaLM::describe() const {
  std::ostringstream s;
  s << flavor_name(flavor_) << " (" << source_ << "): " << layers_n_ << " layers, hidden " << hidden_
    << ", heads " << heads_ << "/" << kv_heads_ << ", vocab " << vocab_ << (tied_ ? ", tied" : "")
    << ", " << (dtype_ == at::kBFloat16 ? "bf16" : "f32");
  return s.str();
}

}  // namespace ram::models
