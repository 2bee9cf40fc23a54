// platform/stop.cpp — see stop.hpp.
#include "platform/stop.hpp"

#include <atomic>
#include <csignal>

namespace ram::platform {

namespace {

std::atomic<int> g_signal{0};  // first signal received, 0 = none
std::atomic<int> g_scopes{0};  // StopScopes alive: > 0 → the handler only sets the flag
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs a lock-free atomic");

extern "C" void on_stop_signal(int signo) {
  if (g_scopes.load(std::memory_order_relaxed) <= 0) {
    // Nobody polls the flag: behave as without a handler (SA_RESETHAND restored SIG_DFL).
    std::signal(signo, SIG_DFL);
    std::raise(signo);
    return;
  }
  int expected = 0;
  g_signal.compare_exchange_strong(expected, signo);
}

}  // namespace

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART | SA_RESETHAND;
  sigaction(SIGUSR1, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool stop_requested() { return g_signal.load(std::memory_order_relaxed) != 0; }
int stop_signal() { return g_signal.load(std::memory_order_relaxed); }
void request_stop(int signo) {
  int expected = 0;
  g_signal.compare_exchange_strong(expected, signo);
}

const char* signal_name(int signo) {
  switch (signo) {
    case SIGUSR1: return "SIGUSR1";
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    default: return "a signal";
  }
}

StopScope::StopScope() { g_scopes.fetch_add(1); }
StopScope::~StopScope() { g_scopes.fetch_sub(1); }

}  // namespace ram::platform
