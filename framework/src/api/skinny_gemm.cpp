// skinny_gemm.cpp — the skinny matrix products of ram/nn.hpp: nn::skinny_linear (W as it
// is) and nn::PackedLinear (W packed once): checks, packing, threading over ATen's pool,
// and the run-time CPU check; the kernels are in skinny_gemm_avx512.cpp.
#include "skinny_gemm.hpp"
#include "attention_blocks.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <c10/util/intrusive_ptr.h>

#include "ram/error.hpp"
#include "ram/nn.hpp"

namespace ram::nn {

namespace detail {

bool skinny_kernel_available() {
#if defined(RAM_SKINNY_AVX512) && (defined(__GNUC__) || defined(__clang__))
  static const bool ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
  return ok;
#else
  return false;
#endif
}

void skinny_pack_weight(const float* w, std::int64_t N, std::int64_t K, std::int64_t ldw,
                        float* packed) {
  const std::int64_t panels = (N + kSkinnyPanel - 1) / kSkinnyPanel;
  at::parallel_for(0, panels, 1, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t p = begin; p < end; ++p) {
      float* dst = packed + p * K * kSkinnyPanel;
      const std::int64_t n0 = p * kSkinnyPanel;
      const std::int64_t cols = std::min(kSkinnyPanel, N - n0);
      if (cols < kSkinnyPanel) std::fill(dst, dst + K * kSkinnyPanel, 0.0f);
      for (std::int64_t j = 0; j < cols; ++j) {
        const float* src = w + (n0 + j) * ldw;
        for (std::int64_t k = 0; k < K; ++k) dst[k * kSkinnyPanel + j] = src[k];
      }
    }
  });
}

void skinny_pack_x(const float* x, std::int64_t m, std::int64_t K, std::int64_t ldx, float* xp) {
  const std::int64_t tiles = skinny_tiles(m);
  for (std::int64_t t = 0; t < tiles; ++t) {
    const std::int64_t r0 = skinny_tile_start(m, t), rows = skinny_tile_start(m, t + 1) - r0;
    float* dst = xp + r0 * K;
    for (std::int64_t r = 0; r < rows; ++r) {
      const float* src = x + (r0 + r) * ldx;
      for (std::int64_t k = 0; k < K; ++k) dst[k * rows + r] = src[k];
    }
  }
}

#ifndef RAM_SKINNY_AVX512
// Not reached (skinny_kernel_available() is false); here so that the library links.
void skinny_gemm_avx512(const float*, std::int64_t, std::int64_t, const float*, std::int64_t,
                        const float*, float*, std::int64_t, std::int64_t, std::int64_t) {
  throw NotCompiled("the AVX-512 skinny matrix product is not compiled in", "nn::PackedLinear",
                    "build with GCC or Clang on x86-64");
}
void skinny_gemm_direct_avx512(const float*, std::int64_t, std::int64_t, std::int64_t,
                               const float*, std::int64_t, const float*, float*, std::int64_t,
                               std::int64_t, std::int64_t) {
  throw NotCompiled("the AVX-512 skinny matrix product is not compiled in", "nn::skinny_linear",
                    "build with GCC or Clang on x86-64");
}
void attention_pv_avx512(const float*, std::int64_t, std::int64_t, std::int64_t, const float*,
                         std::int64_t, std::int64_t, float*, std::int64_t) {
  throw NotCompiled("the AVX-512 attention kernel is not compiled in", "nn::attention",
                    "build with GCC or Clang on x86-64");
}
#endif

}  // namespace detail

// --- attention blocks (attention_blocks.hpp) -----------------------------------------------
namespace detail {

bool attention_blocks_ok(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
  for (const at::Tensor* t : {&q, &k, &v}) {
    if (t->scalar_type() != at::kFloat || !t->device().is_cpu() || t->dim() != 4 ||
        t->stride(3) != 1)
      return false;
  }
  const bool grad = at::GradMode::is_enabled() &&
                    (q.requires_grad() || k.requires_grad() || v.requires_grad());
  return !grad && linear_skinny() && skinny_kernel_available();
}

namespace {
// Blocks per task: at least ~16k multiply-adds, so that tiny attention stays on one thread.
std::int64_t block_grain(std::int64_t work_per_block) {
  return std::max<std::int64_t>(1, 16384 / std::max<std::int64_t>(work_per_block, 1));
}
}  // namespace

at::Tensor attention_scores(const at::Tensor& qg_in, const at::Tensor& k, double scale) {
  const at::Tensor qg = qg_in.contiguous();
  const std::int64_t B = qg.size(0), G = qg.size(1), rows = qg.size(2), D = qg.size(3);
  const std::int64_t S = k.size(2);
  at::Tensor scores = at::empty({B, G, rows, S}, qg.options());
  const float* qp = qg.data_ptr<float>();
  const float* kp = k.data_ptr<float>();
  float* sp = scores.data_ptr<float>();
  const std::int64_t kb = k.stride(0), kg = k.stride(1), ks = k.stride(2);
  const float sc = static_cast<float>(scale);
  at::parallel_for(0, B * G, block_grain(rows * S * D), [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      const std::int64_t b = i / G, g = i % G;
      float* y = sp + i * rows * S;
      skinny_gemm_direct_avx512(qp + i * rows * D, D, rows, D, kp + b * kb + g * kg, ks, nullptr,
                                y, S, 0, S);
      for (std::int64_t j = 0; j < rows * S; ++j) y[j] *= sc;
    }
  });
  return scores;
}

at::Tensor attention_values(const at::Tensor& probs_in, const at::Tensor& v) {
  const at::Tensor probs = probs_in.contiguous();
  const std::int64_t B = probs.size(0), G = probs.size(1), rows = probs.size(2), S = probs.size(3);
  const std::int64_t D = v.size(3);
  at::Tensor out = at::empty({B, G, rows, D}, probs.options());
  const float* pp = probs.data_ptr<float>();
  const float* vp = v.data_ptr<float>();
  float* op = out.data_ptr<float>();
  const std::int64_t vb = v.stride(0), vg = v.stride(1), vs = v.stride(2);
  at::parallel_for(0, B * G, block_grain(rows * S * D), [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      const std::int64_t b = i / G, g = i % G;
      attention_pv_avx512(pp + i * rows * S, S, rows, S, vp + b * vb + g * vg, vs, D,
                          op + i * rows * D, D);
    }
  });
  return out;
}

}  // namespace detail

// --- PackedLinear ----------------------------------------------------------------------

namespace {

using WeakImpl = c10::weak_intrusive_ptr<c10::TensorImpl, c10::UndefinedTensorImpl>;

void check_weight(const at::Tensor& w) {
  if (!w.defined() || w.dim() != 2 || w.scalar_type() != at::kFloat || !w.device().is_cpu() ||
      w.size(0) == 0 || w.size(1) == 0) {
    throw DataError("PackedLinear needs a non-empty 2-D float32 CPU weight, got " +
                        (w.defined() ? shape_str(w.sizes()) + " " + std::string(c10::toString(w.scalar_type()))
                                     : std::string("an undefined tensor")),
                    "nn::PackedLinear", "pack only float32 linear weights [out, in]");
  }
}

}  // namespace

struct PackedLinear::Source {
  WeakImpl impl;
  const void* data = nullptr;
  std::uint32_t version = 0;  // 0 for an inference tensor (it has no version counter)
};

namespace {
std::uint32_t version_of(const at::Tensor& w) { return w.is_inference() ? 0 : w._version(); }
}  // namespace

PackedLinear::PackedLinear(const at::Tensor& w) {
  check_weight(w);
  n_ = w.size(0);
  k_ = w.size(1);
  source_ = std::make_shared<Source>(
      Source{WeakImpl(w.getIntrusivePtr()), w.data_ptr(), version_of(w)});
  if (!detail::skinny_kernel_available()) return;
  c10::InferenceMode inference;  // a plain buffer: no autograd, no version tracking
  const at::Tensor wc = w.stride(1) == 1 ? w : w.contiguous();
  packed_ = at::empty({detail::skinny_packed_floats(n_, k_)}, at::kFloat);
  detail::skinny_pack_weight(wc.data_ptr<float>(), n_, k_, wc.stride(0), packed_.data_ptr<float>());
}

std::int64_t PackedLinear::bytes() const {
  return packed_.defined() ? packed_.numel() * static_cast<std::int64_t>(sizeof(float)) : 0;
}

bool PackedLinear::packs(const at::Tensor& w) const {
  if (!source_ || !w.defined()) return false;
  return source_->impl._unsafe_get_target() == w.unsafeGetTensorImpl() && !source_->impl.expired() &&
         w.data_ptr() == source_->data && version_of(w) == source_->version && w.dim() == 2 &&
         w.size(0) == n_ && w.size(1) == k_;
}

at::Tensor PackedLinear::forward(const at::Tensor& x, const at::Tensor& b) const {
  if (!packed()) {
    throw Error("PackedLinear::forward on a weight that is not packed", "nn::PackedLinear",
                "check packed() first (false on a CPU without AVX-512F)");
  }
  if (!x.defined() || x.scalar_type() != at::kFloat || !x.device().is_cpu() || x.dim() < 1 ||
      x.size(-1) != k_) {
    throw DataError("PackedLinear: input " + (x.defined() ? shape_str(x.sizes()) + " " +
                                                  std::string(c10::toString(x.scalar_type()))
                                            : std::string("undefined")) +
                        " does not fit the weight [" +
                        std::to_string(n_) + ", " + std::to_string(k_) + "]",
                    "nn::PackedLinear", "pass float32 CPU input [..., in_features]");
  }
  if (b.defined() && (b.scalar_type() != at::kFloat || b.numel() != n_)) {
    throw DataError("PackedLinear: bias " + shape_str(b.sizes()) + " does not fit " + std::to_string(n_) +
                        " output features",
                    "nn::PackedLinear", "pass a float32 bias [out_features] or none");
  }
  const std::int64_t m = x.numel() / k_;
  std::vector<std::int64_t> shape(x.sizes().begin(), x.sizes().end());
  shape.back() = n_;
  at::Tensor y = at::empty(shape, x.options());
  if (m == 0) return y;
  const at::Tensor x2 = x.reshape({m, k_});
  const at::Tensor xc = x2.stride(1) == 1 ? x2 : x2.contiguous();
  const at::Tensor bc = b.defined() ? b.contiguous() : b;
  at::Tensor xp = at::empty({m * k_}, x.options());
  detail::skinny_pack_x(xc.data_ptr<float>(), m, k_, xc.stride(0), xp.data_ptr<float>());

  const float* xpp = xp.data_ptr<float>();
  const float* wp = packed_.data_ptr<float>();
  const float* bp = bc.defined() ? bc.data_ptr<float>() : nullptr;
  float* yp = y.data_ptr<float>();
  const std::int64_t panels = (n_ + detail::kSkinnyPanel - 1) / detail::kSkinnyPanel;
  const std::int64_t N = n_, K = k_;
  // At least ~64k multiply-adds per task, so that small products stay on one thread.
  const std::int64_t grain = std::max<std::int64_t>(1, 65536 / (m * K * detail::kSkinnyPanel));
  at::parallel_for(0, panels, grain, [&](std::int64_t begin, std::int64_t end) {
    detail::skinny_gemm_avx512(xpp, m, K, wp, N, bp, yp, N, begin, end);
  });
  return y;
}

bool skinny_available() { return detail::skinny_kernel_available(); }

at::Tensor skinny_linear(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) {
  if (!skinny_available()) {
    throw NotSupported("the skinny matrix product needs a CPU with AVX-512F", "nn::skinny_linear",
                       "check nn::skinny_available() first (nn::linear does)");
  }
  if (!w.defined() || w.dim() != 2 || w.scalar_type() != at::kFloat || !w.device().is_cpu() ||
      w.stride(1) != 1 || !x.defined() || x.dim() < 1 || x.scalar_type() != at::kFloat ||
      !x.device().is_cpu() || x.size(-1) != w.size(1) || w.size(1) == 0) {
    throw DataError("skinny_linear: input " + (x.defined() ? shape_str(x.sizes()) : "undefined") +
                        " and weight " + (w.defined() ? shape_str(w.sizes()) : "undefined") +
                        " do not fit",
                    "nn::skinny_linear",
                    "pass float32 CPU x [..., K] and w [N, K] with unit column stride");
  }
  const std::int64_t N = w.size(0), K = w.size(1);
  if (b.defined() && (b.scalar_type() != at::kFloat || b.numel() != N || !b.device().is_cpu())) {
    throw DataError("skinny_linear: bias " + shape_str(b.sizes()) + " does not fit " +
                        std::to_string(N) + " output features",
                    "nn::skinny_linear", "pass a float32 bias [N] or none");
  }
  const std::int64_t m = x.numel() / K;
  std::vector<std::int64_t> shape(x.sizes().begin(), x.sizes().end());
  shape.back() = N;
  at::Tensor y = at::empty(shape, x.options());
  if (m == 0 || N == 0) return y;
  const at::Tensor x2 = x.reshape({m, K});
  const at::Tensor xc = x2.stride(1) == 1 ? x2 : x2.contiguous();
  const at::Tensor bc = b.defined() ? b.contiguous() : b;
  const float* xp = xc.data_ptr<float>();
  const float* wp = w.data_ptr<float>();
  const float* bp = bc.defined() ? bc.data_ptr<float>() : nullptr;
  float* yp = y.data_ptr<float>();
  const std::int64_t ldx = xc.stride(0), ldw = w.stride(0);
  // Tasks of whole 8-row weight blocks; at least ~64k multiply-adds each, so that tiny
  // products stay on one thread.
  const std::int64_t blocks = (N + 7) / 8;
  const std::int64_t grain = std::max<std::int64_t>(1, 65536 / (8 * m * K));
  at::parallel_for(0, blocks, grain, [&](std::int64_t begin, std::int64_t end) {
    detail::skinny_gemm_direct_avx512(xp, ldx, m, K, wp, ldw, bp, yp, N, begin * 8,
                                      std::min(end * 8, N));
  });
  return y;
}

}  // namespace ram::nn
