// bench/bench_util.hpp — what every benchmark shares: a clock, one JSON line per figure,
// and a main that starts like `ram` (BLAS kernels and threads first) and fails with one line.
#pragma once

#include <chrono>
#include <exception>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "platform/platform.hpp"
#include "ram/error.hpp"

namespace ram::bench {

inline double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Prints {"bench": name, ...fields} as one line.
inline void emit(const std::string& name, const nlohmann::ordered_json& fields) {
  nlohmann::ordered_json out = {{"bench", name}};
  out.update(fields);
  std::cout << out.dump() << std::endl;
}

// main() of a benchmark: prepare_process (may re-exec with the right BLAS kernels), then
// run(argc, argv); an exception is one "error: ..." line and exit 1.
template <class Run>
int guarded_main(int argc, char** argv, Run run) {
  platform::prepare_process(argc, argv);
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "error: " << format_error(e) << std::endl;
    return 1;
  }
}

}  // namespace ram::bench
