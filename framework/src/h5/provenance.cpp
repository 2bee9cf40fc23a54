// h5/provenance.cpp — the provenance attributes every file carries (DESIGN §5).
#include <ctime>

#include "dist/dist.hpp"
#include "h5/writer.hpp"
#include "ram/version.hpp"

#ifndef RAM_GIT_COMMIT
#define RAM_GIT_COMMIT "unknown"
#endif

namespace ram::h5 {

namespace {
std::string utc_now_iso8601() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}
}  // namespace

void Writer::write_provenance(const std::string& command, const std::string& config_yaml) {
  // In parallel mode set_attr writes rank 0's values, so the ranks' clocks need not agree.
  set_attr("/", "ram_version", std::string(RAM_VERSION_STRING));
  set_attr("/", "git_commit", std::string(RAM_GIT_COMMIT));
  set_attr("/", "config", config_yaml);
  set_attr("/", "created", utc_now_iso8601());
  set_attr("/", "command", command);
  set_attr("/", "world_size", dist::initialized() ? dist::size() : 1);
}

}  // namespace ram::h5
