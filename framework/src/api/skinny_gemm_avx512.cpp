// skinny_gemm_avx512.cpp — the AVX-512 kernels of skinny_gemm.hpp.
//
// Compiled with -mavx512f -mfma and without the LibTorch precompiled header: nothing here
// may be inlined into code that runs on a CPU without AVX-512 (the caller checks
// skinny_kernel_available() first), so this file includes no LibTorch headers (their inline
// functions, built with AVX-512 here, could be the copy the linker keeps).
//
// Packed kernel, register tile R rows (1..12) × 32 columns = 2R zmm accumulators. Per k
// step: two loads of the packed W panel (128 contiguous bytes), R broadcasts of x from the
// packed x tile (R adjacent floats), 2R FMAs. A panel is swept once per row tile.
// Direct kernel, register tile NW weight rows (≤ 8) × RX x rows (≤ 3) = 24 zmm
// accumulators of 16 partial dot products each: per 16 k, NW + RX loads and NW·RX FMAs,
// then one horizontal sum per (row, column). An 8-row weight block (K ≤ ~1500: in L1) is
// swept once per x tile.
// Both prefetch the next weight block into L2 while the current one is computed, spread
// over the row tiles' sweeps: memory keeps streaming while the later tiles run from cache.
#include <immintrin.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "skinny_gemm.hpp"

namespace ram::nn::detail {

namespace {

// Floats ahead of the current k step (24 k steps, 3 KiB) that the packed W stream is
// prefetched into L1.
constexpr std::int64_t kPrefetchFloats = 32 * 24;

template <int R>
inline void tile_kernel(const float* __restrict xp, std::int64_t K, const float* __restrict wp,
                        const float* bias, float* y, std::int64_t ldy, __mmask16 mask0,
                        __mmask16 mask1, const char* pf, std::int64_t pf_step) {
  __m512 acc0[R], acc1[R];
  const __m512 b0 = bias ? _mm512_maskz_loadu_ps(mask0, bias) : _mm512_setzero_ps();
  const __m512 b1 = bias ? _mm512_maskz_loadu_ps(mask1, bias + 16) : _mm512_setzero_ps();
#pragma GCC unroll 12
  for (int r = 0; r < R; ++r) {
    acc0[r] = b0;
    acc1[r] = b1;
  }
#pragma GCC unroll 2
  for (std::int64_t k = 0; k < K; ++k) {
    const float* w = wp + k * 32;
    _mm_prefetch(reinterpret_cast<const char*>(w + kPrefetchFloats), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(w + kPrefetchFloats + 16), _MM_HINT_T0);
    _mm_prefetch(pf + k * pf_step, _MM_HINT_T1);
    const __m512 w0 = _mm512_loadu_ps(w);
    const __m512 w1 = _mm512_loadu_ps(w + 16);
    const float* xk = xp + k * R;
#pragma GCC unroll 12
    for (int r = 0; r < R; ++r) {
      const __m512 xb = _mm512_set1_ps(xk[r]);
      acc0[r] = _mm512_fmadd_ps(w0, xb, acc0[r]);
      acc1[r] = _mm512_fmadd_ps(w1, xb, acc1[r]);
    }
  }
#pragma GCC unroll 12
  for (int r = 0; r < R; ++r) {
    _mm512_mask_storeu_ps(y + r * ldy, mask0, acc0[r]);
    _mm512_mask_storeu_ps(y + r * ldy + 16, mask1, acc1[r]);
  }
}

using TileFn = void (*)(const float*, std::int64_t, const float*, const float*, float*,
                        std::int64_t, __mmask16, __mmask16, const char*, std::int64_t);

constexpr TileFn kTiles[kSkinnyMaxTile + 1] = {
    nullptr,         tile_kernel<1>,  tile_kernel<2>, tile_kernel<3>, tile_kernel<4>,
    tile_kernel<5>,  tile_kernel<6>,  tile_kernel<7>, tile_kernel<8>, tile_kernel<9>,
    tile_kernel<10>, tile_kernel<11>, tile_kernel<12>};

inline __mmask16 lane_mask(std::int64_t lanes) {
  if (lanes <= 0) return 0;
  if (lanes >= 16) return 0xFFFF;
  return static_cast<__mmask16>((1u << lanes) - 1u);
}

}  // namespace

void skinny_gemm_avx512(const float* xp, std::int64_t m, std::int64_t K, const float* packed,
                        std::int64_t N, const float* bias, float* y, std::int64_t ldy,
                        std::int64_t panel_begin, std::int64_t panel_end) {
  const std::int64_t tiles = skinny_tiles(m);
  for (std::int64_t p = panel_begin; p < panel_end; ++p) {
    const std::int64_t n0 = p * kSkinnyPanel;
    const std::int64_t cols = N - n0 < kSkinnyPanel ? N - n0 : kSkinnyPanel;
    const __mmask16 mask0 = lane_mask(cols), mask1 = lane_mask(cols - 16);
    const float* wp = packed + p * K * kSkinnyPanel;
    const float* bp = bias ? bias + n0 : nullptr;
    // The next panel (K·128 bytes) is prefetched into L2 while this one is computed, spread
    // evenly over the row tiles' sweeps: memory keeps streaming while the later tiles
    // compute on the panel already in cache.
    const char* next = reinterpret_cast<const char*>(wp + K * kSkinnyPanel);
    const std::int64_t pf_step = (kSkinnyPanel * 4 + tiles - 1) / tiles;
    for (std::int64_t t = 0; t < tiles; ++t) {
      const std::int64_t r0 = skinny_tile_start(m, t), rows = skinny_tile_start(m, t + 1) - r0;
      kTiles[rows](xp + r0 * K, K, wp, bp, y + r0 * ldy + n0, ldy, mask0, mask1,
                   next + t * K * pf_step, pf_step);
    }
  }
}

// --- The direct kernel: W [N,K] row-major as it is, no packing --------------------------
namespace {

// NW weight rows × RX x rows over k in [0, K) of the given pointers; 16 k per step;
// acc[i][j] holds 16 partial sums of W[n0+i,:]·x[r0+j,:], reduced at the end and stored
// (+ bias) or, with `accumulate`, added to y. K tail by masked (zeroing) loads.
// Prefetches pf_lines lines per step from pf on; returns where it stopped.
template <int NW, int RX>
inline const char* dot_tile(const float* __restrict x, std::int64_t ldx,
                            const float* __restrict w, std::int64_t ldw, std::int64_t K,
                            const float* bias, bool accumulate, float* y, std::int64_t ldy,
                            const char* pf, std::int64_t pf_lines) {
  __m512 acc[NW][RX];
#pragma GCC unroll 8
  for (int i = 0; i < NW; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < RX; ++j) acc[i][j] = _mm512_setzero_ps();
  std::int64_t k = 0;
  for (; k + 16 <= K; k += 16) {
    for (std::int64_t q = 0; q < pf_lines; ++q) _mm_prefetch(pf + q * 64, _MM_HINT_T1);
    pf += pf_lines * 64;
    __m512 xv[RX];
#pragma GCC unroll 4
    for (int j = 0; j < RX; ++j) xv[j] = _mm512_loadu_ps(x + j * ldx + k);
#pragma GCC unroll 8
    for (int i = 0; i < NW; ++i) {
      __m512 wv = _mm512_loadu_ps(w + i * ldw + k);
      __asm__("" : "+v"(wv));  // one load per W vector, not one per FMA
#pragma GCC unroll 4
      for (int j = 0; j < RX; ++j) acc[i][j] = _mm512_fmadd_ps(wv, xv[j], acc[i][j]);
    }
  }
  if (k < K) {
    const __mmask16 mask = static_cast<__mmask16>((1u << (K - k)) - 1u);
    __m512 xv[RX];
#pragma GCC unroll 4
    for (int j = 0; j < RX; ++j) xv[j] = _mm512_maskz_loadu_ps(mask, x + j * ldx + k);
#pragma GCC unroll 8
    for (int i = 0; i < NW; ++i) {
      const __m512 wv = _mm512_maskz_loadu_ps(mask, w + i * ldw + k);
#pragma GCC unroll 4
      for (int j = 0; j < RX; ++j) acc[i][j] = _mm512_fmadd_ps(wv, xv[j], acc[i][j]);
    }
  }
  if constexpr (NW == 8) {
    // Eight dot products of one x row at once: fold 512 → 256 bits, then a horizontal-add
    // tree to one ymm [s0 .. s7], stored (+ bias) or added with one vector op.
#pragma GCC unroll 4
    for (int j = 0; j < RX; ++j) {
      __m256 h[8];
#pragma GCC unroll 8
      for (int i = 0; i < 8; ++i) {
        h[i] = _mm256_add_ps(_mm512_castps512_ps256(acc[i][j]),
                             _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc[i][j]), 1)));
      }
      const __m256 q0 = _mm256_hadd_ps(_mm256_hadd_ps(h[0], h[1]), _mm256_hadd_ps(h[2], h[3]));
      const __m256 q1 = _mm256_hadd_ps(_mm256_hadd_ps(h[4], h[5]), _mm256_hadd_ps(h[6], h[7]));
      const __m256 sum = _mm256_add_ps(_mm256_permute2f128_ps(q0, q1, 0x20),
                                       _mm256_permute2f128_ps(q0, q1, 0x31));
      float* out = y + j * ldy;
      const __m256 base = accumulate ? _mm256_loadu_ps(out)
                          : bias     ? _mm256_loadu_ps(bias)
                                     : _mm256_setzero_ps();
      _mm256_storeu_ps(out, _mm256_add_ps(base, sum));
    }
  } else {
#pragma GCC unroll 8
    for (int i = 0; i < NW; ++i) {
      const float b = bias ? bias[i] : 0.0f;
#pragma GCC unroll 4
      for (int j = 0; j < RX; ++j) {
        const float sum = _mm512_reduce_add_ps(acc[i][j]);
        y[j * ldy + i] = accumulate ? y[j * ldy + i] + sum : sum + b;
      }
    }
  }
  return pf;
}

using DotFn = const char* (*)(const float*, std::int64_t, const float*, std::int64_t,
                              std::int64_t, const float*, bool, float*, std::int64_t,
                              const char*, std::int64_t);

// dot_tile<NW, RX> for NW 1..8, RX 1..3, indexed [NW - 1][RX - 1].
template <std::size_t... I>
constexpr std::array<DotFn, sizeof...(I)> dot_table(std::index_sequence<I...>) {
  return {dot_tile<static_cast<int>(I / 3) + 1, static_cast<int>(I % 3) + 1>...};
}
constexpr auto kDot = dot_table(std::make_index_sequence<8 * 3>{});

}  // namespace

void skinny_gemm_direct_avx512(const float* x, std::int64_t ldx, std::int64_t m, std::int64_t K,
                               const float* w, std::int64_t ldw, const float* bias, float* y,
                               std::int64_t ldy, std::int64_t n_begin, std::int64_t n_end) {
  // 8 weight rows × 3 x rows (measured: 4 × 6 is ~2× slower at K = 2048).
  constexpr std::int64_t kDotW = 8, kDotX = 3;
  // The 8-row weight block is swept once per x tile and must stay in L1 (48 KiB) beside
  // the x tile: K is cut into chunks of at most 768 (24 KiB of weights), each chunk's sums
  // added to y after the first.
  constexpr std::int64_t kMaxChunk = 768;
  const std::int64_t chunks = (K + kMaxChunk - 1) / kMaxChunk;
  const std::int64_t chunk = (K / chunks + 15) / 16 * 16;
  const std::int64_t tiles = (m + kDotX - 1) / kDotX, steps = K / 16;
  // The next block of weight rows is prefetched into L2 while this one is computed, spread
  // evenly over the x tiles' sweeps (memory keeps streaming while the later tiles compute
  // on the block already in cache): ceil(rows · lines per row / (tiles · steps)) lines per
  // 16-k step, from where the previous sweep stopped.
  const std::int64_t row_lines = (K * 4 + 63) / 64;
  const std::int64_t pf_lines =
      steps > 0 ? (kDotW * row_lines + tiles * steps - 1) / (tiles * steps) : 0;
  for (std::int64_t n0 = n_begin; n0 < n_end; n0 += kDotW) {
    const int nw = static_cast<int>(n_end - n0 < kDotW ? n_end - n0 : kDotW);
    const float* bp = bias ? bias + n0 : nullptr;
    const char* pf = reinterpret_cast<const char*>(w + (n0 + kDotW) * ldw);
    for (std::int64_t k0 = 0; k0 < K; k0 += chunk) {
      const std::int64_t kc = K - k0 < chunk ? K - k0 : chunk;
      for (std::int64_t t = 0; t < tiles; ++t) {
        const std::int64_t r0 = t * kDotX;
        const int rx = static_cast<int>(m - r0 < kDotX ? m - r0 : kDotX);
        pf = kDot[(nw - 1) * 3 + (rx - 1)](x + r0 * ldx + k0, ldx, w + n0 * ldw + k0, ldw, kc,
                                           bp, k0 > 0, y + r0 * ldy + n0, ldy, pf, pf_lines);
      }
    }
  }
}

void attention_pv_avx512(const float* p, std::int64_t ldp, std::int64_t rows, std::int64_t S,
                         const float* v, std::int64_t ldv, std::int64_t D, float* out,
                         std::int64_t ldo) {
  // 64 value columns (4 zmm accumulators) per pass; two rows at a time share the v loads.
  for (std::int64_t d0 = 0; d0 < D; d0 += 64) {
    const std::int64_t dc = D - d0 < 64 ? D - d0 : 64;
    const __mmask16 m0 = lane_mask(dc), m1 = lane_mask(dc - 16), m2 = lane_mask(dc - 32),
                    m3 = lane_mask(dc - 48);
    std::int64_t r = 0;
    for (; r + 2 <= rows; r += 2) {
      __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
      __m512 b0 = a0, b1 = a0, b2 = a0, b3 = a0;
      const float* pa = p + r * ldp;
      const float* pb = pa + ldp;
      for (std::int64_t s = 0; s < S; ++s) {
        const float* vs = v + s * ldv + d0;
        const __m512 v0 = _mm512_maskz_loadu_ps(m0, vs), v1 = _mm512_maskz_loadu_ps(m1, vs + 16),
                     v2 = _mm512_maskz_loadu_ps(m2, vs + 32), v3 = _mm512_maskz_loadu_ps(m3, vs + 48);
        const __m512 xa = _mm512_set1_ps(pa[s]), xb = _mm512_set1_ps(pb[s]);
        a0 = _mm512_fmadd_ps(v0, xa, a0);
        a1 = _mm512_fmadd_ps(v1, xa, a1);
        a2 = _mm512_fmadd_ps(v2, xa, a2);
        a3 = _mm512_fmadd_ps(v3, xa, a3);
        b0 = _mm512_fmadd_ps(v0, xb, b0);
        b1 = _mm512_fmadd_ps(v1, xb, b1);
        b2 = _mm512_fmadd_ps(v2, xb, b2);
        b3 = _mm512_fmadd_ps(v3, xb, b3);
      }
      float* oa = out + r * ldo + d0;
      float* ob = oa + ldo;
      _mm512_mask_storeu_ps(oa, m0, a0);
      _mm512_mask_storeu_ps(oa + 16, m1, a1);
      _mm512_mask_storeu_ps(oa + 32, m2, a2);
      _mm512_mask_storeu_ps(oa + 48, m3, a3);
      _mm512_mask_storeu_ps(ob, m0, b0);
      _mm512_mask_storeu_ps(ob + 16, m1, b1);
      _mm512_mask_storeu_ps(ob + 32, m2, b2);
      _mm512_mask_storeu_ps(ob + 48, m3, b3);
    }
    for (; r < rows; ++r) {
      __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
      const float* pa = p + r * ldp;
      for (std::int64_t s = 0; s < S; ++s) {
        const float* vs = v + s * ldv + d0;
        const __m512 xa = _mm512_set1_ps(pa[s]);
        a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m0, vs), xa, a0);
        a1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m1, vs + 16), xa, a1);
        a2 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m2, vs + 32), xa, a2);
        a3 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m3, vs + 48), xa, a3);
      }
      float* oa = out + r * ldo + d0;
      _mm512_mask_storeu_ps(oa, m0, a0);
      _mm512_mask_storeu_ps(oa + 16, m1, a1);
      _mm512_mask_storeu_ps(oa + 32, m2, a2);
      _mm512_mask_storeu_ps(oa + 48, m3, a3);
    }
  }
}

}  // namespace ram::nn::detail

