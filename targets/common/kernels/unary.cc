// Reference kernels for elementwise unary ops: math, activations, rounding, predicates, casts.
#include "kernel_util.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

namespace slm {
namespace {

constexpr int64_t kGrain = 1 << 16;

// Which input dtypes an op accepts.
enum Kind { kOnlyFloat, kOnlySigned, kOnlyArith, kOnlyBool, kOnlyInt, kAnyDtype };

bool accepts(Kind k, int32_t d) {
  bool is_signed_int = d == kI8 || d == kI16 || d == kI32 || d == kI64;
  switch (k) {
  case kOnlyFloat: return is_float_dtype(d);
  case kOnlySigned: return is_float_dtype(d) || is_signed_int;
  case kOnlyArith: return is_float_dtype(d) || is_int_dtype(d);
  case kOnlyBool: return d == kBool;
  case kOnlyInt: return is_int_dtype(d);
  default: return dtype_size(d) != 0;
  }
}

// Output has input 0's shape; dtype is the input's unless `out_dtype` is given.
int infer_map(KernelContext *ctx, const char *op, Kind kind, int32_t out_dtype) {
  if (int st = require_inputs(ctx, 1))
    return st;
  const Tensor &x = *input(ctx, 0);
  if (!output(ctx, 0))
    return SLM_INVALID(ctx, "%s: output 0 is missing", op);
  if (!accepts(kind, x.dtype))
    return SLM_UNSUPPORTED(ctx, "%s: dtype %s is not supported", op, dtype_name(x.dtype));
  set_shape(output(ctx, 0), out_dtype ? out_dtype : x.dtype, x.rank, x.dims);
  return SLM_REF_OK;
}

// y[i] = f(x[i]) in the compute type of T.
template <typename T, typename F> int map_loop(KernelContext *ctx, F &f) {
  using C = typename Compute<T>::type;
  const T *px = input(ctx, 0)->as<T>();
  T *py = output(ctx, 0)->as<T>();
  parallel(ctx, input(ctx, 0)->numel(), kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      py[i] = Compute<T>::store(C(f(Compute<T>::load(px[i]))));
  });
  return SLM_REF_OK;
}

template <typename F> int map_float(KernelContext *ctx, const char *op, F f) {
  return dispatch_float(ctx, input(ctx, 0)->dtype, op,
                        [&](auto tag) { return map_loop<decltype(tag)>(ctx, f); });
}
template <typename F> int map_arith(KernelContext *ctx, const char *op, F f) {
  return dispatch_arith(ctx, input(ctx, 0)->dtype, op,
                        [&](auto tag) { return map_loop<decltype(tag)>(ctx, f); });
}

template <typename F> int map_int(KernelContext *ctx, const char *op, F f) {
  switch (input(ctx, 0)->dtype) {
  case kI8: return map_loop<int8_t>(ctx, f);
  case kU8: return map_loop<uint8_t>(ctx, f);
  case kI16: return map_loop<int16_t>(ctx, f);
  case kU16: return map_loop<uint16_t>(ctx, f);
  case kI32: return map_loop<int32_t>(ctx, f);
  case kU32: return map_loop<uint32_t>(ctx, f);
  case kI64: return map_loop<int64_t>(ctx, f);
  case kU64: return map_loop<uint64_t>(ctx, f);
  default:
    return SLM_UNSUPPORTED(ctx, "%s: dtype %s is not supported (integer types only)", op,
                           dtype_name(input(ctx, 0)->dtype));
  }
}

template <typename C> C softplus(C x) {
  // Split at 0 so exp never overflows.
  return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}

// Ops without attributes: one infer and one run per op, generated.
#define SLM_UNARY(Name, kind, map, expr)                                                           \
  int infer_##Name(KernelContext *ctx) { return infer_map(ctx, #Name, kind, 0); }                  \
  int run_##Name(KernelContext *ctx) {                                                             \
    return map(ctx, #Name, [](auto x) {                                                            \
      using C = decltype(x);                                                                       \
      (void)sizeof(C);                                                                             \
      return expr;                                                                                 \
    });                                                                                            \
  }

SLM_UNARY(Neg, kOnlySigned, map_arith, -x)
SLM_UNARY(Abs, kOnlyArith, map_arith, (x < C(0) ? C(-x) : x))
SLM_UNARY(Sign, kOnlyArith, map_arith, C(x > C(0) ? 1 : (x < C(0) ? -1 : 0)))
SLM_UNARY(Relu, kOnlySigned, map_arith, (x > C(0) ? x : C(0)))
SLM_UNARY(Sqrt, kOnlyFloat, map_float, std::sqrt(x))
SLM_UNARY(Reciprocal, kOnlyFloat, map_float, C(1) / x)
SLM_UNARY(Exp, kOnlyFloat, map_float, std::exp(x))
SLM_UNARY(Log, kOnlyFloat, map_float, std::log(x))
SLM_UNARY(Tanh, kOnlyFloat, map_float, std::tanh(x))
SLM_UNARY(Sigmoid, kOnlyFloat, map_float,
          (x >= 0 ? C(1) / (C(1) + std::exp(-x)) : std::exp(x) / (C(1) + std::exp(x))))
SLM_UNARY(Erf, kOnlyFloat, map_float, std::erf(x))
SLM_UNARY(Softplus, kOnlyFloat, map_float, softplus(x))
SLM_UNARY(Softsign, kOnlyFloat, map_float, x / (C(1) + std::fabs(x)))
SLM_UNARY(Mish, kOnlyFloat, map_float, x *std::tanh(softplus(x)))
SLM_UNARY(HardSwish, kOnlyFloat, map_float, x *std::max(C(0), std::min(C(1), x / C(6) + C(0.5))))
SLM_UNARY(Sin, kOnlyFloat, map_float, std::sin(x))
SLM_UNARY(Cos, kOnlyFloat, map_float, std::cos(x))
SLM_UNARY(Tan, kOnlyFloat, map_float, std::tan(x))
SLM_UNARY(Asin, kOnlyFloat, map_float, std::asin(x))
SLM_UNARY(Acos, kOnlyFloat, map_float, std::acos(x))
SLM_UNARY(Atan, kOnlyFloat, map_float, std::atan(x))
SLM_UNARY(Sinh, kOnlyFloat, map_float, std::sinh(x))
SLM_UNARY(Cosh, kOnlyFloat, map_float, std::cosh(x))
SLM_UNARY(Asinh, kOnlyFloat, map_float, std::asinh(x))
SLM_UNARY(Acosh, kOnlyFloat, map_float, std::acosh(x))
SLM_UNARY(Atanh, kOnlyFloat, map_float, std::atanh(x))
SLM_UNARY(Floor, kOnlyFloat, map_float, std::floor(x))
SLM_UNARY(Ceil, kOnlyFloat, map_float, std::ceil(x))
// rint rounds half to even in the default rounding mode, as ONNX Round requires.
SLM_UNARY(Round, kOnlyFloat, map_float, std::rint(x))
SLM_UNARY(BitwiseNot, kOnlyInt, map_int, C(~x))

#undef SLM_UNARY

// Ops with attributes: float-only infers, then hand-written runs.
#define SLM_INFER_FLOAT(Name)                                                                      \
  int infer_##Name(KernelContext *ctx) { return infer_map(ctx, #Name, kOnlyFloat, 0); }
SLM_INFER_FLOAT(LeakyRelu)
SLM_INFER_FLOAT(Elu)
SLM_INFER_FLOAT(Selu)
SLM_INFER_FLOAT(Celu)
SLM_INFER_FLOAT(HardSigmoid)
SLM_INFER_FLOAT(ThresholdedRelu)
#undef SLM_INFER_FLOAT

int run_LeakyRelu(KernelContext *ctx) {
  float a = attr_float(ctx, "alpha", 0.01f);
  return map_float(ctx, "LeakyRelu", [a](auto x) { return x < 0 ? x * decltype(x)(a) : x; });
}
int run_Elu(KernelContext *ctx) {
  float a = attr_float(ctx, "alpha", 1.0f);
  return map_float(ctx, "Elu", [a](auto x) {
    using C = decltype(x);
    return x < 0 ? C(a) * (std::exp(x) - C(1)) : x;
  });
}
int run_Selu(KernelContext *ctx) {
  float a = attr_float(ctx, "alpha", 1.67326319217681884765625f);
  float g = attr_float(ctx, "gamma", 1.05070102214813232421875f);
  return map_float(ctx, "Selu", [a, g](auto x) {
    using C = decltype(x);
    return x > 0 ? C(g) * x : C(g) * (C(a) * std::exp(x) - C(a));
  });
}
int run_Celu(KernelContext *ctx) {
  float a = attr_float(ctx, "alpha", 1.0f);
  if (a == 0.0f)
    return SLM_INVALID(ctx, "Celu: alpha must not be 0");
  return map_float(ctx, "Celu", [a](auto x) {
    using C = decltype(x);
    return std::max(C(0), x) + std::min(C(0), C(a) * (std::exp(x / C(a)) - C(1)));
  });
}
int run_HardSigmoid(KernelContext *ctx) {
  float a = attr_float(ctx, "alpha", 0.2f), b = attr_float(ctx, "beta", 0.5f);
  return map_float(ctx, "HardSigmoid", [a, b](auto x) {
    using C = decltype(x);
    return std::max(C(0), std::min(C(1), C(a) * x + C(b)));
  });
}
int run_ThresholdedRelu(KernelContext *ctx) {
  float a = attr_float(ctx, "alpha", 1.0f);
  return map_float(ctx, "ThresholdedRelu",
                   [a](auto x) { return x > decltype(x)(a) ? x : decltype(x)(0); });
}

int infer_Shrink(KernelContext *ctx) { return infer_map(ctx, "Shrink", kOnlyArith, 0); }
int run_Shrink(KernelContext *ctx) {
  float l = attr_float(ctx, "lambd", 0.5f), b = attr_float(ctx, "bias", 0.0f);
  return map_arith(ctx, "Shrink", [l, b](auto x) {
    using C = decltype(x);
    double v = double(x); // compare in double so integer inputs see fractional lambd/bias
    return v < -double(l) ? C(v + double(b)) : v > double(l) ? C(v - double(b)) : C(0);
  });
}

int infer_Gelu(KernelContext *ctx) {
  char mode[8] = "none";
  if (ctx->attrs)
    ctx->attrs->get_string("approximate", "none", mode, sizeof mode);
  if (std::strcmp(mode, "none") != 0 && std::strcmp(mode, "tanh") != 0)
    return SLM_INVALID(ctx, "Gelu: approximate must be 'none' or 'tanh', got '%s'", mode);
  return infer_map(ctx, "Gelu", kOnlyFloat, 0);
}
int run_Gelu(KernelContext *ctx) {
  char mode[8] = "none";
  if (ctx->attrs)
    ctx->attrs->get_string("approximate", "none", mode, sizeof mode);
  if (std::strcmp(mode, "tanh") == 0)
    return map_float(ctx, "Gelu", [](auto x) {
      using C = decltype(x);
      const C k = C(0.7978845608028654); // sqrt(2 / pi)
      return C(0.5) * x * (C(1) + std::tanh(k * (x + C(0.044715) * x * x * x)));
    });
  return map_float(ctx, "Gelu", [](auto x) {
    using C = decltype(x);
    return C(0.5) * x * (C(1) + std::erf(x * C(0.7071067811865476)));
  });
}

// Not works on bool; BitwiseNot above on ints.
int infer_Not(KernelContext *ctx) { return infer_map(ctx, "Not", kOnlyBool, 0); }
int run_Not(KernelContext *ctx) {
  const bool *px = input(ctx, 0)->as<bool>();
  bool *py = output(ctx, 0)->as<bool>();
  for (int64_t i = 0, n = input(ctx, 0)->numel(); i < n; ++i)
    py[i] = !px[i];
  return SLM_REF_OK;
}

// Predicates: float in, bool out.
template <typename P> int run_predicate(KernelContext *ctx, const char *op, P pred) {
  return dispatch_float(ctx, input(ctx, 0)->dtype, op, [&](auto tag) {
    using T = decltype(tag);
    const T *px = input(ctx, 0)->as<T>();
    bool *py = output(ctx, 0)->as<bool>();
    for (int64_t i = 0, n = input(ctx, 0)->numel(); i < n; ++i)
      py[i] = pred(double(Compute<T>::load(px[i])));
    return int(SLM_REF_OK);
  });
}
int infer_IsNaN(KernelContext *ctx) { return infer_map(ctx, "IsNaN", kOnlyFloat, kBool); }
int run_IsNaN(KernelContext *ctx) {
  return run_predicate(ctx, "IsNaN", [](double v) { return std::isnan(v); });
}
int infer_IsInf(KernelContext *ctx) { return infer_map(ctx, "IsInf", kOnlyFloat, kBool); }
int run_IsInf(KernelContext *ctx) {
  bool pos = attr_int(ctx, "detect_positive", 1) != 0;
  bool neg = attr_int(ctx, "detect_negative", 1) != 0;
  return run_predicate(ctx, "IsInf", [pos, neg](double v) {
    return std::isinf(v) && ((v > 0 && pos) || (v < 0 && neg));
  });
}

// Identity-like ops copy bytes, so they work for every dtype.
int infer_Identity(KernelContext *ctx) { return infer_map(ctx, "Identity", kAnyDtype, 0); }
int run_Identity(KernelContext *ctx) {
  size_t n = input(ctx, 0)->nbytes();
  if (n)
    std::memcpy(output(ctx, 0)->data, input(ctx, 0)->data, n);
  return SLM_REF_OK;
}

// Inference-mode Dropout: identity, and the optional mask output is all true. Training mode is
// refused when known (at compile time for constant flags): its mask is random, except with
// ratio 0, which drops nothing.
int check_dropout_mode(KernelContext *ctx) {
  const Tensor *training = input(ctx, 2), *ratio = input(ctx, 1);
  bool drops = !ratio || !ratio->data || ratio->numel() != 1 || read_double(*ratio, 0) != 0.0;
  if (training && training->data && training->numel() == 1 && read_int(*training, 0) && drops)
    return SLM_UNSUPPORTED(ctx, "Dropout: training_mode=true is not supported (inference only)");
  return SLM_REF_OK;
}
int infer_Dropout(KernelContext *ctx) {
  if (int st = infer_map(ctx, "Dropout", kOnlyFloat, 0))
    return st;
  if (int st = check_dropout_mode(ctx))
    return st;
  const Tensor &x = *input(ctx, 0);
  if (Tensor *mask = output(ctx, 1))
    set_shape(mask, kBool, x.rank, x.dims);
  return SLM_REF_OK;
}
int run_Dropout(KernelContext *ctx) {
  if (int st = check_dropout_mode(ctx))
    return st;
  run_Identity(ctx);
  if (Tensor *mask = output(ctx, 1))
    std::memset(mask->data, 1, size_t(mask->numel()));
  return SLM_REF_OK;
}

// Clip bounds come from attributes before opset 11 and from optional inputs 1, 2 after.
template <typename T> typename Compute<T>::type clip_bound(KernelContext *ctx, int idx, bool lo) {
  using C = typename Compute<T>::type;
  const char *name = lo ? "min" : "max";
  C fallback = lo ? std::numeric_limits<C>::lowest() : std::numeric_limits<C>::max();
  if (ctx->attrs && ctx->attrs->find(name))
    return C(ctx->attrs->get_float(name, 0.0f));
  const Tensor *t = input(ctx, idx);
  if (!t || !t->data || t->numel() == 0)
    return fallback;
  if (std::is_integral<C>::value)
    return C(read_int(*t, 0));
  return C(read_double(*t, 0));
}

int infer_Clip(KernelContext *ctx) {
  if (int st = infer_map(ctx, "Clip", kOnlyArith, 0))
    return st;
  for (int i = 1; i < 3; ++i) {
    const Tensor *t = input(ctx, i);
    if (t && t->dtype != input(ctx, 0)->dtype)
      return SLM_INVALID(ctx, "Clip: bound %d dtype %s differs from input's %s", i,
                         dtype_name(t->dtype), dtype_name(input(ctx, 0)->dtype));
    if (t && t->numel() > 1)
      return SLM_INVALID(ctx, "Clip: bound %d must be a scalar", i);
  }
  return SLM_REF_OK;
}
int run_Clip(KernelContext *ctx) {
  return dispatch_arith(ctx, input(ctx, 0)->dtype, "Clip", [&](auto tag) {
    using T = decltype(tag);
    using C = typename Compute<T>::type;
    C lo = clip_bound<T>(ctx, 1, true), hi = clip_bound<T>(ctx, 2, false);
    // max applied last, so min > max yields max as ONNX specifies.
    auto f = [lo, hi](C x) {
      C v = x < lo ? lo : x;
      return v > hi ? hi : v;
    };
    return map_loop<T>(ctx, f);
  });
}

// Converts one value between compute types with ONNX Cast semantics: floats
// truncate toward zero into ints (NaN → 0, out-of-range saturates), anything
// non-zero is true.
template <typename D, typename S> D convert(S v) {
  if constexpr (std::is_same<D, bool>::value) {
    return v != S(0);
  } else if constexpr (std::is_floating_point<S>::value && std::is_integral<D>::value) {
    if (std::isnan(v))
      return D(0);
    if (v <= S(std::numeric_limits<D>::lowest()))
      return std::numeric_limits<D>::lowest();
    if (v >= S(std::numeric_limits<D>::max()))
      return std::numeric_limits<D>::max();
    return D(v);
  } else {
    return D(v);
  }
}

int cast_to(KernelContext *ctx, int32_t to, const char *op) {
  const Tensor &x = *input(ctx, 0);
  const Tensor &y = *output(ctx, 0);
  if (x.dtype == to) {
    if (x.nbytes())
      std::memcpy(y.data, x.data, x.nbytes());
    return SLM_REF_OK;
  }
  return dispatch_numeric(ctx, x.dtype, op, [&](auto ts) {
    using S = decltype(ts);
    return dispatch_numeric(ctx, to, op, [&](auto td) {
      using D = decltype(td);
      using CS = typename Compute<S>::type;
      using CD = typename Compute<D>::type;
      const S *px = x.as<S>();
      D *py = y.as<D>();
      parallel(ctx, x.numel(), kGrain, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i)
          py[i] = Compute<D>::store(convert<CD, CS>(Compute<S>::load(px[i])));
      });
      return int(SLM_REF_OK);
    });
  });
}

bool castable(int32_t d) { return is_float_dtype(d) || is_int_dtype(d) || d == kBool; }

int infer_Cast(KernelContext *ctx) {
  int64_t to = attr_int(ctx, "to", -1);
  if (to < 0)
    return SLM_INVALID(ctx, "Cast: attribute 'to' is missing");
  if (!castable(int32_t(to)))
    return SLM_UNSUPPORTED(ctx, "Cast: target dtype %lld (%s) is not supported", (long long)to,
                           dtype_name(int32_t(to)));
  if (int st = infer_map(ctx, "Cast", kAnyDtype, int32_t(to)))
    return st;
  if (!castable(input(ctx, 0)->dtype))
    return SLM_UNSUPPORTED(ctx, "Cast: source dtype %s is not supported",
                           dtype_name(input(ctx, 0)->dtype));
  return SLM_REF_OK;
}
int run_Cast(KernelContext *ctx) { return cast_to(ctx, int32_t(attr_int(ctx, "to", 0)), "Cast"); }

int infer_CastLike(KernelContext *ctx) {
  if (int st = require_inputs(ctx, 2))
    return st;
  int32_t to = input(ctx, 1)->dtype;
  if (!castable(to) || !castable(input(ctx, 0)->dtype))
    return SLM_UNSUPPORTED(ctx, "CastLike: cast from %s to %s is not supported",
                           dtype_name(input(ctx, 0)->dtype), dtype_name(to));
  return infer_map(ctx, "CastLike", kAnyDtype, to);
}
int run_CastLike(KernelContext *ctx) { return cast_to(ctx, input(ctx, 1)->dtype, "CastLike"); }

} // namespace

const OpKernel kUnaryKernels[] = {
    {"Neg", infer_Neg, run_Neg, 0},
    {"Abs", infer_Abs, run_Abs, 0},
    {"Sqrt", infer_Sqrt, run_Sqrt, 0},
    {"Reciprocal", infer_Reciprocal, run_Reciprocal, 0},
    {"Exp", infer_Exp, run_Exp, 0},
    {"Log", infer_Log, run_Log, 0},
    {"Tanh", infer_Tanh, run_Tanh, 0},
    {"Sigmoid", infer_Sigmoid, run_Sigmoid, 0},
    {"Erf", infer_Erf, run_Erf, 0},
    {"Relu", infer_Relu, run_Relu, 0},
    {"LeakyRelu", infer_LeakyRelu, run_LeakyRelu, 0},
    {"Elu", infer_Elu, run_Elu, 0},
    {"Selu", infer_Selu, run_Selu, 0},
    {"Celu", infer_Celu, run_Celu, 0},
    {"HardSigmoid", infer_HardSigmoid, run_HardSigmoid, 0},
    {"HardSwish", infer_HardSwish, run_HardSwish, 0},
    {"Softplus", infer_Softplus, run_Softplus, 0},
    {"Shrink", infer_Shrink, run_Shrink, 0},
    {"Softsign", infer_Softsign, run_Softsign, 0},
    {"Mish", infer_Mish, run_Mish, 0},
    {"ThresholdedRelu", infer_ThresholdedRelu, run_ThresholdedRelu, 0},
    {"Gelu", infer_Gelu, run_Gelu, 0},
    {"Sin", infer_Sin, run_Sin, 0},
    {"Cos", infer_Cos, run_Cos, 0},
    {"Tan", infer_Tan, run_Tan, 0},
    {"Asin", infer_Asin, run_Asin, 0},
    {"Acos", infer_Acos, run_Acos, 0},
    {"Atan", infer_Atan, run_Atan, 0},
    {"Sinh", infer_Sinh, run_Sinh, 0},
    {"Cosh", infer_Cosh, run_Cosh, 0},
    {"Asinh", infer_Asinh, run_Asinh, 0},
    {"Acosh", infer_Acosh, run_Acosh, 0},
    {"Atanh", infer_Atanh, run_Atanh, 0},
    {"Floor", infer_Floor, run_Floor, 0},
    {"Ceil", infer_Ceil, run_Ceil, 0},
    {"Round", infer_Round, run_Round, 0},
    {"Sign", infer_Sign, run_Sign, 0},
    {"Not", infer_Not, run_Not, 0},
    {"IsNaN", infer_IsNaN, run_IsNaN, 0},
    {"IsInf", infer_IsInf, run_IsInf, 0},
    {"Identity", infer_Identity, run_Identity, 0},
    {"Clip", infer_Clip, run_Clip, 0},
    {"Cast", infer_Cast, run_Cast, 0},
    {"CastLike", infer_CastLike, run_CastLike, 0},
    {"Dropout", infer_Dropout, run_Dropout, 0},
    {"BitwiseNot", infer_BitwiseNot, run_BitwiseNot, 0},
};
const size_t kUnaryKernels_count = sizeof(kUnaryKernels) / sizeof(kUnaryKernels[0]);

} // namespace slm
