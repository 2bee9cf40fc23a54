// The skinny matrix products of ram/nn.hpp (nn::skinny_linear on W as it is, nn::PackedLinear
// on W packed once) and nn::linear's choice of kernel.
// Oracle: the same product in float64 (at::linear on double tensors); a kernel result may
// differ from it by float rounding only: max |y − ref| ≤ 1e-5 · max |ref| (a wrong tail
// row, column or k, a lost bias or a mis-split thread range is off by O(1)).
// Shapes: every m = 1..70 (all row-tile remainders of both kernels, one and several tiles),
// K and N odd, below and across the 16-lane, 8-row and 32-column blocks, with and without
// bias, on 1, 2 and 3 threads; non-contiguous inputs; leading batch dims.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "ram/error.hpp"
#include "ram/nn.hpp"

namespace {

double rel_err(const at::Tensor& y, const at::Tensor& ref) {
  const double scale = ref.abs().max().item<double>();
  return (y.to(at::kDouble) - ref).abs().max().item<double>() / (scale > 0 ? scale : 1.0);
}

at::Tensor reference(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) {
  return at::linear(x.to(at::kDouble), w.to(at::kDouble),
                    b.defined() ? b.to(at::kDouble) : at::Tensor());
}

struct Shape {
  std::int64_t K, N;
};
// K: < 16, 16 + 1, odd around 48, a realistic width + 5; N: 1, < 8, < 32, around 32, larger.
const std::vector<Shape> kShapes = {{1, 1},   {7, 5},    {17, 33},  {33, 9},
                                    {47, 31}, {64, 100}, {773, 77}, {129, 257}};

class SkinnyGemm : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!ram::nn::skinny_available()) GTEST_SKIP() << "this CPU has no AVX-512F";
    threads_ = at::get_num_threads();
  }
  void TearDown() override {
    if (threads_ > 0) at::set_num_threads(threads_);
  }
  int threads_ = 0;
};

TEST_F(SkinnyGemm, EveryRowCountAndTailMatchesFloat64) {
  at::manual_seed(7);
  for (int threads : {1, 2, 3}) {
    at::set_num_threads(threads);
    for (std::int64_t m = 1; m <= 70; ++m) {
      const Shape s = kShapes[static_cast<std::size_t>(m) % kShapes.size()];
      const bool with_bias = m % 2 == 0;
      const at::Tensor x = at::randn({m, s.K});
      const at::Tensor w = at::randn({s.N, s.K});
      const at::Tensor b = with_bias ? at::randn({s.N}) : at::Tensor();
      const at::Tensor ref = reference(x, w, b);
      const std::string what = "m=" + std::to_string(m) + " K=" + std::to_string(s.K) +
                               " N=" + std::to_string(s.N) + " bias=" + std::to_string(with_bias) +
                               " threads=" + std::to_string(threads);
      const at::Tensor y = ram::nn::skinny_linear(x, w, b);
      ASSERT_EQ(y.sizes(), ref.sizes()) << what;
      EXPECT_LE(rel_err(y, ref), 1e-5) << "skinny_linear " << what;
      const ram::nn::PackedLinear packed(w);
      ASSERT_TRUE(packed.packed());
      EXPECT_LE(rel_err(packed.forward(x, b), ref), 1e-5) << "PackedLinear " << what;
    }
  }
}

TEST_F(SkinnyGemm, DecodeShapesMatchFloat64) {
  at::manual_seed(8);
  at::set_num_threads(2);
  for (const Shape s : {Shape{768, 2048}, Shape{2048, 768}, Shape{768, 3001}}) {
    for (std::int64_t m : {2, 8, 13, 32, 64}) {
      const at::Tensor x = at::randn({m, s.K});
      const at::Tensor w = at::randn({s.N, s.K}) * 0.02;
      const at::Tensor b = at::randn({s.N});
      const at::Tensor ref = reference(x, w, b);
      EXPECT_LE(rel_err(ram::nn::skinny_linear(x, w, b), ref), 1e-5) << m << " " << s.K << " " << s.N;
      EXPECT_LE(rel_err(ram::nn::PackedLinear(w).forward(x, b), ref), 1e-5) << m << " " << s.K;
    }
  }
}

TEST_F(SkinnyGemm, StridedInputsAndBatchDims) {
  at::manual_seed(9);
  // x [2,3,K] with leading dims; x as a transposed (non-unit column stride) view; w a
  // column slice of a wider matrix (row stride > K); b a strided view.
  const std::int64_t K = 37, N = 45;
  const at::Tensor x = at::randn({2, 3, K});
  const at::Tensor wide = at::randn({N, K + 11});
  const at::Tensor w = wide.narrow(1, 3, K);
  const at::Tensor b = at::randn({2 * N}).slice(0, 0, 2 * N, 2);
  ASSERT_FALSE(w.is_contiguous());
  const at::Tensor ref = reference(x, w, b);
  const at::Tensor y = ram::nn::skinny_linear(x, w, b);
  ASSERT_EQ(y.sizes(), (std::vector<std::int64_t>{2, 3, N}));
  EXPECT_LE(rel_err(y, ref), 1e-5);
  EXPECT_LE(rel_err(ram::nn::PackedLinear(w).forward(x, b), ref), 1e-5);
  const at::Tensor xt = at::randn({K, 5}).t();  // [5,K], column stride 5
  EXPECT_LE(rel_err(ram::nn::skinny_linear(xt, w, b), reference(xt, w, b)), 1e-5);
  EXPECT_LE(rel_err(ram::nn::PackedLinear(w).forward(xt, b), reference(xt, w, b)), 1e-5);
}

TEST_F(SkinnyGemm, LinearTakesTheKernelOnlyWithoutAutograd) {
  at::manual_seed(10);
  const at::Tensor x = at::randn({4, 8, 96});  // 32 rows
  const at::Tensor w = at::randn({80, 96}).requires_grad_(true);
  const at::Tensor b = at::randn({80});
  const at::Tensor blas = at::linear(x, w, b).detach();
  {
    at::NoGradGuard no_grad;
    const at::Tensor y = ram::nn::linear(x, w, b);
    // The kernel's own result, bit for bit (its summation order differs from sgemm's).
    EXPECT_TRUE(at::equal(y, ram::nn::skinny_linear(x, w.detach(), b)));
    EXPECT_LE(rel_err(y, reference(x, w.detach(), b)), 1e-5);
    ram::nn::set_linear_skinny(false);
    EXPECT_TRUE(at::equal(ram::nn::linear(x, w, b), blas));
    ram::nn::set_linear_skinny(true);
    // 65 rows and 1 row are not its sizes: at::linear, and the GEMV for one row.
    const at::Tensor x65 = at::randn({65, 96});
    EXPECT_TRUE(at::equal(ram::nn::linear(x65, w, b), at::linear(x65, w, b)));
  }
  // Grad mode with a weight that requires grad: at::linear, and the gradient flows.
  const at::Tensor y = ram::nn::linear(x, w, b);
  ASSERT_TRUE(y.requires_grad());
  EXPECT_TRUE(at::equal(y.detach(), blas));
  y.sum().backward();
  ASSERT_TRUE(w.grad().defined());
  EXPECT_TRUE(at::allclose(w.grad(), x.reshape({32, 96}).sum(0).expand({80, 96})));
}

// nn::attention's f32 path without grad (attention_blocks: the skinny kernel for q·kᵀ, an
// AVX-512 p·v) against the float64 softmax attention written out here, on a KV-cache-like
// layout (k, v narrowed views of a larger [B, G, capacity, D] buffer), GQA (8 query heads
// on 2 kv heads), decode (T = 1) and prefill (T = 5, causal mask with padding), D = 64 and
// an odd D = 40 (the masked value-column tail), 1 and 2 threads; and with grad required the
// matmul path, whose result it matches to rounding.
TEST_F(SkinnyGemm, AttentionBlocksMatchFloat64) {
  at::manual_seed(11);
  for (int threads : {1, 2}) {
    at::set_num_threads(threads);
    for (std::int64_t D : {64, 40}) {
      for (std::int64_t T : {1, 5}) {
        const std::int64_t B = 3, H = 8, G = 2, cap = 30, S = 17;
        const at::Tensor kbuf = at::randn({B, G, cap, D}), vbuf = at::randn({B, G, cap, D});
        const at::Tensor k = kbuf.narrow(2, 0, S), v = vbuf.narrow(2, 0, S);
        const at::Tensor q = at::randn({B, T, H, D}).transpose(1, 2);  // [B,H,T,D], strided
        at::Tensor valid = at::ones({B, S}, at::kLong);
        valid[1].narrow(0, 0, 4).fill_(0);  // row 1: 4 padding keys
        const at::Tensor allowed = ram::nn::causal_mask(valid, T);
        const double scale = 1.0 / std::sqrt(static_cast<double>(D));
        at::Tensor got;
        {
          at::NoGradGuard no_grad;
          got = ram::nn::attention(q, k, v, allowed, scale);
        }
        // float64 reference: heads h use kv head h / (H / G).
        const at::Tensor kd = k.to(at::kDouble).repeat_interleave(H / G, 1);
        const at::Tensor vd = v.to(at::kDouble).repeat_interleave(H / G, 1);
        at::Tensor sc = at::matmul(q.to(at::kDouble), kd.transpose(2, 3)) * scale;
        sc = sc.masked_fill(allowed.logical_not(), -1e300);
        const at::Tensor ref =
            at::matmul(at::softmax(sc, -1), vd).transpose(1, 2).reshape({B, T, H * D});
        ASSERT_EQ(got.sizes(), ref.sizes());
        EXPECT_LE(rel_err(got, ref), 1e-5) << "threads " << threads << " D " << D << " T " << T;
        // With grad required: the matmul path (same values to rounding), gradients flow.
        const at::Tensor qg = q.detach().clone().requires_grad_(true);
        const at::Tensor viag = ram::nn::attention(qg, k, v, allowed, scale);
        ASSERT_TRUE(viag.requires_grad());
        EXPECT_LE(rel_err(viag.detach(), ref), 1e-5);
        EXPECT_FALSE(at::equal(viag.detach(), got)) << "both paths gave identical bits: one path taken?";
      }
    }
  }
}

TEST_F(SkinnyGemm, PackedLinearKnowsItsWeight) {
  at::Tensor w = at::randn({40, 24});
  const ram::nn::PackedLinear packed(w);
  EXPECT_TRUE(packed.packs(w));
  EXPECT_EQ(packed.out_features(), 40);
  EXPECT_EQ(packed.in_features(), 24);
  EXPECT_EQ(packed.bytes(), 64 * 24 * 4);  // two 32-column panels
  EXPECT_FALSE(packed.packs(w.clone()));   // same values, another tensor
  w.add_(1.0);                             // in place: the packed copy is stale
  EXPECT_FALSE(packed.packs(w));
}

TEST_F(SkinnyGemm, MisfitsAreDataErrors) {
  const at::Tensor w = at::randn({8, 16});
  EXPECT_THROW(ram::nn::skinny_linear(at::randn({2, 15}), w), ram::DataError);
  EXPECT_THROW(ram::nn::skinny_linear(at::randn({2, 16}).to(at::kBFloat16), w), ram::DataError);
  EXPECT_THROW(ram::nn::skinny_linear(at::randn({2, 16}), w, at::randn({7})), ram::DataError);
  EXPECT_THROW(ram::nn::skinny_linear(at::randn({2, 16}), w.t().contiguous().t()), ram::DataError);
  EXPECT_THROW(ram::nn::PackedLinear(at::randn({8})), ram::DataError);
  EXPECT_THROW(ram::nn::PackedLinear(w).forward(at::randn({2, 15})), ram::DataError);
}

}  // namespace
