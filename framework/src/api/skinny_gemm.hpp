// skinny_gemm.hpp — internal to ram_api: the f32 matrix products for decode-sized batches
// (y[m,N] = x[m,K] · W[N,K]ᵀ + b with small m) behind nn::skinny_linear and
// nn::PackedLinear (ram/nn.hpp).
//
// Direct kernel: W row-major as the model holds it (row stride ldw, unit column stride).
// Packed kernel: W cut into ceil(N/32) panels of 32 output columns; panel p holds
// W[32p + j, k] at packed[(p·K + k)·32 + j], zero for 32p + j ≥ N, so one k step of a panel
// is 128 contiguous bytes and a thread's panels are one sequential stream.
// The kernels (skinny_gemm_avx512.cpp, compiled with -mavx512f -mfma and no LibTorch
// headers) may only be called when skinny_kernel_available().
#pragma once

#include <cstdint>

namespace ram::nn::detail {

constexpr std::int64_t kSkinnyPanel = 32;   // output columns per packed panel
constexpr std::int64_t kSkinnyMaxTile = 12; // rows per register tile (24 accumulators)

// Floats of the packed weight: ceil(N/32) · K · 32.
inline std::int64_t skinny_packed_floats(std::int64_t N, std::int64_t K) {
  return (N + kSkinnyPanel - 1) / kSkinnyPanel * K * kSkinnyPanel;
}

// True when the AVX-512 kernel was compiled in and the CPU runs it.
bool skinny_kernel_available();

// w [N,K] with row stride ldw (unit column stride) → packed (skinny_packed_floats(N, K)).
void skinny_pack_weight(const float* w, std::int64_t N, std::int64_t K, std::int64_t ldw,
                        float* packed);

// Row tiles of x: m rows cut into ceil(m/12) tiles of near-equal size (the first m mod t
// tiles one row larger). Tile i covers rows [skinny_tile_start(m, i), ... start(i+1)).
inline std::int64_t skinny_tiles(std::int64_t m) {
  return (m + kSkinnyMaxTile - 1) / kSkinnyMaxTile;
}
inline std::int64_t skinny_tile_start(std::int64_t m, std::int64_t i) {
  const std::int64_t t = skinny_tiles(m), base = m / t, extra = m % t;
  return i * base + (i < extra ? i : extra);
}

// x [m,K] with row stride ldx → xp (m·K floats): tile i at xp + start(i)·K, laid out
// [K][rows of the tile] so that one k step's broadcasts are adjacent.
void skinny_pack_x(const float* x, std::int64_t m, std::int64_t K, std::int64_t ldx, float* xp);

// The AVX-512 kernel: y[r, n] = Σ_k x[r,k] W[n,k] (+ bias[n]) for all m rows and the
// columns of panels [panel_begin, panel_end). xp from skinny_pack_x; bias may be null;
// y has row stride ldy. Only call when skinny_kernel_available().
void skinny_gemm_avx512(const float* xp, std::int64_t m, std::int64_t K, const float* packed,
                        std::int64_t N, const float* bias, float* y, std::int64_t ldy,
                        std::int64_t panel_begin, std::int64_t panel_end);

// The direct kernel on W [N,K] as it is (row stride ldw, no packing): y[r, n] for all m
// rows (x row stride ldx) and n in [n_begin, n_end). Only call when skinny_kernel_available().
void skinny_gemm_direct_avx512(const float* x, std::int64_t ldx, std::int64_t m, std::int64_t K,
                               const float* w, std::int64_t ldw, const float* bias, float* y,
                               std::int64_t ldy, std::int64_t n_begin, std::int64_t n_end);

// out[r, :] = Σ_s p[r, s] · v[s, :] for rows r < `rows` (p row stride ldp, v [S, D] row
// stride ldv, unit column stride; out row stride ldo): attention's probabilities times the
// values of one (batch, kv-group) block. Only call when skinny_kernel_available().
void attention_pv_avx512(const float* p, std::int64_t ldp, std::int64_t rows, std::int64_t S,
                         const float* v, std::int64_t ldv, std::int64_t D, float* out,
                         std::int64_t ldo);

}  // namespace ram::nn::detail
