// Reference-kernel interface: the contract every op implementation in targets/common follows.
//
// A kernel is a pair of functions keyed by its ONNX op type:
//  - infer: from the inputs' dtypes and shapes (and, for inputs flagged in
//    `value_inputs`, their values) fill each output's dtype, rank and dims.
//    It never touches output data. When a flagged input has data == nullptr
//    (the compiler's bound inference does not know it) infer returns
//    SLM_REF_NEED_VALUE.
//  - run: compute outputs whose dtype/shape infer already set and whose data
//    buffers the executor allocated (at least nbytes()).
// Kernels are reentrant, allocate nothing on the heap in run (stack scratch of
// bounded size only), keep no globals and call no OS. Parallel loops go through
// ctx->parallel_for, which the executor implements (OpenMP there, inline in the
// compiler).
#pragma once

#include <cstddef>
#include <cstdint>

namespace slm {

// ONNX TensorProto.DataType codes, so files and artifacts share one numbering.
enum DType : int32_t {
  kUndefined = 0,
  kF32 = 1,
  kU8 = 2,
  kI8 = 3,
  kU16 = 4,
  kI16 = 5,
  kI32 = 6,
  kI64 = 7,
  kString = 8,
  kBool = 9,
  kF16 = 10,
  kF64 = 11,
  kU32 = 12,
  kU64 = 13,
  kBF16 = 16,
};

// Bytes per element, 0 for unsupported dtypes.
size_t dtype_size(int32_t dtype);
// Lower-case name ("float32", "int64", ...), "unknown" for others.
const char *dtype_name(int32_t dtype);

constexpr int kMaxRank = 8;

struct Tensor {
  void *data = nullptr; // null during bound inference when the value is unknown
  int32_t dtype = kUndefined;
  int32_t rank = 0;
  int64_t dims[kMaxRank] = {};

  int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < rank; ++i)
      n *= dims[i];
    return n;
  }
  size_t nbytes() const { return size_t(numel()) * dtype_size(dtype); }
  template <typename T> T *as() const { return static_cast<T *>(data); }
};

enum AttrKind : int32_t {
  kAttrInt = 1,
  kAttrFloat = 2,
  kAttrString = 3,
  kAttrInts = 4,
  kAttrFloats = 5,
  kAttrTensor = 6,
  kAttrStrings = 7,
};

// One typed attribute. Pointers refer to memory owned by whoever built the
// list (the mapped artifact at run time, the compiler during bound inference).
struct Attr {
  const char *name = nullptr;
  int32_t kind = 0;
  int64_t i = 0;
  float f = 0.0f;
  const char *s = nullptr; // kAttrString: not NUL-terminated, length in count
  const int64_t *ints = nullptr;
  const float *floats = nullptr;
  const char *const *strings = nullptr; // kAttrStrings, NUL-terminated each
  size_t count = 0;
  const Tensor *tensor = nullptr; // kAttrTensor
};

struct AttrList {
  const Attr *items = nullptr;
  size_t count = 0;

  const Attr *find(const char *name) const;
  int64_t get_int(const char *name, int64_t fallback) const;
  float get_float(const char *name, float fallback) const;
  // Copies at most cap-1 chars into buf (NUL-terminated); returns fallback's copy if absent.
  const char *get_string(const char *name, const char *fallback, char *buf, size_t cap) const;
  // Returns the number of values (0 if absent); *out points at them.
  size_t get_ints(const char *name, const int64_t **out) const;
  size_t get_floats(const char *name, const float **out) const;
};

// Status codes returned by infer/run.
enum RefStatus : int {
  SLM_REF_OK = 0,
  SLM_REF_INVALID = 1,    // bad shapes/attributes/dtypes for this op (message set)
  SLM_REF_UNSUPPORTED = 2, // valid ONNX but not implemented here (message set)
  SLM_REF_NEED_VALUE = 3, // infer needs the value of an input whose data is null
};

typedef void (*TaskFn)(void *arg, int64_t begin, int64_t end);

struct KernelContext {
  const AttrList *attrs = nullptr;
  const Tensor *const *inputs = nullptr; // absent optional inputs are nullptr
  int num_inputs = 0;
  Tensor *const *outputs = nullptr; // absent optional outputs are nullptr
  int num_outputs = 0;
  // Runs fn over [0, n) in chunks of at least `grain` items, possibly in
  // parallel; returns when all chunks are done.
  void (*parallel_for)(void *runner, int64_t n, int64_t grain, TaskFn fn, void *arg) = nullptr;
  void *runner = nullptr;
  char *error = nullptr; // message buffer for failures
  size_t error_size = 0;
};

typedef int (*InferFn)(KernelContext *ctx);
typedef int (*RunFn)(KernelContext *ctx);

struct OpKernel {
  const char *op;        // ONNX op type in the default domain, e.g. "MatMul"
  InferFn infer;
  RunFn run;
  uint32_t value_inputs; // bit i set: infer reads input i's values (e.g. Reshape: 1u << 1)
};

// Looks a kernel up by ONNX op type; nullptr when there is none.
const OpKernel *find_ref_kernel(const char *op);
// All kernels, sorted by op name (for listings and tests).
const OpKernel *ref_kernels(size_t *count);

// Each kernel file exposes its table; registry.cc merges them.
#define SLM_DECLARE_KERNEL_TABLE(name)                                                             \
  extern const OpKernel name[];                                                                    \
  extern const size_t name##_count;

SLM_DECLARE_KERNEL_TABLE(kElementwiseKernels)
SLM_DECLARE_KERNEL_TABLE(kUnaryKernels)
SLM_DECLARE_KERNEL_TABLE(kShapeKernels)
SLM_DECLARE_KERNEL_TABLE(kReduceKernels)
SLM_DECLARE_KERNEL_TABLE(kLinalgKernels)
SLM_DECLARE_KERNEL_TABLE(kConvPoolKernels)
SLM_DECLARE_KERNEL_TABLE(kNormKernels)
SLM_DECLARE_KERNEL_TABLE(kMiscKernels)
SLM_DECLARE_KERNEL_TABLE(kFusedKernels) // slm's own ops, keys "slm.<name>"
SLM_DECLARE_KERNEL_TABLE(kQuantKernels) // slm's quantized ops (slm.matmul_wq, slm.gather_wq)
SLM_DECLARE_KERNEL_TABLE(kSparseKernels) // slm's sparse ops (slm.matmul_sp24, slm.matmul_sparse)
SLM_DECLARE_KERNEL_TABLE(kElementwiseChainKernels) // slm.elementwise (a fused elementwise chain)

} // namespace slm
