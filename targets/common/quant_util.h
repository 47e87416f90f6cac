// Helpers for the int8/uint8 quantized reference kernels: scales, zero points, rounding, saturation.
#pragma once

#include "kernel_util.h"

#include <cmath>
#include <cstdint>
#include <limits>

namespace slm {

inline bool is_q8_dtype(int32_t d) { return d == kI8 || d == kU8; }

// ONNX rounds half to even (numpy.rint); nearbyint does under the default rounding mode.
inline float round_even(float v) { return std::nearbyint(v); }

// Clamps to Q's range; NaN becomes 0 (what saturating float→int conversions produce in ORT).
template <typename Q> inline Q saturate(float v) {
  constexpr float lo = float(std::numeric_limits<Q>::min()), hi = float(std::numeric_limits<Q>::max());
  if (!(v >= lo))
    return v != v ? Q(0) : std::numeric_limits<Q>::min();
  return v > hi ? std::numeric_limits<Q>::max() : Q(v);
}
template <typename Q> inline Q saturate_i32(int64_t v) {
  constexpr int64_t lo = std::numeric_limits<Q>::min(), hi = std::numeric_limits<Q>::max();
  return Q(v < lo ? lo : v > hi ? hi : v);
}

// Scale `i` of a per-tensor (1 value) or per-axis (1-D) scale tensor; float or float16.
inline float scale_at(const Tensor &s, int64_t i) {
  return float(read_double(s, s.numel() == 1 ? 0 : i));
}

// Zero point `i` of an optional per-tensor or per-axis zero-point tensor; 0 when absent.
inline int32_t zero_point_at(const Tensor *zp, int64_t i) {
  if (!zp || zp->numel() == 0)
    return 0;
  return int32_t(read_int(*zp, zp->numel() == 1 ? 0 : i));
}

// Checks that a scale or zero-point tensor is per-tensor or 1-D of `n` values (n = 0: per-tensor only).
inline int check_q_param(KernelContext *ctx, const char *op, const char *what, const Tensor *t,
                         int64_t n) {
  if (!t || t->numel() == 1 || (t->numel() == 0 && t->rank == 1))
    return SLM_REF_OK;
  if (n > 0 && t->rank == 1 && t->dims[0] == n)
    return SLM_REF_OK;
  return SLM_INVALID(ctx, "%s: %s must be a scalar%s (got %lld values)", op, what,
                     n > 0 ? " or 1-D of the quantized axis' size" : "", (long long)t->numel());
}

// Requantizes an int32 accumulator: round(acc * multiplier) + zero point, saturated to Q.
template <typename Q> inline Q requantize(int32_t acc, float multiplier, int32_t zp) {
  return saturate<Q>(round_even(float(acc) * multiplier) + float(zp));
}

} // namespace slm
