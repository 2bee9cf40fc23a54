// log/log.cpp — rank-prefixed logging (see log.hpp).
#include "log/log.hpp"

#include <cstdlib>
#include <cstring>
#include <mutex>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "dist/dist.hpp"
#include "ram/error.hpp"

namespace ram::log {

namespace {

Level g_level = Level::info;
bool g_all_ranks = false;

std::shared_ptr<spdlog::logger> logger() {
  static std::shared_ptr<spdlog::logger> l = [] {
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    auto lg = std::make_shared<spdlog::logger>("ram", sink);
    lg->set_pattern("%v");
    lg->set_level(spdlog::level::trace);
    lg->flush_on(spdlog::level::trace);
    return lg;
  }();
  return l;
}

const char* name(Level l) {
  switch (l) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
  }
  return "?";
}

Level parse_level(const std::string& s) {
  if (s == "debug") return Level::debug;
  if (s == "info") return Level::info;
  if (s == "warn" || s == "warning") return Level::warn;
  if (s == "error") return Level::error;
  throw ConfigError("RAM_LOG_LEVEL='" + s + "' is not a log level", "environment",
                    "use debug, info, warn or error");
}

}  // namespace

void init() {
  if (const char* v = std::getenv("RAM_LOG_LEVEL"); v && *v) g_level = parse_level(v);
  if (const char* v = std::getenv("RAM_LOG_ALL_RANKS"); v && *v && std::strcmp(v, "0") != 0)
    g_all_ranks = true;
}

void set_level(Level level) { g_level = level; }
void set_all_ranks(bool all) { g_all_ranks = all; }

bool enabled(Level level) {
  if (level < g_level) return false;
  if (level >= Level::warn) return true;  // every rank reports its warnings and errors
  return g_all_ranks || dist::rank() == 0;
}

void write(Level level, const std::string& text) {
  std::string prefix = dist::initialized() ? "[rank " + std::to_string(dist::rank()) + "] "
                                           : std::string("[ram] ");
  logger()->log(spdlog::level::info, "{}{}: {}", prefix, name(level), text);
}

}  // namespace ram::log
