// Helpers shared by the reference kernels: errors, axes, broadcasting, dtype dispatch, fp16.
#pragma once

#include "ref_kernel.h"

#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace slm {

// Writes a printf-style message into ctx->error and returns `status`.
int kernel_fail(KernelContext *ctx, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define SLM_INVALID(ctx, ...) ::slm::kernel_fail((ctx), ::slm::SLM_REF_INVALID, __VA_ARGS__)
#define SLM_UNSUPPORTED(ctx, ...) ::slm::kernel_fail((ctx), ::slm::SLM_REF_UNSUPPORTED, __VA_ARGS__)

inline const Tensor *input(KernelContext *ctx, int i) {
  return i < ctx->num_inputs ? ctx->inputs[i] : nullptr;
}
inline Tensor *output(KernelContext *ctx, int i) {
  return i < ctx->num_outputs ? ctx->outputs[i] : nullptr;
}

// Normalizes a possibly negative axis into [0, rank); false when out of range.
inline bool normalize_axis(int64_t axis, int rank, int *out) {
  if (axis < -rank || axis >= rank)
    return false;
  *out = int(axis < 0 ? axis + rank : axis);
  return true;
}

// Requires input i to be present; sets an error otherwise.
int require_inputs(KernelContext *ctx, int count);

// Copies shape (dtype, rank, dims) from src to dst.
inline void set_shape(Tensor *dst, int32_t dtype, int rank, const int64_t *dims) {
  dst->dtype = dtype;
  dst->rank = rank;
  for (int i = 0; i < rank; ++i)
    dst->dims[i] = dims[i];
}

// Multidirectional (numpy) broadcast of shapes a and b into out; false if incompatible.
bool broadcast_shapes(const Tensor &a, const Tensor &b, int *out_rank, int64_t *out_dims);

// Checks the fused_matmul epilogue operands from input `first` on (bias [N], then mul and residual
// of y's shape; each optional) against the output y; `op` names the op in the message.
inline int check_epilogue_operands(KernelContext *ctx, int first, int64_t n, const Tensor &y, const char *op) {
  const Tensor *bias = input(ctx, first);
  if (bias && bias->numel() != n) return SLM_INVALID(ctx, "%s: bias must have %lld elements", op, (long long)n);
  for (int i = first + 1; i <= first + 2; ++i)
    if (const Tensor *t = input(ctx, i); t && t->numel() != y.numel())
      return SLM_INVALID(ctx, "%s: %s must have the output's shape", op, i == first + 1 ? "mul" : "residual");
  return SLM_REF_OK;
}

// Strides (in elements) of `t` viewed as a tensor of rank `rank` broadcast to
// out_dims: leading missing dims and size-1 dims get stride 0.
void broadcast_strides(const Tensor &t, int rank, const int64_t *out_dims, int64_t *strides);

// Contiguous row-major strides.
void contiguous_strides(int rank, const int64_t *dims, int64_t *strides);

// Reads element i of an integer tensor (any int dtype or bool) as int64.
int64_t read_int(const Tensor &t, int64_t i);
// Reads element i of any numeric tensor as double.
double read_double(const Tensor &t, int64_t i);
// Writes v (converted) into element i of a numeric tensor.
void write_double(const Tensor &t, int64_t i, double v);

inline bool is_float_dtype(int32_t d) { return d == kF32 || d == kF64 || d == kF16 || d == kBF16; }
inline bool is_int_dtype(int32_t d) {
  return d == kU8 || d == kI8 || d == kU16 || d == kI16 || d == kI32 || d == kI64 || d == kU32 ||
         d == kU64;
}

// IEEE half and bfloat16 storage types with float conversion.
struct half_t {
  uint16_t bits;
};
struct bf16_t {
  uint16_t bits;
};
float half_to_float(uint16_t h);
uint16_t float_to_half(float f);
inline float bf16_to_float(uint16_t b) {
  uint32_t u = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline uint16_t float_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u)
    return uint16_t((u >> 16) | 0x40); // quiet NaN
  u += 0x7fffu + ((u >> 16) & 1u);    // round to nearest even
  return uint16_t(u >> 16);
}

// Element traits: compute type for each storage type (halves compute in float).
template <typename T> struct Compute {
  using type = T;
  static type load(T v) { return v; }
  static T store(type v) { return v; }
};
template <> struct Compute<half_t> {
  using type = float;
  static float load(half_t v) { return half_to_float(v.bits); }
  static half_t store(float v) { return half_t{float_to_half(v)}; }
};
template <> struct Compute<bf16_t> {
  using type = float;
  static float load(bf16_t v) { return bf16_to_float(v.bits); }
  static bf16_t store(float v) { return bf16_t{float_to_bf16(v)}; }
};

// Calls fn(T{}) with T the storage type for dtype (a generic lambda: [&](auto tag) { using T =
// decltype(tag); ... }) and returns its result, or an unsupported error for other dtypes.
// dispatch_arith leaves out bool, so arithmetic lambdas need not compile for it.
template <typename F> int dispatch_arith(KernelContext *ctx, int32_t dtype, const char *op, F &&fn) {
  switch (dtype) {
  case kF32: return fn(float{});
  case kF64: return fn(double{});
  case kF16: return fn(half_t{});
  case kBF16: return fn(bf16_t{});
  case kI8: return fn(int8_t{});
  case kU8: return fn(uint8_t{});
  case kI16: return fn(int16_t{});
  case kU16: return fn(uint16_t{});
  case kI32: return fn(int32_t{});
  case kU32: return fn(uint32_t{});
  case kI64: return fn(int64_t{});
  case kU64: return fn(uint64_t{});
  default:
    return SLM_UNSUPPORTED(ctx, "%s: dtype %s is not supported", op, dtype_name(dtype));
  }
}

// dispatch_arith plus bool.
template <typename F> int dispatch_numeric(KernelContext *ctx, int32_t dtype, const char *op, F &&fn) {
  if (dtype == kBool) return fn(bool{});
  return dispatch_arith(ctx, dtype, op, fn);
}

template <typename F> int dispatch_float(KernelContext *ctx, int32_t dtype, const char *op, F &&fn) {
  switch (dtype) {
  case kF32: return fn(float{});
  case kF64: return fn(double{});
  case kF16: return fn(half_t{});
  case kBF16: return fn(bf16_t{});
  default:
    return SLM_UNSUPPORTED(ctx, "%s: dtype %s is not supported (float types only)", op,
                           dtype_name(dtype));
  }
}

// Attribute getters that tolerate an absent attribute list (a node with no attributes).
inline int64_t attr_int(KernelContext *ctx, const char *name, int64_t fallback) {
  return ctx->attrs ? ctx->attrs->get_int(name, fallback) : fallback;
}
inline float attr_float(KernelContext *ctx, const char *name, float fallback) {
  return ctx->attrs ? ctx->attrs->get_float(name, fallback) : fallback;
}

// Runs fn(begin, end) over [0, n) through the context's parallel_for (inline if absent).
template <typename F> void parallel(KernelContext *ctx, int64_t n, int64_t grain, F &&fn) {
  if (!ctx->parallel_for || n <= grain) {
    fn(int64_t(0), n);
    return;
  }
  struct Thunk {
    F *f;
    static void call(void *arg, int64_t b, int64_t e) { (*static_cast<Thunk *>(arg)->f)(b, e); }
  } thunk{&fn};
  ctx->parallel_for(ctx->runner, n, grain, &Thunk::call, &thunk);
}

} // namespace slm
