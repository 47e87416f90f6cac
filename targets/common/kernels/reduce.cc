// Reference kernels for reductions over axes (Reduce*), ArgMax/ArgMin and CumSum.
#include "kernel_util.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

namespace slm {
namespace {

enum Red { kSum, kMean, kMax, kMin, kProd, kL1, kL2, kSumSquare, kLogSum, kLogSumExp };
const char *const kRedNames[] = {"ReduceSum",    "ReduceMean",     "ReduceMax", "ReduceMin",
                                 "ReduceProd",   "ReduceL1",       "ReduceL2",  "ReduceSumSquare",
                                 "ReduceLogSum", "ReduceLogSumExp"};

// Resolved axes: reduced[d] per input dim, or noop (identity) when axes are
// empty and noop_with_empty_axes is set.
struct Axes {
  bool reduced[kMaxRank] = {};
  bool noop = false;
};

int read_axes(KernelContext *ctx, const char *op, int rank, Axes *out) {
  const int64_t *attr = nullptr;
  size_t n = ctx->attrs ? ctx->attrs->get_ints("axes", &attr) : 0;
  const Tensor *t = attr ? nullptr : input(ctx, 1);
  if (t) {
    if (!t->data && t->numel() != 0) // an empty axes tensor has no values to wait for
      return SLM_REF_NEED_VALUE;
    if (!is_int_dtype(t->dtype) || t->rank > 1)
      return SLM_INVALID(ctx, "%s: axes input must be a 1-D integer tensor", op);
    n = size_t(t->numel());
  }
  if (n == 0) {
    out->noop = attr_int(ctx, "noop_with_empty_axes", 0) != 0;
    for (int d = 0; d < rank; ++d)
      out->reduced[d] = !out->noop;
    return SLM_REF_OK;
  }
  for (size_t i = 0; i < n; ++i) {
    int64_t a = t ? read_int(*t, int64_t(i)) : attr[i];
    int d;
    if (!normalize_axis(a, rank, &d))
      return SLM_INVALID(ctx, "%s: axis %lld is out of range for rank %d", op, (long long)a, rank);
    if (out->reduced[d])
      return SLM_INVALID(ctx, "%s: axis %lld is repeated", op, (long long)a);
    out->reduced[d] = true;
  }
  return SLM_REF_OK;
}

bool reduce_accepts(Red k, int32_t d) {
  if (k == kL2 || k == kLogSum || k == kLogSumExp)
    return is_float_dtype(d) || d == kI32 || d == kI64 || d == kU32 || d == kU64;
  return is_float_dtype(d) || is_int_dtype(d);
}

template <Red K> int infer_reduce(KernelContext *ctx) {
  const char *op = kRedNames[K];
  if (int st = require_inputs(ctx, 1))
    return st;
  const Tensor &x = *input(ctx, 0);
  if (!output(ctx, 0))
    return SLM_INVALID(ctx, "%s: output 0 is missing", op);
  if (!reduce_accepts(K, x.dtype))
    return SLM_UNSUPPORTED(ctx, "%s: dtype %s is not supported", op, dtype_name(x.dtype));
  Axes axes;
  if (int st = read_axes(ctx, op, x.rank, &axes))
    return st;
  bool keep = attr_int(ctx, "keepdims", 1) != 0;
  int64_t dims[kMaxRank];
  int rank = 0;
  for (int d = 0; d < x.rank; ++d) {
    if (!axes.reduced[d])
      dims[rank++] = x.dims[d];
    else if (keep)
      dims[rank++] = 1;
  }
  set_shape(output(ctx, 0), x.dtype, rank, dims);
  return SLM_REF_OK;
}

// Kept and reduced dims of the input with their strides, size-1 dims dropped
// and contiguous neighbours merged.
struct Plan {
  int kr = 0, rr = 0;
  int64_t kd[kMaxRank], ks[kMaxRank], rd[kMaxRank], rs[kMaxRank];
  int64_t rcount = 1;
};

void push_dim(int *r, int64_t *dims, int64_t *strides, int64_t d, int64_t s) {
  if (d == 1)
    return;
  if (*r > 0 && strides[*r - 1] == s * d) {
    dims[*r - 1] *= d;
    strides[*r - 1] = s;
    return;
  }
  dims[*r] = d;
  strides[*r] = s;
  ++*r;
}

Plan make_plan(const Tensor &x, const Axes &axes) {
  Plan p;
  int64_t st[kMaxRank];
  contiguous_strides(x.rank, x.dims, st);
  for (int d = 0; d < x.rank; ++d) {
    if (axes.reduced[d]) {
      push_dim(&p.rr, p.rd, p.rs, x.dims[d], st[d]);
      p.rcount *= x.dims[d];
    } else {
      push_dim(&p.kr, p.kd, p.ks, x.dims[d], st[d]);
    }
  }
  return p;
}

// Calls fn(offset) for every reduced element under the kept position `base`.
template <typename F> void for_each_reduced(const Plan &p, int64_t base, F &&fn) {
  if (p.rcount == 0)
    return;
  if (p.rr == 0) {
    fn(base);
    return;
  }
  const int last = p.rr - 1;
  int64_t idx[kMaxRank] = {};
  for (;;) {
    int64_t off = base;
    for (int d = 0; d < last; ++d)
      off += idx[d] * p.rs[d];
    for (int64_t j = 0; j < p.rd[last]; ++j)
      fn(off + j * p.rs[last]);
    int d = last - 1;
    while (d >= 0 && ++idx[d] == p.rd[d])
      idx[d--] = 0;
    if (d < 0)
      return;
  }
}

int64_t kept_offset(const Plan &p, int64_t o) {
  int64_t off = 0;
  for (int d = p.kr - 1; d >= 0; --d) {
    off += (o % p.kd[d]) * p.ks[d];
    o /= p.kd[d];
  }
  return off;
}

// Reduces the elements of x under `base` with op K; sums of floats accumulate in double.
template <Red K, typename T>
typename Compute<T>::type reduce_one(const T *x, const Plan &p, int64_t base) {
  using C = typename Compute<T>::type;
  using A = typename std::conditional<
      std::is_floating_point<C>::value, double,
      typename std::conditional<std::is_signed<C>::value, int64_t, uint64_t>::type>::type;
  auto ld = [x](int64_t i) { return Compute<T>::load(x[i]); };
  if constexpr (K == kMax || K == kMin) {
    C acc = K == kMax ? (std::numeric_limits<C>::has_infinity ? -std::numeric_limits<C>::infinity()
                                                              : std::numeric_limits<C>::lowest())
                      : (std::numeric_limits<C>::has_infinity ? std::numeric_limits<C>::infinity()
                                                              : std::numeric_limits<C>::max());
    for_each_reduced(p, base, [&](int64_t i) {
      C v = ld(i);
      // Once NaN, stay NaN (x != x only for NaN).
      if (acc == acc && (v != v || (K == kMax ? v > acc : v < acc)))
        acc = v;
    });
    return acc;
  } else if constexpr (K == kLogSumExp) {
    double m = -std::numeric_limits<double>::infinity(), s = 0;
    for_each_reduced(p, base, [&](int64_t i) { m = std::max(m, double(ld(i))); });
    if (std::isinf(m))
      return C(m);
    for_each_reduced(p, base, [&](int64_t i) { s += std::exp(double(ld(i)) - m); });
    return C(m + std::log(s));
  } else {
    A acc = K == kProd ? A(1) : A(0);
    for_each_reduced(p, base, [&](int64_t i) {
      A v = A(ld(i));
      if (K == kProd)
        acc *= v;
      else if (K == kL1)
        acc += v < A(0) ? A(0) - v : v;
      else if (K == kL2 || K == kSumSquare)
        acc += v * v;
      else
        acc += v;
    });
    if (K == kMean) {
      if (p.rcount)
        return C(acc / A(p.rcount));
      if constexpr (std::is_floating_point<C>::value)
        return std::numeric_limits<C>::quiet_NaN();
      return C(0);
    }
    if (K == kL2)
      return C(std::sqrt(double(acc)));
    if (K == kLogSum)
      return C(std::log(double(acc)));
    return C(acc);
  }
}

template <Red K> int run_reduce(KernelContext *ctx) {
  const char *op = kRedNames[K];
  const Tensor &x = *input(ctx, 0);
  const Tensor &y = *output(ctx, 0);
  Axes axes;
  if (int st = read_axes(ctx, op, x.rank, &axes))
    return st == SLM_REF_NEED_VALUE ? SLM_INVALID(ctx, "%s: axes input has no data", op) : st;
  if (axes.noop) {
    if (x.nbytes())
      std::memcpy(y.data, x.data, x.nbytes());
    return SLM_REF_OK;
  }
  Plan p = make_plan(x, axes);
  return dispatch_arith(ctx, x.dtype, op, [&](auto tag) {
    using T = decltype(tag);
    const T *px = x.as<T>();
    T *py = y.as<T>();
    int64_t grain = std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(1, p.rcount));
    parallel(ctx, y.numel(), grain, [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o)
        py[o] = Compute<T>::store(reduce_one<K, T>(px, p, kept_offset(p, o)));
    });
    return int(SLM_REF_OK);
  });
}

// ArgMax/ArgMin and CumSum view x as [outer, n, inner] around one axis.
struct AxisView {
  int64_t outer = 1, n = 1, inner = 1;
};
AxisView view_axis(const Tensor &x, int axis) {
  AxisView v;
  for (int d = 0; d < x.rank; ++d)
    (d < axis ? v.outer : d == axis ? v.n : v.inner) *= x.dims[d];
  return v;
}

template <bool Max> int infer_arg(KernelContext *ctx) {
  const char *op = Max ? "ArgMax" : "ArgMin";
  if (int st = require_inputs(ctx, 1))
    return st;
  const Tensor &x = *input(ctx, 0);
  if (!output(ctx, 0))
    return SLM_INVALID(ctx, "%s: output 0 is missing", op);
  if (!is_float_dtype(x.dtype) && !is_int_dtype(x.dtype))
    return SLM_UNSUPPORTED(ctx, "%s: dtype %s is not supported", op, dtype_name(x.dtype));
  int axis;
  int64_t a = attr_int(ctx, "axis", 0);
  if (!normalize_axis(a, std::max(x.rank, 1), &axis) || x.rank == 0)
    return SLM_INVALID(ctx, "%s: axis %lld is out of range for rank %d", op, (long long)a, x.rank);
  if (x.dims[axis] == 0)
    return SLM_INVALID(ctx, "%s: cannot reduce over axis %d of size 0", op, axis);
  bool keep = attr_int(ctx, "keepdims", 1) != 0;
  int64_t dims[kMaxRank];
  int rank = 0;
  for (int d = 0; d < x.rank; ++d)
    if (d != axis || keep)
      dims[rank++] = d == axis ? 1 : x.dims[d];
  set_shape(output(ctx, 0), kI64, rank, dims);
  return SLM_REF_OK;
}

template <bool Max> int run_arg(KernelContext *ctx) {
  const Tensor &x = *input(ctx, 0);
  int axis = 0;
  if (!normalize_axis(attr_int(ctx, "axis", 0), x.rank, &axis))
    return SLM_INVALID(ctx, "ArgMax/ArgMin: axis is out of range for rank %d", x.rank);
  const bool last = attr_int(ctx, "select_last_index", 0) != 0;
  const AxisView v = view_axis(x, axis);
  int64_t *py = output(ctx, 0)->as<int64_t>();
  return dispatch_arith(ctx, x.dtype, Max ? "ArgMax" : "ArgMin", [&](auto tag) {
    using T = decltype(tag);
    const T *px = x.as<T>();
    parallel(ctx, v.outer * v.inner, 1 << 12, [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) {
        const T *row = px + (o / v.inner) * v.n * v.inner + o % v.inner;
        auto best = Compute<T>::load(row[0]);
        int64_t at = 0;
        for (int64_t j = 1; j < v.n; ++j) {
          auto c = Compute<T>::load(row[j * v.inner]);
          bool better = Max ? (last ? c >= best : c > best) : (last ? c <= best : c < best);
          if (better) {
            best = c;
            at = j;
          }
        }
        py[o] = at;
      }
    });
    return int(SLM_REF_OK);
  });
}

int infer_cumsum(KernelContext *ctx) {
  if (int st = require_inputs(ctx, 2))
    return st;
  const Tensor &x = *input(ctx, 0), &axis = *input(ctx, 1);
  if (!output(ctx, 0))
    return SLM_INVALID(ctx, "CumSum: output 0 is missing");
  if (!is_float_dtype(x.dtype) && !is_int_dtype(x.dtype))
    return SLM_UNSUPPORTED(ctx, "CumSum: dtype %s is not supported", dtype_name(x.dtype));
  if ((axis.dtype != kI32 && axis.dtype != kI64) || axis.numel() != 1)
    return SLM_INVALID(ctx, "CumSum: axis must be an int32/int64 scalar");
  if (x.rank == 0)
    return SLM_INVALID(ctx, "CumSum: input must have rank >= 1");
  if (axis.data) {
    int d;
    if (!normalize_axis(read_int(axis, 0), x.rank, &d))
      return SLM_INVALID(ctx, "CumSum: axis %lld is out of range for rank %d",
                         (long long)read_int(axis, 0), x.rank);
  }
  set_shape(output(ctx, 0), x.dtype, x.rank, x.dims);
  return SLM_REF_OK;
}

int run_cumsum(KernelContext *ctx) {
  const Tensor &x = *input(ctx, 0);
  int axis = 0;
  if (!normalize_axis(read_int(*input(ctx, 1), 0), x.rank, &axis))
    return SLM_INVALID(ctx, "CumSum: axis is out of range for rank %d", x.rank);
  const bool exclusive = attr_int(ctx, "exclusive", 0) != 0;
  const bool reverse = attr_int(ctx, "reverse", 0) != 0;
  const AxisView v = view_axis(x, axis);
  return dispatch_arith(ctx, x.dtype, "CumSum", [&](auto tag) {
    using T = decltype(tag);
    using C = typename Compute<T>::type;
    const T *px = x.as<T>();
    T *py = output(ctx, 0)->as<T>();
    parallel(ctx, v.outer * v.inner, 1 << 12, [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) {
        int64_t base = (o / v.inner) * v.n * v.inner + o % v.inner;
        C acc = C(0);
        for (int64_t s = 0; s < v.n; ++s) {
          int64_t i = base + (reverse ? v.n - 1 - s : s) * v.inner;
          C cur = Compute<T>::load(px[i]);
          if (!exclusive)
            acc = C(acc + cur);
          py[i] = Compute<T>::store(acc);
          if (exclusive)
            acc = C(acc + cur);
        }
      }
    });
    return int(SLM_REF_OK);
  });
}

} // namespace

const OpKernel kReduceKernels[] = {
    {"ReduceSum", infer_reduce<kSum>, run_reduce<kSum>, 1u << 1},
    {"ReduceMean", infer_reduce<kMean>, run_reduce<kMean>, 1u << 1},
    {"ReduceMax", infer_reduce<kMax>, run_reduce<kMax>, 1u << 1},
    {"ReduceMin", infer_reduce<kMin>, run_reduce<kMin>, 1u << 1},
    {"ReduceProd", infer_reduce<kProd>, run_reduce<kProd>, 1u << 1},
    {"ReduceL1", infer_reduce<kL1>, run_reduce<kL1>, 1u << 1},
    {"ReduceL2", infer_reduce<kL2>, run_reduce<kL2>, 1u << 1},
    {"ReduceSumSquare", infer_reduce<kSumSquare>, run_reduce<kSumSquare>, 1u << 1},
    {"ReduceLogSum", infer_reduce<kLogSum>, run_reduce<kLogSum>, 1u << 1},
    {"ReduceLogSumExp", infer_reduce<kLogSumExp>, run_reduce<kLogSumExp>, 1u << 1},
    {"ArgMax", infer_arg<true>, run_arg<true>, 0},
    {"ArgMin", infer_arg<false>, run_arg<false>, 0},
    {"CumSum", infer_cumsum, run_cumsum, 0},
};
const size_t kReduceKernels_count = sizeof(kReduceKernels) / sizeof(kReduceKernels[0]);

} // namespace slm
