// Reference kernels for numpy-broadcasting binary, variadic, comparison, logical and select ops.
#include "kernel_util.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

namespace slm {
namespace {

constexpr int64_t kGrain = 1 << 16;

// clang-format off
enum Bin {
  kAdd, kSub, kMul, kDiv, kPow, kMod, kMax, kMin, kEqual, kLess, kGreater, kLessEq, kGreaterEq,
  kAnd, kOr, kXor, kBitShift, kPRelu
};
const char *const kBinNames[] = {
    "Add", "Sub", "Mul", "Div", "Pow", "Mod", "Max", "Min", "Equal", "Less", "Greater",
    "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor", "BitShift", "PRelu"};
// clang-format on

constexpr bool is_compare(Bin k) { return k >= kEqual && k <= kGreaterEq; }

template <typename F> int dispatch_int(KernelContext *ctx, int32_t dtype, const char *op, F &&fn) {
  switch (dtype) {
  case kI8: return fn(int8_t{});
  case kU8: return fn(uint8_t{});
  case kI16: return fn(int16_t{});
  case kU16: return fn(uint16_t{});
  case kI32: return fn(int32_t{});
  case kU32: return fn(uint32_t{});
  case kI64: return fn(int64_t{});
  case kU64: return fn(uint64_t{});
  default:
    return SLM_UNSUPPORTED(ctx, "%s: dtype %s is not supported (integer types only)", op,
                           dtype_name(dtype));
  }
}

// Storage type of the same size, so select/copy ops move any dtype bit-exactly.
template <typename F>
int dispatch_bytes(KernelContext *ctx, int32_t dtype, const char *op, F &&fn) {
  switch (dtype_size(dtype)) {
  case 1: return fn(uint8_t{});
  case 2: return fn(uint16_t{});
  case 4: return fn(uint32_t{});
  case 8: return fn(uint64_t{});
  default: return SLM_UNSUPPORTED(ctx, "%s: dtype %s is not supported", op, dtype_name(dtype));
  }
}

// A broadcast walk: output dims plus each operand's strides, with size-1 dims
// dropped and contiguous runs merged so the innermost loop is as long as possible.
template <int N> struct Walk {
  int rank = 1;
  int64_t dims[kMaxRank] = {1};
  int64_t st[N][kMaxRank] = {};
};

template <int N> Walk<N> make_walk(int rank, const int64_t *dims, const Tensor *const (&ops)[N]) {
  int64_t s[N][kMaxRank];
  for (int k = 0; k < N; ++k)
    broadcast_strides(*ops[k], rank, dims, s[k]);
  Walk<N> w;
  int r = 0;
  for (int d = 0; d < rank; ++d) {
    if (dims[d] == 1)
      continue;
    bool merge = r > 0;
    for (int k = 0; k < N && merge; ++k)
      merge = w.st[k][r - 1] == s[k][d] * dims[d];
    if (merge) {
      w.dims[r - 1] *= dims[d];
    } else {
      w.dims[r] = dims[d];
      ++r;
    }
    for (int k = 0; k < N; ++k)
      w.st[k][r - 1] = s[k][d];
  }
  w.rank = r ? r : 1;
  return w;
}

// Calls row(out_index, count, offsets) for each run of the innermost dim within [begin, end).
template <int N, typename F> void for_rows(const Walk<N> &w, int64_t begin, int64_t end, F &&row) {
  const int last = w.rank - 1;
  int64_t idx[kMaxRank], off[N] = {};
  int64_t rem = begin;
  for (int d = last; d >= 0; --d) {
    idx[d] = rem % w.dims[d];
    rem /= w.dims[d];
    for (int k = 0; k < N; ++k)
      off[k] += idx[d] * w.st[k][d];
  }
  for (int64_t i = begin; i < end;) {
    int64_t n = std::min(w.dims[last] - idx[last], end - i);
    row(i, n, off);
    i += n;
    idx[last] += n;
    for (int k = 0; k < N; ++k)
      off[k] += n * w.st[k][last];
    for (int d = last; d > 0 && idx[d] == w.dims[d]; --d) {
      for (int k = 0; k < N; ++k)
        off[k] += w.st[k][d - 1] - idx[d] * w.st[k][d];
      idx[d] = 0;
      ++idx[d - 1];
    }
  }
}

template <typename R, typename V> R store_as(V v) { return Compute<R>::store(v); }

// out = op(a, b) with broadcasting; TA/TB are storage types, R the output's.
template <typename TA, typename TB, typename R, typename Op>
void binary_loop(KernelContext *ctx, const Tensor &a, const Tensor &b, const Tensor &out, Op op) {
  const TA *pa = a.as<TA>();
  const TB *pb = b.as<TB>();
  R *po = out.as<R>();
  const int64_t n = out.numel();
  if (n == 0)
    return;
  const Tensor *ops[2] = {&a, &b};
  Walk<2> w = make_walk(out.rank, out.dims, ops);
  const int last = w.rank - 1;
  const int64_t sa = w.st[0][last], sb = w.st[1][last];
  parallel(ctx, n, kGrain, [&](int64_t begin, int64_t end) {
    for_rows(w, begin, end, [&](int64_t i, int64_t cnt, const int64_t *off) {
      const TA *xa = pa + off[0];
      const TB *xb = pb + off[1];
      R *y = po + i;
      if (sa == 1 && sb == 1) {
        for (int64_t j = 0; j < cnt; ++j)
          y[j] = store_as<R>(op(Compute<TA>::load(xa[j]), Compute<TB>::load(xb[j])));
      } else {
        for (int64_t j = 0; j < cnt; ++j)
          y[j] = store_as<R>(op(Compute<TA>::load(xa[j * sa]), Compute<TB>::load(xb[j * sb])));
      }
    });
  });
}

template <typename C> C div_op(C x, C y) {
  if constexpr (std::is_floating_point<C>::value) {
    return x / y;
  } else {
    // Integer division by zero is undefined in ONNX; produce 0 rather than trap.
    if (y == 0)
      return 0;
    if constexpr (std::is_signed<C>::value)
      if (y == C(-1))
        return C(0 - static_cast<typename std::make_unsigned<C>::type>(x));
    return x / y;
  }
}

template <typename C> C mod_op(C x, C y, bool fmod) {
  if constexpr (std::is_floating_point<C>::value) {
    C r = std::fmod(x, y);
    if (!fmod && r != 0 && ((r < 0) != (y < 0)))
      r += y;
    return r;
  } else {
    if (y == 0)
      return 0;
    if constexpr (std::is_signed<C>::value) {
      if (y == C(-1))
        return 0;
      C r = x % y;
      if (!fmod && r != 0 && ((r < 0) != (y < 0)))
        r += y;
      return r;
    } else {
      return x % y;
    }
  }
}

// NaN propagates through Max/Min like numpy.maximum; `x != x` is false for ints.
template <typename C> C max_op(C x, C y) { return (x != x || x > y) ? x : y; }
template <typename C> C min_op(C x, C y) { return (x != x || x < y) ? x : y; }

template <typename C, typename E> C pow_op(C x, E e) {
  if constexpr (std::is_integral<C>::value && std::is_integral<E>::value) {
    if (e < 0)
      return x == 1 ? 1 : (x == C(-1) ? ((e & 1) ? C(-1) : C(1)) : 0);
    C r = 1;
    for (C b = x; e; e /= 2, b = C(b * b))
      if (e & 1)
        r = C(r * b);
    return r;
  } else if constexpr (std::is_same<C, float>::value && std::is_same<E, float>::value) {
    return std::pow(x, e);
  } else {
    return C(std::pow(double(x), double(e)));
  }
}

template <typename T> int run_arith(KernelContext *ctx, Bin k) {
  using C = typename Compute<T>::type;
  const Tensor &a = *input(ctx, 0), &b = *input(ctx, 1);
  const Tensor &out = *output(ctx, 0);
  switch (k) {
  case kAdd: binary_loop<T, T, T>(ctx, a, b, out, [](C x, C y) { return C(x + y); }); break;
  case kSub: binary_loop<T, T, T>(ctx, a, b, out, [](C x, C y) { return C(x - y); }); break;
  case kMul: binary_loop<T, T, T>(ctx, a, b, out, [](C x, C y) { return C(x * y); }); break;
  case kDiv: binary_loop<T, T, T>(ctx, a, b, out, div_op<C>); break;
  case kMax: binary_loop<T, T, T>(ctx, a, b, out, max_op<C>); break;
  case kMin: binary_loop<T, T, T>(ctx, a, b, out, min_op<C>); break;
  case kMod: {
    bool fmod = attr_int(ctx, "fmod", 0) != 0;
    binary_loop<T, T, T>(ctx, a, b, out, [fmod](C x, C y) { return mod_op(x, y, fmod); });
    break;
  }
  case kPRelu:
    binary_loop<T, T, T>(ctx, a, b, out, [](C x, C s) { return x < C(0) ? C(s * x) : x; });
    break;
  default: return SLM_INVALID(ctx, "%s: not an arithmetic op", kBinNames[k]);
  }
  return SLM_REF_OK;
}

template <typename T> int run_compare(KernelContext *ctx, Bin k) {
  using C = typename Compute<T>::type;
  const Tensor &a = *input(ctx, 0), &b = *input(ctx, 1);
  const Tensor &out = *output(ctx, 0);
  switch (k) {
  case kEqual: binary_loop<T, T, bool>(ctx, a, b, out, [](C x, C y) { return x == y; }); break;
  case kLess: binary_loop<T, T, bool>(ctx, a, b, out, [](C x, C y) { return x < y; }); break;
  case kGreater: binary_loop<T, T, bool>(ctx, a, b, out, [](C x, C y) { return x > y; }); break;
  case kLessEq: binary_loop<T, T, bool>(ctx, a, b, out, [](C x, C y) { return x <= y; }); break;
  default: binary_loop<T, T, bool>(ctx, a, b, out, [](C x, C y) { return x >= y; }); break;
  }
  return SLM_REF_OK;
}

bool allowed_dtype(Bin k, int32_t d) {
  switch (k) {
  case kAnd:
  case kOr:
  case kXor: return d == kBool;
  case kBitShift: return is_int_dtype(d);
  case kEqual: return is_int_dtype(d) || is_float_dtype(d) || d == kBool;
  default: return is_int_dtype(d) || is_float_dtype(d);
  }
}

template <Bin K> int infer_binary(KernelContext *ctx) {
  const char *name = kBinNames[K];
  if (int st = require_inputs(ctx, 2))
    return st;
  const Tensor &a = *input(ctx, 0), &b = *input(ctx, 1);
  if (!output(ctx, 0))
    return SLM_INVALID(ctx, "%s: output 0 is missing", name);
  if (!allowed_dtype(K, a.dtype))
    return SLM_UNSUPPORTED(ctx, "%s: dtype %s is not supported", name, dtype_name(a.dtype));
  if (K == kPow) {
    if (!allowed_dtype(K, b.dtype))
      return SLM_UNSUPPORTED(ctx, "Pow: exponent dtype %s is not supported", dtype_name(b.dtype));
  } else if (a.dtype != b.dtype) {
    return SLM_INVALID(ctx, "%s: input dtypes differ (%s vs %s)", name, dtype_name(a.dtype),
                       dtype_name(b.dtype));
  }
  int rank;
  int64_t dims[kMaxRank];
  if (!broadcast_shapes(a, b, &rank, dims))
    return SLM_INVALID(ctx, "%s: shapes are not broadcast-compatible", name);
  if (K == kPRelu) { // slope broadcasts to X only (unidirectional)
    bool same = rank == a.rank;
    for (int i = 0; same && i < rank; ++i)
      same = dims[i] == a.dims[i];
    if (!same)
      return SLM_INVALID(ctx, "PRelu: slope does not broadcast to X's shape");
  }
  if (K == kMod && is_float_dtype(a.dtype) && !attr_int(ctx, "fmod", 0))
    return SLM_INVALID(ctx, "Mod: fmod must be 1 for floating-point inputs");
  set_shape(output(ctx, 0), (is_compare(K) || K == kAnd || K == kOr || K == kXor) ? kBool : a.dtype,
            rank, dims);
  return SLM_REF_OK;
}

template <Bin K> int run_binary(KernelContext *ctx) {
  const char *name = kBinNames[K];
  const Tensor &a = *input(ctx, 0), &b = *input(ctx, 1);
  const Tensor &out = *output(ctx, 0);
  if constexpr (K == kAnd || K == kOr || K == kXor) {
    binary_loop<bool, bool, bool>(ctx, a, b, out, [](bool x, bool y) {
      return K == kAnd ? (x && y) : K == kOr ? (x || y) : (x != y);
    });
    return SLM_REF_OK;
  } else if constexpr (K == kBitShift) {
    char dir[8] = "";
    if (ctx->attrs)
      ctx->attrs->get_string("direction", "", dir, sizeof dir);
    bool left = std::strcmp(dir, "LEFT") == 0;
    if (!left && std::strcmp(dir, "RIGHT") != 0)
      return SLM_INVALID(ctx, "BitShift: direction must be LEFT or RIGHT, got '%s'", dir);
    return dispatch_int(ctx, a.dtype, name, [&](auto tag) {
      using T = decltype(tag);
      using U = typename std::make_unsigned<T>::type;
      binary_loop<T, T, T>(ctx, a, b, out, [left](T x, T s) {
        // Shifting by the bit width or more is undefined in C++; ONNX expects 0.
        if (U(s) >= sizeof(T) * 8)
          return T(left ? 0 : (x < 0 ? -1 : 0));
        return left ? T(U(x) << U(s)) : T(x >> U(s));
      });
      return int(SLM_REF_OK);
    });
  } else if constexpr (K == kPow) {
    return dispatch_arith(ctx, a.dtype, name, [&](auto ta) {
      using T = decltype(ta);
      return dispatch_arith(ctx, b.dtype, name, [&](auto tb) {
        using E = decltype(tb);
        using C = typename Compute<T>::type;
        using CE = typename Compute<E>::type;
        binary_loop<T, E, T>(ctx, a, b, out, [](C x, CE e) { return pow_op<C, CE>(x, e); });
        return int(SLM_REF_OK);
      });
    });
  } else if constexpr (K == kEqual) {
    return dispatch_numeric(ctx, a.dtype, name,
                            [&](auto tag) { return run_compare<decltype(tag)>(ctx, K); });
  } else if constexpr (is_compare(K)) {
    return dispatch_arith(ctx, a.dtype, name,
                          [&](auto tag) { return run_compare<decltype(tag)>(ctx, K); });
  } else {
    return dispatch_arith(ctx, a.dtype, name,
                          [&](auto tag) { return run_arith<decltype(tag)>(ctx, K); });
  }
}

// Variadic ops: the output is the broadcast of all inputs.
enum Var { kVarMax, kVarMin, kVarSum, kVarMean };
const char *const kVarNames[] = {"Max", "Min", "Sum", "Mean"};

template <Var K> int infer_variadic(KernelContext *ctx) {
  const char *name = kVarNames[K];
  if (ctx->num_inputs < 1 || !output(ctx, 0))
    return SLM_INVALID(ctx, "%s: needs at least one input and an output", name);
  if (int st = require_inputs(ctx, ctx->num_inputs))
    return st;
  Tensor acc = *input(ctx, 0);
  if (!is_float_dtype(acc.dtype) && (K == kVarMean || !is_int_dtype(acc.dtype)))
    return SLM_UNSUPPORTED(ctx, "%s: dtype %s is not supported", name, dtype_name(acc.dtype));
  for (int i = 1; i < ctx->num_inputs; ++i) {
    const Tensor &t = *input(ctx, i);
    if (t.dtype != acc.dtype)
      return SLM_INVALID(ctx, "%s: input %d dtype %s differs from %s", name, i, dtype_name(t.dtype),
                         dtype_name(acc.dtype));
    Tensor next; // broadcast_shapes must not write into its own input
    if (!broadcast_shapes(acc, t, &next.rank, next.dims))
      return SLM_INVALID(ctx, "%s: input %d is not broadcast-compatible", name, i);
    std::copy(next.dims, next.dims + next.rank, acc.dims);
    acc.rank = next.rank;
  }
  set_shape(output(ctx, 0), acc.dtype, acc.rank, acc.dims);
  return SLM_REF_OK;
}

template <Var K> int run_variadic(KernelContext *ctx) {
  const Tensor &out = *output(ctx, 0);
  return dispatch_arith(ctx, out.dtype, kVarNames[K], [&](auto tag) {
    using T = decltype(tag);
    using C = typename Compute<T>::type;
    auto op = [](C x, C y) {
      return K == kVarMax ? max_op(x, y) : K == kVarMin ? min_op(x, y) : C(x + y);
    };
    // Broadcast-copy input 0, then fold each further input into the output in place.
    Tensor zero;
    zero.dtype = out.dtype;
    T z = Compute<T>::store(C(0));
    zero.data = &z;
    const Tensor &first = *input(ctx, 0);
    binary_loop<T, T, T>(ctx, first, zero, out, [](C x, C) { return x; });
    for (int i = 1; i < ctx->num_inputs; ++i)
      binary_loop<T, T, T>(ctx, out, *input(ctx, i), out, op);
    if (K == kVarMean && ctx->num_inputs > 1) {
      T *po = out.as<T>();
      C inv = C(1) / C(ctx->num_inputs);
      parallel(ctx, out.numel(), kGrain, [&](int64_t b, int64_t e) {
        for (int64_t j = b; j < e; ++j)
          po[j] = Compute<T>::store(Compute<T>::load(po[j]) * inv);
      });
    }
    return int(SLM_REF_OK);
  });
}

int infer_where(KernelContext *ctx) {
  if (int st = require_inputs(ctx, 3))
    return st;
  const Tensor &c = *input(ctx, 0), &x = *input(ctx, 1), &y = *input(ctx, 2);
  if (!output(ctx, 0))
    return SLM_INVALID(ctx, "Where: output 0 is missing");
  if (c.dtype != kBool)
    return SLM_INVALID(ctx, "Where: condition must be bool, got %s", dtype_name(c.dtype));
  if (x.dtype != y.dtype)
    return SLM_INVALID(ctx, "Where: X and Y dtypes differ (%s vs %s)", dtype_name(x.dtype),
                       dtype_name(y.dtype));
  if (!dtype_size(x.dtype))
    return SLM_UNSUPPORTED(ctx, "Where: dtype %s is not supported", dtype_name(x.dtype));
  Tensor xy, s; // broadcast_shapes must not write into its own input
  if (!broadcast_shapes(x, y, &xy.rank, xy.dims) || !broadcast_shapes(c, xy, &s.rank, s.dims))
    return SLM_INVALID(ctx, "Where: condition, X and Y are not broadcast-compatible");
  set_shape(output(ctx, 0), x.dtype, s.rank, s.dims);
  return SLM_REF_OK;
}

int run_where(KernelContext *ctx) {
  const Tensor &c = *input(ctx, 0), &x = *input(ctx, 1), &y = *input(ctx, 2);
  const Tensor &out = *output(ctx, 0);
  const int64_t n = out.numel();
  if (n == 0)
    return SLM_REF_OK;
  return dispatch_bytes(ctx, out.dtype, "Where", [&](auto tag) {
    using T = decltype(tag);
    const bool *pc = c.as<bool>();
    const T *px = x.as<T>(), *py = y.as<T>();
    T *po = out.as<T>();
    const Tensor *ops[3] = {&c, &x, &y};
    Walk<3> w = make_walk(out.rank, out.dims, ops);
    const int last = w.rank - 1;
    const int64_t sc = w.st[0][last], sx = w.st[1][last], sy = w.st[2][last];
    parallel(ctx, n, kGrain, [&](int64_t begin, int64_t end) {
      for_rows(w, begin, end, [&](int64_t i, int64_t cnt, const int64_t *off) {
        for (int64_t j = 0; j < cnt; ++j)
          po[i + j] = pc[off[0] + j * sc] ? px[off[1] + j * sx] : py[off[2] + j * sy];
      });
    });
    return int(SLM_REF_OK);
  });
}

} // namespace

const OpKernel kElementwiseKernels[] = {
    {"Add", infer_binary<kAdd>, run_binary<kAdd>, 0},
    {"Sub", infer_binary<kSub>, run_binary<kSub>, 0},
    {"Mul", infer_binary<kMul>, run_binary<kMul>, 0},
    {"Div", infer_binary<kDiv>, run_binary<kDiv>, 0},
    {"Pow", infer_binary<kPow>, run_binary<kPow>, 0},
    {"Mod", infer_binary<kMod>, run_binary<kMod>, 0},
    {"Max", infer_variadic<kVarMax>, run_variadic<kVarMax>, 0},
    {"Min", infer_variadic<kVarMin>, run_variadic<kVarMin>, 0},
    {"Sum", infer_variadic<kVarSum>, run_variadic<kVarSum>, 0},
    {"Mean", infer_variadic<kVarMean>, run_variadic<kVarMean>, 0},
    {"Equal", infer_binary<kEqual>, run_binary<kEqual>, 0},
    {"Less", infer_binary<kLess>, run_binary<kLess>, 0},
    {"Greater", infer_binary<kGreater>, run_binary<kGreater>, 0},
    {"LessOrEqual", infer_binary<kLessEq>, run_binary<kLessEq>, 0},
    {"GreaterOrEqual", infer_binary<kGreaterEq>, run_binary<kGreaterEq>, 0},
    {"And", infer_binary<kAnd>, run_binary<kAnd>, 0},
    {"Or", infer_binary<kOr>, run_binary<kOr>, 0},
    {"Xor", infer_binary<kXor>, run_binary<kXor>, 0},
    {"BitShift", infer_binary<kBitShift>, run_binary<kBitShift>, 0},
    {"PRelu", infer_binary<kPRelu>, run_binary<kPRelu>, 0},
    {"Where", infer_where, run_where, 0},
};
const size_t kElementwiseKernels_count =
    sizeof(kElementwiseKernels) / sizeof(kElementwiseKernels[0]);

} // namespace slm
