// platform/platform.hpp — the process's BLAS kernels and thread pools, set deliberately.
//
// LibTorch's f32 matrix products go through OpenBLAS (libblas.so.3). OpenBLAS picks its
// kernels from the CPU when the library loads — before main() — and 0.3.21 misdetects
// some AVX-512 CPUs as "Prescott" (generic, ~5x slower). prepare_process() runs first in
// main(): it compares the CPU's flags with openblas_get_corename(), and on a mismatch
// re-executes the process once with OPENBLAS_CORETYPE set. A user's own OPENBLAS_CORETYPE
// is always honoured. It also sets the thread counts of OpenBLAS, OpenMP and ATen to
// cores / ranks-per-node unless the user set them (OPENBLAS_NUM_THREADS, OMP_NUM_THREADS,
// RAM_NUM_THREADS).
#pragma once

#include <string>

namespace ram::platform {

struct Report {
  std::string cpu_best_core;     // what the CPU's flags support ("SkylakeX", "Haswell", ...)
  std::string blas_core;         // openblas_get_corename() now
  std::string blas_core_source;  // "detected", "set by ram", "set by user"
  int threads = 1;               // intra-op threads per rank
  std::string threads_source;    // "cores/ranks-per-node", "RAM_NUM_THREADS", ...
  int cores = 1;
  int ranks_per_node = 1;
  std::string summary() const;   // one line for the start-up log
};

// First thing in main(), before MPI init and before any thread starts. May not return:
// on a kernel mismatch it re-executes the same binary with the same arguments.
void prepare_process(int argc, char** argv);

// After MPI init (ranks per node known): sets the pools and returns what was chosen.
Report configure_threads();

}  // namespace ram::platform
