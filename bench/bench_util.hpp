// bench/bench_util.hpp — what every benchmark shares: a clock, one JSON line per figure,
// and a main that starts like `ram` (BLAS kernels and threads first) and fails with one line.
#pragma once

#include <chrono>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

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

// "a,b,,c" → {"a", "b", "c"}.
inline std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

// A benchmark's own options, one at a time: `while (args.next())` then name() and, for an
// option with a value, value() — one ConfigError naming the option when it is missing, or
// (unknown()) when the name is not one of the benchmark's.
class Args {
 public:
  Args(int argc, char** argv, std::string bench, std::string source)
      : argc_(argc), argv_(argv), where_(std::move(bench) + " command line"),
        help_("see the options at the top of " + std::move(source)) {}
  bool next() { return ++i_ < argc_ ? (name_ = argv_[i_], true) : false; }
  const std::string& name() const { return name_; }
  std::string value() {
    if (i_ + 1 >= argc_) throw ConfigError("option " + name_ + " needs a value", where_, help_);
    return argv_[++i_];
  }
  // value() as a positive integer.
  long long positive() {
    const std::string v = value();
    const long long n = std::atoll(v.c_str());
    if (n <= 0)
      throw ConfigError("option " + name_ + " needs a positive integer, got '" + v + "'", where_,
                        "e.g. " + name_ + " 8");
    return n;
  }
  [[noreturn]] void unknown() const { throw ConfigError("unknown option " + name_, where_, help_); }
  const std::string& where() const { return where_; }

 private:
  int argc_, i_ = 0;
  char** argv_;
  std::string where_, help_, name_;
};

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
