// Kernel providers inside the runtime: the registry (built from plugins), per-op prepare, and the run-time adapter.
#pragma once

#include "core/model.h"
#include "slmc/kernel_provider.h"

#include <string>

namespace slm {

// The registered provider called `name`, or nullptr. Thread-safe.
const slm_kernel_provider_t *find_provider(const std::string &name);

// Binds op to provider: checks availability, calls prepare() with the op's constants.
// `path` names the artifact in messages. On failure returns a status with the error set.
slm_status_t prepare_provider_op(const char *path, const slm_model *m, const slm_kernel_provider_t *provider,
                                 OpDesc *op);

// Run-time shape function and kernel of a provider-bound op (same contract as OpKernel's).
int provider_infer(const OpDesc &op, KernelContext *ctx);
int provider_run(const OpDesc &op, KernelContext *ctx);

// Releases the provider state of every op of m (called when the model is freed).
void destroy_provider_states(slm_model *m);

} // namespace slm
