// The artifact's code segment at run time: maps the generated kernels' shared object and calls them (slm_kernel_abi.h).
#pragma once

#include "core/model.h"

#include <cstddef>
#include <cstdint>

namespace slm {

// Loads the code segment `bytes` (a shared object for this CPU) with memfd_create + dlopen; *out_handle
// is released by code_segment_close. Errors name the artifact and dlerror()'s reason.
slm_status_t code_segment_open(const char *path, const uint8_t *bytes, uint64_t size, void **out_handle);
void code_segment_close(void *handle);

// Binds op to kernel `symbol` of the loaded segment (op->gen_fn); the error names op and symbol.
slm_status_t code_segment_bind(const char *path, void *handle, const char *symbol, OpDesc *op);

// Runs a bound generated kernel: shapes were inferred by the op's reference kernel, the executor's
// parallel_for splits the rows. Returns SLM_REF_* with ctx->error set on failure.
int run_generated_kernel(const OpDesc &op, KernelContext *ctx);

} // namespace slm
