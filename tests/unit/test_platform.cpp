// platform/ tests. The child-process tests run platform_probe (tests/unit/
// test_platform_probe.cpp), which starts like `ram`: prepare_process() first, no MPI.
// Every child gets a clean environment for the variables the platform layer reads, plus
// the ones a test sets, so a developer's own OPENBLAS_CORETYPE cannot change a verdict.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "platform/platform.hpp"
#include "test_util.hpp"

namespace rp = ram::platform;
using nlohmann::json;

namespace {

const char* kCleanEnv =
    "env -u OPENBLAS_CORETYPE -u RAM_BLAS_REEXEC -u RAM_BLAS_DETECTED -u RAM_PLATFORM_SET "
    "-u RAM_BLAS_TEST_DETECTED -u RAM_NUM_THREADS -u OMP_NUM_THREADS -u OPENBLAS_NUM_THREADS "
    "-u GOTO_NUM_THREADS -u OMP_WAIT_POLICY -u OMPI_COMM_WORLD_LOCAL_SIZE "
    "-u SLURM_NTASKS_PER_NODE -u SLURM_TASKS_PER_NODE -u RAM_PROBE_LOG ";

struct Probe {
  int exit_code = -1;
  std::string output;
  json report;    // the PROBE line
  int starts = 0;  // process starts recorded through RAM_PROBE_LOG
  std::set<std::string> pids;
};

// Runs platform_probe with `env` ("A=1 B=2") and `args`; a 120 s timeout turns a re-exec
// loop into a failure instead of a hang.
Probe probe(const std::string& env, const std::string& args = "") {
  std::string log = ram::test::temp_dir("probe") + "/starts.log";
  std::string cmd = std::string("timeout 120 ") + kCleanEnv + "RAM_PROBE_LOG=" + log + " " +
                    env + " " + RAM_PLATFORM_PROBE + " " + args + " 2>&1";
  auto r = ram::test::run(cmd);
  Probe p;
  p.exit_code = r.exit_code;
  p.output = r.output;
  std::istringstream lines(r.output);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("PROBE ", 0) == 0) p.report = json::parse(line.substr(6));
  std::ifstream f(log);
  for (std::string word, pid; f >> word >> pid;) {
    ++p.starts;
    p.pids.insert(pid);
  }
  return p;
}

void write_matrix(const std::string& path, const at::Tensor& t) {
  at::Tensor c = t.contiguous();
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(c.data_ptr<float>()), c.numel() * 4);
}

at::Tensor read_matrix(const std::string& path, std::int64_t n) {
  at::Tensor t = at::empty({n, n}, at::kFloat);
  std::ifstream f(path, std::ios::binary);
  f.read(reinterpret_cast<char*>(t.data_ptr<float>()), n * n * 4);
  EXPECT_TRUE(f.good()) << "missing product " << path;
  return t;
}

// Flags of the first processor in /proc/cpuinfo: independent of __builtin_cpu_supports.
std::set<std::string> cpuinfo_flags() {
  std::ifstream f("/proc/cpuinfo");
  for (std::string line; std::getline(f, line);) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    std::set<std::string> out;
    for (std::string w; words >> w;) out.insert(w);
    return out;
  }
  return {};
}

}  // namespace

// --- (1) products with the runtime's kernels agree with the generic kernels' -----------

// Tolerance: the f32 forward-error bound of a length-n dot product,
// |fl(AB) - AB|_ij <= gamma_n (|A||B|)_ij with gamma_n = n u / (1 - n u), u = 2^-24.
// Each f32 product is checked against the f64 product with gamma_n, and two f32 products
// against each other with 2 gamma_n.
TEST(PlatformProducts, AgreeWithGenericKernels) {
  const std::int64_t n = 512;
  std::string dir = ram::test::temp_dir("products");
  at::manual_seed(7);
  at::Tensor a = at::randn({n, n}, at::kFloat), b = at::randn({n, n}, at::kFloat);
  write_matrix(dir + "/a.bin", a);
  write_matrix(dir + "/b.bin", b);
  std::string files = dir + "/a.bin " + dir + "/b.bin ";

  Probe generic = probe("OPENBLAS_CORETYPE=Prescott", "--mm " + files + dir + "/c_generic.bin 512");
  Probe chosen = probe("", "--mm " + files + dir + "/c_chosen.bin 512");
  ASSERT_EQ(generic.exit_code, 0) << generic.output;
  ASSERT_EQ(chosen.exit_code, 0) << chosen.output;
  // Not vacuous: the baseline really ran OpenBLAS's generic kernels, the other did not.
  ASSERT_EQ(generic.report["blas_core"], "Prescott") << generic.output;
  std::string core = chosen.report["blas_core"];
  EXPECT_FALSE(rp::should_override(core, chosen.report["cpu_best"])) << chosen.output;

  const double u = std::ldexp(1.0, -24), gamma = n * u / (1 - n * u);
  at::Tensor exact = at::mm(a.to(at::kDouble), b.to(at::kDouble));
  at::Tensor bound = at::mm(a.abs().to(at::kDouble), b.abs().to(at::kDouble)) * gamma;
  at::Tensor here = at::mm(a, b);  // this process's kernels
  std::vector<std::pair<std::string, at::Tensor>> products = {
      {"generic", read_matrix(dir + "/c_generic.bin", n)},
      {"runtime (" + core + ")", read_matrix(dir + "/c_chosen.bin", n)},
      {"in-process (" + rp::blas_core_name() + ")", here}};
  for (const auto& [name, c] : products) {
    at::Tensor err = (c.to(at::kDouble) - exact).abs();
    EXPECT_TRUE((err <= bound).all().item<bool>())
        << name << ": max |err| " << err.max().item<double>() << " exceeds gamma_n bound";
  }
  at::Tensor diff = (products[0].second - products[1].second).abs().to(at::kDouble);
  EXPECT_TRUE((diff <= 2 * bound).all().item<bool>())
      << "runtime vs generic: max diff " << diff.max().item<double>();
}

// --- (2) report and summary -------------------------------------------------------------

TEST(PlatformReport, SummaryIsOneLineWithTheChoices) {
  rp::Report r;
  r.cpu_best_core = "SkylakeX";
  r.blas_core = "SkylakeX";
  r.blas_core_source = "set by ram";
  r.blas_detected = "Prescott";
  r.threads = 1;
  r.blas_threads = 1;
  r.threads_source = "cores/ranks-per-node";
  r.cores = 2;
  r.ranks_per_node = 2;
  EXPECT_EQ(r.summary(),
            "blas: openblas core SkylakeX (set by ram; detected Prescott; cpu supports "
            "SkylakeX), 1 thread/rank (2 cores, 2 ranks/node)");
  r.blas_core.clear();
  r.threads = 4;
  r.threads_source = "RAM_NUM_THREADS";
  r.ranks_per_node = 1;
  r.wait_policy = "PASSIVE";
  EXPECT_EQ(r.summary(),
            "blas: not OpenBLAS (kernels not checked), 4 threads/rank (RAM_NUM_THREADS; 2 cores, "
            "1 rank/node), OMP_WAIT_POLICY=PASSIVE");
}

TEST(PlatformReport, DefaultChildFillsEveryField) {
  Probe p = probe("OMPI_COMM_WORLD_LOCAL_SIZE=1");
  ASSERT_EQ(p.exit_code, 0) << p.output;
  const json& r = p.report;
  int cores = rp::affinity_cores();
  EXPECT_EQ(r["cores"], cores);
  EXPECT_EQ(r["ranks_per_node"], 1);
  EXPECT_EQ(r["threads"], cores);
  EXPECT_EQ(r["threads_source"], "cores/ranks-per-node");
  EXPECT_EQ(r["aten_threads"], cores);
  EXPECT_EQ(r["blas_threads"], cores);
  EXPECT_EQ(r["cpu_best"], rp::cpu_best_core());
  EXPECT_TRUE(r["warnings"].empty()) << p.output;
  EXPECT_EQ(r["wait_policy"], "PASSIVE");
  EXPECT_EQ(p.starts, 2) << "one re-exec for OMP_WAIT_POLICY";
  std::string summary = r["summary"];
  EXPECT_NE(summary.find("blas: openblas core " + r["blas_core"].get<std::string>()),
            std::string::npos) << summary;
  EXPECT_NE(summary.find(std::to_string(cores) + " cores, 1 rank/node"), std::string::npos)
      << summary;
  EXPECT_EQ(summary.find('\n'), std::string::npos);
}

TEST(PlatformReport, CpuBestCoreMatchesCpuinfoFlags) {
  auto f = cpuinfo_flags();
  ASSERT_FALSE(f.empty());
  bool avx512 = f.count("avx512f") && f.count("avx512bw") && f.count("avx512vl") &&
                f.count("avx512dq") && f.count("avx512cd");
  std::string best = rp::cpu_best_core();
  if (avx512) EXPECT_TRUE(best == "SkylakeX" || best == "Cooperlake") << best;
  if (avx512 && f.count("avx512_bf16")) EXPECT_EQ(best, "Cooperlake");
  if (!avx512 && f.count("avx2") && f.count("fma")) EXPECT_EQ(best, "Haswell");
  if (!f.count("avx")) EXPECT_EQ(best, "");
}

TEST(PlatformReport, TiersAndOverrideRule) {
  EXPECT_EQ(rp::core_tier("Prescott"), 0);
  EXPECT_EQ(rp::core_tier("NEHALEM"), 0);
  EXPECT_EQ(rp::core_tier("Sandybridge"), 1);
  EXPECT_EQ(rp::core_tier("haswell"), 2);
  EXPECT_EQ(rp::core_tier("SkylakeX"), 3);
  EXPECT_EQ(rp::core_tier("SomethingNew"), -1);
  EXPECT_TRUE(rp::should_override("Prescott", "SkylakeX"));
  EXPECT_TRUE(rp::should_override("Core2", "Haswell"));
  EXPECT_TRUE(rp::should_override("Sandybridge", "Cooperlake"));
  EXPECT_FALSE(rp::should_override("SkylakeX", "Cooperlake"));  // same kernels for f32
  EXPECT_FALSE(rp::should_override("Haswell", "Haswell"));
  EXPECT_FALSE(rp::should_override("SomethingNew", "SkylakeX"));  // trust a newer library
  EXPECT_FALSE(rp::should_override("Prescott", ""));
}

TEST(PlatformReport, SlurmTasksPerNodeSyntax) {
  EXPECT_EQ(rp::parse_slurm_tasks_per_node("4"), 4);
  EXPECT_EQ(rp::parse_slurm_tasks_per_node("2(x3),1"), 2);
  EXPECT_EQ(rp::parse_slurm_tasks_per_node("8,8"), 8);
  EXPECT_EQ(rp::parse_slurm_tasks_per_node(""), 0);
  EXPECT_EQ(rp::parse_slurm_tasks_per_node("x2"), 0);
  EXPECT_EQ(rp::parse_slurm_tasks_per_node("0"), 0);
}

// --- threads: cores / ranks per node unless the user says otherwise ---------------------

TEST(PlatformThreads, DividedByRanksPerNodeFromTheLauncher) {
  int expect = std::max(1, rp::affinity_cores() / 2);
  for (const char* env : {"OMPI_COMM_WORLD_LOCAL_SIZE=2", "SLURM_NTASKS_PER_NODE=2",
                          "SLURM_TASKS_PER_NODE='2(x4)'"}) {
    Probe p = probe(env);
    ASSERT_EQ(p.exit_code, 0) << env << "\n" << p.output;
    EXPECT_EQ(p.report["ranks_per_node"], 2) << env;
    EXPECT_EQ(p.report["threads"], expect) << env;
    EXPECT_EQ(p.report["aten_threads"], expect) << env;
    EXPECT_EQ(p.report["blas_threads"], expect) << env;
  }
}

TEST(PlatformThreads, UserSettingsWin) {
  Probe ram_n = probe("RAM_NUM_THREADS=3 OMP_NUM_THREADS=1");
  ASSERT_EQ(ram_n.exit_code, 0) << ram_n.output;
  EXPECT_EQ(ram_n.report["threads"], 3);
  EXPECT_EQ(ram_n.report["threads_source"], "RAM_NUM_THREADS");
  EXPECT_EQ(ram_n.report["aten_threads"], 3);

  Probe omp = probe("OMP_NUM_THREADS=1 OMPI_COMM_WORLD_LOCAL_SIZE=1");
  ASSERT_EQ(omp.exit_code, 0) << omp.output;
  EXPECT_EQ(omp.report["threads"], 1);
  EXPECT_EQ(omp.report["threads_source"], "OMP_NUM_THREADS");

  Probe blas = probe("OPENBLAS_NUM_THREADS=1 RAM_NUM_THREADS=2");
  ASSERT_EQ(blas.exit_code, 0) << blas.output;
  EXPECT_EQ(blas.report["aten_threads"], 2);
  EXPECT_EQ(blas.report["blas_threads"], 1);
  EXPECT_NE(blas.report["summary"].get<std::string>().find("openblas 1 thread"),
            std::string::npos);
}

TEST(PlatformThreads, BadRamNumThreadsIsOneErrorLine) {
  Probe p = probe("RAM_NUM_THREADS=lots");
  EXPECT_EQ(p.exit_code, 2) << p.output;
  EXPECT_TRUE(p.report.is_null());
  EXPECT_NE(p.output.find("error: RAM_NUM_THREADS='lots' is not a positive integer"),
            std::string::npos) << p.output;
}

// --- (3) the user's OPENBLAS_CORETYPE is honoured ----------------------------------------

TEST(PlatformKernels, UserCoretypeIsHonoured) {
  for (const char* name : {"Haswell", "haswell"}) {
    // Even with a (simulated) bad detection, the user's choice stands: no re-exec.
    // OMP_WAIT_POLICY given too, so that nothing else asks for a re-exec.
    Probe p = probe(std::string("OPENBLAS_CORETYPE=") + name +
                    " RAM_BLAS_TEST_DETECTED=Prescott OMP_WAIT_POLICY=PASSIVE");
    ASSERT_EQ(p.exit_code, 0) << p.output;
    EXPECT_EQ(p.report["blas_core"], "Haswell") << p.output;
    EXPECT_EQ(p.report["source"], "set by user");
    EXPECT_EQ(p.starts, 1);
    EXPECT_TRUE(p.report["warnings"].empty()) << p.output;
  }
  Probe bogus = probe("OPENBLAS_CORETYPE=NoSuchCore");
  ASSERT_EQ(bogus.exit_code, 0) << bogus.output;
  EXPECT_EQ(bogus.report["source"], "set by user");
  EXPECT_EQ(bogus.report["warnings"].size(), 1u) << bogus.output;
}

// --- (4) a mismatch re-executes exactly once -------------------------------------------

TEST(PlatformKernels, MismatchReexecutesOnceWithTheBestCore) {
  std::string best = rp::cpu_best_core();
  if (rp::core_tier(best) <= 0) GTEST_SKIP() << "CPU has no kernels better than generic";
  // The hook still claims "Prescott" after the re-exec: only the guard stops a loop.
  Probe p = probe("RAM_BLAS_TEST_DETECTED=Prescott");
  ASSERT_EQ(p.exit_code, 0) << p.output;
  EXPECT_EQ(p.starts, 2) << p.output;
  EXPECT_EQ(p.pids.size(), 1u) << "execv keeps the PID";
  EXPECT_EQ(p.report["blas_core"], best);
  EXPECT_EQ(p.report["source"], "set by ram");
  EXPECT_EQ(p.report["detected"], "Prescott");
  EXPECT_EQ(p.report["wait_policy"], "PASSIVE");
  std::string summary = p.report["summary"];
  EXPECT_NE(summary.find("(set by ram; detected Prescott; cpu supports " + best + ")"),
            std::string::npos) << summary;
}

TEST(PlatformKernels, GuardVariablePreventsAnyReexec) {
  Probe p = probe("RAM_BLAS_REEXEC=1 RAM_BLAS_TEST_DETECTED=Prescott");
  ASSERT_EQ(p.exit_code, 0) << p.output;
  EXPECT_EQ(p.starts, 1);
  EXPECT_EQ(p.report["source"], "detected");
  EXPECT_EQ(p.report["wait_policy"], "") << "not in effect without the re-exec";
}

TEST(PlatformKernels, DefaultStartRunsGoodKernels) {
  Probe p = probe("");
  ASSERT_EQ(p.exit_code, 0) << p.output;
  std::string core = p.report["blas_core"], best = p.report["cpu_best"];
  EXPECT_GE(rp::core_tier(core), rp::core_tier(best)) << p.output;
  EXPECT_EQ(p.starts, 2) << "one re-exec (OMP_WAIT_POLICY, and the core if needed)";
}

TEST(PlatformThreads, UserWaitPolicyWinsWithoutReexec) {
  Probe p = probe("OMP_WAIT_POLICY=ACTIVE");
  ASSERT_EQ(p.exit_code, 0) << p.output;
  // Re-exec only if the kernels needed correcting.
  EXPECT_EQ(p.starts, p.report["source"] == "set by ram" ? 2 : 1) << p.output;
  EXPECT_EQ(p.report["wait_policy"], "ACTIVE");
  EXPECT_NE(p.report["summary"].get<std::string>().find("OMP_WAIT_POLICY=ACTIVE"),
            std::string::npos);
}
