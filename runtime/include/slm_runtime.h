/* slm_runtime.h — C API of the slmc runtime: load a .slm artifact, create sessions, run them.
 *
 * Ownership: a model owns the mapped artifact; sessions borrow the model and
 * must be freed before it. A session owns its arena (activations, inputs,
 * outputs, state). Pointers returned by getters stay valid until the next call
 * that mutates the same object (set_input/run/reset/free).
 * Thread safety: a model may be shared by any number of sessions on any
 * threads; one session is used by one thread at a time.
 * Errors: every call returns an slm_status_t; on failure slm_last_error()
 * returns a message for the calling thread naming the file, tensor or op at
 * fault. No C++ exception crosses this API.
 */
#ifndef SLM_RUNTIME_H_
#define SLM_RUNTIME_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SLM_RUNTIME_API_VERSION 1

typedef enum slm_status {
  SLM_OK = 0,
  SLM_ERROR_INVALID_ARGUMENT = 1, /* caller's mistake: unknown input, wrong dtype/rank/shape, beyond bound */
  SLM_ERROR_INVALID_ARTIFACT = 2, /* the file is not a valid .slm (truncated, corrupt, bad offsets) */
  SLM_ERROR_UNSUPPORTED = 3,      /* valid, but this runtime/CPU cannot run it (version, feature, op) */
  SLM_ERROR_IO = 4,               /* open/map/read failure */
  SLM_ERROR_OUT_OF_MEMORY = 5,
  SLM_ERROR_RUNTIME = 6 /* a kernel failed while running */
} slm_status_t;

/* Element types use ONNX TensorProto.DataType numbering. */
typedef enum slm_dtype {
  SLM_DTYPE_UNDEFINED = 0,
  SLM_DTYPE_FLOAT32 = 1,
  SLM_DTYPE_UINT8 = 2,
  SLM_DTYPE_INT8 = 3,
  SLM_DTYPE_UINT16 = 4,
  SLM_DTYPE_INT16 = 5,
  SLM_DTYPE_INT32 = 6,
  SLM_DTYPE_INT64 = 7,
  SLM_DTYPE_BOOL = 9,
  SLM_DTYPE_FLOAT16 = 10,
  SLM_DTYPE_FLOAT64 = 11,
  SLM_DTYPE_UINT32 = 12,
  SLM_DTYPE_UINT64 = 13,
  SLM_DTYPE_BFLOAT16 = 16
} slm_dtype_t;

#define SLM_MAX_RANK 8

typedef struct slm_model slm_model_t;
typedef struct slm_session slm_session_t;

/* Describes a graph input or output: name, dtype and per-dim upper bounds.
 * dim_names[i] is the symbolic name of dim i or NULL when static. */
typedef struct slm_tensor_info {
  const char *name;
  int32_t dtype;
  int32_t rank;
  const int64_t *max_dims;
  const char *const *dim_names;
} slm_tensor_info_t;

/* A tensor value: data points into the session (outputs) or the caller (inputs). */
typedef struct slm_tensor {
  int32_t dtype;
  int32_t rank;
  int64_t dims[SLM_MAX_RANK];
  const void *data;
  size_t nbytes;
} slm_tensor_t;

typedef struct slm_session_options {
  int32_t num_threads; /* 0: runtime default (all cores) */
} slm_session_options_t;

/* Message for the last failed call on this thread ("" if none). */
const char *slm_last_error(void);
/* Short name of a dtype ("float32", ...). */
const char *slm_dtype_name(int32_t dtype);
size_t slm_dtype_size(int32_t dtype);

/* Maps and verifies the artifact at path. On success *out_model owns the mapping. */
slm_status_t slm_model_load_file(const char *path, slm_model_t **out_model);
void slm_model_free(slm_model_t *model);

size_t slm_model_input_count(const slm_model_t *model);
size_t slm_model_output_count(const slm_model_t *model);
slm_status_t slm_model_input_info(const slm_model_t *model, size_t index, slm_tensor_info_t *out_info);
slm_status_t slm_model_output_info(const slm_model_t *model, size_t index, slm_tensor_info_t *out_info);
/* Session state: KV caches (compiled with --kv-cache=state) that each session keeps across runs
 * and the attention appends to in place. Info gives the cache's name and its bounds: max_dims[2]
 * is its capacity in positions. A run that would pass the capacity fails without changing it. */
size_t slm_model_state_count(const slm_model_t *model);
slm_status_t slm_model_state_info(const slm_model_t *model, size_t index, slm_tensor_info_t *out_info);
/* Bytes of the planned arena one session allocates. */
size_t slm_model_arena_bytes(const slm_model_t *model);
/* Target name recorded in the artifact ("x86_64", ...). */
const char *slm_model_target(const slm_model_t *model);

/* options may be NULL. The session borrows model. */
slm_status_t slm_session_create(slm_model_t *model, const slm_session_options_t *options,
                                slm_session_t **out_session);
void slm_session_free(slm_session_t *session);

/* Copies an input into the session. Checks the name, dtype, rank and that
 * every dim is within the artifact's bound. */
slm_status_t slm_session_set_input(slm_session_t *session, const char *name, const slm_tensor_t *value);
/* Runs the graph on the inputs set so far (all inputs must be set). */
slm_status_t slm_session_run(slm_session_t *session);
/* Output `index` of the last run; out->data points into the session. */
slm_status_t slm_session_get_output(slm_session_t *session, size_t index, slm_tensor_t *out_value);
/* Empties the session state (the KV caches: the next run starts at position 0). */
slm_status_t slm_session_reset_state(slm_session_t *session);

/* ---- Plugins (slmc/plugin.h, slmc/kernel_provider.h) ----
 * Artifacts compiled for a plugin target name the plugin's kernel provider per op; register
 * the provider before loading such an artifact. Registration is process-wide, thread-safe,
 * and permanent (the library is never unloaded). */
struct slmc_plugin;
struct slm_kernel_provider;

/* Loads the plugin library at path (dlopen), checks its API version and registers its kernel
 * provider. Errors (SLM_ERROR_INVALID_ARGUMENT): the file cannot be loaded, it does not export
 * slmc_plugin_api_version/slmc_plugin_get ("not an slmc plugin"), it was built against another
 * plugin API version (both versions named), or a different provider of that name is already
 * registered. Loading the same library twice is a no-op. out_plugin (may be NULL) receives the
 * plugin's static description, valid for the life of the process. */
slm_status_t slm_plugin_load(const char *path, const struct slmc_plugin **out_plugin);
/* Registers a kernel provider linked into the application (no dlopen). provider must stay
 * valid for the life of the process. Same errors as slm_plugin_load. */
slm_status_t slm_provider_register(const struct slm_kernel_provider *provider);

#ifdef __cplusplus
}
#endif

#endif /* SLM_RUNTIME_H_ */
