// Made-up optimizer state for the checkpoint tests (tests/mpi/test_checkpoint_mpi.cpp,
// tests/e2e/ckpt_write_fake.cpp), also computed by tests/python/check_checkpoint.py
// --fake-state: element i of the global flat buffer of state k is the float
// ((i·37 + k·101) mod 1009) − 504 (small integers: exact in float32 on both sides). States:
// exp_avg (k = 1), exp_avg_sq (k = 2), master (k = 3; only for a non-f32 model).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ram::test {

inline const std::vector<std::pair<std::string, int>>& fake_states() {
  static const std::vector<std::pair<std::string, int>> s = {{"exp_avg", 1}, {"exp_avg_sq", 2}};
  return s;
}
constexpr int kFakeMasterK = 3;

// Elements [begin, end) of state k, float32.
inline at::Tensor fake_state(int k, std::int64_t begin, std::int64_t end) {
  auto i = at::arange(begin, end, at::kLong);
  return ((i * 37 + k * 101).remainder(1009) - 504).to(at::kFloat);
}

}  // namespace ram::test
