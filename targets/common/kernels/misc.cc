// Reference kernels for Resize/Upsample, TopK, ReverseSequence, Det and the cosine windows
// (Blackman/Hann/HammingWindow).
#include "kernel_util.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

namespace slm {
namespace {

// Loads an element as double / stores a double into any non-bool numeric storage type;
// integer results round to nearest and saturate.
template <typename T> inline double load_d(const T *p, int64_t i) {
  return double(Compute<T>::load(p[i]));
}
template <typename T> inline void store_d(T *p, int64_t i, double v) {
  using C = typename Compute<T>::type;
  if (std::is_integral<C>::value) {
    v = std::nearbyint(v);
    double lo = double(std::numeric_limits<C>::lowest()),
           hi = double(std::numeric_limits<C>::max());
    v = v < lo ? lo : (v > hi ? hi : v);
  }
  p[i] = Compute<T>::store(C(v));
}

// ---- Resize / Upsample ----

enum class Mode { kNearest, kLinear, kCubic };
enum class Coord {
  kHalfPixel,
  kHalfPixelSymmetric,
  kPytorchHalfPixel,
  kAlignCorners,
  kAsymmetric,
  kTfHalfPixelForNn,
  kTfCropAndResize
};
enum class Nearest { kRoundPreferFloor, kRoundPreferCeil, kFloor, kCeil, kSimple };

struct ResizeSpec {
  int rank = 0;
  int64_t in[kMaxRank], out[kMaxRank];
  double scale[kMaxRank], roi_start[kMaxRank], roi_end[kMaxRank];
  Mode mode = Mode::kNearest;
  Coord coord = Coord::kHalfPixel;
  Nearest nearest = Nearest::kRoundPreferFloor;
  double cubic_a = -0.75, extrapolation = 0.0;
  bool exclude_outside = false;
};

// Looks a string attribute up in a table of names; -1 when it matches none.
int pick(const char *s, const char *const *names, int n) {
  for (int i = 0; i < n; ++i)
    if (!std::strcmp(s, names[i]))
      return i;
  return -1;
}

int read_modes(KernelContext *ctx, const char *op, bool legacy, ResizeSpec *r) {
  char buf[40];
  static const char *const kModes[] = {"nearest", "linear", "cubic", "bilinear"};
  const char *m = ctx->attrs->get_string("mode", "nearest", buf, sizeof buf);
  int mi = pick(m, kModes, 4);
  if (mi < 0)
    return SLM_INVALID(ctx, "%s: unknown mode '%s'", op, m);
  r->mode = mi == 3 ? Mode::kLinear : Mode(mi);
  if (legacy) { // opset-10 Resize and Upsample: asymmetric coordinates, floor/ceil nearest
    r->coord = Coord::kAsymmetric;
    r->nearest = Nearest::kSimple;
    return SLM_REF_OK;
  }
  static const char *const kCoords[] = {
      "half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
      "asymmetric", "tf_half_pixel_for_nn", "tf_crop_and_resize"};
  const char *c =
      ctx->attrs->get_string("coordinate_transformation_mode", "half_pixel", buf, sizeof buf);
  int ci = pick(c, kCoords, 7);
  if (ci < 0)
    return SLM_UNSUPPORTED(ctx, "%s: coordinate_transformation_mode '%s' is not supported", op, c);
  r->coord = Coord(ci);
  static const char *const kNearest[] = {"round_prefer_floor", "round_prefer_ceil", "floor",
                                         "ceil"};
  const char *n = ctx->attrs->get_string("nearest_mode", "round_prefer_floor", buf, sizeof buf);
  int ni = pick(n, kNearest, 4);
  if (ni < 0)
    return SLM_UNSUPPORTED(ctx, "%s: nearest_mode '%s' is not supported", op, n);
  r->nearest = Nearest(ni);
  r->cubic_a = ctx->attrs->get_float("cubic_coeff_a", -0.75f);
  r->exclude_outside = ctx->attrs->get_int("exclude_outside", 0) != 0;
  r->extrapolation = ctx->attrs->get_float("extrapolation_value", 0.0f);
  if (ctx->attrs->get_int("antialias", 0) != 0)
    return SLM_UNSUPPORTED(ctx, "%s: antialias=1 is not supported", op);
  return SLM_REF_OK;
}

// A present, non-empty input whose values are required; NEED_VALUE when unknown.
int value_input(KernelContext *ctx, int i, const Tensor **out) {
  const Tensor *t = input(ctx, i);
  *out = t && t->numel() > 0 ? t : nullptr;
  if (*out && !t->data)
    return SLM_REF_NEED_VALUE;
  return SLM_REF_OK;
}

// A resized dim computed in double (NaN, negative or beyond int64 from hostile scales) as int64.
bool resized_dim(double v, int64_t *out) {
  if (!(v >= 0.0 && v < 9.0e18)) return false;
  *out = int64_t(v);
  return true;
}

// Applies scales or sizes (given for `axes`, all axes when there is none) to the spec.
int apply_targets(KernelContext *ctx, const char *op, const Tensor *scales, const Tensor *sizes,
                  ResizeSpec *r) {
  int axes[kMaxRank], na = r->rank;
  const int64_t *ax;
  size_t n_ax = ctx->attrs->get_ints("axes", &ax);
  for (int i = 0; i < r->rank; ++i)
    axes[i] = i;
  if (n_ax) {
    if (int(n_ax) > r->rank)
      return SLM_INVALID(ctx, "%s: %zu axes for rank %d", op, n_ax, r->rank);
    na = int(n_ax);
    for (int i = 0; i < na; ++i)
      if (!normalize_axis(ax[i], r->rank, &axes[i]))
        return SLM_INVALID(ctx, "%s: axis %lld is out of range", op, (long long)ax[i]);
  }
  const Tensor *t = scales ? scales : sizes;
  if (t->numel() != na)
    return SLM_INVALID(ctx, "%s: %s has %lld values, expected %d", op, scales ? "scales" : "sizes",
                       (long long)t->numel(), na);
  if (scales) {
    for (int i = 0; i < na; ++i) {
      int a = axes[i];
      r->scale[a] = read_double(*scales, i);
      if (!(r->scale[a] > 0))
        return SLM_INVALID(ctx, "%s: scale %g on axis %d must be positive", op, r->scale[a], a);
      double span = r->coord == Coord::kTfCropAndResize ? r->roi_end[a] - r->roi_start[a] : 1.0;
      if (!resized_dim(std::floor(double(r->in[a]) * span * r->scale[a]), &r->out[a]))
        return SLM_INVALID(ctx, "%s: scale %g on axis %d gives an output dim out of range", op, r->scale[a], a);
    }
    return SLM_REF_OK;
  }
  char buf[24];
  const char *policy =
      ctx->attrs->get_string("keep_aspect_ratio_policy", "stretch", buf, sizeof buf);
  bool larger = !std::strcmp(policy, "not_larger"), smaller = !std::strcmp(policy, "not_smaller");
  if (!larger && !smaller && std::strcmp(policy, "stretch"))
    return SLM_INVALID(ctx, "%s: unknown keep_aspect_ratio_policy '%s'", op, policy);
  double keep = larger ? INFINITY : 0.0;
  for (int i = 0; i < na; ++i) {
    int64_t s = read_int(*sizes, i);
    if (s < 0)
      return SLM_INVALID(ctx, "%s: negative size %lld", op, (long long)s);
    double ratio = r->in[axes[i]] ? double(s) / double(r->in[axes[i]]) : 1.0;
    keep = larger ? (ratio < keep ? ratio : keep) : (ratio > keep ? ratio : keep);
    r->out[axes[i]] = s;
    r->scale[axes[i]] = ratio;
  }
  for (int i = 0; (larger || smaller) && i < na; ++i) {
    r->scale[axes[i]] = keep;
    if (!resized_dim(std::floor(keep * double(r->in[axes[i]]) + 0.5), &r->out[axes[i]]))
      return SLM_INVALID(ctx, "%s: keep_aspect_ratio_policy gives axis %d an output dim out of range", op, axes[i]);
  }
  return SLM_REF_OK;
}

// Resize's inputs: opset 10 has (X, scales); 11+ has (X, roi, scales, sizes).
int resize_spec(KernelContext *ctx, ResizeSpec *r) {
  const char *op = "Resize";
  if (int st = require_inputs(ctx, 1))
    return st;
  const Tensor &x = *input(ctx, 0);
  bool legacy = ctx->attrs->get_int("__opset", ctx->num_inputs == 2 ? 10 : 13) < 11;
  if (int st = read_modes(ctx, op, legacy, r))
    return st;
  r->rank = x.rank;
  for (int i = 0; i < x.rank; ++i) {
    r->in[i] = r->out[i] = x.dims[i];
    r->scale[i] = 1.0;
    r->roi_start[i] = 0.0;
    r->roi_end[i] = 1.0;
  }
  const Tensor *roi = nullptr, *scales = nullptr, *sizes = nullptr;
  if (legacy) {
    if (int st = value_input(ctx, 1, &scales))
      return st;
  } else {
    if (int st = value_input(ctx, 2, &scales))
      return st;
    if (int st = value_input(ctx, 3, &sizes))
      return st;
    if (r->coord == Coord::kTfCropAndResize)
      if (int st = value_input(ctx, 1, &roi))
        return st;
  }
  if (!scales == !sizes)
    return SLM_INVALID(ctx, "%s: exactly one of scales and sizes must be given", op);
  if (roi) {
    int64_t n = roi->numel() / 2;
    const int64_t *ax;
    size_t n_ax = ctx->attrs->get_ints("axes", &ax);
    if (n != (n_ax ? int64_t(n_ax) : x.rank) || roi->numel() % 2)
      return SLM_INVALID(ctx, "%s: roi has %lld values", op, (long long)roi->numel());
    for (int64_t i = 0; i < n; ++i) {
      int a = int(i);
      if (n_ax && !normalize_axis(ax[i], x.rank, &a))
        return SLM_INVALID(ctx, "%s: axis %lld is out of range", op, (long long)ax[i]);
      r->roi_start[a] = read_double(*roi, i);
      r->roi_end[a] = read_double(*roi, n + i);
    }
  }
  return apply_targets(ctx, op, scales, sizes, r);
}

// Upsample: (X, scales) from opset 9, scales attribute before.
int upsample_spec(KernelContext *ctx, ResizeSpec *r) {
  const char *op = "Upsample";
  if (int st = require_inputs(ctx, 1))
    return st;
  const Tensor &x = *input(ctx, 0);
  if (int st = read_modes(ctx, op, true, r))
    return st;
  r->rank = x.rank;
  for (int i = 0; i < x.rank; ++i) {
    r->in[i] = r->out[i] = x.dims[i];
    r->scale[i] = 1.0;
  }
  const Tensor *scales = nullptr;
  if (int st = value_input(ctx, 1, &scales))
    return st;
  if (scales)
    return apply_targets(ctx, op, scales, nullptr, r);
  const float *f;
  size_t n = ctx->attrs->get_floats("scales", &f);
  if (int(n) != x.rank)
    return SLM_INVALID(ctx, "%s: scales has %zu values for rank %d", op, n, x.rank);
  Tensor t;
  t.data = const_cast<float *>(f);
  t.dtype = kF32;
  t.rank = 1;
  t.dims[0] = int64_t(n);
  return apply_targets(ctx, op, &t, nullptr, r);
}

int infer_resize_common(KernelContext *ctx, int (*spec)(KernelContext *, ResizeSpec *),
                        const char *op) {
  ResizeSpec r;
  if (int st = spec(ctx, &r))
    return st;
  const Tensor &x = *input(ctx, 0);
  if (x.dtype == kBool || (!is_float_dtype(x.dtype) && !is_int_dtype(x.dtype)))
    return SLM_UNSUPPORTED(ctx, "%s: dtype %s is not supported", op, dtype_name(x.dtype));
  set_shape(output(ctx, 0), x.dtype, r.rank, r.out);
  return SLM_REF_OK;
}

// Source coordinate of output index x on axis a; false when outside the crop (tf_crop_and_resize).
bool source_coord(const ResizeSpec &r, int a, int64_t x, double *src) {
  double s = r.scale[a], in = double(r.in[a]), out = double(r.out[a]), xf = double(x);
  switch (r.coord) {
  case Coord::kHalfPixel:
    *src = (xf + 0.5) / s - 0.5;
    break;
  case Coord::kHalfPixelSymmetric: {
    double adj = out / (s * in), center = in / 2;
    *src = center * (1 - adj) + (xf + 0.5) / s - 0.5;
    break;
  }
  // ONNX takes the resized length as in * scale, unrounded: with scales 0.6 on 4 elements
  // align_corners maps output 1 to 1 * 3 / (2.4 - 1), not to 3.
  case Coord::kPytorchHalfPixel:
    *src = in * s > 1 ? (xf + 0.5) / s - 0.5 : 0.0;
    break;
  case Coord::kAlignCorners:
    *src = in * s > 1 ? xf * (in - 1) / (in * s - 1) : 0.0;
    break;
  case Coord::kAsymmetric:
    *src = xf / s;
    break;
  case Coord::kTfHalfPixelForNn:
    *src = (xf + 0.5) / s;
    break;
  case Coord::kTfCropAndResize: {
    double b = r.roi_start[a], e = r.roi_end[a];
    *src = out > 1 ? b * (in - 1) + xf * (e - b) * (in - 1) / (out - 1) : 0.5 * (b + e) * (in - 1);
    return *src >= 0 && *src <= in - 1;
  }
  }
  return true;
}

// Up to four (index, weight) taps of one output coordinate along one axis.
struct AxisTaps {
  int n = 0;
  int64_t idx[4];
  double w[4];
};

int64_t nearest_index(const ResizeSpec &r, int a, double x) {
  double f = std::floor(x);
  bool half = x - f == 0.5;
  switch (r.nearest) {
  case Nearest::kRoundPreferFloor:
    return int64_t(half ? f : std::round(x));
  case Nearest::kRoundPreferCeil:
    return int64_t(half ? f + 1 : std::round(x));
  case Nearest::kFloor:
    return int64_t(f);
  case Nearest::kCeil:
    return int64_t(std::ceil(x));
  case Nearest::kSimple:
    return int64_t(r.scale[a] < 1 ? std::ceil(x) : f);
  }
  return int64_t(f);
}

void cubic_weights(double a, double t, double *w) {
  double t1 = t + 1, t2 = 1 - t, t3 = 2 - t;
  w[0] = ((a * t1 - 5 * a) * t1 + 8 * a) * t1 - 4 * a;
  w[1] = ((a + 2) * t - (a + 3)) * t * t + 1;
  w[2] = ((a + 2) * t2 - (a + 3)) * t2 * t2 + 1;
  w[3] = ((a * t3 - 5 * a) * t3 + 8 * a) * t3 - 4 * a;
}

// Taps with edge-clamped indices; zero weights are dropped so unresized axes cost one tap.
bool axis_taps(const ResizeSpec &r, int a, int64_t x, AxisTaps *t) {
  double src = 0;
  bool inside = source_coord(r, a, x, &src);
  int64_t last = r.in[a] - 1;
  auto clamp = [&](int64_t i) { return i < 0 ? 0 : (i > last ? last : i); };
  t->n = 0;
  if (r.mode == Mode::kNearest) {
    t->idx[0] = clamp(nearest_index(r, a, src));
    t->w[0] = 1.0;
    t->n = 1;
    return inside;
  }
  double f = std::floor(src), frac = src - f, w[4];
  int64_t base = int64_t(f), first;
  int count;
  if (r.mode == Mode::kLinear) {
    w[0] = 1 - frac;
    w[1] = frac;
    first = base;
    count = 2;
  } else {
    cubic_weights(r.cubic_a, frac, w);
    first = base - 1;
    count = 4;
  }
  double total = 0;
  for (int i = 0; i < count; ++i) {
    int64_t idx = first + i;
    if (r.exclude_outside && (idx < 0 || idx > last))
      w[i] = 0;
    total += w[i];
  }
  for (int i = 0; i < count; ++i) {
    if (w[i] == 0)
      continue;
    t->idx[t->n] = clamp(first + i);
    t->w[t->n++] = r.exclude_outside && total != 0 ? w[i] / total : w[i];
  }
  if (!t->n) {
    t->idx[0] = clamp(base);
    t->w[0] = 0;
    t->n = 1;
  }
  return inside;
}

// One output row (all but the last axis fixed): sums over the product of the axes' taps.
template <typename T>
void resize_row(const ResizeSpec &r, const int64_t *in_strides, const T *x, T *y, int64_t row) {
  int R = r.rank;
  AxisTaps taps[kMaxRank];
  bool inside = true;
  int64_t rem = row;
  for (int a = R - 2; a >= 0; --a) {
    inside &= axis_taps(r, a, rem % r.out[a], &taps[a]);
    rem /= r.out[a];
  }
  int64_t W = r.out[R - 1];
  for (int64_t ox = 0; ox < W; ++ox) {
    bool in_x = axis_taps(r, R - 1, ox, &taps[R - 1]);
    if (!(inside && in_x)) {
      store_d(y, row * W + ox, r.extrapolation);
      continue;
    }
    int k[kMaxRank] = {};
    double sum = 0;
    for (;;) {
      double w = 1;
      int64_t off = 0;
      for (int a = 0; a < R; ++a) {
        w *= taps[a].w[k[a]];
        off += taps[a].idx[k[a]] * in_strides[a];
      }
      sum += w * load_d(x, off);
      int a = R - 1;
      for (; a >= 0 && ++k[a] == taps[a].n; --a)
        k[a] = 0;
      if (a < 0)
        break;
    }
    store_d(y, row * W + ox, sum);
  }
}

int run_resize_common(KernelContext *ctx, int (*spec)(KernelContext *, ResizeSpec *),
                      const char *op) {
  ResizeSpec r;
  if (int st = spec(ctx, &r))
    return st;
  const Tensor &x = *input(ctx, 0);
  Tensor &y = *output(ctx, 0);
  if (y.numel() == 0)
    return SLM_REF_OK;
  if (x.numel() == 0)
    return SLM_INVALID(ctx, "%s: cannot resize an empty input to a non-empty output", op);
  if (r.rank == 0) {
    std::memcpy(y.data, x.data, x.nbytes());
    return SLM_REF_OK;
  }
  int64_t strides[kMaxRank];
  contiguous_strides(x.rank, x.dims, strides);
  return dispatch_numeric(ctx, x.dtype, op, [&](auto tag) -> int {
    using T = decltype(tag);
    if (std::is_same<T, bool>::value)
      return SLM_UNSUPPORTED(ctx, "%s: dtype bool is not supported", op);
    int64_t rows = y.numel() / r.out[r.rank - 1];
    int64_t grain = r.out[r.rank - 1] >= 256 ? 1 : 256 / r.out[r.rank - 1] + 1;
    parallel(ctx, rows, grain, [&](int64_t b, int64_t e) {
      for (int64_t row = b; row < e; ++row)
        resize_row(r, strides, x.as<T>(), y.as<T>(), row);
    });
    return SLM_REF_OK;
  });
}

int infer_resize(KernelContext *ctx) { return infer_resize_common(ctx, resize_spec, "Resize"); }
int run_resize(KernelContext *ctx) { return run_resize_common(ctx, resize_spec, "Resize"); }
int infer_upsample(KernelContext *ctx) {
  return infer_resize_common(ctx, upsample_spec, "Upsample");
}
int run_upsample(KernelContext *ctx) { return run_resize_common(ctx, upsample_spec, "Upsample"); }

// ---- TopK ----

struct TopKSpec {
  int axis;
  int64_t k, outer = 1, len = 1, inner = 1;
};

int topk_spec(KernelContext *ctx, TopKSpec *s) {
  if (int st = require_inputs(ctx, 1))
    return st;
  const Tensor &x = *input(ctx, 0);
  if (x.dtype == kBool || (!is_float_dtype(x.dtype) && !is_int_dtype(x.dtype)))
    return SLM_UNSUPPORTED(ctx, "TopK: dtype %s is not supported", dtype_name(x.dtype));
  int64_t axis_attr = ctx->attrs->get_int("axis", -1);
  if (!normalize_axis(axis_attr, x.rank, &s->axis))
    return SLM_INVALID(ctx, "TopK: axis %lld is out of range for rank %d", (long long)axis_attr,
                       x.rank);
  if (const Tensor *kt = input(ctx, 1)) {
    if (!is_int_dtype(kt->dtype) || kt->numel() != 1)
      return SLM_INVALID(ctx, "TopK: K must be a single integer (got %lld values of %s)",
                         (long long)kt->numel(), dtype_name(kt->dtype));
    if (!kt->data)
      return SLM_REF_NEED_VALUE;
    s->k = read_int(*kt, 0);
  } else {
    if (!ctx->attrs->find("k"))
      return SLM_INVALID(ctx, "TopK: neither input K nor attribute k is given");
    s->k = ctx->attrs->get_int("k", 0);
  }
  if (s->k < 0 || s->k > x.dims[s->axis])
    return SLM_INVALID(ctx, "TopK: k %lld is outside [0, %lld]", (long long)s->k,
                       (long long)x.dims[s->axis]);
  for (int i = 0; i < x.rank; ++i)
    (i < s->axis ? s->outer : i == s->axis ? s->len : s->inner) *= x.dims[i];
  return SLM_REF_OK;
}

int infer_topk(KernelContext *ctx) {
  TopKSpec s;
  if (int st = topk_spec(ctx, &s))
    return st;
  const Tensor &x = *input(ctx, 0);
  int64_t dims[kMaxRank];
  for (int i = 0; i < x.rank; ++i)
    dims[i] = i == s.axis ? s.k : x.dims[i];
  set_shape(output(ctx, 0), x.dtype, x.rank, dims);
  if (Tensor *ind = output(ctx, 1))
    set_shape(ind, kI64, x.rank, dims);
  return SLM_REF_OK;
}

// A k-slot binary heap of indices kept in the strided Indices output itself (no scratch):
// the root is the weakest kept element, so a stronger newcomer replaces it.
template <typename T> struct TopKLine {
  const T *x;
  int64_t *h;
  int64_t step;
  bool largest;

  double v(int64_t i) const { return double(Compute<T>::load(x[i * step])); }
  // Ranking: larger (or smaller) value first, ties broken by lower index.
  bool before(int64_t i, int64_t j) const {
    double a = v(i), b = v(j);
    if (a != b)
      return largest ? a > b : a < b;
    return i < j;
  }
  int64_t &slot(int64_t p) const { return h[p * step]; }
  void sift_down(int64_t p, int64_t n) const {
    for (;;) {
      int64_t c = 2 * p + 1;
      if (c >= n)
        return;
      if (c + 1 < n && before(slot(c), slot(c + 1)))
        ++c;
      if (!before(slot(p), slot(c)))
        return;
      int64_t t = slot(p);
      slot(p) = slot(c);
      slot(c) = t;
      p = c;
    }
  }
  void sift_up(int64_t p) const {
    while (p > 0) {
      int64_t q = (p - 1) / 2;
      if (!before(slot(q), slot(p)))
        return;
      int64_t t = slot(p);
      slot(p) = slot(q);
      slot(q) = t;
      p = q;
    }
  }
  void select(int64_t len, int64_t k) const {
    int64_t n = 0;
    for (int64_t i = 0; i < len && k > 0; ++i) {
      if (n < k) {
        slot(n) = i;
        sift_up(n++);
      } else if (before(i, slot(0))) {
        slot(0) = i;
        sift_down(0, n);
      }
    }
    for (int64_t end = n - 1; end > 0; --end) { // heap sort: weakest goes last
      int64_t t = slot(0);
      slot(0) = slot(end);
      slot(end) = t;
      sift_down(0, end);
    }
  }
};

int run_topk(KernelContext *ctx) {
  TopKSpec s;
  if (int st = topk_spec(ctx, &s))
    return st;
  const Tensor &x = *input(ctx, 0);
  Tensor *vals = output(ctx, 0), *ind = output(ctx, 1);
  if (!ind)
    return SLM_UNSUPPORTED(ctx, "TopK: the Indices output is needed as selection scratch");
  bool largest = ctx->attrs->get_int("largest", 1) != 0;
  return dispatch_numeric(ctx, x.dtype, "TopK", [&](auto tag) -> int {
    using T = decltype(tag);
    const T *xp = x.as<T>();
    int64_t *ip = ind->as<int64_t>();
    parallel(ctx, s.outer * s.inner, 1, [&](int64_t b, int64_t e) {
      for (int64_t l = b; l < e; ++l) {
        int64_t o = l / s.inner, i = l % s.inner;
        TopKLine<T> line{xp + o * s.len * s.inner + i, ip + o * s.k * s.inner + i, s.inner,
                         largest};
        line.select(s.len, s.k);
        if (vals)
          for (int64_t j = 0; j < s.k; ++j)
            vals->as<T>()[(o * s.k + j) * s.inner + i] = line.x[line.slot(j) * s.inner];
      }
    });
    return SLM_REF_OK;
  });
}

// ---- ReverseSequence ----

int check_reverse_sequence(KernelContext *ctx, int *batch_axis, int *time_axis) {
  if (int st = require_inputs(ctx, 2))
    return st;
  const Tensor &x = *input(ctx, 0), &lens = *input(ctx, 1);
  *batch_axis = int(ctx->attrs->get_int("batch_axis", 1));
  *time_axis = int(ctx->attrs->get_int("time_axis", 0));
  if (x.rank < 2 || *batch_axis + *time_axis != 1 || *batch_axis < 0 || *time_axis < 0)
    return SLM_INVALID(ctx, "ReverseSequence: batch_axis/time_axis must be 0/1 on rank >= 2");
  if (dtype_size(x.dtype) == 0)
    return SLM_UNSUPPORTED(ctx, "ReverseSequence: dtype %s is not supported", dtype_name(x.dtype));
  if (!is_int_dtype(lens.dtype) || lens.rank != 1 || lens.dims[0] != x.dims[*batch_axis])
    return SLM_INVALID(ctx, "ReverseSequence: sequence_lens must be 1-D of %lld integers",
                       (long long)x.dims[*batch_axis]);
  return SLM_REF_OK;
}

int infer_reverse_sequence(KernelContext *ctx) {
  int ba, ta;
  if (int st = check_reverse_sequence(ctx, &ba, &ta))
    return st;
  const Tensor &x = *input(ctx, 0);
  set_shape(output(ctx, 0), x.dtype, x.rank, x.dims);
  return SLM_REF_OK;
}

int run_reverse_sequence(KernelContext *ctx) {
  int ba, ta;
  if (int st = check_reverse_sequence(ctx, &ba, &ta))
    return st;
  const Tensor &x = *input(ctx, 0), &lens = *input(ctx, 1);
  size_t es = dtype_size(x.dtype);
  int64_t bt = x.dims[0] * x.dims[1], inner = bt > 0 ? x.numel() / bt : 0;
  int64_t T0 = x.dims[ta], B = x.dims[ba];
  for (int64_t b = 0; b < B; ++b) {
    int64_t len = read_int(lens, b);
    if (len < 0 || len > T0)
      return SLM_INVALID(ctx, "ReverseSequence: length %lld is outside [0, %lld]", (long long)len,
                         (long long)T0);
    for (int64_t t = 0; t < T0; ++t) {
      int64_t src_t = t < len ? len - 1 - t : t;
      int64_t dst = ta == 0 ? t * B + b : b * T0 + t;
      int64_t src = ta == 0 ? src_t * B + b : b * T0 + src_t;
      std::memcpy(static_cast<char *>(output(ctx, 0)->data) + dst * inner * es,
                  static_cast<const char *>(x.data) + src * inner * es, size_t(inner) * es);
    }
  }
  return SLM_REF_OK;
}

// ---- Det ----

constexpr int64_t kDetMax = 32; // LU runs in a stack copy of the matrix

int check_det(KernelContext *ctx) {
  if (int st = require_inputs(ctx, 1))
    return st;
  const Tensor &x = *input(ctx, 0);
  if (!is_float_dtype(x.dtype))
    return SLM_UNSUPPORTED(ctx, "Det: dtype %s is not supported (float types only)",
                           dtype_name(x.dtype));
  if (x.rank < 2 || x.dims[x.rank - 1] != x.dims[x.rank - 2])
    return SLM_INVALID(ctx, "Det: input must be [..., M, M]");
  if (x.dims[x.rank - 1] > kDetMax)
    return SLM_UNSUPPORTED(ctx, "Det: matrices larger than %lld x %lld are not supported",
                           (long long)kDetMax, (long long)kDetMax);
  return SLM_REF_OK;
}

int infer_det(KernelContext *ctx) {
  if (int st = check_det(ctx))
    return st;
  const Tensor &x = *input(ctx, 0);
  set_shape(output(ctx, 0), x.dtype, x.rank - 2, x.dims);
  return SLM_REF_OK;
}

// Gaussian elimination with partial pivoting.
double det_of(double *a, int64_t n) {
  double det = 1;
  for (int64_t c = 0; c < n; ++c) {
    int64_t p = c;
    for (int64_t r = c + 1; r < n; ++r)
      if (std::fabs(a[r * n + c]) > std::fabs(a[p * n + c]))
        p = r;
    if (a[p * n + c] == 0)
      return 0;
    if (p != c) {
      det = -det;
      for (int64_t j = 0; j < n; ++j) {
        double t = a[c * n + j];
        a[c * n + j] = a[p * n + j];
        a[p * n + j] = t;
      }
    }
    det *= a[c * n + c];
    for (int64_t r = c + 1; r < n; ++r) {
      double f = a[r * n + c] / a[c * n + c];
      for (int64_t j = c; j < n; ++j)
        a[r * n + j] -= f * a[c * n + j];
    }
  }
  return det;
}

int run_det(KernelContext *ctx) {
  if (int st = check_det(ctx))
    return st;
  const Tensor &x = *input(ctx, 0);
  Tensor &y = *output(ctx, 0);
  int64_t n = x.dims[x.rank - 1], mats = y.numel();
  for (int64_t m = 0; m < mats; ++m) {
    double a[kDetMax * kDetMax];
    for (int64_t i = 0; i < n * n; ++i)
      a[i] = read_double(x, m * n * n + i);
    write_double(y, m, det_of(a, n));
  }
  return SLM_REF_OK;
}

// ---- BlackmanWindow / HannWindow / HammingWindow ----
// Generalized cosine windows of `size` (input 0) samples, periodic (N = size) or symmetric
// (N = size - 1): y[n] = a0 - a1 cos(2 pi n / N) + a2 cos(4 pi n / N).

struct CosineWindow {
  const char *op;
  double a0, a1, a2;
};

int infer_window(KernelContext *ctx, const CosineWindow &w) {
  if (int st = require_inputs(ctx, 1))
    return st;
  const Tensor &size = *input(ctx, 0);
  if ((size.dtype != kI32 && size.dtype != kI64) || size.numel() != 1)
    return SLM_INVALID(ctx, "%s: size must be an int32/int64 scalar", w.op);
  if (!size.data)
    return SLM_REF_NEED_VALUE;
  int64_t n = read_int(size, 0);
  if (n < 0)
    return SLM_INVALID(ctx, "%s: negative size %lld", w.op, (long long)n);
  int32_t dt = int32_t(ctx->attrs->get_int("output_datatype", kF32));
  if (!is_float_dtype(dt) && !is_int_dtype(dt))
    return SLM_UNSUPPORTED(ctx, "%s: output dtype %s is not supported", w.op, dtype_name(dt));
  set_shape(output(ctx, 0), dt, 1, &n);
  return SLM_REF_OK;
}

int run_window(KernelContext *ctx, const CosineWindow &w) {
  if (int st = infer_window(ctx, w))
    return st;
  Tensor &y = *output(ctx, 0);
  int64_t n = y.dims[0];
  double len = ctx->attrs->get_int("periodic", 1) ? double(n) : double(n - 1);
  for (int64_t i = 0; i < n; ++i) {
    double t = len > 0 ? 2 * M_PI * double(i) / len : 0.0;
    write_double(y, i, w.a0 - w.a1 * std::cos(t) + w.a2 * std::cos(2 * t));
  }
  return SLM_REF_OK;
}

constexpr CosineWindow kBlackman{"BlackmanWindow", 0.42, 0.5, 0.08};
constexpr CosineWindow kHann{"HannWindow", 0.5, 0.5, 0.0};
constexpr CosineWindow kHamming{"HammingWindow", 25.0 / 46.0, 21.0 / 46.0, 0.0};
int infer_blackman(KernelContext *ctx) { return infer_window(ctx, kBlackman); }
int run_blackman(KernelContext *ctx) { return run_window(ctx, kBlackman); }
int infer_hann(KernelContext *ctx) { return infer_window(ctx, kHann); }
int run_hann(KernelContext *ctx) { return run_window(ctx, kHann); }
int infer_hamming(KernelContext *ctx) { return infer_window(ctx, kHamming); }
int run_hamming(KernelContext *ctx) { return run_window(ctx, kHamming); }

} // namespace

const OpKernel kMiscKernels[] = {
    {"BlackmanWindow", infer_blackman, run_blackman, 1u << 0},
    {"Det", infer_det, run_det, 0},
    {"HammingWindow", infer_hamming, run_hamming, 1u << 0},
    {"HannWindow", infer_hann, run_hann, 1u << 0},
    {"Resize", infer_resize, run_resize, (1u << 1) | (1u << 2) | (1u << 3)},
    {"ReverseSequence", infer_reverse_sequence, run_reverse_sequence, 0},
    {"TopK", infer_topk, run_topk, 1u << 1},
    {"Upsample", infer_upsample, run_upsample, 1u << 1},
};
const size_t kMiscKernels_count = sizeof(kMiscKernels) / sizeof(kMiscKernels[0]);

} // namespace slm
