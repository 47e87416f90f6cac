// Reference kernels for normalization ops: Softmax family, Layer/Batch/Instance/Group norm, LRN,
// MVN, and the softmax-based losses (NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss).
#include "kernel_util.h"

#include <cmath>

namespace slm {
namespace {

// Statistics accumulate in double: cheap next to the exp/sqrt work and stable for long rows.
template <typename T> inline double ld(const T *p, int64_t i) {
  return double(Compute<T>::load(p[i]));
}
template <typename T> inline void st(T *p, int64_t i, double v) {
  p[i] = Compute<T>::store(typename Compute<T>::type(v));
}

int require_float(KernelContext *ctx, const char *op, const Tensor &x) {
  if (!is_float_dtype(x.dtype))
    return SLM_UNSUPPORTED(ctx, "%s: dtype %s is not supported (float types only)", op,
                           dtype_name(x.dtype));
  return SLM_REF_OK;
}

// ---- Softmax, LogSoftmax, Hardmax ----

// The tensor seen as [outer, len, inner] around the normalized axis. Before opset 13 the
// input is coerced to 2-D at `axis` (default 1), so everything from axis on is one row.
struct AxisSplit {
  int64_t outer = 1, len = 1, inner = 1;
};

int softmax_split(KernelContext *ctx, const char *op, AxisSplit *s) {
  if (int st = require_inputs(ctx, 1))
    return st;
  const Tensor &x = *input(ctx, 0);
  if (int st = require_float(ctx, op, x))
    return st;
  bool legacy = ctx->attrs->get_int("__opset", 13) < 13;
  int axis;
  if (x.rank == 0) {
    s->outer = s->len = s->inner = 1;
    return SLM_REF_OK;
  }
  int64_t axis_attr = ctx->attrs->get_int("axis", legacy ? 1 : -1);
  if (!normalize_axis(axis_attr, x.rank, &axis))
    return SLM_INVALID(ctx, "%s: axis %lld is out of range for rank %d", op, (long long)axis_attr,
                       x.rank);
  *s = AxisSplit();
  for (int i = 0; i < x.rank; ++i) {
    if (i < axis)
      s->outer *= x.dims[i];
    else if (i == axis || legacy)
      s->len *= x.dims[i];
    else
      s->inner *= x.dims[i];
  }
  return SLM_REF_OK;
}

int infer_same_shape(KernelContext *ctx, const char *op) {
  AxisSplit s;
  if (int st = softmax_split(ctx, op, &s))
    return st;
  const Tensor &x = *input(ctx, 0);
  set_shape(output(ctx, 0), x.dtype, x.rank, x.dims);
  return SLM_REF_OK;
}

enum class SoftKind { kSoftmax, kLogSoftmax, kHardmax };

// exp runs in the compute type (expf for float) since this sits on the attention hot path.
template <typename T>
void softmax_line(const T *x, T *y, int64_t len, int64_t step, SoftKind kind) {
  using F = typename Compute<T>::type;
  if (len == 0)
    return;
  F mx = F(ld(x, 0));
  int64_t arg = 0;
  for (int64_t i = 1; i < len; ++i) {
    F v = F(ld(x, i * step));
    if (v > mx) {
      mx = v;
      arg = i;
    }
  }
  if (kind == SoftKind::kHardmax) {
    for (int64_t i = 0; i < len; ++i)
      st(y, i * step, i == arg ? 1.0 : 0.0);
    return;
  }
  double sum = 0;
  if (kind == SoftKind::kLogSoftmax) {
    for (int64_t i = 0; i < len; ++i)
      sum += std::exp(F(ld(x, i * step)) - mx);
    F lse = F(std::log(sum));
    for (int64_t i = 0; i < len; ++i)
      st(y, i * step, F(ld(x, i * step)) - mx - lse);
  } else {
    // The exps are parked in y so each is computed once.
    sum = 0;
    for (int64_t i = 0; i < len; ++i) {
      F e = std::exp(F(ld(x, i * step)) - mx);
      sum += e;
      st(y, i * step, e);
    }
    F inv = F(1.0 / sum);
    for (int64_t i = 0; i < len; ++i)
      st(y, i * step, F(ld(y, i * step)) * inv);
  }
}

int run_soft(KernelContext *ctx, const char *op, SoftKind kind) {
  AxisSplit s;
  if (int st = softmax_split(ctx, op, &s))
    return st;
  const Tensor &x = *input(ctx, 0);
  Tensor &y = *output(ctx, 0);
  return dispatch_float(ctx, x.dtype, op, [&](auto tag) -> int {
    using T = decltype(tag);
    const T *xp = x.as<T>();
    T *yp = y.as<T>();
    int64_t lines = s.outer * s.inner;
    int64_t grain = s.len >= 1024 ? 1 : 1024 / (s.len + 1) + 1;
    parallel(ctx, lines, grain, [&](int64_t b, int64_t e) {
      for (int64_t l = b; l < e; ++l) {
        int64_t base = (l / s.inner) * s.len * s.inner + l % s.inner;
        softmax_line(xp + base, yp + base, s.len, s.inner, kind);
      }
    });
    return SLM_REF_OK;
  });
}

int infer_softmax(KernelContext *ctx) { return infer_same_shape(ctx, "Softmax"); }
int infer_logsoftmax(KernelContext *ctx) { return infer_same_shape(ctx, "LogSoftmax"); }
int infer_hardmax(KernelContext *ctx) { return infer_same_shape(ctx, "Hardmax"); }
int run_softmax(KernelContext *ctx) { return run_soft(ctx, "Softmax", SoftKind::kSoftmax); }
int run_logsoftmax(KernelContext *ctx) {
  return run_soft(ctx, "LogSoftmax", SoftKind::kLogSoftmax);
}
int run_hardmax(KernelContext *ctx) { return run_soft(ctx, "Hardmax", SoftKind::kHardmax); }

// Mean and 1/sqrt(var + eps) of n values at p[i * step].
template <typename T>
void moments(const T *p, int64_t n, int64_t step, double eps, double *mean, double *inv_std) {
  double sum = 0, sq = 0;
  for (int64_t i = 0; i < n; ++i)
    sum += ld(p, i * step);
  double m = n ? sum / double(n) : 0.0;
  for (int64_t i = 0; i < n; ++i) {
    double d = ld(p, i * step) - m;
    sq += d * d;
  }
  *mean = m;
  *inv_std = 1.0 / std::sqrt((n ? sq / double(n) : 0.0) + eps);
}

// Parameter tensor element as double (parameters may have their own dtype).
inline double param(const Tensor *t, int64_t i) {
  return t ? read_double(*t, t->numel() == 1 ? 0 : i) : 0.0;
}

// ---- LayerNormalization ----

struct LayerNormShape {
  int axis;
  int64_t rows = 1, cols = 1;
};

int layernorm_shape(KernelContext *ctx, LayerNormShape *s) {
  if (int st = require_inputs(ctx, 2))
    return st;
  const Tensor &x = *input(ctx, 0);
  if (int st = require_float(ctx, "LayerNormalization", x))
    return st;
  int64_t axis_attr = ctx->attrs->get_int("axis", -1);
  if (!normalize_axis(axis_attr, x.rank, &s->axis))
    return SLM_INVALID(ctx, "LayerNormalization: axis %lld is out of range for rank %d",
                       (long long)axis_attr, x.rank);
  for (int i = 0; i < x.rank; ++i)
    (i < s->axis ? s->rows : s->cols) *= x.dims[i];
  for (int k = 1; k <= 2; ++k) {
    const Tensor *p = input(ctx, k);
    if (!p)
      continue;
    if (!is_float_dtype(p->dtype))
      return SLM_INVALID(ctx, "LayerNormalization: %s must be a float tensor (got %s)",
                         k == 1 ? "Scale" : "B", dtype_name(p->dtype));
    if (p->numel() != s->cols && p->numel() != 1)
      return SLM_UNSUPPORTED(ctx,
                             "LayerNormalization: %s has %lld elements, expected %lld (the "
                             "normalized shape) or 1",
                             k == 1 ? "Scale" : "B", (long long)p->numel(), (long long)s->cols);
  }
  return SLM_REF_OK;
}

int infer_layernorm(KernelContext *ctx) {
  LayerNormShape s;
  if (int st = layernorm_shape(ctx, &s))
    return st;
  const Tensor &x = *input(ctx, 0);
  set_shape(output(ctx, 0), x.dtype, x.rank, x.dims);
  int64_t dims[kMaxRank];
  for (int i = 0; i < x.rank; ++i)
    dims[i] = i < s.axis ? x.dims[i] : 1;
  for (int k = 1; k <= 2; ++k)
    if (Tensor *o = output(ctx, k))
      set_shape(o, kF32, x.rank, dims);
  return SLM_REF_OK;
}

int run_layernorm(KernelContext *ctx) {
  LayerNormShape s;
  if (int st = layernorm_shape(ctx, &s))
    return st;
  const Tensor &x = *input(ctx, 0);
  const Tensor *scale = input(ctx, 1), *bias = input(ctx, 2);
  Tensor *mean_out = output(ctx, 1), *inv_out = output(ctx, 2);
  double eps = ctx->attrs->get_float("epsilon", 1e-5f);
  bool typed_scale = scale->dtype == x.dtype && scale->numel() == s.cols;
  bool typed_bias = !bias || (bias->dtype == x.dtype && bias->numel() == s.cols);
  return dispatch_float(ctx, x.dtype, "LayerNormalization", [&](auto tag) -> int {
    using T = decltype(tag);
    const T *xp = x.as<T>();
    T *yp = output(ctx, 0)->as<T>();
    parallel(ctx, s.rows, 1, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        double m, inv;
        moments(xp + r * s.cols, s.cols, 1, eps, &m, &inv);
        if (typed_scale && typed_bias) { // common case: skip per-element dtype dispatch
          const T *sp = scale->as<T>(), *bp = bias ? bias->as<T>() : nullptr;
          for (int64_t c = 0; c < s.cols; ++c)
            st(yp, r * s.cols + c,
               (ld(xp, r * s.cols + c) - m) * inv * ld(sp, c) + (bp ? ld(bp, c) : 0.0));
        } else {
          for (int64_t c = 0; c < s.cols; ++c)
            st(yp, r * s.cols + c,
               (ld(xp, r * s.cols + c) - m) * inv * param(scale, c) + param(bias, c));
        }
        if (mean_out)
          mean_out->as<float>()[r] = float(m);
        if (inv_out)
          inv_out->as<float>()[r] = float(inv);
      }
    });
    return SLM_REF_OK;
  });
}

// ---- Per-channel norms: BatchNormalization, InstanceNormalization, GroupNormalization ----

// Checks X is [N, C, ...] float and each listed parameter input has `expect` elements.
int check_channel_params(KernelContext *ctx, const char *op, int first, int last, int64_t expect,
                         int64_t alt) {
  const Tensor &x = *input(ctx, 0);
  if (int st = require_float(ctx, op, x))
    return st;
  if (x.rank < 2)
    return SLM_INVALID(ctx, "%s: input must have rank >= 2 (got %d)", op, x.rank);
  for (int k = first; k <= last; ++k) {
    const Tensor *p = input(ctx, k);
    if (!p)
      return SLM_INVALID(ctx, "%s: required input %d is missing", op, k);
    if (!is_float_dtype(p->dtype))
      return SLM_INVALID(ctx, "%s: input %d must be a float tensor (got %s)", op, k,
                         dtype_name(p->dtype));
    if (p->numel() != expect && p->numel() != alt)
      return SLM_INVALID(ctx, "%s: input %d has %lld elements, expected %lld", op, k,
                         (long long)p->numel(), (long long)expect);
  }
  return SLM_REF_OK;
}

int64_t spatial_size(const Tensor &x) {
  int64_t n = 1;
  for (int i = 2; i < x.rank; ++i)
    n *= x.dims[i];
  return n;
}

int check_batchnorm(KernelContext *ctx) {
  if (int st = require_inputs(ctx, 5))
    return st;
  if (ctx->attrs->get_int("training_mode", 0) != 0)
    return SLM_UNSUPPORTED(ctx, "BatchNormalization: training_mode=1 is not supported");
  if (ctx->attrs->get_int("spatial", 1) != 1)
    return SLM_UNSUPPORTED(ctx, "BatchNormalization: spatial=0 is not supported");
  for (int k = 1; k < ctx->num_outputs; ++k)
    if (output(ctx, k))
      return SLM_UNSUPPORTED(ctx, "BatchNormalization: training output %d is not supported", k);
  const Tensor &x = *input(ctx, 0);
  return check_channel_params(ctx, "BatchNormalization", 1, 4, x.rank >= 2 ? x.dims[1] : 0, -1);
}

int infer_batchnorm(KernelContext *ctx) {
  if (int st = check_batchnorm(ctx))
    return st;
  const Tensor &x = *input(ctx, 0);
  set_shape(output(ctx, 0), x.dtype, x.rank, x.dims);
  return SLM_REF_OK;
}

int run_batchnorm(KernelContext *ctx) {
  if (int st = check_batchnorm(ctx))
    return st;
  const Tensor &x = *input(ctx, 0);
  int64_t C = x.dims[1], plane = spatial_size(x);
  double eps = ctx->attrs->get_float("epsilon", 1e-5f);
  return dispatch_float(ctx, x.dtype, "BatchNormalization", [&](auto tag) -> int {
    using T = decltype(tag);
    const T *xp = x.as<T>();
    T *yp = output(ctx, 0)->as<T>();
    parallel(ctx, x.dims[0] * C, 1, [&](int64_t b, int64_t e) {
      for (int64_t nc = b; nc < e; ++nc) {
        int64_t c = nc % C;
        double a = param(input(ctx, 1), c) / std::sqrt(param(input(ctx, 4), c) + eps);
        double sh = param(input(ctx, 2), c) - param(input(ctx, 3), c) * a;
        for (int64_t i = nc * plane; i < (nc + 1) * plane; ++i)
          st(yp, i, ld(xp, i) * a + sh);
      }
    });
    return SLM_REF_OK;
  });
}

int check_instancenorm(KernelContext *ctx) {
  if (int st = require_inputs(ctx, 3))
    return st;
  const Tensor &x = *input(ctx, 0);
  return check_channel_params(ctx, "InstanceNormalization", 1, 2, x.rank >= 2 ? x.dims[1] : 0, -1);
}

int infer_instancenorm(KernelContext *ctx) {
  if (int st = check_instancenorm(ctx))
    return st;
  const Tensor &x = *input(ctx, 0);
  set_shape(output(ctx, 0), x.dtype, x.rank, x.dims);
  return SLM_REF_OK;
}

int run_instancenorm(KernelContext *ctx) {
  if (int st = check_instancenorm(ctx))
    return st;
  const Tensor &x = *input(ctx, 0);
  int64_t C = x.dims[1], plane = spatial_size(x);
  double eps = ctx->attrs->get_float("epsilon", 1e-5f);
  return dispatch_float(ctx, x.dtype, "InstanceNormalization", [&](auto tag) -> int {
    using T = decltype(tag);
    const T *xp = x.as<T>();
    T *yp = output(ctx, 0)->as<T>();
    parallel(ctx, x.dims[0] * C, 1, [&](int64_t b, int64_t e) {
      for (int64_t nc = b; nc < e; ++nc) {
        double m, inv;
        moments(xp + nc * plane, plane, 1, eps, &m, &inv);
        double a = param(input(ctx, 1), nc % C) * inv, sh = param(input(ctx, 2), nc % C);
        for (int64_t i = nc * plane; i < (nc + 1) * plane; ++i)
          st(yp, i, (ld(xp, i) - m) * a + sh);
      }
    });
    return SLM_REF_OK;
  });
}

// Opset 18 GroupNormalization has per-group scale/bias, opset 21 per-channel; the
// element count tells them apart (identical when C == num_groups).
int check_groupnorm(KernelContext *ctx, int64_t *groups) {
  if (int st = require_inputs(ctx, 3))
    return st;
  const Tensor &x = *input(ctx, 0);
  *groups = ctx->attrs->get_int("num_groups", 0);
  int64_t C = x.rank >= 2 ? x.dims[1] : 0;
  if (*groups <= 0 || (x.rank >= 2 && C % *groups != 0))
    return SLM_INVALID(ctx, "GroupNormalization: num_groups %lld does not divide %lld channels",
                       (long long)*groups, (long long)C);
  return check_channel_params(ctx, "GroupNormalization", 1, 2, C, *groups);
}

int infer_groupnorm(KernelContext *ctx) {
  int64_t g;
  if (int st = check_groupnorm(ctx, &g))
    return st;
  const Tensor &x = *input(ctx, 0);
  set_shape(output(ctx, 0), x.dtype, x.rank, x.dims);
  return SLM_REF_OK;
}

int run_groupnorm(KernelContext *ctx) {
  int64_t G;
  if (int st = check_groupnorm(ctx, &G))
    return st;
  const Tensor &x = *input(ctx, 0);
  int64_t C = x.dims[1], plane = spatial_size(x), cpg = C / G, gsize = cpg * plane;
  double eps = ctx->attrs->get_float("epsilon", 1e-5f);
  const Tensor *scale = input(ctx, 1), *bias = input(ctx, 2);
  bool per_channel = scale->numel() == C;
  return dispatch_float(ctx, x.dtype, "GroupNormalization", [&](auto tag) -> int {
    using T = decltype(tag);
    const T *xp = x.as<T>();
    T *yp = output(ctx, 0)->as<T>();
    parallel(ctx, x.dims[0] * G, 1, [&](int64_t b, int64_t e) {
      for (int64_t ng = b; ng < e; ++ng) {
        double m, inv;
        moments(xp + ng * gsize, gsize, 1, eps, &m, &inv);
        for (int64_t cc = 0; cc < cpg; ++cc) {
          int64_t c = (ng % G) * cpg + cc, pi = per_channel ? c : ng % G;
          double a = param(scale, pi) * inv, sh = param(bias, pi);
          int64_t base = ng * gsize + cc * plane;
          for (int64_t i = base; i < base + plane; ++i)
            st(yp, i, (ld(xp, i) - m) * a + sh);
        }
      }
    });
    return SLM_REF_OK;
  });
}

// ---- LRN ----

int check_lrn(KernelContext *ctx) {
  if (int st = require_inputs(ctx, 1))
    return st;
  const Tensor &x = *input(ctx, 0);
  if (int st = require_float(ctx, "LRN", x))
    return st;
  if (x.rank < 2)
    return SLM_INVALID(ctx, "LRN: input must have rank >= 2 (got %d)", x.rank);
  if (ctx->attrs->get_int("size", 0) <= 0)
    return SLM_INVALID(ctx, "LRN: attribute 'size' must be positive");
  return SLM_REF_OK;
}

int infer_lrn(KernelContext *ctx) {
  if (int st = check_lrn(ctx))
    return st;
  const Tensor &x = *input(ctx, 0);
  set_shape(output(ctx, 0), x.dtype, x.rank, x.dims);
  return SLM_REF_OK;
}

int run_lrn(KernelContext *ctx) {
  if (int st = check_lrn(ctx))
    return st;
  const Tensor &x = *input(ctx, 0);
  int64_t size = ctx->attrs->get_int("size", 1), C = x.dims[1], plane = spatial_size(x);
  double alpha = ctx->attrs->get_float("alpha", 1e-4f), beta = ctx->attrs->get_float("beta", 0.75f);
  double bias = ctx->attrs->get_float("bias", 1.0f);
  int64_t lo = (size - 1) / 2, hi = size - 1 - lo; // window [c - lo, c + hi]
  return dispatch_float(ctx, x.dtype, "LRN", [&](auto tag) -> int {
    using T = decltype(tag);
    const T *xp = x.as<T>();
    T *yp = output(ctx, 0)->as<T>();
    parallel(ctx, x.dims[0] * C, 1, [&](int64_t b, int64_t e) {
      for (int64_t nc = b; nc < e; ++nc) {
        int64_t n = nc / C, c = nc % C;
        int64_t c0 = c - lo < 0 ? 0 : c - lo, c1 = c + hi >= C ? C - 1 : c + hi;
        for (int64_t i = 0; i < plane; ++i) {
          double sq = 0;
          for (int64_t k = c0; k <= c1; ++k) {
            double v = ld(xp, (n * C + k) * plane + i);
            sq += v * v;
          }
          int64_t at = nc * plane + i;
          st(yp, at, ld(xp, at) / std::pow(bias + alpha / double(size) * sq, beta));
        }
      }
    });
    return SLM_REF_OK;
  });
}

// ---- MeanVarianceNormalization ----

// Splits dims into kept (groups) and reduced (members) parts for offset arithmetic.
struct MvnLayout {
  int nk = 0, nr = 0;
  int64_t kdims[kMaxRank], kstr[kMaxRank], rdims[kMaxRank], rstr[kMaxRank];
  int64_t groups = 1, members = 1;

  int64_t offset(int64_t g, int64_t m) const {
    int64_t off = 0;
    for (int i = nk - 1; i >= 0; --i) {
      off += (g % kdims[i]) * kstr[i];
      g /= kdims[i];
    }
    for (int i = nr - 1; i >= 0; --i) {
      off += (m % rdims[i]) * rstr[i];
      m /= rdims[i];
    }
    return off;
  }
};

int mvn_layout(KernelContext *ctx, MvnLayout *l) {
  if (int st = require_inputs(ctx, 1))
    return st;
  const Tensor &x = *input(ctx, 0);
  if (int st = require_float(ctx, "MeanVarianceNormalization", x))
    return st;
  const int64_t def_axes[3] = {0, 2, 3};
  const int64_t *axes = def_axes;
  size_t n = ctx->attrs->get_ints("axes", &axes);
  if (!ctx->attrs->find("axes")) {
    axes = def_axes;
    n = 3;
  }
  bool reduce[kMaxRank] = {};
  for (size_t i = 0; i < n; ++i) {
    int a;
    if (!normalize_axis(axes[i], x.rank, &a))
      return SLM_INVALID(ctx, "MeanVarianceNormalization: axis %lld is out of range for rank %d",
                         (long long)axes[i], x.rank);
    reduce[a] = true;
  }
  int64_t strides[kMaxRank];
  contiguous_strides(x.rank, x.dims, strides);
  for (int i = 0; i < x.rank; ++i) {
    if (reduce[i]) {
      l->rdims[l->nr] = x.dims[i];
      l->rstr[l->nr++] = strides[i];
      l->members *= x.dims[i];
    } else {
      l->kdims[l->nk] = x.dims[i];
      l->kstr[l->nk++] = strides[i];
      l->groups *= x.dims[i];
    }
  }
  return SLM_REF_OK;
}

int infer_mvn(KernelContext *ctx) {
  MvnLayout l;
  if (int st = mvn_layout(ctx, &l))
    return st;
  const Tensor &x = *input(ctx, 0);
  set_shape(output(ctx, 0), x.dtype, x.rank, x.dims);
  return SLM_REF_OK;
}

// Follows the ONNX function body: (X - E[X]) / (sqrt(E[X^2] - E[X]^2) + 1e-9).
int run_mvn(KernelContext *ctx) {
  MvnLayout l;
  if (int st = mvn_layout(ctx, &l))
    return st;
  const Tensor &x = *input(ctx, 0);
  return dispatch_float(ctx, x.dtype, "MeanVarianceNormalization", [&](auto tag) -> int {
    using T = decltype(tag);
    const T *xp = x.as<T>();
    T *yp = output(ctx, 0)->as<T>();
    if (l.members == 0)
      return SLM_REF_OK;
    parallel(ctx, l.groups, 1, [&](int64_t b, int64_t e) {
      for (int64_t g = b; g < e; ++g) {
        double sum = 0, sq = 0;
        for (int64_t m = 0; m < l.members; ++m) {
          double v = ld(xp, l.offset(g, m));
          sum += v;
          sq += v * v;
        }
        double mean = sum / double(l.members), var = sq / double(l.members) - mean * mean;
        double denom = std::sqrt(var > 0 ? var : 0) + 1e-9;
        for (int64_t m = 0; m < l.members; ++m) {
          int64_t off = l.offset(g, m);
          st(yp, off, (ld(xp, off) - mean) / denom);
        }
      }
    });
    return SLM_REF_OK;
  });
}

// ---- NegativeLogLikelihoodLoss / SoftmaxCrossEntropyLoss ----
// Losses over class axis 1 of [N, C, d1..dk] with integer targets [N, d1..dk]; optional class
// weights, ignore_index, reduction none/sum/mean (mean divides by the summed weights of the
// targets that count). SoftmaxCrossEntropyLoss is NLL over log_softmax(scores, axis 1).

enum class Reduction { kNone, kSum, kMean };

struct LossShape {
  int64_t n = 1, c = 1, inner = 1; // inner: product of d1..dk
  Reduction red = Reduction::kMean;
  bool has_ignore = false;
  int64_t ignore = 0;
};

int loss_shape(KernelContext *ctx, const char *op, LossShape *ls) {
  if (int st = require_inputs(ctx, 2))
    return st;
  const Tensor &x = *input(ctx, 0), &t = *input(ctx, 1);
  const Tensor *w = input(ctx, 2);
  if (!is_float_dtype(x.dtype))
    return SLM_UNSUPPORTED(ctx, "%s: dtype %s is not supported (float types only)", op,
                           dtype_name(x.dtype));
  if (t.dtype != kI32 && t.dtype != kI64)
    return SLM_INVALID(ctx, "%s: target must be int32 or int64, got %s", op, dtype_name(t.dtype));
  if (x.rank < 2 || t.rank != x.rank - 1 || t.dims[0] != x.dims[0])
    return SLM_INVALID(ctx, "%s: input [N, C, d...] and target [N, d...] do not match", op);
  for (int i = 2; i < x.rank; ++i) {
    if (t.dims[i - 1] != x.dims[i])
      return SLM_INVALID(ctx, "%s: target dim %d is %lld, input has %lld", op, i - 1,
                         (long long)t.dims[i - 1], (long long)x.dims[i]);
    ls->inner *= x.dims[i];
  }
  ls->n = x.dims[0];
  ls->c = x.dims[1];
  if (w && (w->dtype != x.dtype || w->rank != 1 || w->dims[0] != ls->c))
    return SLM_INVALID(ctx, "%s: weight must be 1-D of C elements of the input's dtype", op);
  char buf[16];
  const char *r = ctx->attrs->get_string("reduction", "mean", buf, sizeof buf);
  if (!std::strcmp(r, "none"))
    ls->red = Reduction::kNone;
  else if (!std::strcmp(r, "sum"))
    ls->red = Reduction::kSum;
  else if (!std::strcmp(r, "mean"))
    ls->red = Reduction::kMean;
  else
    return SLM_INVALID(ctx, "%s: unknown reduction '%s'", op, r);
  ls->has_ignore = ctx->attrs->find("ignore_index") != nullptr;
  ls->ignore = ctx->attrs->get_int("ignore_index", 0);
  return SLM_REF_OK;
}

int infer_loss(KernelContext *ctx, const char *op) {
  LossShape ls;
  if (int st = loss_shape(ctx, op, &ls))
    return st;
  const Tensor &x = *input(ctx, 0), &t = *input(ctx, 1);
  if (ls.red == Reduction::kNone)
    set_shape(output(ctx, 0), x.dtype, t.rank, t.dims);
  else
    set_shape(output(ctx, 0), x.dtype, 0, nullptr);
  if (Tensor *lp = output(ctx, 1))
    set_shape(lp, x.dtype, x.rank, x.dims);
  return SLM_REF_OK;
}

// log_softmax of x[n, :, i] at class k (stable: max subtracted), in double.
double log_softmax_at(const Tensor &x, const LossShape &ls, int64_t n, int64_t i, int64_t k) {
  int64_t base = n * ls.c * ls.inner + i;
  double mx = -INFINITY, sum = 0;
  for (int64_t c = 0; c < ls.c; ++c) {
    double v = read_double(x, base + c * ls.inner);
    mx = v > mx ? v : mx;
  }
  for (int64_t c = 0; c < ls.c; ++c)
    sum += std::exp(read_double(x, base + c * ls.inner) - mx);
  return read_double(x, base + k * ls.inner) - mx - std::log(sum);
}

int run_loss(KernelContext *ctx, const char *op, bool softmax) {
  LossShape ls;
  if (int st = loss_shape(ctx, op, &ls))
    return st;
  const Tensor &x = *input(ctx, 0), &t = *input(ctx, 1);
  const Tensor *w = input(ctx, 2);
  Tensor &y = *output(ctx, 0);
  if (Tensor *lp = output(ctx, 1))
    for (int64_t n = 0; n < ls.n; ++n)
      for (int64_t c = 0; c < ls.c; ++c)
        for (int64_t i = 0; i < ls.inner; ++i)
          write_double(*lp, (n * ls.c + c) * ls.inner + i, log_softmax_at(x, ls, n, i, c));
  double total = 0, weight_sum = 0;
  for (int64_t n = 0; n < ls.n; ++n) {
    for (int64_t i = 0; i < ls.inner; ++i) {
      int64_t e = n * ls.inner + i, k = read_int(t, e);
      double loss = 0, wt = 0;
      if (!(ls.has_ignore && k == ls.ignore)) {
        if (k < 0 || k >= ls.c)
          return SLM_INVALID(ctx, "%s: target %lld is outside [0, %lld)", op, (long long)k,
                             (long long)ls.c);
        wt = w ? read_double(*w, k) : 1.0;
        double v = softmax ? log_softmax_at(x, ls, n, i, k)
                           : read_double(x, (n * ls.c + k) * ls.inner + i);
        loss = -v * wt;
      }
      if (ls.red == Reduction::kNone)
        write_double(y, e, loss);
      total += loss;
      weight_sum += wt;
    }
  }
  if (ls.red == Reduction::kSum)
    write_double(y, 0, total);
  else if (ls.red == Reduction::kMean)
    write_double(y, 0, total / weight_sum);
  return SLM_REF_OK;
}

int infer_nll(KernelContext *ctx) { return infer_loss(ctx, "NegativeLogLikelihoodLoss"); }
int run_nll(KernelContext *ctx) { return run_loss(ctx, "NegativeLogLikelihoodLoss", false); }
int infer_sce(KernelContext *ctx) { return infer_loss(ctx, "SoftmaxCrossEntropyLoss"); }
int run_sce(KernelContext *ctx) { return run_loss(ctx, "SoftmaxCrossEntropyLoss", true); }

} // namespace

const OpKernel kNormKernels[] = {
    {"BatchNormalization", infer_batchnorm, run_batchnorm, 0},
    {"GroupNormalization", infer_groupnorm, run_groupnorm, 0},
    {"Hardmax", infer_hardmax, run_hardmax, 0},
    {"InstanceNormalization", infer_instancenorm, run_instancenorm, 0},
    {"LRN", infer_lrn, run_lrn, 0},
    {"LayerNormalization", infer_layernorm, run_layernorm, 0},
    {"LogSoftmax", infer_logsoftmax, run_logsoftmax, 0},
    {"MeanVarianceNormalization", infer_mvn, run_mvn, 0},
    {"NegativeLogLikelihoodLoss", infer_nll, run_nll, 0},
    {"SoftmaxCrossEntropyLoss", infer_sce, run_sce, 0},
    {"Softmax", infer_softmax, run_softmax, 0},
};
const size_t kNormKernels_count = sizeof(kNormKernels) / sizeof(kNormKernels[0]);

} // namespace slm
