// Reference kernels for convolution and pooling: Conv, ConvTranspose, the integer convolutions
// (ConvInteger, QLinearConv), Max/Average/Lp/Global pools.
#include "kernel_util.h"
#include "quant_util.h"

#include <cmath>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <type_traits>

namespace slm {
namespace {

// 1-D and 2-D windows are run as 3-D ones with leading size-1 spatial dims, so one loop
// nest serves every spatial rank.
constexpr int kSp = 3;
constexpr int64_t kTileW = 256; // output columns accumulated on the stack at once

struct Window {
  int nsp = 0; // spatial rank of the op (1..3)
  int64_t in[kSp], out[kSp], k[kSp], s[kSp], d[kSp], pb[kSp], pe[kSp];
};

inline int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
inline int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }

enum class AutoPad { kNotSet, kSameUpper, kSameLower, kValid };

int read_auto_pad(KernelContext *ctx, const char *op, AutoPad *ap) {
  char buf[32];
  const char *s = ctx->attrs->get_string("auto_pad", "NOTSET", buf, sizeof buf);
  if (!std::strcmp(s, "NOTSET") || !*s)
    *ap = AutoPad::kNotSet;
  else if (!std::strcmp(s, "SAME_UPPER"))
    *ap = AutoPad::kSameUpper;
  else if (!std::strcmp(s, "SAME_LOWER"))
    *ap = AutoPad::kSameLower;
  else if (!std::strcmp(s, "VALID"))
    *ap = AutoPad::kValid;
  else
    return SLM_INVALID(ctx, "%s: unknown auto_pad '%s'", op, s);
  return SLM_REF_OK;
}

// Reads an ints attribute of exactly `n` values into out; every value is `def` if absent.
int read_ints(KernelContext *ctx, const char *op, const char *name, int n, int64_t def,
              int64_t *out) {
  const int64_t *v;
  size_t cnt = ctx->attrs->get_ints(name, &v);
  for (int i = 0; i < n; ++i)
    out[i] = def;
  if (!cnt)
    return SLM_REF_OK;
  if (int(cnt) != n)
    return SLM_INVALID(ctx, "%s: attribute '%s' has %zu values, expected %d", op, name, cnt, n);
  for (int i = 0; i < n; ++i)
    out[i] = v[i];
  return SLM_REF_OK;
}

// Fills strides, dilations and pads (spatial rank r, unpadded) with validation.
int read_geometry(KernelContext *ctx, const char *op, int r, int64_t *s, int64_t *d,
                  int64_t *pads) {
  if (int st = read_ints(ctx, op, "strides", r, 1, s))
    return st;
  if (int st = read_ints(ctx, op, "dilations", r, 1, d))
    return st;
  if (int st = read_ints(ctx, op, "pads", 2 * r, 0, pads))
    return st;
  // Artifacts can carry any geometry; below 2^31 the window arithmetic fits in int64.
  constexpr int64_t kMaxGeometry = int64_t(1) << 31;
  for (int i = 0; i < r; ++i) {
    if (s[i] <= 0 || d[i] <= 0)
      return SLM_INVALID(ctx, "%s: strides and dilations must be positive (axis %d)", op, i);
    if (s[i] >= kMaxGeometry || d[i] >= kMaxGeometry || pads[i] >= kMaxGeometry || pads[r + i] >= kMaxGeometry)
      return SLM_INVALID(ctx, "%s: stride, dilation or pad beyond 2^31 (axis %d)", op, i);
    if (pads[i] < 0 || pads[r + i] < 0)
      return SLM_UNSUPPORTED(ctx, "%s: negative pads are not supported (axis %d)", op, i);
  }
  return SLM_REF_OK;
}

// Forward window (Conv and pools): output sizes and effective pads.
int forward_window(KernelContext *ctx, const char *op, const Tensor &x, const int64_t *kernel,
                   bool ceil_mode, Window *w) {
  int r = x.rank - 2;
  if (r < 1 || r > kSp)
    return SLM_UNSUPPORTED(ctx, "%s: %d spatial dims (1 to 3 supported)", op, r);
  int64_t s[kSp], d[kSp], pads[2 * kSp];
  if (int st = read_geometry(ctx, op, r, s, d, pads))
    return st;
  AutoPad ap;
  if (int st = read_auto_pad(ctx, op, &ap))
    return st;
  w->nsp = r;
  int lead = kSp - r;
  for (int i = 0; i < kSp; ++i) {
    w->in[i] = w->k[i] = w->s[i] = w->d[i] = w->out[i] = 1;
    w->pb[i] = w->pe[i] = 0;
  }
  for (int i = 0; i < r; ++i) {
    int j = lead + i;
    bool kernel_ok = kernel[i] > 0 && kernel[i] < (int64_t(1) << 31);
    int64_t in = x.dims[2 + i], eff = kernel_ok ? (kernel[i] - 1) * d[i] + 1 : 1;
    w->in[j] = in;
    w->k[j] = kernel[i];
    w->s[j] = s[i];
    w->d[j] = d[i];
    if (!kernel_ok)
      return SLM_INVALID(ctx, "%s: kernel size %lld on spatial axis %d", op, (long long)kernel[i],
                         i);
    if (ap == AutoPad::kSameUpper || ap == AutoPad::kSameLower) {
      w->out[j] = ceil_div(in, s[i]);
      int64_t total = (w->out[j] - 1) * s[i] + eff - in;
      total = total < 0 ? 0 : total;
      w->pb[j] = ap == AutoPad::kSameUpper ? total / 2 : total - total / 2;
      w->pe[j] = total - w->pb[j];
      continue;
    }
    if (ap == AutoPad::kNotSet) {
      w->pb[j] = pads[i];
      w->pe[j] = pads[r + i];
    }
    int64_t span = in + w->pb[j] + w->pe[j] - eff;
    if (span < 0)
      return SLM_INVALID(ctx, "%s: kernel extent %lld exceeds padded input %lld on spatial axis %d",
                         op, (long long)eff, (long long)(in + w->pb[j] + w->pe[j]), i);
    w->out[j] = (ceil_mode ? ceil_div(span, s[i]) : span / s[i]) + 1;
    // The last window must start inside the input or the leading pad.
    if (ceil_mode && (w->out[j] - 1) * s[i] >= in + w->pb[j])
      --w->out[j];
  }
  return SLM_REF_OK;
}

void set_nc_spatial(Tensor *y, int32_t dtype, int64_t n, int64_t c, const Window &w) {
  int64_t dims[2 + kSp] = {n, c};
  for (int i = 0; i < w.nsp; ++i)
    dims[2 + i] = w.out[kSp - w.nsp + i];
  set_shape(y, dtype, 2 + w.nsp, dims);
}

// Shared checks for Conv/ConvTranspose operands: float X, W of X's rank, bias of `bias_len`.
int check_conv_operands(KernelContext *ctx, const char *op, int64_t *kernel) {
  if (int st = require_inputs(ctx, 2))
    return st;
  const Tensor &x = *input(ctx, 0), &w = *input(ctx, 1);
  if (!is_float_dtype(x.dtype))
    return SLM_UNSUPPORTED(ctx, "%s: dtype %s is not supported (float types only)", op,
                           dtype_name(x.dtype));
  if (w.dtype != x.dtype)
    return SLM_INVALID(ctx, "%s: W is %s but X is %s", op, dtype_name(w.dtype),
                       dtype_name(x.dtype));
  if (x.rank < 3 || w.rank != x.rank)
    return SLM_INVALID(ctx, "%s: X has rank %d and W rank %d (need equal ranks >= 3)", op, x.rank,
                       w.rank);
  int r = x.rank - 2;
  const int64_t *ks;
  size_t nk = ctx->attrs->get_ints("kernel_shape", &ks);
  for (int i = 0; i < r; ++i) {
    kernel[i] = w.dims[2 + i];
    if (nk && (int(nk) != r || ks[i] != kernel[i]))
      return SLM_INVALID(ctx, "%s: kernel_shape does not match W's spatial dims", op);
  }
  if (ctx->attrs->get_int("group", 1) <= 0)
    return SLM_INVALID(ctx, "%s: group must be positive", op);
  return SLM_REF_OK;
}

int check_bias(KernelContext *ctx, const char *op, int64_t m) {
  const Tensor *b = input(ctx, 2);
  if (!b)
    return SLM_REF_OK;
  if (b->dtype != input(ctx, 0)->dtype || b->rank != 1 || b->dims[0] != m)
    return SLM_INVALID(ctx, "%s: bias must be 1-D of %lld elements of X's dtype", op, (long long)m);
  return SLM_REF_OK;
}

// ---- Conv ----

int conv_window(KernelContext *ctx, Window *win) {
  int64_t kernel[kSp];
  if (int st = check_conv_operands(ctx, "Conv", kernel))
    return st;
  const Tensor &x = *input(ctx, 0), &w = *input(ctx, 1);
  int64_t g = ctx->attrs->get_int("group", 1), c = x.dims[1], m = w.dims[0], wc = 0;
  if (__builtin_mul_overflow(w.dims[1], g, &wc) || wc != c) // a hostile group must not overflow
    return SLM_INVALID(ctx,
                       "Conv: input channels %lld do not match weight channels %lld × group %lld",
                       (long long)c, (long long)w.dims[1], (long long)g);
  if (m % g != 0)
    return SLM_INVALID(ctx, "Conv: %lld output channels are not divisible by group %lld",
                       (long long)m, (long long)g);
  if (int st = check_bias(ctx, "Conv", m))
    return st;
  return forward_window(ctx, "Conv", x, kernel, false, win);
}

int infer_conv(KernelContext *ctx) {
  Window win;
  if (int st = conv_window(ctx, &win))
    return st;
  set_nc_spatial(output(ctx, 0), input(ctx, 0)->dtype, input(ctx, 0)->dims[0],
                 input(ctx, 1)->dims[0], win);
  return SLM_REF_OK;
}

// Index range [lo, hi] of outputs o with 0 <= o * s + off < n, clipped to [o0, o1].
inline void valid_range(int64_t off, int64_t s, int64_t n, int64_t o0, int64_t o1, int64_t *lo,
                        int64_t *hi) {
  int64_t a = ceil_div(-off, s), b = floor_div(n - 1 - off, s);
  *lo = a > o0 ? a : o0;
  *hi = b < o1 ? b : o1;
}

struct ConvDims {
  int64_t N, C, M, G;
};

// acc[0, n) += w * x[0, n). Blocks of 8 with a fixed-size inner loop, which GCC's -O2
// cost model vectorizes (it skips loops that would need a scalar epilogue).
template <typename T, typename A> inline void axpy_blocked(A *acc, A w, const T *x, int64_t n) {
  using C = Compute<T>;
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int u = 0; u < 8; ++u)
      acc[i + u] += w * C::load(x[i + u]);
  for (; i < n; ++i)
    acc[i] += w * C::load(x[i]);
}

// One output row y[n, m, od, oh, :] by direct convolution (no im2col scratch).
template <typename T>
void conv_row(const Window &w, const ConvDims &cd, const T *x, const T *wt, const T *bias, T *y,
              int64_t unit) {
  using C = Compute<T>;
  using A = typename C::type;
  int64_t oh = unit % w.out[1], od = (unit / w.out[1]) % w.out[0];
  int64_t m = (unit / (w.out[1] * w.out[0])) % cd.M, n = unit / (w.out[1] * w.out[0] * cd.M);
  int64_t cpg = cd.C / cd.G, grp = m / (cd.M / cd.G);
  T *yrow = y + unit * w.out[2];
  for (int64_t o0 = 0; o0 < w.out[2]; o0 += kTileW) {
    int64_t nr = w.out[2] - o0 < kTileW ? w.out[2] - o0 : kTileW;
    A acc[kTileW];
    A b0 = bias ? C::load(bias[m]) : A(0);
    for (int64_t j = 0; j < nr; ++j)
      acc[j] = b0;
    for (int64_t cc = 0; cc < cpg; ++cc) {
      int64_t c = grp * cpg + cc;
      for (int64_t kd = 0; kd < w.k[0]; ++kd) {
        int64_t id = od * w.s[0] - w.pb[0] + kd * w.d[0];
        if (id < 0 || id >= w.in[0])
          continue;
        for (int64_t kh = 0; kh < w.k[1]; ++kh) {
          int64_t ih = oh * w.s[1] - w.pb[1] + kh * w.d[1];
          if (ih < 0 || ih >= w.in[1])
            continue;
          const T *xrow = x + (((n * cd.C + c) * w.in[0] + id) * w.in[1] + ih) * w.in[2];
          const T *wrow = wt + (((m * cpg + cc) * w.k[0] + kd) * w.k[1] + kh) * w.k[2];
          for (int64_t kw = 0; kw < w.k[2]; ++kw) {
            A wv = C::load(wrow[kw]);
            int64_t off = kw * w.d[2] - w.pb[2], lo, hi;
            valid_range(off, w.s[2], w.in[2], o0, o0 + nr - 1, &lo, &hi);
            const T *xp = xrow + off;
            if (w.s[2] == 1)
              axpy_blocked(acc + (lo - o0), wv, xp + lo, hi - lo + 1);
            else
              for (int64_t o = lo; o <= hi; ++o)
                acc[o - o0] += wv * C::load(xp[o * w.s[2]]);
          }
        }
      }
    }
    for (int64_t j = 0; j < nr; ++j)
      yrow[o0 + j] = C::store(acc[j]);
  }
}

int run_conv(KernelContext *ctx) {
  Window win;
  if (int st = conv_window(ctx, &win))
    return st;
  const Tensor &x = *input(ctx, 0), &w = *input(ctx, 1);
  const Tensor *b = input(ctx, 2);
  ConvDims cd{x.dims[0], x.dims[1], w.dims[0], ctx->attrs->get_int("group", 1)};
  return dispatch_float(ctx, x.dtype, "Conv", [&](auto tag) -> int {
    using T = decltype(tag);
    int64_t units = cd.N * cd.M * win.out[0] * win.out[1];
    int64_t cost = win.out[2] * (cd.C / cd.G) * win.k[0] * win.k[1] * win.k[2] + 1;
    int64_t grain = cost >= 16384 ? 1 : 16384 / cost + 1;
    const T *bp = b ? b->as<T>() : nullptr;
    parallel(ctx, units, grain, [&](int64_t be, int64_t en) {
      for (int64_t u = be; u < en; ++u)
        conv_row(win, cd, x.as<T>(), w.as<T>(), bp, output(ctx, 0)->as<T>(), u);
    });
    return SLM_REF_OK;
  });
}

// ---- ConvInteger / QLinearConv ----
// Integer convolution: int32 accumulators of (x - x_zp) * (w - w_zp[m]) over the window, with
// padding contributing 0 (padding holds the zero point). ConvInteger writes the int32 sums;
// QLinearConv adds its int32 bias and requantizes once per output.

struct QConvArgs {
  int xi, wi, xzp, wzp; // input positions of x, w and their zero points
};

int qconv_window(KernelContext *ctx, const char *op, const QConvArgs &a, Window *win) {
  const Tensor *xp = input(ctx, a.xi), *wp = input(ctx, a.wi);
  if (!xp || !wp)
    return SLM_INVALID(ctx, "%s: x and w are required", op);
  const Tensor &x = *xp, &w = *wp;
  for (const Tensor *t : {&x, &w})
    if (!is_q8_dtype(t->dtype))
      return SLM_UNSUPPORTED(ctx, "%s: dtype %s is not supported (uint8/int8 only)", op,
                             dtype_name(t->dtype));
  if (x.rank < 3 || w.rank != x.rank)
    return SLM_INVALID(ctx, "%s: X has rank %d and W rank %d (need equal ranks >= 3)", op, x.rank,
                       w.rank);
  int r = x.rank - 2;
  int64_t kernel[kSp];
  for (int i = 0; i < r && i < kSp; ++i)
    kernel[i] = w.dims[2 + i];
  int64_t g = ctx->attrs->get_int("group", 1), m = w.dims[0], wc = 0;
  if (g <= 0 || __builtin_mul_overflow(w.dims[1], g, &wc) || wc != x.dims[1] || m % g != 0)
    return SLM_INVALID(ctx, "%s: channels (X %lld, W %lld x %lld, group %lld) do not match", op,
                       (long long)x.dims[1], (long long)m, (long long)w.dims[1], (long long)g);
  const Tensor *xzp = input(ctx, a.xzp), *wzp = input(ctx, a.wzp);
  if (xzp && xzp->dtype != x.dtype)
    return SLM_INVALID(ctx, "%s: x zero point is %s but x is %s", op, dtype_name(xzp->dtype),
                       dtype_name(x.dtype));
  if (wzp && wzp->dtype != w.dtype)
    return SLM_INVALID(ctx, "%s: w zero point is %s but w is %s", op, dtype_name(wzp->dtype),
                       dtype_name(w.dtype));
  if (int st = check_q_param(ctx, op, "x zero point", xzp, 0))
    return st;
  if (int st = check_q_param(ctx, op, "w zero point", wzp, m))
    return st;
  return forward_window(ctx, op, x, kernel, false, win);
}

// One output row (unit = n, m, od, oh) of integer sums, handed to store(ow, acc).
template <typename TX, typename TW, typename Store>
void qconv_row(const Window &w, const ConvDims &cd, const TX *x, int32_t xzp, const TW *wt,
               int32_t wzp, int64_t unit, Store &&store) {
  int64_t oh = unit % w.out[1], od = (unit / w.out[1]) % w.out[0];
  int64_t m = (unit / (w.out[1] * w.out[0])) % cd.M, n = unit / (w.out[1] * w.out[0] * cd.M);
  int64_t cpg = cd.C / cd.G, grp = m / (cd.M / cd.G);
  for (int64_t o0 = 0; o0 < w.out[2]; o0 += kTileW) {
    int64_t nr = w.out[2] - o0 < kTileW ? w.out[2] - o0 : kTileW;
    int32_t acc[kTileW] = {};
    for (int64_t cc = 0; cc < cpg; ++cc) {
      int64_t c = grp * cpg + cc;
      for (int64_t kd = 0; kd < w.k[0]; ++kd) {
        int64_t id = od * w.s[0] - w.pb[0] + kd * w.d[0];
        if (id < 0 || id >= w.in[0])
          continue;
        for (int64_t kh = 0; kh < w.k[1]; ++kh) {
          int64_t ih = oh * w.s[1] - w.pb[1] + kh * w.d[1];
          if (ih < 0 || ih >= w.in[1])
            continue;
          const TX *xrow = x + (((n * cd.C + c) * w.in[0] + id) * w.in[1] + ih) * w.in[2];
          const TW *wrow = wt + (((m * cpg + cc) * w.k[0] + kd) * w.k[1] + kh) * w.k[2];
          for (int64_t kw = 0; kw < w.k[2]; ++kw) {
            int32_t wv = int32_t(wrow[kw]) - wzp;
            int64_t off = kw * w.d[2] - w.pb[2], lo, hi;
            valid_range(off, w.s[2], w.in[2], o0, o0 + nr - 1, &lo, &hi);
            for (int64_t o = lo; o <= hi; ++o)
              acc[o - o0] += wv * (int32_t(xrow[off + o * w.s[2]]) - xzp);
          }
        }
      }
    }
    for (int64_t j = 0; j < nr; ++j)
      store(m, o0 + j, acc[j]);
  }
}

// Calls fn(TX{}, TW{}) for the uint8/int8 combinations of x and w.
template <typename F> void dispatch_q8_pair(int32_t dx, int32_t dw, F &&fn) {
  if (dx == kU8 && dw == kU8)
    fn(uint8_t{}, uint8_t{});
  else if (dx == kU8)
    fn(uint8_t{}, int8_t{});
  else if (dw == kU8)
    fn(int8_t{}, uint8_t{});
  else
    fn(int8_t{}, int8_t{});
}

// Runs qconv_row over every output row in parallel; store(y_row_unit, m, ow, acc).
template <typename Store>
void qconv_run(KernelContext *ctx, const QConvArgs &a, const Window &win, Store &&store) {
  const Tensor &x = *input(ctx, a.xi), &w = *input(ctx, a.wi);
  const Tensor *wzp = input(ctx, a.wzp);
  ConvDims cd{x.dims[0], x.dims[1], w.dims[0], ctx->attrs->get_int("group", 1)};
  int32_t xzp = zero_point_at(input(ctx, a.xzp), 0);
  int64_t units = cd.N * cd.M * win.out[0] * win.out[1];
  int64_t cost = win.out[2] * (cd.C / cd.G) * win.k[0] * win.k[1] * win.k[2] + 1;
  int64_t grain = cost >= 16384 ? 1 : 16384 / cost + 1;
  dispatch_q8_pair(x.dtype, w.dtype, [&](auto tx, auto tw) {
    using TX = decltype(tx);
    using TW = decltype(tw);
    parallel(ctx, units, grain, [&](int64_t be, int64_t en) {
      for (int64_t u = be; u < en; ++u) {
        int64_t m = (u / (win.out[1] * win.out[0])) % cd.M;
        qconv_row(win, cd, x.as<TX>(), xzp, w.as<TW>(), zero_point_at(wzp, m), u,
                  [&](int64_t mm, int64_t ow, int32_t acc) { store(u, mm, ow, acc); });
      }
    });
  });
}

constexpr QConvArgs kConvIntegerArgs{0, 1, 2, 3};
constexpr QConvArgs kQLinearConvArgs{0, 3, 2, 5};

int infer_conv_integer(KernelContext *ctx) {
  Window win;
  if (int st = qconv_window(ctx, "ConvInteger", kConvIntegerArgs, &win))
    return st;
  set_nc_spatial(output(ctx, 0), kI32, input(ctx, 0)->dims[0], input(ctx, 1)->dims[0], win);
  return SLM_REF_OK;
}

int run_conv_integer(KernelContext *ctx) {
  Window win;
  if (int st = qconv_window(ctx, "ConvInteger", kConvIntegerArgs, &win))
    return st;
  int32_t *y = output(ctx, 0)->as<int32_t>();
  qconv_run(ctx, kConvIntegerArgs, win, [&](int64_t unit, int64_t, int64_t ow, int32_t acc) {
    y[unit * win.out[2] + ow] = acc;
  });
  return SLM_REF_OK;
}

// QLinearConv inputs: x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale,
// y_zero_point, B (int32, optional). w's scale and zero point may be per output channel.
int qlinear_conv_window(KernelContext *ctx, Window *win) {
  const char *op = "QLinearConv";
  if (int st = require_inputs(ctx, 8))
    return st;
  if (int st = qconv_window(ctx, op, kQLinearConvArgs, win))
    return st;
  int64_t m = input(ctx, 3)->dims[0];
  const Tensor &yzp = *input(ctx, 7);
  if (!is_q8_dtype(yzp.dtype))
    return SLM_UNSUPPORTED(ctx, "%s: output dtype %s is not supported", op, dtype_name(yzp.dtype));
  if (int st = check_q_param(ctx, op, "x_scale", input(ctx, 1), 0))
    return st;
  if (int st = check_q_param(ctx, op, "w_scale", input(ctx, 4), m))
    return st;
  if (int st = check_q_param(ctx, op, "y_scale", input(ctx, 6), 0))
    return st;
  const Tensor *b = input(ctx, 8);
  if (b && (b->dtype != kI32 || b->rank != 1 || b->dims[0] != m))
    return SLM_INVALID(ctx, "%s: B must be 1-D int32 of %lld elements", op, (long long)m);
  return SLM_REF_OK;
}

int infer_qlinear_conv(KernelContext *ctx) {
  Window win;
  if (int st = qlinear_conv_window(ctx, &win))
    return st;
  set_nc_spatial(output(ctx, 0), input(ctx, 7)->dtype, input(ctx, 0)->dims[0],
                 input(ctx, 3)->dims[0], win);
  return SLM_REF_OK;
}

template <typename TY> void qlinear_conv_typed(KernelContext *ctx, const Window &win) {
  const Tensor &xs = *input(ctx, 1), &ws = *input(ctx, 4);
  const Tensor *b = input(ctx, 8);
  float ys = scale_at(*input(ctx, 6), 0), xsc = scale_at(xs, 0);
  int32_t yzp = zero_point_at(input(ctx, 7), 0);
  TY *y = output(ctx, 0)->as<TY>();
  qconv_run(ctx, kQLinearConvArgs, win, [&](int64_t unit, int64_t m, int64_t ow, int32_t acc) {
    int32_t bias = b ? b->as<int32_t>()[m] : 0;
    y[unit * win.out[2] + ow] = requantize<TY>(acc + bias, xsc * scale_at(ws, m) / ys, yzp);
  });
}

int run_qlinear_conv(KernelContext *ctx) {
  Window win;
  if (int st = qlinear_conv_window(ctx, &win))
    return st;
  if (output(ctx, 0)->dtype == kU8)
    qlinear_conv_typed<uint8_t>(ctx, win);
  else
    qlinear_conv_typed<int8_t>(ctx, win);
  return SLM_REF_OK;
}

// ---- ConvTranspose ----

// Pads and output sizes per the ONNX ConvTranspose rules (output_shape overrides pads).
int transpose_window(KernelContext *ctx, Window *win) {
  const char *op = "ConvTranspose";
  int64_t kernel[kSp];
  if (int st = check_conv_operands(ctx, op, kernel))
    return st;
  const Tensor &x = *input(ctx, 0), &w = *input(ctx, 1);
  int64_t g = ctx->attrs->get_int("group", 1);
  if (w.dims[0] != x.dims[1])
    return SLM_INVALID(ctx, "ConvTranspose: W has %lld input channels but X has %lld",
                       (long long)w.dims[0], (long long)x.dims[1]);
  int64_t m = 0; // output channels; a hostile group must not overflow them
  if (x.dims[1] % g != 0 || __builtin_mul_overflow(w.dims[1], g, &m))
    return SLM_INVALID(ctx, "ConvTranspose: %lld input channels do not fit group %lld",
                       (long long)x.dims[1], (long long)g);
  if (int st = check_bias(ctx, op, m))
    return st;
  int r = x.rank - 2;
  if (r > kSp)
    return SLM_UNSUPPORTED(ctx, "%s: %d spatial dims (1 to 3 supported)", op, r);
  int64_t s[kSp], d[kSp], pads[2 * kSp], opad[kSp];
  if (int st = read_geometry(ctx, op, r, s, d, pads))
    return st;
  if (int st = read_ints(ctx, op, "output_padding", r, 0, opad))
    return st;
  AutoPad ap;
  if (int st = read_auto_pad(ctx, op, &ap))
    return st;
  const int64_t *oshape;
  size_t nos = ctx->attrs->get_ints("output_shape", &oshape);
  if (nos && int(nos) != r && int(nos) != r + 2)
    return SLM_INVALID(ctx, "%s: output_shape has %zu values for %d spatial dims", op, nos, r);
  if (nos == size_t(r + 2))
    oshape += 2;
  win->nsp = r;
  int lead = kSp - r;
  for (int i = 0; i < kSp; ++i) {
    win->in[i] = win->k[i] = win->s[i] = win->d[i] = win->out[i] = 1;
    win->pb[i] = win->pe[i] = 0;
  }
  for (int i = 0; i < r; ++i) {
    int j = lead + i;
    bool kernel_ok = kernel[i] > 0 && kernel[i] < (int64_t(1) << 31);
    int64_t in = x.dims[2 + i], eff = kernel_ok ? (kernel[i] - 1) * d[i] + 1 : 1;
    win->in[j] = in;
    win->k[j] = kernel[i];
    win->s[j] = s[i];
    win->d[j] = d[i];
    int64_t full = s[i] * (in - 1) + opad[i] + eff;
    if (nos || ap == AutoPad::kSameUpper || ap == AutoPad::kSameLower) {
      int64_t target = nos ? oshape[i] : in * s[i];
      int64_t total = full - target;
      if (total < 0)
        return SLM_UNSUPPORTED(ctx, "%s: output_shape %lld needs negative padding", op,
                               (long long)target);
      win->pb[j] = ap == AutoPad::kSameUpper ? total / 2 : total - total / 2;
      win->pe[j] = total - win->pb[j];
    } else if (ap == AutoPad::kNotSet) {
      win->pb[j] = pads[i];
      win->pe[j] = pads[r + i];
    }
    win->out[j] = full - win->pb[j] - win->pe[j];
    if (win->out[j] < 0)
      return SLM_INVALID(ctx, "%s: pads exceed the output extent on spatial axis %d", op, i);
  }
  return SLM_REF_OK;
}

int infer_conv_transpose(KernelContext *ctx) {
  Window win;
  if (int st = transpose_window(ctx, &win))
    return st;
  int64_t m = input(ctx, 1)->dims[1] * ctx->attrs->get_int("group", 1);
  set_nc_spatial(output(ctx, 0), input(ctx, 0)->dtype, input(ctx, 0)->dims[0], m, win);
  return SLM_REF_OK;
}

// One output row, gathered (y[o] += x[i] * w[k] with o = i*s + k*d - pad) so rows are
// independent and parallel without scatter races.
template <typename T>
void conv_transpose_row(const Window &w, const ConvDims &cd, const T *x, const T *wt, const T *bias,
                        T *y, int64_t unit) {
  using C = Compute<T>;
  using A = typename C::type;
  int64_t oh = unit % w.out[1], od = (unit / w.out[1]) % w.out[0];
  int64_t m = (unit / (w.out[1] * w.out[0])) % cd.M, n = unit / (w.out[1] * w.out[0] * cd.M);
  int64_t mpg = cd.M / cd.G, cpg = cd.C / cd.G, grp = m / mpg, ml = m % mpg;
  T *yrow = y + unit * w.out[2];
  for (int64_t o0 = 0; o0 < w.out[2]; o0 += kTileW) {
    int64_t nr = w.out[2] - o0 < kTileW ? w.out[2] - o0 : kTileW;
    A acc[kTileW];
    A b0 = bias ? C::load(bias[m]) : A(0);
    for (int64_t j = 0; j < nr; ++j)
      acc[j] = b0;
    for (int64_t c = grp * cpg; c < (grp + 1) * cpg; ++c) {
      for (int64_t kd = 0; kd < w.k[0]; ++kd) {
        int64_t nd = od + w.pb[0] - kd * w.d[0];
        if (nd < 0 || nd % w.s[0] || nd / w.s[0] >= w.in[0])
          continue;
        for (int64_t kh = 0; kh < w.k[1]; ++kh) {
          int64_t nh = oh + w.pb[1] - kh * w.d[1];
          if (nh < 0 || nh % w.s[1] || nh / w.s[1] >= w.in[1])
            continue;
          const T *xrow =
              x + (((n * cd.C + c) * w.in[0] + nd / w.s[0]) * w.in[1] + nh / w.s[1]) * w.in[2];
          const T *wrow = wt + (((c * mpg + ml) * w.k[0] + kd) * w.k[1] + kh) * w.k[2];
          for (int64_t kw = 0; kw < w.k[2]; ++kw) {
            A wv = C::load(wrow[kw]);
            int64_t off = w.pb[2] - kw * w.d[2]; // o + off = i * s
            int64_t ilo = ceil_div(o0 + off, w.s[2]), ihi = floor_div(o0 + nr - 1 + off, w.s[2]);
            ilo = ilo < 0 ? 0 : ilo;
            ihi = ihi >= w.in[2] ? w.in[2] - 1 : ihi;
            for (int64_t i = ilo; i <= ihi; ++i)
              acc[i * w.s[2] - off - o0] += wv * C::load(xrow[i]);
          }
        }
      }
    }
    for (int64_t j = 0; j < nr; ++j)
      yrow[o0 + j] = C::store(acc[j]);
  }
}

int run_conv_transpose(KernelContext *ctx) {
  Window win;
  if (int st = transpose_window(ctx, &win))
    return st;
  const Tensor &x = *input(ctx, 0), &w = *input(ctx, 1);
  const Tensor *b = input(ctx, 2);
  int64_t g = ctx->attrs->get_int("group", 1);
  ConvDims cd{x.dims[0], x.dims[1], w.dims[1] * g, g};
  return dispatch_float(ctx, x.dtype, "ConvTranspose", [&](auto tag) -> int {
    using T = decltype(tag);
    int64_t units = cd.N * cd.M * win.out[0] * win.out[1];
    const T *bp = b ? b->as<T>() : nullptr;
    parallel(ctx, units, 4, [&](int64_t be, int64_t en) {
      for (int64_t u = be; u < en; ++u)
        conv_transpose_row(win, cd, x.as<T>(), w.as<T>(), bp, output(ctx, 0)->as<T>(), u);
    });
    return SLM_REF_OK;
  });
}

// ---- Pools ----

enum class PoolKind { kMax, kAvg, kLp };

struct PoolParams {
  PoolKind kind;
  bool count_include_pad = false;
  double p = 2.0;
  int64_t *indices = nullptr; // MaxPool's optional flat argmax output
  bool col_major = false;      // storage_order=1: indices count the spatial dims column-major
};

// MaxPool's Indices value for row-major offset `at` in plane `nc`.
inline int64_t pool_index(const Window &w, const PoolParams &pp, int64_t nc, int64_t at) {
  int64_t plane = w.in[0] * w.in[1] * w.in[2];
  if (!pp.col_major)
    return nc * plane + at;
  int64_t d = at / (w.in[1] * w.in[2]), h = (at / w.in[2]) % w.in[1], x = at % w.in[2];
  return nc * plane + d + h * w.in[0] + x * w.in[0] * w.in[1];
}

int pool_window(KernelContext *ctx, const char *op, PoolKind kind, Window *win) {
  if (int st = require_inputs(ctx, 1))
    return st;
  const Tensor &x = *input(ctx, 0);
  bool int_ok = kind == PoolKind::kMax && (x.dtype == kI8 || x.dtype == kU8);
  if (!is_float_dtype(x.dtype) && !int_ok)
    return SLM_UNSUPPORTED(ctx, "%s: dtype %s is not supported", op, dtype_name(x.dtype));
  if (x.rank < 3)
    return SLM_INVALID(ctx, "%s: input must have rank >= 3 (got %d)", op, x.rank);
  const int64_t *ks;
  size_t nk = ctx->attrs->get_ints("kernel_shape", &ks);
  if (int(nk) != x.rank - 2)
    return SLM_INVALID(ctx, "%s: kernel_shape has %zu values for %d spatial dims", op, nk,
                       x.rank - 2);
  bool ceil_mode = ctx->attrs->get_int("ceil_mode", 0) != 0;
  return forward_window(ctx, op, x, ks, ceil_mode, win);
}

int infer_pool(KernelContext *ctx, const char *op, PoolKind kind) {
  Window win;
  if (int st = pool_window(ctx, op, kind, &win))
    return st;
  const Tensor &x = *input(ctx, 0);
  set_nc_spatial(output(ctx, 0), x.dtype, x.dims[0], x.dims[1], win);
  if (kind == PoolKind::kMax && output(ctx, 1))
    set_nc_spatial(output(ctx, 1), kI64, x.dims[0], x.dims[1], win);
  return SLM_REF_OK;
}

// Window positions along one axis: first tap index and the count inside [0, in).
struct Taps {
  int64_t start, k0, k1; // taps k in [k0, k1) land inside the input; start = o*s - pad
  int64_t padded;        // taps inside [-pad_begin, in + pad_end) (count_include_pad divisor)
};

inline Taps axis_taps(const Window &w, int a, int64_t o) {
  Taps t;
  t.start = o * w.s[a] - w.pb[a];
  t.k0 = t.start >= 0 ? 0 : ceil_div(-t.start, w.d[a]);
  int64_t last = floor_div(w.in[a] - 1 - t.start, w.d[a]);
  t.k1 = last + 1 < w.k[a] ? last + 1 : w.k[a];
  if (t.k1 < t.k0)
    t.k1 = t.k0;
  int64_t plast = floor_div(w.in[a] + w.pe[a] - 1 - t.start, w.d[a]);
  t.padded = plast + 1 < w.k[a] ? plast + 1 : w.k[a];
  return t;
}

template <typename T>
void pool_row(const Window &w, const PoolParams &pp, const T *x, T *y, int64_t unit) {
  using C = Compute<T>;
  using F = typename std::conditional<std::is_floating_point<typename C::type>::value,
                                      typename C::type, float>::type;
  int64_t oh = unit % w.out[1], od = (unit / w.out[1]) % w.out[0],
          nc = unit / (w.out[1] * w.out[0]);
  const T *xp = x + nc * w.in[0] * w.in[1] * w.in[2];
  Taps td = axis_taps(w, 0, od), th = axis_taps(w, 1, oh);
  for (int64_t ow = 0; ow < w.out[2]; ++ow) {
    Taps tw = axis_taps(w, 2, ow);
    F acc = pp.kind == PoolKind::kMax ? -std::numeric_limits<F>::infinity() : F(0);
    int64_t arg = 0;
    for (int64_t kd = td.k0; kd < td.k1; ++kd)
      for (int64_t kh = th.k0; kh < th.k1; ++kh) {
        int64_t row = ((td.start + kd * w.d[0]) * w.in[1] + th.start + kh * w.d[1]) * w.in[2];
        for (int64_t kw = tw.k0; kw < tw.k1; ++kw) {
          int64_t at = row + tw.start + kw * w.d[2];
          F v = F(C::load(xp[at]));
          if (pp.kind == PoolKind::kMax) {
            if (v > acc) {
              acc = v;
              arg = at;
            }
          } else if (pp.kind == PoolKind::kAvg) {
            acc += v;
          } else {
            acc += F(std::pow(std::fabs(v), F(pp.p)));
          }
        }
      }
    int64_t count = pp.count_include_pad ? td.padded * th.padded * tw.padded
                                         : (td.k1 - td.k0) * (th.k1 - th.k0) * (tw.k1 - tw.k0);
    if (pp.kind == PoolKind::kAvg)
      acc = count ? acc / F(count) : F(0);
    else if (pp.kind == PoolKind::kLp)
      acc = F(std::pow(acc, F(1.0 / pp.p)));
    int64_t oi = unit * w.out[2] + ow;
    y[oi] = C::store(typename C::type(acc));
    if (pp.indices)
      pp.indices[oi] = pool_index(w, pp, nc, arg);
  }
}

// Integer max pooling (int8/uint8 MaxPool): same window walk without float conversion.
template <typename T>
void pool_row_int(const Window &w, const PoolParams &pp, const T *x, T *y, int64_t unit) {
  int64_t oh = unit % w.out[1], od = (unit / w.out[1]) % w.out[0],
          nc = unit / (w.out[1] * w.out[0]);
  const T *xp = x + nc * w.in[0] * w.in[1] * w.in[2];
  Taps td = axis_taps(w, 0, od), th = axis_taps(w, 1, oh);
  for (int64_t ow = 0; ow < w.out[2]; ++ow) {
    Taps tw = axis_taps(w, 2, ow);
    T acc = std::numeric_limits<T>::lowest();
    int64_t arg = 0;
    for (int64_t kd = td.k0; kd < td.k1; ++kd)
      for (int64_t kh = th.k0; kh < th.k1; ++kh) {
        int64_t row = ((td.start + kd * w.d[0]) * w.in[1] + th.start + kh * w.d[1]) * w.in[2];
        for (int64_t kw = tw.k0; kw < tw.k1; ++kw) {
          int64_t at = row + tw.start + kw * w.d[2];
          if (xp[at] > acc || (kd == td.k0 && kh == th.k0 && kw == tw.k0)) {
            acc = xp[at];
            arg = at;
          }
        }
      }
    int64_t oi = unit * w.out[2] + ow;
    y[oi] = acc;
    if (pp.indices)
      pp.indices[oi] = pool_index(w, pp, nc, arg);
  }
}

int run_pool(KernelContext *ctx, const char *op, PoolParams pp) {
  Window win;
  if (int st = pool_window(ctx, op, pp.kind, &win))
    return st;
  const Tensor &x = *input(ctx, 0);
  Tensor &y = *output(ctx, 0);
  if (pp.kind == PoolKind::kMax && output(ctx, 1)) {
    pp.indices = output(ctx, 1)->as<int64_t>();
    pp.col_major = ctx->attrs->get_int("storage_order", 0) != 0;
  }
  int64_t units = x.dims[0] * x.dims[1] * win.out[0] * win.out[1];
  int64_t cost = win.out[2] * win.k[0] * win.k[1] * win.k[2] + 1;
  int64_t grain = cost >= 8192 ? 1 : 8192 / cost + 1;
  if (x.dtype == kI8 || x.dtype == kU8) {
    parallel(ctx, units, grain, [&](int64_t b, int64_t e) {
      for (int64_t u = b; u < e; ++u) {
        if (x.dtype == kI8)
          pool_row_int(win, pp, x.as<int8_t>(), y.as<int8_t>(), u);
        else
          pool_row_int(win, pp, x.as<uint8_t>(), y.as<uint8_t>(), u);
      }
    });
    return SLM_REF_OK;
  }
  return dispatch_float(ctx, x.dtype, op, [&](auto tag) -> int {
    using T = decltype(tag);
    parallel(ctx, units, grain, [&](int64_t b, int64_t e) {
      for (int64_t u = b; u < e; ++u)
        pool_row(win, pp, x.as<T>(), y.as<T>(), u);
    });
    return SLM_REF_OK;
  });
}

int infer_maxpool(KernelContext *ctx) { return infer_pool(ctx, "MaxPool", PoolKind::kMax); }
int infer_avgpool(KernelContext *ctx) { return infer_pool(ctx, "AveragePool", PoolKind::kAvg); }
int infer_lppool(KernelContext *ctx) { return infer_pool(ctx, "LpPool", PoolKind::kLp); }

int run_maxpool(KernelContext *ctx) { return run_pool(ctx, "MaxPool", PoolParams{PoolKind::kMax}); }
int run_avgpool(KernelContext *ctx) {
  PoolParams pp{PoolKind::kAvg};
  pp.count_include_pad = ctx->attrs->get_int("count_include_pad", 0) != 0;
  return run_pool(ctx, "AveragePool", pp);
}
int run_lppool(KernelContext *ctx) {
  PoolParams pp{PoolKind::kLp};
  pp.p = double(ctx->attrs->get_int("p", 2));
  if (pp.p <= 0)
    return SLM_INVALID(ctx, "LpPool: p must be positive (got %g)", pp.p);
  return run_pool(ctx, "LpPool", pp);
}

// ---- Global pools ----

int infer_global(KernelContext *ctx, const char *op) {
  if (int st = require_inputs(ctx, 1))
    return st;
  const Tensor &x = *input(ctx, 0);
  if (!is_float_dtype(x.dtype))
    return SLM_UNSUPPORTED(ctx, "%s: dtype %s is not supported (float types only)", op,
                           dtype_name(x.dtype));
  if (x.rank < 2)
    return SLM_INVALID(ctx, "%s: input must have rank >= 2 (got %d)", op, x.rank);
  int64_t dims[kMaxRank];
  for (int i = 0; i < x.rank; ++i)
    dims[i] = i < 2 ? x.dims[i] : 1;
  set_shape(output(ctx, 0), x.dtype, x.rank, dims);
  return SLM_REF_OK;
}

int run_global(KernelContext *ctx, const char *op, bool is_max) {
  if (int st = infer_global(ctx, op))
    return st;
  const Tensor &x = *input(ctx, 0);
  int64_t planes = x.dims[0] * x.dims[1], plane = planes ? x.numel() / planes : 0;
  return dispatch_float(ctx, x.dtype, op, [&](auto tag) -> int {
    using T = decltype(tag);
    using C = Compute<T>;
    const T *xp = x.as<T>();
    T *yp = output(ctx, 0)->as<T>();
    parallel(ctx, planes, 1, [&](int64_t b, int64_t e) {
      for (int64_t p = b; p < e; ++p) {
        double acc = is_max ? -INFINITY : 0.0;
        for (int64_t i = p * plane; i < (p + 1) * plane; ++i) {
          double v = double(C::load(xp[i]));
          acc = is_max ? (v > acc ? v : acc) : acc + v;
        }
        if (!is_max)
          acc = plane ? acc / double(plane) : 0.0;
        yp[p] = C::store(typename C::type(acc));
      }
    });
    return SLM_REF_OK;
  });
}

int infer_gap(KernelContext *ctx) { return infer_global(ctx, "GlobalAveragePool"); }
int infer_gmp(KernelContext *ctx) { return infer_global(ctx, "GlobalMaxPool"); }
int run_gap(KernelContext *ctx) { return run_global(ctx, "GlobalAveragePool", false); }
int run_gmp(KernelContext *ctx) { return run_global(ctx, "GlobalMaxPool", true); }

} // namespace

const OpKernel kConvPoolKernels[] = {
    {"AveragePool", infer_avgpool, run_avgpool, 0},
    {"Conv", infer_conv, run_conv, 0},
    {"ConvInteger", infer_conv_integer, run_conv_integer, 0},
    {"ConvTranspose", infer_conv_transpose, run_conv_transpose, 0},
    {"GlobalAveragePool", infer_gap, run_gap, 0},
    {"GlobalMaxPool", infer_gmp, run_gmp, 0},
    {"LpPool", infer_lppool, run_lppool, 0},
    {"MaxPool", infer_maxpool, run_maxpool, 0},
    {"QLinearConv", infer_qlinear_conv, run_qlinear_conv, 0},
};
const size_t kConvPoolKernels_count = sizeof(kConvPoolKernels) / sizeof(kConvPoolKernels[0]);

} // namespace slm
