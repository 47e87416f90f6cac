// The step list of slm.elementwise: kinds, names, and the decoder both the compiler and the runtime use.
//
// An slm.elementwise op carries four attributes of equal length n (1 <= n <= kEwMaxSteps):
//   steps    (strings) step i's ONNX op name: Relu Sigmoid Tanh Exp Neg Abs Sqrt Cos Sin Erf | Add Sub Mul Div
//   args     (ints)    0 for a unary step; -1: the binary step's constant is scalars[i]; k >= 1: it is
//                      input k, one float32 per element of the last axis
//   scalars  (floats)  the scalar constant of steps with args[i] = -1 (ignored otherwise)
//   reversed (ints)    1: the constant is the left operand (c - x, c / x); 0: the right one
// Every input after x must be used by some step. Freestanding: no allocation, no OS calls.
#pragma once

#include "ref_kernel.h"

#include <cstddef>
#include <cstdint>

namespace slm {

enum EwStepKind : int32_t {
  kEwRelu,
  kEwSigmoid,
  kEwTanh,
  kEwExp,
  kEwNeg,
  kEwAbs,
  kEwSqrt,
  kEwCos,
  kEwSin,
  kEwErf,
  kEwAdd, // binary kinds from here on
  kEwSub,
  kEwMul,
  kEwDiv,
  kEwKindCount,
};

constexpr int kEwMaxSteps = 64;

inline bool ew_is_binary(int32_t kind) { return kind >= kEwAdd && kind < kEwKindCount; }
// The kind named `name` (an ONNX op type), -1 when none.
int32_t ew_step_kind(const char *name);
// The ONNX op type of `kind` ("?" when out of range).
const char *ew_step_name(int32_t kind);

struct EwStep {
  int32_t kind = 0;
  int32_t arg = 0;      // as the args attribute
  float scalar = 0.0f;  // args = -1
  bool reversed = false;
};

// Decodes and checks `attrs` for an op with `num_params` inputs after x into out[0, *out_count).
// Returns SLM_REF_OK, or SLM_REF_INVALID with a message in err (err_size bytes) naming what is
// wrong: a missing or mistyped attribute, lengths that differ, too many steps, an unknown step
// name, an arg out of range or on the wrong kind of step, an input no step uses.
int ew_decode_steps(const AttrList *attrs, int num_params, EwStep *out, int *out_count, char *err, size_t err_size);

// y[i] = steps(x[i]) for the n elements of one row starting at column c0 (c0 + n <= the row's
// length); params[k - 1] points at input k's values, indexed by column. x and y may be the same memory.
void ew_apply_row(const EwStep *steps, int count, const float *const *params, int64_t c0, const float *x, float *y,
                  int64_t n);

} // namespace slm
