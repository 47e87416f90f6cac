// Reference kernels for slm's fused ops (fused_matmul, fused_conv, rms_norm, rope, attention); float32 only.
#include "attention_f32.h"
#include "epilogue.h"
#include "gemm_f32_ukernel.h"
#include "kernel_util.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>

namespace slm {
namespace {

constexpr int64_t kMaxHeadDim = 512; // stack scratch per attention row

int require_f32(KernelContext *ctx, const char *op, const Tensor *t, const char *what) {
  if (!t)
    return SLM_INVALID(ctx, "%s: input '%s' is missing", op, what);
  if (t->dtype != kF32)
    return SLM_UNSUPPORTED(ctx, "%s: %s must be float32 (got %s)", op, what, dtype_name(t->dtype));
  return SLM_REF_OK;
}

// ---- slm.fused_matmul: y = act(a @ b + bias) * mul + residual ----

struct MatMulShape {
  int64_t rows = 0, k = 0, n = 0;
  bool trans_b = false;
  bool packed = false; // b is [ceil(n / 32), k, 32] panels (SLM_GEMM_F32_PANEL)
  // Element (p, j) of the logical [k, n] weight.
  float at(const float *b, int64_t p, int64_t j) const {
    if (packed) return b[(j / SLM_GEMM_F32_PANEL * k + p) * SLM_GEMM_F32_PANEL + j % SLM_GEMM_F32_PANEL];
    return trans_b ? b[j * k + p] : b[p * n + j];
  }
};

int fused_matmul_shape(KernelContext *ctx, MatMulShape *s) {
  const char *op = "slm.fused_matmul";
  const Tensor *a = input(ctx, 0), *b = input(ctx, 1);
  if (int st = require_f32(ctx, op, a, "a")) return st;
  if (int st = require_f32(ctx, op, b, "b")) return st;
  s->trans_b = ctx->attrs->get_int("trans_b", 0) != 0;
  s->k = a->rank >= 1 ? a->dims[a->rank - 1] : 0;
  if (a->rank >= 1 && b->rank == 3 && !s->trans_b) { // panel-packed weight
    const int64_t w = SLM_GEMM_F32_PANEL;
    s->packed = true;
    s->n = ctx->attrs->get_int("n", -1);
    if (b->dims[2] != w || b->dims[1] != s->k || s->n < 0 || s->n > b->dims[0] * w || s->n <= (b->dims[0] - 1) * w)
      return SLM_INVALID(ctx, "%s: packed b [%lld, %lld, %lld] does not hold [K=%lld, n=%lld] in panels of %lld", op,
                         (long long)b->dims[0], (long long)b->dims[1], (long long)b->dims[2], (long long)s->k,
                         (long long)s->n, (long long)w);
  } else if (a->rank < 1 || b->rank != 2) {
    return SLM_INVALID(ctx, "%s: a must have rank >= 1 and b rank 2 (got %d, %d)", op, a->rank, b->rank);
  }
  if (!s->packed) {
    s->n = s->trans_b ? b->dims[0] : b->dims[1];
    if ((s->trans_b ? b->dims[1] : b->dims[0]) != s->k)
      return SLM_INVALID(ctx, "%s: inner dims differ (a has %lld, b has %lld)", op, (long long)s->k,
                         (long long)(s->trans_b ? b->dims[1] : b->dims[0]));
  }
  s->rows = 1;
  for (int i = 0; i < a->rank - 1; ++i) s->rows *= a->dims[i];
  const Tensor *bias = input(ctx, 2);
  if (bias && (bias->dtype != kF32 || bias->numel() != s->n))
    return SLM_INVALID(ctx, "%s: bias must be float32 with %lld elements", op, (long long)s->n);
  for (int i = 3; i < 5; ++i) {
    const Tensor *e = input(ctx, i);
    if (e && (e->dtype != kF32 || e->numel() != s->rows * s->n))
      return SLM_INVALID(ctx, "%s: %s must be float32 with the output's %lld elements", op,
                         i == 3 ? "mul" : "residual", (long long)(s->rows * s->n));
  }
  Act act;
  if (!parse_activation(*ctx->attrs, &act))
    return SLM_UNSUPPORTED(ctx, "%s: unknown activation", op);
  return SLM_REF_OK;
}

int infer_fused_matmul(KernelContext *ctx) {
  MatMulShape s;
  if (int st = fused_matmul_shape(ctx, &s)) return st;
  const Tensor *a = input(ctx, 0);
  Tensor *y = output(ctx, 0);
  set_shape(y, kF32, a->rank, a->dims);
  y->dims[a->rank - 1] = s.n;
  return SLM_REF_OK;
}

int run_fused_matmul(KernelContext *ctx) {
  MatMulShape s;
  if (int st = fused_matmul_shape(ctx, &s)) return st;
  const Epilogue epilogue(ctx, 2);
  const float *a = input(ctx, 0)->as<float>(), *b = input(ctx, 1)->as<float>();
  float *y = output(ctx, 0)->as<float>();
  parallel(ctx, s.rows, 1, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float *ar = a + r * s.k;
      float *yr = y + r * s.n;
      for (int64_t j = 0; j < s.n; ++j) yr[j] = 0.0f;
      for (int64_t p = 0; p < s.k; ++p) {
        float av = ar[p];
        if (s.trans_b || s.packed) {
          for (int64_t j = 0; j < s.n; ++j) yr[j] += av * s.at(b, p, j);
        } else {
          const float *br = b + p * s.n;
          for (int64_t j = 0; j < s.n; ++j) yr[j] += av * br[j];
        }
      }
      epilogue.apply(yr, r, 0, s.n, s.n, yr);
    }
  });
  return SLM_REF_OK;
}

// ---- slm.rms_norm: y = x / sqrt(mean(x^2) + eps) * scale over the last axis ----

int rms_norm_check(KernelContext *ctx) {
  const Tensor *x = input(ctx, 0), *w = input(ctx, 1);
  if (int st = require_f32(ctx, "slm.rms_norm", x, "x")) return st;
  if (int st = require_f32(ctx, "slm.rms_norm", w, "scale")) return st;
  if (x->rank < 1 || w->numel() != x->dims[x->rank - 1])
    return SLM_INVALID(ctx, "slm.rms_norm: scale must have the last dim's size");
  return SLM_REF_OK;
}

int infer_rms_norm(KernelContext *ctx) {
  if (int st = rms_norm_check(ctx)) return st;
  if (!output(ctx, 0)) return SLM_INVALID(ctx, "slm.rms_norm: output 0 is missing");
  const Tensor *x = input(ctx, 0);
  set_shape(output(ctx, 0), kF32, x->rank, x->dims);
  return SLM_REF_OK;
}

int run_rms_norm(KernelContext *ctx) {
  if (int st = rms_norm_check(ctx)) return st;
  const Tensor *x = input(ctx, 0);
  int64_t d = x->dims[x->rank - 1], rows = d ? x->numel() / d : 0;
  float eps = ctx->attrs->get_float("epsilon", 1e-6f);
  const float *xs = x->as<float>(), *w = input(ctx, 1)->as<float>();
  float *y = output(ctx, 0)->as<float>();
  parallel(ctx, rows, 4, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float *xr = xs + r * d;
      float ss = 0.0f;
      for (int64_t i = 0; i < d; ++i) ss += xr[i] * xr[i];
      float inv = 1.0f / std::sqrt(ss / float(d) + eps);
      for (int64_t i = 0; i < d; ++i) y[r * d + i] = xr[i] * inv * w[i];
    }
  });
  return SLM_REF_OK;
}

// ---- slm.rope: y = x * cos + rotate_half(x) * sin, cos/sin broadcast to x ----

int rope_check(KernelContext *ctx, int *rank, int64_t *dims) {
  const Tensor *x = input(ctx, 0), *c = input(ctx, 1), *s = input(ctx, 2);
  for (int i = 0; i < 3; ++i)
    if (int st = require_f32(ctx, "slm.rope", input(ctx, i), i == 0 ? "x" : i == 1 ? "cos" : "sin")) return st;
  if (x->rank < 1 || x->dims[x->rank - 1] % 2)
    return SLM_INVALID(ctx, "slm.rope: the last dim of x must be even");
  int r1, r2;
  int64_t d1[kMaxRank], d2[kMaxRank];
  if (!broadcast_shapes(*x, *c, &r1, d1) || !broadcast_shapes(*x, *s, &r2, d2))
    return SLM_INVALID(ctx, "slm.rope: cos/sin do not broadcast to x");
  for (int i = 0; i < r1; ++i)
    if (r1 != x->rank || d1[i] != x->dims[i] || r2 != x->rank || d2[i] != x->dims[i])
      return SLM_INVALID(ctx, "slm.rope: cos/sin must broadcast to x's shape");
  *rank = x->rank;
  for (int i = 0; i < x->rank; ++i) dims[i] = x->dims[i];
  return SLM_REF_OK;
}

int infer_rope(KernelContext *ctx) {
  int rank;
  int64_t dims[kMaxRank];
  if (int st = rope_check(ctx, &rank, dims)) return st;
  set_shape(output(ctx, 0), kF32, rank, dims);
  return SLM_REF_OK;
}

// Index of element i of a row-major tensor of `dims` in a tensor with broadcast `strides`.
int64_t broadcast_index(int64_t i, int rank, const int64_t *dims, const int64_t *strides) {
  int64_t off = 0;
  for (int a = rank - 1; a >= 0; --a) {
    off += (i % dims[a]) * strides[a];
    i /= dims[a];
  }
  return off;
}

int run_rope(KernelContext *ctx) {
  int rank;
  int64_t dims[kMaxRank], cs[kMaxRank], ss[kMaxRank];
  if (int st = rope_check(ctx, &rank, dims)) return st;
  broadcast_strides(*input(ctx, 1), rank, dims, cs);
  broadcast_strides(*input(ctx, 2), rank, dims, ss);
  const float *x = input(ctx, 0)->as<float>(), *c = input(ctx, 1)->as<float>(), *s = input(ctx, 2)->as<float>();
  float *y = output(ctx, 0)->as<float>();
  int64_t d = dims[rank - 1], half = d / 2, n = input(ctx, 0)->numel();
  parallel(ctx, d ? n / d : 0, 16, [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0 * d; i < r1 * d; ++i) {
      int64_t j = i % d;
      float rot = j < half ? -x[i + half] : x[i - half];
      y[i] = x[i] * c[broadcast_index(i, rank, dims, cs)] + rot * s[broadcast_index(i, rank, dims, ss)];
    }
  });
  return SLM_REF_OK;
}

// ---- slm.attention ----
//
// With kv_in_place (the caches are session state, slmc compile --kv-cache=state), past_key and
// past_value are [B, Hkv, P, D] views of buffers that hold kv_capacity positions per head: the
// new rows are written at P.. in place, attention reads them there, and the present outputs (the
// same tensors) grow to P + S. Otherwise present = concat(past, new), contiguous.

struct AttnShape {
  int64_t b, s, p, t, hq, hkv, d;
  int64_t rope_rows; // rows of cos/sin: 0 (none), s, or b*s
  bool in_place;
  int64_t stride;    // positions per (b, kv head) row of the present buffers: t, or the capacity
};

int attention_shape(KernelContext *ctx, AttnShape *a) {
  const char *op = "slm.attention";
  const Tensor *q = input(ctx, 0), *k = input(ctx, 1), *v = input(ctx, 2);
  if (int st = require_f32(ctx, op, q, "q")) return st;
  if (int st = require_f32(ctx, op, k, "k")) return st;
  if (int st = require_f32(ctx, op, v, "v")) return st;
  if (!output(ctx, 0) || !output(ctx, 1) || !output(ctx, 2))
    return SLM_INVALID(ctx, "%s: the output and both present outputs must be given", op);
  a->hq = ctx->attrs->get_int("num_heads", 0);
  a->hkv = ctx->attrs->get_int("kv_num_heads", 0);
  if (q->rank != 3 || k->rank != 3 || v->rank != 3 || a->hq <= 0 || a->hkv <= 0 || a->hq % a->hkv)
    return SLM_INVALID(ctx, "%s: q/k/v must be [B, S, heads*D] with num_heads a multiple of kv_num_heads", op);
  a->b = q->dims[0];
  a->s = q->dims[1];
  a->d = q->dims[2] / a->hq;
  if (q->dims[2] % a->hq || a->d > kMaxHeadDim || a->d % 2)
    return SLM_INVALID(ctx, "%s: head size must be even and at most %lld", op, (long long)kMaxHeadDim);
  for (const Tensor *t : {k, v})
    if (t->dims[0] != a->b || t->dims[1] != a->s || t->dims[2] != a->hkv * a->d)
      return SLM_INVALID(ctx, "%s: k/v must be [B, S, kv_num_heads*D] matching q", op);
  a->p = 0;
  a->in_place = ctx->attrs->get_int("kv_in_place", 0) != 0;
  const Tensor *pk = input(ctx, 3), *pv = input(ctx, 4);
  if (!pk != !pv) return SLM_INVALID(ctx, "%s: give both past_key and past_value or neither", op);
  if (a->in_place && !pk) return SLM_INVALID(ctx, "%s: kv_in_place needs past_key and past_value", op);
  if (pk) {
    if (int st = require_f32(ctx, op, pk, "past_key")) return st;
    if (int st = require_f32(ctx, op, pv, "past_value")) return st;
    a->p = pk->dims[2];
    for (const Tensor *t : {pk, pv}) {
      if (t->rank != 4 || t->dims[1] != a->hkv || t->dims[2] != a->p || t->dims[3] != a->d)
        return SLM_INVALID(ctx, "%s: past_key/past_value must be [B, kv_num_heads, P, D]", op);
      if (t->dims[0] != a->b)
        return SLM_INVALID(ctx, a->in_place ? "%s: the KV cache holds batch %lld but the input has batch %lld; run with "
                                              "that batch or compile with --dim batch=%lld"
                                            : "%s: past_key/past_value batch %lld does not match the input's %lld",
                           op, (long long)t->dims[0], (long long)a->b, (long long)a->b);
    }
  }
  a->t = a->p + a->s;
  a->stride = a->in_place ? ctx->attrs->get_int("kv_capacity", 0) : a->t; // run checks the capacity
  a->rope_rows = 0;
  const Tensor *c = input(ctx, 5), *sn = input(ctx, 6);
  if (!c != !sn) return SLM_INVALID(ctx, "%s: give both cos and sin or neither", op);
  if (c) {
    if (int st = require_f32(ctx, op, c, "cos")) return st;
    if (int st = require_f32(ctx, op, sn, "sin")) return st;
    int64_t n = c->numel();
    a->rope_rows = n == a->s * a->d ? a->s : n == a->b * a->s * a->d ? a->b * a->s : -1;
    if (a->rope_rows < 0 || sn->numel() != n || c->dims[c->rank - 1] != a->d)
      return SLM_INVALID(ctx, "%s: cos/sin must hold S*D or B*S*D elements", op);
  }
  return SLM_REF_OK;
}

int infer_attention(KernelContext *ctx) {
  AttnShape a;
  if (int st = attention_shape(ctx, &a)) return st;
  set_shape(output(ctx, 0), kF32, 3, input(ctx, 0)->dims);
  if (a.in_place) { // the caches (outputs 1, 2 are inputs 3, 4) keep their shape until run appends
    for (int i = 1; i < 3; ++i) {
      int64_t dims[4];
      std::memcpy(dims, input(ctx, i + 2)->dims, sizeof dims);
      if (output(ctx, i)) set_shape(output(ctx, i), kF32, 4, dims);
    }
    return SLM_REF_OK;
  }
  int64_t present[4] = {a.b, a.hkv, a.t, a.d};
  for (int i = 1; i < 3; ++i)
    if (output(ctx, i)) set_shape(output(ctx, i), kF32, 4, present);
  return SLM_REF_OK;
}

// Copies one head row of length d, rotating it (rotate-half RoPE) when cos/sin are given.
void load_row(const float *src, const float *c, const float *s, int64_t d, float *dst) {
  if (!c) {
    for (int64_t i = 0; i < d; ++i) dst[i] = src[i];
    return;
  }
  int64_t h = d / 2;
  for (int64_t i = 0; i < d; ++i) dst[i] = src[i] * c[i] + (i < h ? -src[i + h] : src[i - h]) * s[i];
}

const float *rope_row(const AttnShape &a, const float *table, int64_t b, int64_t pos) {
  if (!table) return nullptr;
  return table + ((a.rope_rows == a.s ? 0 : b * a.s) + pos) * a.d;
}

// present[b, h, :P] = past (unless in place: already there), present[b, h, P + i] = rope(new[b, i, h]);
// rows of `stride` positions.
void fill_present(KernelContext *ctx, const AttnShape &a, const Tensor *past, const float *fresh,
                  const float *c, const float *s, float *present) {
  parallel(ctx, a.b * a.hkv, 1, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      int64_t b = r / a.hkv, h = r % a.hkv;
      float *dst = present + r * a.stride * a.d;
      if (past && !a.in_place && a.p > 0) // an empty past may have no data pointer
        std::memcpy(dst, past->as<float>() + r * a.p * a.d, size_t(a.p * a.d) * sizeof(float));
      for (int64_t i = 0; i < a.s; ++i)
        load_row(fresh + ((b * a.s + i) * a.hkv + h) * a.d, rope_row(a, c, b, i), rope_row(a, s, b, i), a.d,
                 dst + (a.p + i) * a.d);
    }
  });
}

// The reference row: one pass with an online softmax, no score buffer.
void attention_row_ref(const slm_attention_row_args_t *p) {
  float acc[kMaxHeadDim];
  float m = -INFINITY, l = 0.0f;
  for (int64_t e = 0; e < p->d; ++e) acc[e] = 0.0f;
  for (int64_t j = 0; j < p->t; ++j) {
    const float *kj = p->k + j * p->d, *vj = p->v + j * p->d;
    float sc = 0.0f;
    for (int64_t e = 0; e < p->d; ++e) sc += p->q[e] * kj[e];
    sc *= p->scale;
    if (sc > m) {
      float f = std::exp(m - sc);
      l *= f;
      for (int64_t e = 0; e < p->d; ++e) acc[e] *= f;
      m = sc;
    }
    float pj = std::exp(sc - m);
    l += pj;
    for (int64_t e = 0; e < p->d; ++e) acc[e] += pj * vj[e];
  }
  for (int64_t e = 0; e < p->d; ++e) p->out[e] = l > 0.0f ? acc[e] / l : 0.0f;
}

int run_attention(KernelContext *ctx) { return run_attention_rows(ctx, nullptr); }

} // namespace

int infer_attention_ref(KernelContext *ctx) { return infer_attention(ctx); }

int run_attention_rows(KernelContext *ctx, slm_attention_row_fn row) {
  if (!row) row = attention_row_ref;
  AttnShape a;
  if (int st = attention_shape(ctx, &a)) return st;
  if (a.in_place && (input(ctx, 3) != output(ctx, 1) || input(ctx, 4) != output(ctx, 2)))
    return SLM_INVALID(ctx, "slm.attention: kv_in_place needs past and present to be the same cache tensors");
  if (a.in_place && a.p > a.stride) // a capacity the loader checked against the caches' bound
    return SLM_INVALID(ctx, "slm.attention: KV cache capacity %lld is below its %lld cached positions",
                       (long long)a.stride, (long long)a.p);
  if (a.in_place && a.t > a.stride)
    return SLM_INVALID(ctx, "slm.attention: the KV cache is full: %lld cached + %lld new positions exceed its capacity "
                       "of %lld; reset the session or recompile with a larger --dim past",
                       (long long)a.p, (long long)a.s, (long long)a.stride);
  float scale = ctx->attrs->get_float("scale", 1.0f);
  bool causal = ctx->attrs->get_int("causal", 0) != 0;
  const float *c = input(ctx, 5) ? input(ctx, 5)->as<float>() : nullptr;
  const float *sn = input(ctx, 6) ? input(ctx, 6)->as<float>() : nullptr;
  float *pk = output(ctx, 1)->as<float>(), *pv = output(ctx, 2)->as<float>();
  fill_present(ctx, a, input(ctx, 3), input(ctx, 1)->as<float>(), c, sn, pk);
  fill_present(ctx, a, input(ctx, 4), input(ctx, 2)->as<float>(), nullptr, nullptr, pv);
  const float *q = input(ctx, 0)->as<float>();
  float *out = output(ctx, 0)->as<float>();
  int64_t group = a.hq / a.hkv;
  parallel(ctx, a.b * a.hq * a.s, 4, [&](int64_t r0, int64_t r1) {
    float qr[kMaxHeadDim];
    for (int64_t r = r0; r < r1; ++r) {
      int64_t i = r % a.s, h = (r / a.s) % a.hq, b = r / (a.s * a.hq);
      load_row(q + ((b * a.s + i) * a.hq + h) * a.d, rope_row(a, c, b, i), rope_row(a, sn, b, i), a.d, qr);
      slm_attention_row_args_t args;
      args.q = qr;
      args.k = pk + (b * a.hkv + h / group) * a.stride * a.d;
      args.v = pv + (b * a.hkv + h / group) * a.stride * a.d;
      args.t = causal ? std::min(a.p + i + 1, a.t) : a.t;
      args.d = a.d;
      args.scale = scale;
      args.out = out + ((b * a.s + i) * a.hq + h) * a.d;
      row(&args);
    }
  });
  if (a.in_place) output(ctx, 1)->dims[2] = output(ctx, 2)->dims[2] = a.t;
  return SLM_REF_OK;
}

namespace {

// ---- slm.fused_conv: act(Conv(X, W, B)), Conv by the reference kernel ----

int fused_conv_check(KernelContext *ctx, Act *act) {
  if (int st = require_f32(ctx, "slm.fused_conv", input(ctx, 0), "X")) return st;
  if (!parse_activation(*ctx->attrs, act) || *act == Act::kNone)
    return SLM_UNSUPPORTED(ctx, "slm.fused_conv: unknown activation");
  return SLM_REF_OK;
}

int infer_fused_conv(KernelContext *ctx) {
  Act act;
  if (int st = fused_conv_check(ctx, &act)) return st;
  return find_ref_kernel("Conv")->infer(ctx);
}

int run_fused_conv(KernelContext *ctx) {
  Act act;
  if (int st = fused_conv_check(ctx, &act)) return st;
  if (int st = find_ref_kernel("Conv")->run(ctx)) return st;
  float lo = ctx->attrs->get_float("clip_min", -INFINITY), hi = ctx->attrs->get_float("clip_max", INFINITY);
  float *y = output(ctx, 0)->as<float>();
  parallel(ctx, output(ctx, 0)->numel(), 4096, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) y[i] = apply_activation(act, y[i], lo, hi);
  });
  return SLM_REF_OK;
}

} // namespace

extern const OpKernel kFusedKernels[] = {
    {"slm.attention", infer_attention, run_attention, 0},
    {"slm.fused_conv", infer_fused_conv, run_fused_conv, 0},
    {"slm.fused_matmul", infer_fused_matmul, run_fused_matmul, 0},
    {"slm.rms_norm", infer_rms_norm, run_rms_norm, 0},
    {"slm.rope", infer_rope, run_rope, 0},
};
extern const size_t kFusedKernels_count = sizeof(kFusedKernels) / sizeof(kFusedKernels[0]);

} // namespace slm
