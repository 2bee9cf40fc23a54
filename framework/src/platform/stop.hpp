// platform/stop.hpp — a process-wide "stop requested" flag for graceful preemption.
//
// Slurm warns a job before its time limit (`--signal=[B:]USR1@300`) and preempts it with
// SIGTERM (then SIGKILL after KillWait). main() installs handlers for SIGUSR1 and SIGTERM
// (install_stop_handlers, after MPI init); a long-running verb opts in with a StopScope:
// while one is alive a signal only sets the flag, and the verb polls stop_requested() at
// safe points (`ram train`: after each optimizer step, all ranks agreeing through one
// all-reduce; `ram sample`: between chunks), writes its checkpoint / part files and ends
// normally (exit 0) with a line saying how to resume.
//
// Contract:
//   - The handler is async-signal-safe: it stores to a lock-free std::atomic<int> and, when
//     no StopScope is alive (a verb that never polls), restores the default action and
//     re-raises, so SIGTERM still ends such a process as before.
//   - Handlers are one-shot (SA_RESETHAND): a second SIGTERM / SIGUSR1 after the first
//     takes the default action (terminate) — a stuck process can still be stopped.
//   - stop_signal() is the first signal received (0: none), for the log line.
//   - request_stop() sets the flag as a signal would (tests; RAM_STOP_AFTER_* hooks).
#pragma once

namespace ram::platform {

void install_stop_handlers();
bool stop_requested();
int stop_signal();
void request_stop(int signo);
// "SIGUSR1", "SIGTERM", or "signal N".
const char* signal_name(int signo);

class StopScope {
 public:
  StopScope();
  ~StopScope();
  StopScope(const StopScope&) = delete;
  StopScope& operator=(const StopScope&) = delete;
};

}  // namespace ram::platform
