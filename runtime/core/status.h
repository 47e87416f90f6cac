// Thread-local error reporting for the C API: every failing call records a message here.
#pragma once

#include "slm_runtime.h"

namespace slm {

// Records a printf-style message for slm_last_error() and returns status.
slm_status_t set_error(slm_status_t status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void clear_error();

} // namespace slm
