// platform_probe — a child process for test_platform: starts like `ram` (prepare_process
// first, no MPI), prints what the platform layer chose as one JSON line, and optionally
// multiplies two f32 matrices read from raw files with the kernels it ended up with.
//
//   platform_probe                      → {"blas_core": ..., "summary": ...}
//   platform_probe --mm A B C n         → also C = A·B (n×n f32, raw little-endian)
//   RAM_PROBE_LOG=file                  → appends "start <pid>" at every process start, so
//                                         a test can count re-executions.
// A ram::Error (bad RAM_NUM_THREADS) ends it with one line "error: ..." and exit code 2.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>

#include "log/log.hpp"
#include "platform/platform.hpp"
#include "ram/error.hpp"

namespace {

void log_start() {
  const char* path = std::getenv("RAM_PROBE_LOG");
  if (!path) return;
  std::ofstream(path, std::ios::app) << "start " << ::getpid() << "\n";
}

std::vector<float> read_floats(const std::string& path, std::int64_t count) {
  std::vector<float> v(static_cast<std::size_t>(count));
  std::ifstream f(path, std::ios::binary);
  f.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(count * 4));
  if (!f) throw ram::FormatError("short or missing matrix file", path, "rerun the test");
  return v;
}

void multiply(const std::string& a_path, const std::string& b_path, const std::string& c_path,
              std::int64_t n) {
  auto a = read_floats(a_path, n * n), b = read_floats(b_path, n * n);
  auto opts = at::TensorOptions().dtype(at::kFloat);
  at::Tensor c = at::mm(at::from_blob(a.data(), {n, n}, opts), at::from_blob(b.data(), {n, n}, opts))
                     .contiguous();
  std::ofstream f(c_path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(c.data_ptr<float>()),
          static_cast<std::streamsize>(n * n * 4));
  if (!f) throw ram::FormatError("cannot write the product", c_path, "check the directory");
}

}  // namespace

int main(int argc, char** argv) {
  log_start();
  ram::platform::prepare_process(argc, argv);
  try {
    ram::log::init();
    auto r = ram::platform::configure_threads();
    if (argc == 6 && std::string(argv[1]) == "--mm")
      multiply(argv[2], argv[3], argv[4], std::atoll(argv[5]));
    nlohmann::json j = {{"blas_core", r.blas_core},       {"source", r.blas_core_source},
                        {"detected", r.blas_detected},    {"cpu_best", r.cpu_best_core},
                        {"threads", r.threads},           {"threads_source", r.threads_source},
                        {"blas_threads", r.blas_threads}, {"cores", r.cores},
                        {"ranks_per_node", r.ranks_per_node},
                        {"wait_policy", r.wait_policy},   {"warnings", r.warnings},
                        {"aten_threads", at::get_num_threads()},
                        {"summary", r.summary()},         {"pid", ::getpid()}};
    std::cout << "PROBE " << j.dump() << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cout << "error: " << ram::format_error(e) << std::endl;
    return 2;
  }
}
