// log/progress.cpp — one progress line for work spread over ranks.
//
// Every rank adds its finished count to a counter in rank 0's MPI window (passive-target
// accumulate, no collective per update); rank 0 reads the global count when it adds its
// own and prints at most every `interval`.
#include <mpi.h>

#include <cmath>
#include <exception>

#include "dist/dist.hpp"
#include "log/log.hpp"

namespace ram::log {

namespace {
struct ProgressImpl {
  MPI_Win win = MPI_WIN_NULL;
  std::int64_t* counter = nullptr;
};

std::string human_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  auto t = static_cast<long long>(s + 0.5);
  if (t >= 3600) return fmt::format("{}h{:02}m", t / 3600, (t % 3600) / 60);
  if (t >= 60) return fmt::format("{}m{:02}s", t / 60, t % 60);
  return fmt::format("{}s", t);
}
}  // namespace

std::string Progress::format_line(const std::string& what, std::int64_t done, std::int64_t total,
                                  double seconds, const std::string& unit) {
  double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0.0;
  double pct = total > 0 ? 100.0 * static_cast<double>(done) / static_cast<double>(total) : 100.0;
  double eta = rate > 0 ? static_cast<double>(total - done) / rate : NAN;
  return fmt::format("{}: {}/{} {} ({:.1f}%), {:.2f} {}/s, elapsed {}, ETA {}", what, done, total,
                     unit, pct, rate, unit, human_duration(seconds),
                     done >= total ? "0s" : human_duration(eta));
}

Progress::Progress(std::string what, std::int64_t total, std::string unit,
                   std::chrono::milliseconds interval)
    : what_(std::move(what)), unit_(std::move(unit)), total_(total),
      start_(std::chrono::steady_clock::now()), last_print_(start_), interval_(interval),
      impl_(nullptr) {
  auto* p = new ProgressImpl;
  if (dist::initialized()) {
    MPI_Aint bytes = dist::rank() == 0 ? 2 * sizeof(std::int64_t) : 0;  // count, extra
    MPI_Win_allocate(bytes, sizeof(std::int64_t), MPI_INFO_NULL, MPI_COMM_WORLD, &p->counter,
                     &p->win);
    if (dist::rank() == 0) {
      MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, p->win);
      p->counter[0] = p->counter[1] = 0;
      MPI_Win_unlock(0, p->win);
    }
    dist::barrier();
  }
  impl_ = p;
}

Progress::~Progress() {
  auto* p = static_cast<ProgressImpl*>(impl_);
  // MPI_Win_free is collective: never wait for peers while an exception unwinds this rank
  // (the job is being aborted; a hang would keep it from ending).
  if (std::uncaught_exceptions() > 0) return;
  if (p->win != MPI_WIN_NULL && dist::initialized()) MPI_Win_free(&p->win);
  delete p;
}

void Progress::add(std::int64_t n) { add(n, 0); }

std::string Progress::extra_text(std::int64_t extra, double seconds) const {
  if (extra_unit_.empty()) return {};
  return fmt::format(", {:.1f} {}/s", seconds > 0 ? static_cast<double>(extra) / seconds : 0.0,
                     extra_unit_);
}

void Progress::add(std::int64_t n, std::int64_t extra) {
  local_ += n;
  local_extra_ += extra;
  auto* p = static_cast<ProgressImpl*>(impl_);
  std::int64_t global = local_, global_extra = local_extra_;
  if (p->win != MPI_WIN_NULL) {
    std::int64_t old = 0, old_extra = 0;
    MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, p->win);
    MPI_Fetch_and_op(&n, &old, MPI_INT64_T, 0, 0, MPI_SUM, p->win);
    MPI_Fetch_and_op(&extra, &old_extra, MPI_INT64_T, 0, 1, MPI_SUM, p->win);
    MPI_Win_unlock(0, p->win);
    global = old + n;
    global_extra = old_extra + extra;
  }
  if (dist::rank() != 0) return;
  auto now = std::chrono::steady_clock::now();
  if (now - last_print_ < interval_) return;
  last_print_ = now;
  double secs = std::chrono::duration<double>(now - start_).count();
  info("{}{}", format_line(what_, global, total_, secs, unit_), extra_text(global_extra, secs));
}

std::int64_t Progress::finish() {
  if (finished_) return total_;
  finished_ = true;
  std::int64_t global = dist::initialized() ? dist::all_reduce(local_) : local_;
  std::int64_t global_extra = dist::initialized() ? dist::all_reduce(local_extra_) : local_extra_;
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  info("{}{}", format_line(what_, global, total_, secs, unit_), extra_text(global_extra, secs));
  return global;
}

}  // namespace ram::log
