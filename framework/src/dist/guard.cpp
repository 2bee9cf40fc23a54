#include "dist/guard.hpp"

#include <cstdio>
#include <exception>
#include <string>

#include <c10/util/Exception.h>

#include "dist/dist.hpp"
#include "ram/error.hpp"

namespace ram::dist {

namespace {
[[noreturn]] void fail(const std::string& message) {
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
