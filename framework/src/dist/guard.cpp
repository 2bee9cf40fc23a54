#include "dist/guard.hpp"

#include <chrono>
#include <cstdio>
#include <thread>
#include <exception>
#include <string>

#include <c10/util/Exception.h>

#include "dist/dist.hpp"
#include "ram/error.hpp"

namespace ram::dist {

namespace {
[[noreturn]] void fail(const std::string& message) {
  // An error that every rank hits alike (a config typo, a missing plugin) should read as one
  // line, not one per rank: the other ranks give rank 0 a moment to report and abort the job
  // first. An error on one rank alone is still printed, a moment later.
  if (initialized() && size() > 1 && rank() != 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  std::fprintf(stderr, "[rank %d] error: %s\n", initialized() ? rank() : 0, message.c_str());
  std::fflush(stderr);
  abort_job(1);
}
}  // namespace

int run_guarded(const std::function<void()>& body) {
  try {
    body();
    return 0;
  } catch (const c10::Error& e) {
    fail(format_error(std::runtime_error(e.what_without_backtrace())));
  } catch (const std::exception& e) {
    fail(format_error(e));
  } catch (...) {
    fail("unknown exception");
  }
}

}  // namespace ram::dist
