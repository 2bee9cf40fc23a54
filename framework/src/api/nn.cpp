// Shared transformer building blocks (ram/nn.hpp): HF numerics, no per-token allocation in
// the KV cache, batch-1 GEMV and the skinny kernel (skinny_gemm.cpp) for float32 linears.
#include "ram/nn.hpp"

#include "attention_blocks.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cmath>
#include <limits>
#include <set>
#include <sstream>

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include "ram/error.hpp"
#include "ram/safetensors.hpp"

namespace ram::nn {

std::string shape_str(at::IntArrayRef shape) {
  std::ostringstream s;
  s << '[';
  for (std::size_t i = 0; i < shape.size(); ++i) s << (i ? ", " : "") << shape[i];
  s << ']';
  return s.str();
}

namespace {
std::atomic<bool>& gemv_flag() {
  static std::atomic<bool> flag([] {
    const char* env = std::getenv("RAM_NN_GEMV");
    return env == nullptr || std::string(env) != "0";
  }());
  return flag;
}
}  // namespace

void set_linear_gemv(bool enabled) { gemv_flag() = enabled; }
bool linear_gemv() { return gemv_flag(); }

namespace {
std::atomic<bool>& skinny_flag() {
  static std::atomic<bool> flag([] {
    const char* env = std::getenv("RAM_NN_SKINNY");
    return env == nullptr || std::string(env) != "0";
  }());
  return flag;
}
}  // namespace

void set_linear_skinny(bool enabled) { skinny_flag() = enabled; }
bool linear_skinny() { return skinny_flag(); }

at::Tensor linear(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) {
  const auto in = x.size(-1);
  if (x.scalar_type() == at::kFloat && w.scalar_type() == at::kFloat && w.dim() == 2 &&
      in > 0 && w.size(1) == in && w.stride(1) == 1 && x.device().is_cpu() &&
      w.device().is_cpu() && (!b.defined() || (b.scalar_type() == at::kFloat && b.dim() == 1)) &&
      skinny_flag().load(std::memory_order_relaxed) && skinny_available()) {
    const auto rows = x.numel() / in;
    const bool grad = at::GradMode::is_enabled() &&
                      (x.requires_grad() || w.requires_grad() || (b.defined() && b.requires_grad()));
    if (rows >= kSkinnyMinRows && rows <= kSkinnyMaxRows && !grad) return skinny_linear(x, w, b);
  }
  if (x.scalar_type() == at::kFloat && w.scalar_type() == at::kFloat && x.numel() == in &&
      gemv_flag().load(std::memory_order_relaxed)) {
    // One row: GEMV streams the weight at memory bandwidth, sgemm with m = 1 does not.
    at::Tensor row = x.reshape({in});
    at::Tensor y = b.defined() ? at::addmv(b, w, row) : at::mv(w, row);
    std::vector<std::int64_t> shape(x.sizes().begin(), x.sizes().end());
    shape.back() = w.size(0);
    return y.view(shape);
  }
  return at::linear(x, w, b);
}

at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight, double eps) {
  at::Tensor xf = x.to(at::kFloat);
  at::Tensor variance = xf.pow(2).mean(-1, /*keepdim=*/true);
  xf = xf * at::rsqrt(variance + eps);
  return weight * xf.to(x.scalar_type());
}

at::Tensor rope_inv_freq(const RopeSpec& spec) {
  if (spec.dim <= 0 || spec.dim % 2 != 0) {
    throw ConfigError("rotary dimension must be a positive even number, got " +
                          std::to_string(spec.dim),
                      "rope", "check head_dim and the partial rotary factor (rotary_pct)");
  }
  // _compute_default_rope_parameters: 1 / base^(arange(0, dim, 2) / dim), float32.
  at::Tensor exponent = at::arange(0, spec.dim, 2, at::kLong).to(at::kFloat) / static_cast<double>(spec.dim);
  at::Tensor inv_freq = at::reciprocal(at::pow(at::Scalar(spec.theta), exponent));
  if (spec.type == "default") return inv_freq;
  if (spec.type == "linear") return inv_freq / spec.factor;
  if (spec.type == "llama3") {
    // _compute_llama3_parameters (transformers modeling_rope_utils.py).
    const double factor = spec.factor, low = spec.low_freq_factor, high = spec.high_freq_factor;
    const double old_ctx = static_cast<double>(spec.original_max_position_embeddings);
    const double low_freq_wavelen = old_ctx / low, high_freq_wavelen = old_ctx / high;
    at::Tensor wavelen = at::reciprocal(inv_freq) * (2 * M_PI);
    at::Tensor llama = at::where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq);
    at::Tensor smooth = (at::reciprocal(wavelen) * old_ctx - low) / (high - low);
    at::Tensor smoothed = (1 - smooth) * llama / factor + smooth * llama;
    at::Tensor medium = at::logical_not(wavelen < high_freq_wavelen)
                            .logical_and(at::logical_not(wavelen > low_freq_wavelen));
    return at::where(medium, smoothed, llama);
  }
  throw ConfigError("rope_scaling type '" + spec.type + "' is not supported", "rope_scaling",
                    "supported: none, linear, llama3");
}

Rotary::Rotary(const RopeSpec& spec) : inv_freq_(rope_inv_freq(spec)), dim_(spec.dim) {}

std::pair<at::Tensor, at::Tensor> Rotary::cos_sin(const at::Tensor& positions,
                                                  at::ScalarType dtype) const {
  // freqs[b,t,i] = positions[b,t] · inv_freq[i] in float32 (HF: inv_freq @ positions).
  at::Tensor freqs = positions.to(at::kFloat).unsqueeze(-1) * inv_freq_;  // [B,T,R/2]
  at::Tensor emb = at::cat({freqs, freqs}, -1);                            // [B,T,R]
  return {emb.cos().to(dtype).unsqueeze(1), emb.sin().to(dtype).unsqueeze(1)};
}

namespace {
at::Tensor rotate_half(const at::Tensor& x) {
  const auto half = x.size(-1) / 2;
  return at::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
}
}  // namespace

at::Tensor Rotary::apply(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  const auto R = cos.size(-1), D = x.size(-1);
  if (R == D) return x * cos + rotate_half(x) * sin;
  at::Tensor rot = x.narrow(-1, 0, R);
  return at::cat({rot * cos + rotate_half(rot) * sin, x.narrow(-1, R, D - R)}, -1);
}

LayerKVCache::LayerKVCache(std::int64_t layers, std::int64_t batch, std::int64_t kv_heads,
                           std::int64_t head_dim, std::int64_t capacity, at::ScalarType dtype)
    : batch_(batch), capacity_(capacity) {
  if (layers <= 0 || batch <= 0 || capacity <= 0) {
    throw DataError("KV cache needs layers, batch and capacity > 0 (got " + std::to_string(layers) +
                        ", " + std::to_string(batch) + ", " + std::to_string(capacity) + ")",
                    "make_cache", "pass the batch size and the maximum tokens per row");
  }
  // Normal (not inference) tensors even when made inside InferenceMode, so that forwards
  // both inside and outside InferenceMode may write into them.
  c10::InferenceMode not_inference(false);
  const auto opts = at::TensorOptions().dtype(dtype);
  for (std::int64_t l = 0; l < layers; ++l) {
    k_.push_back(at::zeros({batch, kv_heads, capacity, head_dim}, opts));
    v_.push_back(at::zeros({batch, kv_heads, capacity, head_dim}, opts));
  }
  mask_ = at::zeros({batch, capacity}, at::kBool);
}

void LayerKVCache::reset(std::int64_t slot) {
  if (slot < 0 || slot >= batch_) {
    throw DataError("KV cache slot " + std::to_string(slot) + " out of range", "reset",
                    "slots are 0.." + std::to_string(batch_ - 1));
  }
  mask_[slot].fill_(false);
}

void LayerKVCache::clear() {
  length_ = 0;
  pending_ = 0;
  mask_.fill_(false);
}

at::Tensor LayerKVCache::begin(const at::Tensor& attention) {
  if (attention.dim() != 2 || attention.size(0) != batch_) {
    throw DataError("attention mask " + shape_str(attention.sizes()) + " does not match the KV cache batch " +
                        std::to_string(batch_),
                    "forward", "make the cache with the batch size of the forward calls");
  }
  const auto T = attention.size(1);
  if (length_ + T > capacity_) {
    throw DataError("KV cache full: " + std::to_string(length_) + " cached + " + std::to_string(T) +
                        " new tokens > capacity " + std::to_string(capacity_),
                    "forward", "make the cache with a larger capacity (prompt + new tokens)");
  }
  pending_ = T;
  mask_.narrow(1, length_, T).copy_(attention);
  return mask_.narrow(1, 0, length_ + T);
}

std::pair<at::Tensor, at::Tensor> LayerKVCache::store(std::int64_t layer, const at::Tensor& k,
                                                      const at::Tensor& v) {
  at::Tensor& K = k_[static_cast<std::size_t>(layer)];
  at::Tensor& V = v_[static_cast<std::size_t>(layer)];
  K.narrow(2, length_, pending_).copy_(k);
  V.narrow(2, length_, pending_).copy_(v);
  return {K.narrow(2, 0, length_ + pending_), V.narrow(2, 0, length_ + pending_)};
}

void LayerKVCache::end() {
  length_ += pending_;
  pending_ = 0;
}

at::Tensor causal_mask(const at::Tensor& key_valid, std::int64_t T) {
  const auto S = key_valid.size(1), P = S - T;
  at::Tensor keys = at::arange(S, at::kLong);                       // [S]
  at::Tensor queries = at::arange(P, S, at::kLong).unsqueeze(1);    // [T,1]
  at::Tensor causal = keys.unsqueeze(0) <= queries;                 // [T,S]
  at::Tensor valid = key_valid.to(at::kBool).unsqueeze(1).unsqueeze(1);  // [B,1,1,S]
  return causal.unsqueeze(0).unsqueeze(0).logical_and(valid);       // [B,1,T,S]
}

at::Tensor attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                     const at::Tensor& allowed, double scale) {
  const auto B = q.size(0), H = q.size(1), T = q.size(2), D = q.size(3);
  const auto G = k.size(1), S = k.size(2);
  if (H % G != 0) {
    throw DataError("attention: " + std::to_string(H) + " query heads are not a multiple of " +
                        std::to_string(G) + " kv heads",
                    "attention", "check num_key_value_heads");
  }
  const auto rep = H / G;
  // GQA without copying K/V: query heads of one group stacked along the row axis.
  at::Tensor qg = q.reshape({B, G, rep * T, D});
  const bool blocks = detail::attention_blocks_ok(q, k, v);  // f32 CPU, no grad: own kernels
  at::Tensor scores = blocks ? detail::attention_scores(qg, k, scale)
                             : at::matmul(qg, k.transpose(2, 3)) * scale;  // [B,G,rep·T,S]
  scores = scores.view({B, H, T, S});
  const double lowest = q.scalar_type() == at::kBFloat16
                            ? static_cast<double>(std::numeric_limits<c10::BFloat16>::lowest())
                        : q.scalar_type() == at::kHalf
                            ? static_cast<double>(std::numeric_limits<c10::Half>::lowest())
                            : static_cast<double>(std::numeric_limits<float>::lowest());
  scores = scores.masked_fill(allowed.logical_not(), lowest);
  at::Tensor probs = at::softmax(scores, -1, at::kFloat).to(q.scalar_type());
  at::Tensor out = blocks ? detail::attention_values(probs.view({B, G, rep * T, S}), v)
                          : at::matmul(probs.view({B, G, rep * T, S}), v);  // [B,G,rep·T,D]
  return out.view({B, H, T, D}).transpose(1, 2).reshape({B, T, H * D});
}

}  // namespace ram::nn

namespace ram::nn {

at::Tensor register_param(torch::nn::Module& root, const std::string& dotted, at::Tensor value) {
  torch::nn::Module* m = &root;
  std::size_t start = 0;
  for (std::size_t dot = dotted.find('.'); dot != std::string::npos; dot = dotted.find('.', start)) {
    const std::string part = dotted.substr(start, dot - start);
    std::shared_ptr<torch::nn::Module> child;
    for (const auto& item : m->named_children()) {
      if (item.key() == part) child = item.value();
    }
    if (!child) child = m->register_module(part, std::make_shared<torch::nn::Module>(part));
    m = child.get();
    start = dot + 1;
  }
  return m->register_parameter(dotted.substr(start), std::move(value));
}

namespace {
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

void load_weights(torch::nn::Module& model, const std::filesystem::path& dir,
                  const std::vector<std::string>& ignore_suffixes,
                  const std::vector<std::string>& ignore_names) {
  const auto archive = ram::safetensors::Archive::open(dir);
  std::vector<std::string> problems;
  std::set<std::string> used;
  at::NoGradGuard no_grad;
  for (auto& item : model.named_parameters()) {
    const std::string& name = item.key();
    at::Tensor& param = item.value();
    if (!archive.contains(name)) {
      problems.push_back("tensor '" + name + "' " + shape_str(param.sizes()) + " is missing");
      continue;
    }
    used.insert(name);
    const auto& info = archive.info(name);
    if (at::IntArrayRef(info.shape) != param.sizes()) {
      problems.push_back("tensor '" + name + "' has shape " + shape_str(info.shape) + " in " +
                         info.file.string() + ", the model expects " + shape_str(param.sizes()));
      continue;
    }
    param.copy_(archive.get(name));
  }
  for (const auto& name : archive.names()) {
    if (used.count(name)) continue;
    bool ignored = std::find(ignore_names.begin(), ignore_names.end(), name) != ignore_names.end();
    for (const auto& s : ignore_suffixes) ignored = ignored || ends_with(name, s);
    if (!ignored) {
      problems.push_back("unexpected tensor '" + name + "' in " + archive.info(name).file.string());
    }
  }
  if (problems.empty()) return;
  std::string what = "checkpoint does not match the model config: ";
  for (std::size_t i = 0; i < problems.size(); ++i) what += (i ? "; " : "") + problems[i];
  throw FormatError(what, dir.string(),
                    "the tensors must be exactly those config.json describes (HF names and shapes)");
}

}  // namespace ram::nn
