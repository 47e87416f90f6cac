// The C API (slm_runtime.h): argument checks and exception barriers around the C++ core.
#include "core/model.h"
#include "core/status.h"
#include "slm_runtime.h"

#include <new>

namespace slm {
slm_status_t session_create(slm_model *, const slm_session_options_t *, slm_session **);
slm_status_t session_set_input(slm_session *, const char *, const slm_tensor_t *);
slm_status_t session_run(slm_session *);
slm_status_t session_get_output(slm_session *, size_t, slm_tensor_t *);
slm_status_t session_reset_state(slm_session *);
void session_destroy(slm_session *);
} // namespace slm

using slm::set_error;

// Runs body, turning any escaping C++ exception into a status (none may cross the C API).
template <typename F> static slm_status_t guarded(F &&body) {
  try {
    slm::clear_error();
    return body();
  } catch (const std::bad_alloc &) {
    return set_error(SLM_ERROR_OUT_OF_MEMORY, "out of memory");
  } catch (...) {
    return set_error(SLM_ERROR_RUNTIME, "internal error");
  }
}

extern "C" {

const char *slm_dtype_name(int32_t dtype) { return slm::dtype_name(dtype); }
size_t slm_dtype_size(int32_t dtype) { return slm::dtype_size(dtype); }

slm_status_t slm_model_load_file(const char *path, slm_model_t **out_model) {
  if (!path || !out_model) return set_error(SLM_ERROR_INVALID_ARGUMENT, "slm_model_load_file: null argument");
  *out_model = nullptr;
  return guarded([&] {
    auto *m = new slm_model;
    slm_status_t st = slm::load_model(path, m);
    if (st != SLM_OK) {
      delete m;
      return st;
    }
    *out_model = m;
    return SLM_OK;
  });
}

void slm_model_free(slm_model_t *model) { delete model; }

size_t slm_model_input_count(const slm_model_t *model) { return model ? model->inputs.size() : 0; }
size_t slm_model_output_count(const slm_model_t *model) { return model ? model->outputs.size() : 0; }
size_t slm_model_arena_bytes(const slm_model_t *model) { return model ? size_t(model->arena_bytes) : 0; }
const char *slm_model_target(const slm_model_t *model) { return model ? model->target.c_str() : ""; }

static slm_status_t tensor_info(const slm_model_t *model, const std::vector<int> &list, size_t index,
                                slm_tensor_info_t *out, const char *what) {
  if (!model || !out) return set_error(SLM_ERROR_INVALID_ARGUMENT, "null argument");
  if (index >= list.size())
    return set_error(SLM_ERROR_INVALID_ARGUMENT, "%s index %zu out of range (%zu)", what, index, list.size());
  const slm::TensorDesc &d = model->tensors[list[index]];
  out->name = d.name.c_str();
  out->dtype = d.dtype;
  out->rank = d.rank;
  out->max_dims = d.max_dims;
  out->dim_names = d.dim_name_ptrs.data();
  return SLM_OK;
}

slm_status_t slm_model_input_info(const slm_model_t *model, size_t index, slm_tensor_info_t *out_info) {
  return tensor_info(model, model ? model->inputs : std::vector<int>{}, index, out_info, "input");
}

slm_status_t slm_model_output_info(const slm_model_t *model, size_t index, slm_tensor_info_t *out_info) {
  return tensor_info(model, model ? model->outputs : std::vector<int>{}, index, out_info, "output");
}

size_t slm_model_state_count(const slm_model_t *model) { return model ? model->states.size() : 0; }

slm_status_t slm_model_state_info(const slm_model_t *model, size_t index, slm_tensor_info_t *out_info) {
  return tensor_info(model, model ? model->states : std::vector<int>{}, index, out_info, "state");
}

slm_status_t slm_session_create(slm_model_t *model, const slm_session_options_t *options, slm_session_t **out_session) {
  if (!model || !out_session) return set_error(SLM_ERROR_INVALID_ARGUMENT, "slm_session_create: null argument");
  *out_session = nullptr;
  return guarded([&] { return slm::session_create(model, options, out_session); });
}

void slm_session_free(slm_session_t *session) { slm::session_destroy(session); }

slm_status_t slm_session_set_input(slm_session_t *session, const char *name, const slm_tensor_t *value) {
  if (!session || !name || !value) return set_error(SLM_ERROR_INVALID_ARGUMENT, "slm_session_set_input: null argument");
  if (value->rank < 0 || value->rank > SLM_MAX_RANK)
    return set_error(SLM_ERROR_INVALID_ARGUMENT, "input '%s': rank %d is out of range", name, value->rank);
  return guarded([&] { return slm::session_set_input(session, name, value); });
}

slm_status_t slm_session_run(slm_session_t *session) {
  if (!session) return set_error(SLM_ERROR_INVALID_ARGUMENT, "slm_session_run: null session");
  return guarded([&] { return slm::session_run(session); });
}

slm_status_t slm_session_get_output(slm_session_t *session, size_t index, slm_tensor_t *out_value) {
  if (!session || !out_value) return set_error(SLM_ERROR_INVALID_ARGUMENT, "slm_session_get_output: null argument");
  return guarded([&] { return slm::session_get_output(session, index, out_value); });
}

slm_status_t slm_session_reset_state(slm_session_t *session) {
  if (!session) return set_error(SLM_ERROR_INVALID_ARGUMENT, "slm_session_reset_state: null session");
  return guarded([&] { return slm::session_reset_state(session); });
}

} // extern "C"
