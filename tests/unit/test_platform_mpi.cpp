// platform/ under mpirun -np 2 on one node: threads = node cores / ranks per node, with
// the node's cores counted as the union of the ranks' affinity masks (bound or not).
#include <gtest/gtest.h>

#include <ATen/Parallel.h>

#include "dist/dist.hpp"
#include "platform/platform.hpp"

namespace rp = ram::platform;

TEST(PlatformMpi, ThreadsAreNodeCoresOverLocalRanks) {
  ASSERT_EQ(ram::dist::size(), 2) << "run under mpirun -np 2";
  rp::Report r = rp::configure_threads();  // collective (node-local all-reduce)
  int own = rp::affinity_cores();
  EXPECT_EQ(r.ranks_per_node, ram::dist::local_size());
  EXPECT_EQ(r.ranks_per_node, 2);
  EXPECT_GE(r.cores, own);
  EXPECT_EQ(r.threads, std::max(1, std::min(own, r.cores / 2)));
  EXPECT_EQ(r.threads_source, "cores/ranks-per-node");
  EXPECT_EQ(at::get_num_threads(), r.threads);
  if (!r.blas_core.empty()) EXPECT_EQ(rp::blas_num_threads(), r.threads);
  // Every rank of the node reached the same decision.
  EXPECT_EQ(ram::dist::all_reduce(static_cast<std::int64_t>(r.threads), ram::dist::ReduceOp::max),
            ram::dist::all_reduce(static_cast<std::int64_t>(r.threads), ram::dist::ReduceOp::min));
}
