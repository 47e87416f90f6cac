// Reference kernel for slm.elementwise: interprets the step list block by block (float32).
#include "elementwise_steps.h"
#include "kernel_util.h"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace slm {
namespace {

const char *const kStepNames[kEwKindCount] = {"Relu", "Sigmoid", "Tanh", "Exp", "Neg", "Abs", "Sqrt",
                                              "Cos",  "Sin",     "Erf",  "Add", "Sub", "Mul", "Div"};

__attribute__((format(printf, 3, 4))) int fail(char *err, size_t size, const char *fmt, ...) {
  if (err && size) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, size, fmt, ap);
    va_end(ap);
  }
  return SLM_REF_INVALID;
}

// The attribute `name` when it has `kind`, else null.
const Attr *list_attr(const AttrList *attrs, const char *name, int32_t kind) {
  const Attr *a = attrs ? attrs->find(name) : nullptr;
  return a && a->kind == kind ? a : nullptr;
}

template <int32_t K> float binary(float a, float b) {
  if constexpr (K == kEwAdd) return a + b;
  else if constexpr (K == kEwSub) return a - b;
  else if constexpr (K == kEwMul) return a * b;
  else return a / b;
}

template <int32_t K> float unary(float x) {
  if constexpr (K == kEwRelu) return x > 0.0f ? x : 0.0f;
  else if constexpr (K == kEwSigmoid) return x >= 0 ? 1.0f / (1.0f + std::exp(-x)) : std::exp(x) / (1.0f + std::exp(x));
  else if constexpr (K == kEwTanh) return std::tanh(x);
  else if constexpr (K == kEwExp) return std::exp(x);
  else if constexpr (K == kEwNeg) return -x;
  else if constexpr (K == kEwAbs) return std::fabs(x);
  else if constexpr (K == kEwSqrt) return std::sqrt(x);
  else if constexpr (K == kEwCos) return std::cos(x);
  else if constexpr (K == kEwSin) return std::sin(x);
  else return std::erf(x);
}

// One step over a block, the kind and operand form fixed per loop so each loop is a plain map.
template <int32_t K> void step_block(const EwStep &st, const float *p, float *buf, int64_t len) {
  if constexpr (K < kEwAdd) {
    for (int64_t i = 0; i < len; ++i) buf[i] = unary<K>(buf[i]);
  } else if (st.arg == -1) {
    float c = st.scalar;
    if (st.reversed)
      for (int64_t i = 0; i < len; ++i) buf[i] = binary<K>(c, buf[i]);
    else
      for (int64_t i = 0; i < len; ++i) buf[i] = binary<K>(buf[i], c);
  } else if (st.reversed) {
    for (int64_t i = 0; i < len; ++i) buf[i] = binary<K>(p[i], buf[i]);
  } else {
    for (int64_t i = 0; i < len; ++i) buf[i] = binary<K>(buf[i], p[i]);
  }
}

using StepFn = void (*)(const EwStep &, const float *, float *, int64_t);
constexpr StepFn kStepFns[kEwKindCount] = {
    step_block<kEwRelu>, step_block<kEwSigmoid>, step_block<kEwTanh>, step_block<kEwExp>, step_block<kEwNeg>,
    step_block<kEwAbs>,  step_block<kEwSqrt>,    step_block<kEwCos>,  step_block<kEwSin>, step_block<kEwErf>,
    step_block<kEwAdd>,  step_block<kEwSub>,     step_block<kEwMul>,  step_block<kEwDiv>};

constexpr const char *kOp = "slm.elementwise";

int check(KernelContext *ctx, EwStep *steps, int *count) {
  const Tensor *x = input(ctx, 0);
  if (!x || x->dtype != kF32) return SLM_INVALID(ctx, "%s: x must be float32", kOp);
  if (!output(ctx, 0)) return SLM_INVALID(ctx, "%s: output 0 is missing", kOp);
  if (int st = ew_decode_steps(ctx->attrs, ctx->num_inputs - 1, steps, count, ctx->error, ctx->error_size)) return st;
  int64_t cols = x->rank ? x->dims[x->rank - 1] : 1;
  for (int k = 1; k < ctx->num_inputs; ++k) {
    const Tensor *p = input(ctx, k);
    if (!p || p->dtype != kF32 || p->numel() != cols)
      return SLM_INVALID(ctx, "%s: input %d must be float32 with one value per element of the last axis (%lld)", kOp, k,
                         (long long)cols);
  }
  return SLM_REF_OK;
}

int infer_elementwise(KernelContext *ctx) {
  EwStep steps[kEwMaxSteps];
  int count = 0;
  if (int st = check(ctx, steps, &count)) return st;
  const Tensor *x = input(ctx, 0);
  set_shape(output(ctx, 0), kF32, x->rank, x->dims);
  return SLM_REF_OK;
}

int run_elementwise(KernelContext *ctx) {
  EwStep steps[kEwMaxSteps];
  int count = 0;
  if (int st = check(ctx, steps, &count)) return st;
  const Tensor *x = input(ctx, 0);
  const float *params[32] = {};
  for (int k = 1; k < ctx->num_inputs && k <= 32; ++k) params[k - 1] = input(ctx, k)->as<float>();
  int64_t cols = x->rank ? x->dims[x->rank - 1] : 1, n = x->numel();
  if (n == 0 || cols == 0) return SLM_REF_OK;
  const float *px = x->as<float>();
  float *py = output(ctx, 0)->as<float>();
  int64_t rows = n / cols, grain = std::max<int64_t>(1, (1 << 14) / cols);
  parallel(ctx, rows, grain, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) ew_apply_row(steps, count, params, 0, px + r * cols, py + r * cols, cols);
  });
  return SLM_REF_OK;
}

} // namespace

int32_t ew_step_kind(const char *name) {
  for (int32_t k = 0; name && k < kEwKindCount; ++k)
    if (std::strcmp(name, kStepNames[k]) == 0) return k;
  return -1;
}

const char *ew_step_name(int32_t kind) { return kind >= 0 && kind < kEwKindCount ? kStepNames[kind] : "?"; }

int ew_decode_steps(const AttrList *attrs, int num_params, EwStep *out, int *out_count, char *err, size_t err_size) {
  const Attr *steps = list_attr(attrs, "steps", kAttrStrings);
  const Attr *args = list_attr(attrs, "args", kAttrInts);
  const Attr *scalars = list_attr(attrs, "scalars", kAttrFloats);
  const Attr *reversed = list_attr(attrs, "reversed", kAttrInts);
  if (!steps || !args || !scalars || !reversed)
    return fail(err, err_size, "%s: needs the attributes steps (strings), args (ints), scalars (floats) and reversed (ints)",
                kOp);
  size_t n = steps->count;
  if (n == 0 || n > size_t(kEwMaxSteps))
    return fail(err, err_size, "%s: %lld steps, expected 1 to %d", kOp, (long long)n, kEwMaxSteps);
  if (args->count != n || scalars->count != n || reversed->count != n)
    return fail(err, err_size, "%s: steps, args, scalars and reversed must have the same length (%lld steps)", kOp,
                (long long)n);
  if (num_params < 0 || num_params > 32)
    return fail(err, err_size, "%s: %d constant inputs, expected at most 32", kOp, num_params);
  uint32_t used = 0;
  for (size_t i = 0; i < n; ++i) {
    EwStep &s = out[i];
    const char *name = steps->strings ? steps->strings[i] : nullptr;
    s.kind = ew_step_kind(name);
    if (s.kind < 0)
      return fail(err, err_size, "%s: step %lld is '%.40s', not one of Relu Sigmoid Tanh Exp Neg Abs Sqrt Cos Sin Erf "
                  "Add Sub Mul Div", kOp, (long long)i, name ? name : "");
    int64_t a = args->ints[i];
    s.arg = int32_t(a);
    s.scalar = scalars->floats[i];
    s.reversed = reversed->ints[i] != 0;
    if (reversed->ints[i] != 0 && reversed->ints[i] != 1)
      return fail(err, err_size, "%s: reversed[%lld] must be 0 or 1", kOp, (long long)i);
    if (!ew_is_binary(s.kind)) {
      if (a != 0 || s.reversed)
        return fail(err, err_size, "%s: unary step %lld (%s) must have args 0 and reversed 0", kOp, (long long)i, name);
      continue;
    }
    if (a == -1) continue;
    if (a < 1 || a > num_params)
      return fail(err, err_size, "%s: step %lld's constant is input %lld, which does not exist", kOp, (long long)i, (long long)a);
    used |= 1u << (a - 1);
  }
  for (int k = 0; k < num_params; ++k)
    if (!(used & (1u << k))) return fail(err, err_size, "%s: input %d is used by no step", kOp, k + 1);
  *out_count = int(n);
  return SLM_REF_OK;
}

void ew_apply_row(const EwStep *steps, int count, const float *const *params, int64_t c0, const float *x, float *y,
                  int64_t n) {
  constexpr int64_t kBlock = 256; // step-major over a block: one switch per step per block
  float buf[kBlock];
  for (int64_t b = 0; b < n; b += kBlock) {
    int64_t len = std::min(kBlock, n - b);
    std::memcpy(buf, x + b, size_t(len) * sizeof(float));
    for (int s = 0; s < count; ++s) {
      const EwStep &st = steps[s];
      kStepFns[st.kind](st, st.arg > 0 ? params[st.arg - 1] + c0 + b : nullptr, buf, len);
    }
    std::memcpy(y + b, buf, size_t(len) * sizeof(float));
  }
}

extern const OpKernel kElementwiseChainKernels[] = {
    {"slm.elementwise", infer_elementwise, run_elementwise, 0},
};
extern const size_t kElementwiseChainKernels_count = 1;

} // namespace slm
