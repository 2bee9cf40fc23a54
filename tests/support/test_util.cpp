#include "test_util.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include "dist/dist.hpp"

namespace ram::test {

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}
std::string source_dir() { return env_or("RAM_SOURCE_DIR", RAM_TEST_SOURCE_DIR); }
std::string binary_dir() { return env_or("RAM_BINARY_DIR", RAM_TEST_BINARY_DIR); }
std::string ram_bin() { return env_or("RAM_BIN", binary_dir() + "/bin/ram"); }
std::string python() { return env_or("RAM_PYTHON", "/usr/bin/python3"); }

std::string temp_dir(const std::string& tag) {
  std::string dir;
  if (dist::rank() == 0) {
    auto base = std::filesystem::temp_directory_path() / "ram-tests";
    std::filesystem::create_directories(base);
    std::string templ = (base / (tag + "-XXXXXX")).string();
    if (!mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed for " + templ);
    dir = templ;
  }
  dist::broadcast(dir, 0);
  return dir;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot write " + path);
  f << text;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

RunResult run(const std::string& command) {
  // This process is an MPI rank (a singleton at least): its OMPI_/PMIX_ variables would make
  // a child `mpirun` or `ram` believe it is part of this job. Children start clean.
  const std::string scrub =
      "for v in $(env | sed -n 's/^\\(OMPI_[A-Za-z0-9_]*\\|PMIX_[A-Za-z0-9_]*\\|OPAL_[A-Za-z0-9_]*\\)=.*/\\1/p'); do "
      "case $v in OMPI_ALLOW_RUN_AS_ROOT*|OMPI_MCA_rmaps_base_oversubscribe) ;; *) unset $v ;; esac; done; ";
  std::string full = scrub + "{ " + command + " ; } 2>&1";
  FILE* p = popen(full.c_str(), "r");
  if (!p) throw std::runtime_error("popen failed: " + command);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = pclose(p);
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return {code, out};
}

}  // namespace ram::test
