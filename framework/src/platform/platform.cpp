// platform/platform.cpp — BLAS kernel check, one-time re-exec, thread pools.
//
// OpenBLAS (DYNAMIC_ARCH) reads OPENBLAS_CORETYPE, and libgomp reads OMP_* variables, in
// their load-time constructors, i.e. before main(). Changing what they chose therefore
// needs a fresh image of the process: prepare_process() sets the variables and calls
// execv("/proc/self/exe", argv) once (same PID, so mpirun/srun keep tracking it) — for a
// kernel mismatch, and for OMP_WAIT_POLICY=PASSIVE when the user set no policy. Thread
// counts can be changed at run time through the libraries' APIs, which configure_threads()
// does after MPI is up.
#include "platform/platform.hpp"

#include <dlfcn.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include <ATen/Parallel.h>
#include <mpi.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "dist/dist.hpp"
#include "log/log.hpp"
#include "ram/error.hpp"

namespace ram::platform {
namespace {

constexpr const char* kGuardVar = "RAM_BLAS_REEXEC";
constexpr const char* kDetectedVar = "RAM_BLAS_DETECTED";
constexpr const char* kSetByRamVar = "RAM_PLATFORM_SET";
constexpr const char* kTestDetectedVar = "RAM_BLAS_TEST_DETECTED";

// OMP_WAIT_POLICY that ram sets when the user did not ("" would leave libgomp's default).
// libgomp reads it at load, so setting it costs the one re-exec (~0.3 s). Measured here
// (bench_blas_gemm --wait-policy, 2 threads): pure sgemm unchanged, f32 MLP blocks that
// alternate sgemm (OpenBLAS's pool) with elementwise ops (OpenMP's pool) ~2x faster.
constexpr const char* kDefaultWaitPolicy = "PASSIVE";

// What prepare_process() saw and did, handed to configure_threads() (same process image).
struct State {
  bool prepared = false;
  std::string detected;     // core OpenBLAS picked by itself
  std::string wait_policy;  // OMP_WAIT_POLICY libgomp saw when this image loaded
  std::vector<std::string> warnings;
};
State& state() {
  static State s;
  return s;
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}
bool has_env(const char* name) { return std::getenv(name) != nullptr; }

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// The comma list of variables that ram itself wrote (so a re-exec'd or child process can
// tell them from the user's).
std::vector<std::string> set_by_ram() {
  std::vector<std::string> out;
  std::stringstream ss(env(kSetByRamVar));
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}
bool is_set_by_ram(const std::string& name) {
  auto v = set_by_ram();
  return std::find(v.begin(), v.end(), name) != v.end();
}
bool user_set(const char* name) { return has_env(name) && !is_set_by_ram(name); }

// Sets `name` unless the user set it; records it in RAM_PLATFORM_SET.
void set_for_user(const char* name, const std::string& value) {
  if (user_set(name)) return;
  ::setenv(name, value.c_str(), 1);
  if (!is_set_by_ram(name)) {
    std::string list = env(kSetByRamVar);
    list += list.empty() ? name : std::string(",") + name;
    ::setenv(kSetByRamVar, list.c_str(), 1);
  }
}

// A positive integer, or 0 (absent or malformed). OMP_NUM_THREADS may be a list "4,2".
int positive_int(const std::string& s) {
  if (s.empty()) return 0;
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(s.c_str(), &end, 10);
  if (errno != 0 || end == s.c_str() || v < 1 || v > 4096) return 0;
  if (*end != '\0' && *end != ',') return 0;
  return static_cast<int>(v);
}

using CorenameFn = char* (*)();
using SetThreadsFn = void (*)(int);
using GetThreadsFn = int (*)();

void* blas_symbol(const char* name) { return ::dlsym(RTLD_DEFAULT, name); }

// Whether the loaded OpenBLAS has kernels for `core` (its gotoblas_<CORE> table).
bool blas_knows(const std::string& core) {
  std::string sym = "gotoblas_" + core;
  std::transform(sym.begin() + 9, sym.end(), sym.begin() + 9,
                 [](unsigned char c) { return std::toupper(c); });
  return blas_symbol(sym.c_str()) != nullptr;
}

struct ThreadPlan {
  int threads = 1;
  std::string source;
  int cores = 1;
  int ranks_per_node = 1;
  bool bad_ram_num_threads = false;
};

// `cores`: CPUs the ranks of this node may use together; `own`: this rank's affinity.
ThreadPlan plan_threads(int ranks_per_node, int cores, int own) {
  ThreadPlan p;
  p.cores = cores;
  p.ranks_per_node = std::max(1, ranks_per_node);
  if (has_env("RAM_NUM_THREADS")) {
    p.threads = positive_int(env("RAM_NUM_THREADS"));
    p.source = "RAM_NUM_THREADS";
    if (p.threads > 0) return p;
    p.bad_ram_num_threads = true;
  }
  if (user_set("OMP_NUM_THREADS") && positive_int(env("OMP_NUM_THREADS")) > 0) {
    p.threads = positive_int(env("OMP_NUM_THREADS"));
    p.source = "OMP_NUM_THREADS";
    return p;
  }
  p.threads = std::max(1, std::min(own, p.cores / p.ranks_per_node));
  p.source = "cores/ranks-per-node";
  return p;
}

// Writes the thread variables for libraries (and children) that read them at load.
void export_thread_env(const ThreadPlan& p) {
  if (p.bad_ram_num_threads) return;  // configure_threads() reports the error
  set_for_user("OMP_NUM_THREADS", std::to_string(p.threads));
  set_for_user("OPENBLAS_NUM_THREADS", std::to_string(p.threads));
}

// The OMP_WAIT_POLICY to set before a re-exec, or "" when the current image already runs
// with the user's (or ram's) policy, or ram sets none.
std::string wait_policy_to_set() {
  if (has_env(kGuardVar) || has_env("OMP_WAIT_POLICY")) return "";
  return kDefaultWaitPolicy;
}

// The core ram wants instead of OpenBLAS's own pick, or "" to keep it.
std::string core_to_force(const std::string& detected) {
  if (has_env(kGuardVar)) return "";          // already re-executed once: never loop
  if (has_env("OPENBLAS_CORETYPE")) return "";  // the user's (or an ancestor's) choice
  if (detected.empty()) return "";            // not OpenBLAS
  std::string best = cpu_best_core();
  return should_override(detected, best) ? best : "";
}

// Replaces the process image with one that loads the libraries under `core` (may be "")
// and `wait_policy` (may be ""); returns only when execv fails.
void reexec(char** argv, const std::string& core, const std::string& detected,
            const std::string& wait_policy) {
  if (!core.empty()) set_for_user("OPENBLAS_CORETYPE", core);
  if (!wait_policy.empty()) set_for_user("OMP_WAIT_POLICY", wait_policy);
  ::setenv(kGuardVar, "1", 1);
  ::setenv(kDetectedVar, detected.c_str(), 1);
  ::execv("/proc/self/exe", argv);
  int err = errno;
  std::string what = core.empty() ? "" : fmt::format(
      "OpenBLAS picked its '{}' kernels but this CPU supports '{}'; ", detected, core);
  std::vector<std::string> vars;
  if (!core.empty()) vars.push_back("OPENBLAS_CORETYPE=" + core);
  if (!wait_policy.empty()) vars.push_back("OMP_WAIT_POLICY=" + wait_policy);
  state().warnings.push_back(fmt::format(
      "{}re-executing with {} failed ({}); running with the libraries' own choices — set "
      "{} in the job's environment", what, fmt::join(vars, " "), std::strerror(err),
      fmt::join(vars, " ")));
  // Not in effect in this image: do not report them as set.
  if (!core.empty()) ::unsetenv("OPENBLAS_CORETYPE");
  if (!wait_policy.empty()) ::unsetenv("OMP_WAIT_POLICY");
}

// CPUs in the union of the affinity masks of this node's ranks: right whether the launcher
// bound each rank to its own cores (mpirun's default for few ranks) or not. Collective.
int node_cores(int own) {
  if (dist::size() <= 1) return own;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof(set), &set) != 0) return own;
  MPI_Comm node;
  if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) !=
      MPI_SUCCESS)
    return own;
  cpu_set_t all;
  CPU_ZERO(&all);
  MPI_Allreduce(&set, &all, static_cast<int>(sizeof(set)), MPI_BYTE, MPI_BOR, node);
  MPI_Comm_free(&node);
  return std::max(own, CPU_COUNT(&all));
}

std::string core_source() {
  if (!has_env("OPENBLAS_CORETYPE")) return "detected";
  return is_set_by_ram("OPENBLAS_CORETYPE") ? "set by ram" : "set by user";
}

}  // namespace

// ---------------------------------------------------------------------------------------

std::string blas_core_name() {
  auto fn = reinterpret_cast<CorenameFn>(blas_symbol("openblas_get_corename"));
  if (!fn) return "";
  const char* name = fn();
  return name ? std::string(name) : std::string();
}

int blas_num_threads() {
  auto fn = reinterpret_cast<GetThreadsFn>(blas_symbol("openblas_get_num_threads"));
  return fn ? fn() : 0;
}

std::string cpu_best_core() {
  __builtin_cpu_init();
  // __builtin_cpu_supports also checks that the OS saves the AVX / AVX-512 state (XCR0).
  bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
                __builtin_cpu_supports("avx512cd");
  if (avx512 && __builtin_cpu_supports("avx512bf16") && blas_knows("Cooperlake"))
    return "Cooperlake";
  if (avx512 && blas_knows("SkylakeX")) return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && blas_knows("Haswell"))
    return "Haswell";
  if (__builtin_cpu_supports("avx") && blas_knows("Sandybridge")) return "Sandybridge";
  return "";
}

int core_tier(const std::string& core) {
  static const std::vector<std::pair<std::string, int>> tiers = {
      {"katmai", 0},     {"coppermine", 0}, {"northwood", 0},   {"prescott", 0},
      {"banias", 0},     {"core2", 0},      {"penryn", 0},      {"dunnington", 0},
      {"nehalem", 0},    {"atom", 0},       {"nano", 0},        {"athlon", 0},
      {"opteron", 0},    {"opteron_sse3", 0}, {"barcelona", 0}, {"bobcat", 0},
      {"sandybridge", 1}, {"bulldozer", 1}, {"piledriver", 1},  {"steamroller", 1},
      {"excavator", 2},  {"haswell", 2},    {"zen", 2},         {"skylakex", 3},
      {"cooperlake", 3}, {"sapphirerapids", 3}};
  std::string l = lower(core);
  for (const auto& [name, tier] : tiers)
    if (l == name) return tier;
  return -1;
}

bool should_override(const std::string& detected, const std::string& best) {
  int d = core_tier(detected), b = core_tier(best);
  if (best.empty() || b < 0) return false;
  // An unknown name (a newer OpenBLAS) is trusted; a known lower tier is clearly worse.
  return d >= 0 && d < b;
}

int affinity_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof(set), &set) != 0) {
    long n = ::sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? static_cast<int>(n) : 1;
  }
  return std::max(1, CPU_COUNT(&set));
}

int parse_slurm_tasks_per_node(const std::string& s) {
  // "2(x3),1": the first node's count; every node of a homogeneous job has the same.
  std::size_t i = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  if (i == 0) return 0;
  if (i < s.size() && s[i] != '(' && s[i] != ',') return 0;
  return positive_int(s.substr(0, i));
}

int ranks_per_node_from_env() {
  if (int n = positive_int(env("OMPI_COMM_WORLD_LOCAL_SIZE"))) return n;
  if (int n = positive_int(env("SLURM_NTASKS_PER_NODE"))) return n;
  if (int n = parse_slurm_tasks_per_node(env("SLURM_TASKS_PER_NODE"))) return n;
  return 1;
}

void prepare_process(int /*argc*/, char** argv) {
  State& s = state();
  s.prepared = true;
  s.detected = has_env(kGuardVar) && has_env(kDetectedVar) ? env(kDetectedVar) : blas_core_name();
  if (has_env(kTestDetectedVar) && !has_env(kGuardVar)) s.detected = env(kTestDetectedVar);

  s.wait_policy = env("OMP_WAIT_POLICY");

  int own = affinity_cores();
  export_thread_env(plan_threads(ranks_per_node_from_env(), own, own));

  std::string core = core_to_force(s.detected);
  std::string wait = wait_policy_to_set();
  if ((!core.empty() || !wait.empty()) && argv != nullptr && argv[0] != nullptr)
    reexec(argv, core, s.detected, wait);
}

Report configure_threads() {
  const State& s = state();
  int own = affinity_cores();
  ThreadPlan plan = dist::initialized()
                        ? plan_threads(dist::local_size(), node_cores(own), own)
                        : plan_threads(ranks_per_node_from_env(), own, own);
  if (plan.bad_ram_num_threads)
    throw ConfigError(fmt::format("RAM_NUM_THREADS='{}' is not a positive integer",
                                  env("RAM_NUM_THREADS")),
                      "environment variable RAM_NUM_THREADS",
                      "unset it (threads = cores / ranks per node) or set e.g. RAM_NUM_THREADS=2");

  at::set_num_threads(plan.threads);
  int blas_threads = plan.threads;
  if (user_set("OPENBLAS_NUM_THREADS") && positive_int(env("OPENBLAS_NUM_THREADS")) > 0)
    blas_threads = positive_int(env("OPENBLAS_NUM_THREADS"));
  if (auto set = reinterpret_cast<SetThreadsFn>(blas_symbol("openblas_set_num_threads")))
    set(blas_threads);

  Report r;
  r.cpu_best_core = cpu_best_core();
  r.blas_core = blas_core_name();
  r.blas_core_source = r.blas_core.empty() ? "" : core_source();
  r.blas_detected = s.prepared ? s.detected : r.blas_core;
  r.threads = plan.threads;
  r.threads_source = plan.source;
  r.blas_threads = blas_num_threads();
  r.cores = plan.cores;
  r.ranks_per_node = plan.ranks_per_node;
  r.wait_policy = s.prepared ? s.wait_policy : env("OMP_WAIT_POLICY");
  r.warnings = s.warnings;
  if (r.blas_core_source == "set by user" &&
      lower(r.blas_core) != lower(env("OPENBLAS_CORETYPE")))
    r.warnings.push_back(fmt::format("OPENBLAS_CORETYPE={} is not a core this OpenBLAS knows; "
                                     "it uses '{}'", env("OPENBLAS_CORETYPE"), r.blas_core));
  if (!s.prepared)
    r.warnings.push_back("platform::prepare_process() was not called first in main()");
  for (const auto& w : r.warnings) log::warn("{}", w);
  return r;
}

std::string Report::summary() const {
  std::string blas;
  if (blas_core.empty()) {
    blas = "blas: not OpenBLAS (kernels not checked)";
  } else {
    blas = fmt::format("blas: openblas core {} ({}", blas_core, blas_core_source);
    if (!blas_detected.empty() && blas_detected != blas_core)
      blas += fmt::format("; detected {}", blas_detected);
    blas += cpu_best_core.empty() ? "; cpu supports only generic kernels)"
                                  : fmt::format("; cpu supports {})", cpu_best_core);
  }
  std::string threads_part = fmt::format(
      "{} thread{}/rank ({}{} cores, {} rank{}/node)", threads, threads == 1 ? "" : "s",
      threads_source == "cores/ranks-per-node" ? "" : threads_source + "; ", cores,
      ranks_per_node, ranks_per_node == 1 ? "" : "s");
  std::string tail;
  if (!blas_core.empty() && blas_threads != threads)
    tail += fmt::format(", openblas {} thread{}", blas_threads, blas_threads == 1 ? "" : "s");
  if (!wait_policy.empty()) tail += ", OMP_WAIT_POLICY=" + wait_policy;
  return blas + ", " + threads_part + tail;
}

}  // namespace ram::platform
