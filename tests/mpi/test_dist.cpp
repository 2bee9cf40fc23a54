// ram::dist collectives and the work queue. The same file runs on 1, 2 and 3 ranks; every
// expectation is a closed form in rank() and size(), so 1 rank = 2 ranks = 3 ranks.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <algorithm>
#include <numeric>
#include <set>
#include <sstream>

#include "dist/dist.hpp"
#include "ram/error.hpp"

using namespace ram;

TEST(Dist, RankAndSizeAreConsistent) {
  EXPECT_GE(dist::size(), 1);
  EXPECT_GE(dist::rank(), 0);
  EXPECT_LT(dist::rank(), dist::size());
  EXPECT_EQ(dist::local_size(), dist::size());  // one node in tests
  EXPECT_EQ(dist::local_rank(), dist::rank());
}

TEST(Dist, AllReduceTensorSumMinMax) {
  const int r = dist::rank(), n = dist::size();
  auto t = at::arange(5, at::kFloat) + r;  // rank r holds [r, r+1, ..., r+4]
  dist::all_reduce(t, dist::ReduceOp::sum);
  for (int i = 0; i < 5; ++i) EXPECT_FLOAT_EQ(t[i].item<float>(), n * i + n * (n - 1) / 2.0f);
  auto l = at::full({3}, static_cast<int64_t>(r), at::kLong);
  dist::all_reduce(l, dist::ReduceOp::max);
  EXPECT_EQ(l[2].item<int64_t>(), n - 1);
  auto d = at::full({2}, static_cast<double>(r) + 0.5, at::kDouble);
  dist::all_reduce(d, dist::ReduceOp::min);
  EXPECT_DOUBLE_EQ(d[0].item<double>(), 0.5);
}

TEST(Dist, AllReduceLargeTensorInPlace) {
  // Bigger than one bucket of the messages used later for gradients (8 MiB).
  auto t = at::ones({2 * 1024 * 1024}, at::kFloat) * (dist::rank() + 1);
  dist::all_reduce(t);
  float expect = dist::size() * (dist::size() + 1) / 2.0f;
  EXPECT_FLOAT_EQ(t.min().item<float>(), expect);
  EXPECT_FLOAT_EQ(t.max().item<float>(), expect);
}

TEST(Dist, AllReduceRejectsUnsupportedDtype) {
  auto t = at::ones({2}, at::kBFloat16);
  EXPECT_THROW(dist::all_reduce(t), DistError);
}

TEST(Dist, ScalarReduceAndExclusiveScan) {
  const int r = dist::rank(), n = dist::size();
  EXPECT_EQ(dist::all_reduce(static_cast<int64_t>(r + 1)), static_cast<int64_t>(n * (n + 1) / 2));
  EXPECT_DOUBLE_EQ(dist::all_reduce(static_cast<double>(r), dist::ReduceOp::max), n - 1.0);
  // Exclusive scan of (rank+1): 0, 1, 3, 6, ...
  EXPECT_EQ(dist::exclusive_scan(r + 1), static_cast<int64_t>(r * (r + 1) / 2));
}

TEST(Dist, BroadcastStringAndTensor) {
  std::string s = dist::rank() == 0 ? std::string(100000, 'x') + "end" : "short";
  dist::broadcast(s, 0);
  EXPECT_EQ(s.size(), 100003u);
  EXPECT_EQ(s.substr(s.size() - 3), "end");
  auto t = dist::rank() == 0 ? at::arange(4, at::kLong) : at::zeros({4}, at::kLong);
  dist::broadcast(t, 0);
  EXPECT_EQ(t[3].item<int64_t>(), 3);
}

TEST(Dist, GatherKeepsRankOrder) {
  std::string mine = "rank" + std::to_string(dist::rank()) + std::string(dist::rank(), '!');
  auto all = dist::all_gather(mine);
  ASSERT_EQ(static_cast<int>(all.size()), dist::size());
  for (int i = 0; i < dist::size(); ++i) EXPECT_EQ(all[i], "rank" + std::to_string(i) + std::string(i, '!'));
  auto root = dist::gather(mine, 0);
  EXPECT_EQ(root.size(), dist::rank() == 0 ? static_cast<size_t>(dist::size()) : 0u);
  if (dist::rank() == 0) EXPECT_EQ(root, all);
}

namespace {
// Every rank drains the queue; the union of what all ranks got is returned on every rank.
std::vector<int64_t> drain_everywhere(int64_t total, int64_t chunk, int64_t start) {
  dist::WorkQueue q(total, chunk, start);
  std::vector<int64_t> mine;
  while (auto r = q.next()) {
    EXPECT_LE(r->end - r->begin, chunk);
    EXPECT_LT(r->begin, r->end);
    for (int64_t i = r->begin; i < r->end; ++i) mine.push_back(i);
  }
  std::ostringstream os;
  for (auto i : mine) os << i << ' ';
  std::vector<int64_t> all;
  for (const auto& part : dist::all_gather(os.str())) {
    std::istringstream is(part);
    int64_t i;
    while (is >> i) all.push_back(i);
  }
  return all;
}
}  // namespace

TEST(Dist, WorkQueueHandsOutEveryIndexExactlyOnce) {
  for (int64_t chunk : {1, 3, 7, 1000}) {
    auto all = drain_everywhere(103, chunk, 0);
    std::sort(all.begin(), all.end());
    std::vector<int64_t> expect(103);
    std::iota(expect.begin(), expect.end(), 0);
    EXPECT_EQ(all, expect) << "chunk " << chunk;
  }
}

TEST(Dist, WorkQueueResumesFromStart) {
  auto all = drain_everywhere(50, 4, 20);
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), 30u);
  EXPECT_EQ(all.front(), 20);
  EXPECT_EQ(all.back(), 49);
  EXPECT_TRUE(drain_everywhere(0, 4, 0).empty());
}

TEST(Dist, WorkQueueRejectsBadArguments) {
  EXPECT_THROW(dist::WorkQueue(10, 0), DistError);
  EXPECT_THROW(dist::WorkQueue(-1, 2), DistError);
}
