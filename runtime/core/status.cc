// Thread-local error message storage behind slm_last_error().
#include "core/status.h"

#include <cstdarg>
#include <cstdio>

namespace slm {
namespace {
thread_local char g_error[1024];
}

slm_status_t set_error(slm_status_t status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(g_error, sizeof g_error, fmt, ap);
  va_end(ap);
  return status;
}

void clear_error() { g_error[0] = 0; }

} // namespace slm

extern "C" const char *slm_last_error(void) { return slm::g_error; }
