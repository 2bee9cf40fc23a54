// ram/error.hpp — the one error hierarchy of the framework and its plugins.
//
// Every failure carries what went wrong, where (input file:line, config key, tensor, rank)
// and what to do about it. Library code throws; only main() prints, as one line:
//   [rank 1] error: <what> (<where>); <hint>
// and then ends the job (MPI_Abort when there is more than one rank).
#pragma once

#include <stdexcept>
#include <string>

namespace ram {

class Error : public std::runtime_error {
 public:
  Error(std::string what, std::string where = {}, std::string hint = {});

  const std::string& what_part() const noexcept { return what_; }
  const std::string& where() const noexcept { return where_; }
  const std::string& hint() const noexcept { return hint_; }
  // A short category for the message ("config", "plugin", "data", "format", ...).
  virtual const char* kind() const noexcept { return "error"; }

 private:
  std::string what_, where_, hint_;
};

#define RAM_DECLARE_ERROR(NAME, KIND)                                              \
  class NAME : public Error {                                                      \
   public:                                                                         \
    using Error::Error;                                                            \
    const char* kind() const noexcept override { return KIND; }                    \
  }

RAM_DECLARE_ERROR(ConfigError, "config");    // bad key, type, value, missing required key
RAM_DECLARE_ERROR(PluginError, "plugin");    // not found, wrong ABI / kind / build id
RAM_DECLARE_ERROR(DataError, "data");        // malformed input record (file:line)
RAM_DECLARE_ERROR(FormatError, "format");    // corrupt or truncated file (HDF5, safetensors)
RAM_DECLARE_ERROR(DistError, "dist");        // MPI failure, a peer rank failed
RAM_DECLARE_ERROR(NotSupported, "not supported");  // optional interface method absent
RAM_DECLARE_ERROR(NotCompiled, "not compiled");    // feature needs a CMake option
#undef RAM_DECLARE_ERROR

// Formats "<what> (<where>); <hint>" — the single line main() prints after "error: ".
std::string format_error(const std::exception& e);

}  // namespace ram
