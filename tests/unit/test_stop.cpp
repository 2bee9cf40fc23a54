// platform/stop.hpp: the SIGUSR1/SIGTERM flag behind graceful preemption. Each case runs in
// a forked child (the flag is process-wide and one-shot), which reports through its exit
// status: a signal that should only set the flag must leave the child alive with the flag
// set; without a StopScope, or on a second signal, the child must die by the signal.
#include <gtest/gtest.h>

#include <csignal>
#include <functional>

#include <sys/wait.h>
#include <unistd.h>

#include "platform/stop.hpp"

namespace rp = ram::platform;

namespace {

// Runs body() in a child; returns its wait status.
int in_child(const std::function<int()>& body) {
  const pid_t pid = fork();
  if (pid == 0) _exit(body());
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

}  // namespace

TEST(Stop, SignalWithScopeSetsTheFlagAndKeepsRunning) {
  for (int sig : {SIGUSR1, SIGTERM}) {
    const int st = in_child([sig] {
      rp::install_stop_handlers();
      rp::StopScope scope;
      if (rp::stop_requested()) return 10;
      raise(sig);
      if (!rp::stop_requested()) return 11;
      if (rp::stop_signal() != sig) return 12;
      raise(sig == SIGUSR1 ? SIGTERM : SIGUSR1);  // the other one: flag keeps the first
      return rp::stop_signal() == sig ? 0 : 13;
    });
    ASSERT_TRUE(WIFEXITED(st)) << "signal " << sig << " killed the child (status " << st << ")";
    EXPECT_EQ(WEXITSTATUS(st), 0) << "signal " << sig;
  }
}

TEST(Stop, WithoutScopeTheSignalTerminatesAsBefore) {
  const int st = in_child([] {
    rp::install_stop_handlers();
    raise(SIGTERM);
    return 0;
  });
  ASSERT_TRUE(WIFSIGNALED(st)) << "status " << st;
  EXPECT_EQ(WTERMSIG(st), SIGTERM);
  EXPECT_STREQ(rp::signal_name(SIGUSR1), "SIGUSR1");
}

TEST(Stop, SecondSameSignalTerminates) {
  const int st = in_child([] {
    rp::install_stop_handlers();
    rp::StopScope scope;
    raise(SIGUSR1);
    if (!rp::stop_requested()) return 20;
    raise(SIGUSR1);  // one-shot handler: the default action now
    return 21;
  });
  ASSERT_TRUE(WIFSIGNALED(st)) << "status " << st;
  EXPECT_EQ(WTERMSIG(st), SIGUSR1);
}

TEST(Stop, RequestStopSetsTheFlag) {
  const int st = in_child([] {
    if (rp::stop_requested()) return 30;
    rp::request_stop(SIGUSR1);
    return rp::stop_requested() && rp::stop_signal() == SIGUSR1 ? 0 : 31;
  });
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 0);
}
