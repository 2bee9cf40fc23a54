// platform/platform.hpp — the process's BLAS kernels and thread pools, set deliberately.
//
// LibTorch's f32 matrix products go through OpenBLAS (libblas.so.3). OpenBLAS picks its
// kernels from the CPU when the library loads — before main() — and 0.3.21 misdetects
// some AVX-512 CPUs as "Prescott" (generic, ~5x slower). prepare_process() runs first in
// main(): it compares the CPU's flags with openblas_get_corename(), and on a mismatch
// re-executes the process once with OPENBLAS_CORETYPE set. A user's own OPENBLAS_CORETYPE
// is always honoured. It also sets the thread counts of OpenBLAS, OpenMP and ATen to
// cores / ranks-per-node unless the user set them (OPENBLAS_NUM_THREADS, OMP_NUM_THREADS,
// RAM_NUM_THREADS), and OMP_WAIT_POLICY=PASSIVE unless the user set a policy (libgomp
// reads it at load, so this also takes the one re-exec; measured in bench/blas_gemm.cpp:
// idle OpenMP workers otherwise spin against OpenBLAS's threads between ops).
//
// Environment read here:
//   OPENBLAS_CORETYPE     user's kernels: never overridden
//   RAM_NUM_THREADS       intra-op threads per rank (ATen and OpenBLAS), wins over the rest
//   OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, OMP_WAIT_POLICY   user's: never overridden
//   OMPI_COMM_WORLD_LOCAL_SIZE, SLURM_NTASKS_PER_NODE, SLURM_TASKS_PER_NODE  ranks/node
// Environment written (for the re-exec and for child processes):
//   RAM_BLAS_REEXEC=1     guard: a process that sees it never re-executes (a user may set
//                         it to opt out, e.g. under a debugger)
//   RAM_BLAS_DETECTED     the core OpenBLAS picked before the re-exec
//   RAM_PLATFORM_SET      comma list of the variables above that ram (not the user) set
// Test hook: RAM_BLAS_TEST_DETECTED=<core> makes prepare_process() act as if OpenBLAS had
// detected <core> (to exercise the re-exec path on a CPU that OpenBLAS detects correctly).
#pragma once

#include <string>
#include <vector>

namespace ram::platform {

struct Report {
  std::string cpu_best_core;     // what the CPU's flags support ("SkylakeX", "Haswell", ...)
  std::string blas_core;         // openblas_get_corename() now ("" when BLAS is not OpenBLAS)
  std::string blas_core_source;  // "detected", "set by ram", "set by user"
  std::string blas_detected;     // what OpenBLAS picked by itself (before a re-exec)
  int threads = 1;               // intra-op threads per rank
  std::string threads_source;    // "cores/ranks-per-node", "RAM_NUM_THREADS", ...
  int blas_threads = 1;          // openblas_get_num_threads() after configuring
  int cores = 1;                 // CPUs in this process's affinity mask
  int ranks_per_node = 1;
  std::string wait_policy;       // OMP_WAIT_POLICY libgomp loaded with ("" = its default)
  std::vector<std::string> warnings;  // e.g. a failed re-exec; configure_threads logs them
  std::string summary() const;   // one line for the start-up log
};

// First thing in main(), before MPI init and before any thread starts. May not return:
// on a kernel mismatch it re-executes the same binary with the same arguments.
void prepare_process(int argc, char** argv);

// After MPI init (ranks per node known): sets the pools and returns what was chosen.
// Logs any warning from prepare_process() (call it after ram::log::init()).
Report configure_threads();

// --- Pieces, exposed for tests and bench/ --------------------------------------------

// openblas_get_corename() of the loaded BLAS, or "" when the process has no OpenBLAS
// (reference BLAS, MKL): resolved with dlsym(RTLD_DEFAULT).
std::string blas_core_name();
// openblas_get_num_threads(), or 0 without OpenBLAS.
int blas_num_threads();
// The best OpenBLAS core this CPU (and OS) supports and the loaded OpenBLAS knows:
// "Cooperlake", "SkylakeX", "Haswell", "Sandybridge", or "" (nothing better than generic).
std::string cpu_best_core();
// 0 generic (SSE: Prescott, Core2, Nehalem, ...), 1 AVX, 2 AVX2, 3 AVX-512. Unknown: -1.
int core_tier(const std::string& core);
// Whether ram should replace `detected` by `best`: only when `detected` is clearly worse.
bool should_override(const std::string& detected, const std::string& best);
// CPUs in sched_getaffinity (at least 1).
int affinity_cores();
// Ranks on this node from the launcher's environment (before MPI init), else 1.
int ranks_per_node_from_env();
// SLURM_TASKS_PER_NODE syntax "2(x3),1" → the first count (2); 0 when malformed.
int parse_slurm_tasks_per_node(const std::string& s);

}  // namespace ram::platform
