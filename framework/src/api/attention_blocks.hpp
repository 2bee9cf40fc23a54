// attention_blocks.hpp — internal to ram_api: nn::attention's f32 CPU path without grad
// (skinny_gemm.cpp). at::matmul on [B, G, rows, S] batches runs one BLAS call per (batch,
// kv-group) block through the dispatcher (three tensor selects each: ~27 000 dispatches a
// decode step at batch 32 × 12 heads × 12 layers, more time than the arithmetic); here each
// block's two products are the AVX-512 kernels on raw pointers, threaded over the blocks.
#pragma once

#include <ATen/core/Tensor.h>

namespace ram::nn::detail {

// True when attention_blocks can run: AVX-512 kernels available and enabled
// (nn::linear_skinny()), all float32 CPU, unit stride along D, and no input needs a gradient.
bool attention_blocks_ok(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v);

// qg [B, G, rows, D] (made contiguous); k, v [B, G, S, D] (any strides with unit stride along D)
// → scores [B, G, rows, S] = (qg · kᵀ) · scale, each product a float32 sum over D.
at::Tensor attention_scores(const at::Tensor& qg, const at::Tensor& k, double scale);
// probs [B, G, rows, S] (made contiguous), v as above → out [B, G, rows, D] = probs · v.
at::Tensor attention_values(const at::Tensor& probs, const at::Tensor& v);

}  // namespace ram::nn::detail
