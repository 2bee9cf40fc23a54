// log/log.hpp — rank-prefixed logging and a progress line aggregated across ranks.
//
// Messages go to stderr as "[rank R] <level>: text" ("[ram] info: text" before MPI is up).
// Rank 0 logs by default; all ranks when RAM_LOG_ALL_RANKS=1 (or set_all_ranks(true)).
// Warnings and errors are printed by every rank. Built on spdlog/fmt; the format strings
// are fmt's.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <fmt/format.h>

namespace ram::log {

enum class Level { debug, info, warn, error };

void init();                    // reads RAM_LOG_LEVEL (debug|info|warn|error), RAM_LOG_ALL_RANKS
void set_level(Level level);
void set_all_ranks(bool all);
bool enabled(Level level);      // false on ranks that do not log at this level
void write(Level level, const std::string& text);

template <class... A> void debug(fmt::format_string<A...> f, A&&... a) {
  if (enabled(Level::debug)) write(Level::debug, fmt::format(f, std::forward<A>(a)...));
}
template <class... A> void info(fmt::format_string<A...> f, A&&... a) {
  if (enabled(Level::info)) write(Level::info, fmt::format(f, std::forward<A>(a)...));
}
template <class... A> void warn(fmt::format_string<A...> f, A&&... a) {
  if (enabled(Level::warn)) write(Level::warn, fmt::format(f, std::forward<A>(a)...));
}
template <class... A> void error(fmt::format_string<A...> f, A&&... a) {
  if (enabled(Level::error)) write(Level::error, fmt::format(f, std::forward<A>(a)...));
}

// "done / total, rate unit/s, ETA" for long work, counted across every rank through one
// shared counter (MPI one-sided accumulate on rank 0), printed by rank 0 at most every
// `interval` and once at finish(). Construction, finish() and destruction are collective
// (destruction during exception unwinding skips the collective free); add() is not.
class Progress {
 public:
  Progress(std::string what, std::int64_t total, std::string unit = "items",
           std::chrono::milliseconds interval = std::chrono::milliseconds(2000));
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  void add(std::int64_t n);          // this rank finished n more
  // Also counts a second quantity (e.g. generated tokens) whose global rate is appended to
  // the line as ", R <extra_unit>/s" when set_extra_unit() was called.
  void add(std::int64_t n, std::int64_t extra);
  void set_extra_unit(std::string unit) { extra_unit_ = std::move(unit); }
  std::int64_t finish();             // collective: prints the final line, returns the global count
  static std::string format_line(const std::string& what, std::int64_t done,
                                 std::int64_t total, double seconds, const std::string& unit);

 private:
  std::string what_, unit_, extra_unit_;
  std::int64_t total_, local_ = 0, local_extra_ = 0;
  std::string extra_text(std::int64_t extra, double seconds) const;
  std::chrono::steady_clock::time_point start_, last_print_;
  std::chrono::milliseconds interval_;
  void* impl_;
  bool finished_ = false;
};

}  // namespace ram::log
