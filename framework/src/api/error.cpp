#include "ram/error.hpp"

namespace ram {

namespace {
std::string compose(const std::string& what, const std::string& where, const std::string& hint) {
  std::string s = what;
  if (!where.empty()) s += " (" + where + ")";
  if (!hint.empty()) s += "; " + hint;
  return s;
}
}  // namespace

Error::Error(std::string what, std::string where, std::string hint)
    : std::runtime_error(compose(what, where, hint)),
      what_(std::move(what)), where_(std::move(where)), hint_(std::move(hint)) {}

std::string format_error(const std::exception& e) {
  std::string s = e.what();
  // One line: fold newlines that lower layers (LibTorch, HDF5) may put in their messages.
  for (auto& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

}  // namespace ram
