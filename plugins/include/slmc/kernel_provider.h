/* slmc/kernel_provider.h — runtime side of the plugin API: a kernel provider, a small C vtable the runtime calls.
 *
 * An artifact names the provider of every op in its kernel key ("<provider>.<op key>", e.g.
 * "npu8.slm.fused_matmul"; "ref" is the host CPU's built-in kernels, "gen" kernels generated into the
 * artifact's code segment). When the runtime loads an
 * artifact it looks each non-"ref" provider up by name among the registered ones, asks
 * is_available() once, and calls prepare() once per op; every run calls infer() (optional) and
 * execute(); unloading the model calls destroy() for every prepared op.
 *
 * Plain C, no runtime symbols needed: a plugin links against nothing of slmc. Types here are
 * layout-compatible with the runtime's own kernel structures (checked by static_asserts in the
 * runtime), so tensors are handed over without copies.
 * Fields are append-only; SLMC_PLUGIN_API_VERSION (slmc/plugin.h) says which exist.
 */
#ifndef SLMC_KERNEL_PROVIDER_H_
#define SLMC_KERNEL_PROVIDER_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SLM_PROVIDER_MAX_RANK 8

/* Status codes of provider entries (same numbering as the reference kernels'). */
typedef enum slm_provider_status {
  SLM_PROVIDER_OK = 0,
  SLM_PROVIDER_INVALID = 1,     /* bad shapes/attributes/dtypes for this op; message written */
  SLM_PROVIDER_UNSUPPORTED = 2, /* valid, but this provider cannot run it; message written */
} slm_provider_status_t;

/* A tensor. dtype uses ONNX TensorProto.DataType codes (1 float32, 3 int8, 2 uint8, 7 int64...).
 * data: graph constants point into the mapped artifact (read-only, valid while the model is
 * loaded); activations point into the session's arena (valid for one call only). During
 * prepare() and in compile-time queries, non-constant inputs have data == NULL and dims at
 * their planned upper bound. */
typedef struct slm_provider_tensor {
  void *data;
  int32_t dtype;
  int32_t rank;
  int64_t dims[SLM_PROVIDER_MAX_RANK];
} slm_provider_tensor_t;

/* Attribute kinds (same numbering as the artifact schema). */
typedef enum slm_provider_attr_kind {
  SLM_PROVIDER_ATTR_INT = 1,
  SLM_PROVIDER_ATTR_FLOAT = 2,
  SLM_PROVIDER_ATTR_STRING = 3, /* s, not NUL-terminated: count bytes */
  SLM_PROVIDER_ATTR_INTS = 4,
  SLM_PROVIDER_ATTR_FLOATS = 5,
  SLM_PROVIDER_ATTR_TENSOR = 6,
  SLM_PROVIDER_ATTR_STRINGS = 7
} slm_provider_attr_kind_t;

/* One typed attribute of an op. All pointers are borrowed from the runtime (or the compiler
 * during queries) and stay valid while the model is loaded; never free them. */
typedef struct slm_provider_attr {
  const char *name;
  int32_t kind; /* slm_provider_attr_kind_t */
  int64_t i;
  float f;
  const char *s;
  const int64_t *ints;
  const float *floats;
  const char *const *strings;
  size_t count; /* elements of ints/floats/strings, bytes of s */
  const slm_provider_tensor_t *tensor;
} slm_provider_attr_t;

typedef void (*slm_provider_task_fn)(void *arg, int64_t begin, int64_t end);

/* Everything one call of a provider entry sees. Inputs and outputs are in the op's ONNX
 * positional order; absent optional ones are NULL. The struct and everything it points to is
 * borrowed for the duration of the call. */
typedef struct slm_provider_call {
  const char *op_key;                    /* "MatMul", "slm.fused_matmul", ... */
  const char *op_name;                   /* source node name, for messages */
  const slm_provider_attr_t *attrs;      /* sorted by name */
  size_t num_attrs;
  const slm_provider_tensor_t *const *inputs;
  int num_inputs;
  slm_provider_tensor_t *const *outputs; /* infer fills dtype/rank/dims; execute fills data */
  int num_outputs;
  /* Runs fn over [0, n) in chunks of at least grain items, possibly on several threads, and
   * returns when all are done. NULL during prepare(). fn must be reentrant. */
  void (*parallel_for)(void *runner, int64_t n, int64_t grain, slm_provider_task_fn fn, void *arg);
  void *runner;
  char *error; /* on failure, write a NUL-terminated message here (at most error_size bytes) */
  size_t error_size;
} slm_provider_call_t;

/* The vtable. One static, immutable instance per provider, owned by the plugin library and
 * valid until it is unloaded (the runtime never unloads a registered plugin).
 * Thread safety: is_available and prepare are called from the thread loading a model (loads
 * may run concurrently on different threads); infer and execute of one prepared op may run on
 * several sessions at once, so they must not modify *state; destroy runs once per state, after
 * every session of the model is freed. */
typedef struct slm_kernel_provider {
  uint32_t api_version; /* SLMC_PLUGIN_API_VERSION the provider was built against */
  const char *name;     /* provider name in kernel keys; [a-z0-9_], unique, not "ref" or "gen" (built-in) */
  /* Returns nonzero when the device (or CPU feature) this provider needs is present. When it
   * returns 0, artifacts using the provider are refused with a message naming it. */
  int (*is_available)(void);
  /* Called once per op when the model loads, with constants' data set (e.g. packed weights).
   * May store an opaque per-op state in *out_state (the provider allocates it; destroy frees
   * it), or leave it NULL. Returns an slm_provider_status_t and writes call->error on failure;
   * the runtime then refuses the artifact naming the op. */
  int (*prepare)(const slm_provider_call_t *call, void **out_state);
  /* (optional) Sets each output's dtype, rank and dims from the inputs' shapes, without
   * touching data. NULL: the runtime uses the reference kernel's shape function for op_key,
   * which only works when the provider kept the op's operands in their ONNX form. */
  int (*infer)(void *state, slm_provider_call_t *call);
  /* Computes the outputs (buffers already sized from infer). Must be reentrant, allocate
   * nothing that outlives the call, and call no OS services other than memory allocation. */
  int (*execute)(void *state, const slm_provider_call_t *call);
  /* (optional) Frees a state returned by prepare. Not called for NULL states. */
  void (*destroy)(void *state);
} slm_kernel_provider_t;

#ifdef __cplusplus
}
#endif

#endif /* SLMC_KERNEL_PROVIDER_H_ */
