// Helpers shared by the tests: paths from the ctest environment, temp dirs, running the
// `ram` binary and capturing its output.
#pragma once

#include <string>

namespace ram::test {

std::string env_or(const char* name, const std::string& fallback);
std::string source_dir();   // $RAM_SOURCE_DIR
std::string binary_dir();   // $RAM_BINARY_DIR
std::string ram_bin();      // $RAM_BIN
std::string python();       // $RAM_PYTHON (/usr/bin/python3: Debian's torch and h5py)
// A fresh directory under $TMPDIR, unique per test and rank-shared (rank 0 creates it and
// broadcasts the name). Collective.
std::string temp_dir(const std::string& tag);
void write_file(const std::string& path, const std::string& text);
std::string read_file(const std::string& path);

struct RunResult {
  int exit_code;
  std::string output;  // stdout and stderr together
};
// Runs a shell command line (through /bin/sh), capturing output. Not collective.
RunResult run(const std::string& command);

}  // namespace ram::test
