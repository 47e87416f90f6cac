// Reference kernels of slm's quantized ops: matmul_wq/gather_wq (weight-only) and quantize_rows/matmul_a8 (int8 activations).
#include "epilogue.h"
#include "kernel_util.h"
#include "quant_a8.h"
#include "sparse_s8.h"

#include <algorithm>
#include <cmath>

namespace slm {
namespace {

constexpr int64_t kColumnBlock = 256; // output columns accumulated on the stack at once

struct WqLayout {
  int64_t bits, group, k, n, groups;
};

bool read_layout(KernelContext *ctx, WqLayout *l, const char *dim_name) {
  l->bits = ctx->attrs->get_int("bits", 0);
  l->group = ctx->attrs->get_int("group_size", 0);
  l->k = ctx->attrs->get_int("k", ctx->attrs->get_int("d", 0));
  l->n = ctx->attrs->get_int("n", 0);
  (void)dim_name;
  return (l->bits == 4 || l->bits == 8) && l->group >= 0;
}

// Weight code q[row, col] as a signed integer. int4 codes are stored offset by 8, columns in
// blocks of 64 per 32 bytes: byte j holds column j (low nibble) and column j + 32 (high nibble).
inline int32_t code(const uint8_t *row, int64_t col, int64_t bits) {
  if (bits == 8) return int8_t(row[col]);
  int64_t j = col % 64;
  uint8_t byte = row[col / 64 * 32 + j % 32];
  return int32_t(j >= 32 ? byte >> 4 : byte & 15) - 8;
}

inline float scale_at(const Tensor &s, int64_t i) {
  return s.dtype == kF16 ? half_to_float(s.as<uint16_t>()[i]) : s.as<float>()[i];
}

int infer_matmul_wq(KernelContext *ctx) {
  if (int rc = require_inputs(ctx, 3)) return rc;
  WqLayout l;
  if (!read_layout(ctx, &l, "k")) return SLM_INVALID(ctx, "matmul_wq: bad bits/group_size attributes");
  const Tensor &a = *input(ctx, 0);
  if (a.dtype != kF32 || a.rank < 1 || a.dims[a.rank - 1] != l.k)
    return SLM_INVALID(ctx, "matmul_wq: input must be float32 [..., %lld]", (long long)l.k);
  Act act;
  if (!parse_activation(*ctx->attrs, &act)) return SLM_UNSUPPORTED(ctx, "matmul_wq: unknown activation");
  Tensor *y = output(ctx, 0);
  set_shape(y, kF32, a.rank, a.dims);
  y->dims[a.rank - 1] = l.n;
  return check_epilogue_operands(ctx, 4, l.n, *y, "matmul_wq");
}

int run_matmul_wq(KernelContext *ctx) {
  WqLayout l;
  read_layout(ctx, &l, "k");
  const Tensor &a = *input(ctx, 0), &q = *input(ctx, 1), &s = *input(ctx, 2);
  const Tensor *zp = input(ctx, 3);
  Tensor &y = *output(ctx, 0);
  int64_t rows = l.k ? a.numel() / l.k : y.numel() / std::max<int64_t>(l.n, 1);
  int64_t group = l.group ? l.group : std::max<int64_t>(l.k, 1);
  int64_t row_bytes = q.dims[1], blocks = (l.n + kColumnBlock - 1) / kColumnBlock;
  const Epilogue epilogue(ctx, 4);
  parallel(ctx, rows * blocks, 1, [&](int64_t b, int64_t e) {
    float acc[kColumnBlock], part[kColumnBlock];
    for (int64_t u = b; u < e; ++u) {
      int64_t m = u / blocks, n0 = (u % blocks) * kColumnBlock, nn = std::min(kColumnBlock, l.n - n0);
      const float *x = a.as<float>() + m * l.k;
      std::fill(acc, acc + nn, 0.0f);
      for (int64_t k0 = 0, g = 0; k0 < l.k; k0 += group, ++g) {
        std::fill(part, part + nn, 0.0f);
        float xsum = 0;
        for (int64_t k = k0; k < std::min(l.k, k0 + group); ++k) {
          const uint8_t *row = q.as<uint8_t>() + k * row_bytes;
          for (int64_t j = 0; j < nn; ++j) part[j] += x[k] * float(code(row, n0 + j, l.bits));
          xsum += x[k];
        }
        for (int64_t j = 0; j < nn; ++j) {
          float z = zp ? float(zp->as<uint8_t>()[g * l.n + n0 + j]) - (l.bits == 4 ? 8.0f : 128.0f) : 0.0f;
          acc[j] += scale_at(s, g * l.n + n0 + j) * (part[j] - z * xsum);
        }
      }
      epilogue.apply(acc, m, n0, nn, l.n, y.as<float>() + m * l.n + n0);
    }
  });
  return SLM_REF_OK;
}

int infer_gather_wq(KernelContext *ctx) {
  if (int rc = require_inputs(ctx, 3)) return rc;
  const Tensor &table = *input(ctx, 0), &idx = *input(ctx, 1);
  int64_t d = ctx->attrs->get_int("d", 0);
  if (table.rank != 2 || idx.rank + 1 > kMaxRank || (idx.dtype != kI64 && idx.dtype != kI32))
    return SLM_INVALID(ctx, "gather_wq: table must be 2-D and indices int32/int64");
  Tensor *y = output(ctx, 0);
  set_shape(y, kF32, idx.rank, idx.dims);
  y->rank = idx.rank + 1;
  y->dims[idx.rank] = d;
  return SLM_REF_OK;
}

int run_gather_wq(KernelContext *ctx) {
  const Tensor &table = *input(ctx, 0), &idx = *input(ctx, 1), &s = *input(ctx, 2);
  Tensor &y = *output(ctx, 0);
  int64_t bits = ctx->attrs->get_int("bits", 8), d = ctx->attrs->get_int("d", 0);
  int64_t group = ctx->attrs->get_int("group_size", 0);
  if (group == 0) group = std::max<int64_t>(d, 1);
  int64_t vocab = table.dims[0], groups = s.dims[1];
  for (int64_t i = 0; i < idx.numel(); ++i) {
    int64_t r = read_int(idx, i);
    if (r < 0) r += vocab;
    if (r < 0 || r >= vocab)
      return SLM_INVALID(ctx, "gather_wq: index %lld is out of range for %lld rows", (long long)read_int(idx, i),
                         (long long)vocab);
    const uint8_t *row = table.as<uint8_t>() + r * table.dims[1];
    float *out = y.as<float>() + i * d;
    for (int64_t c = 0; c < d; ++c) out[c] = scale_at(s, r * groups + c / group) * float(code(row, c, bits));
  }
  return SLM_REF_OK;
}

// ---- slm.quantize_rows / slm.matmul_a8: int8 activations per row (or per row and group), integer dot products ----

struct A8Layout {
  int64_t bits, group, k, kp, n, groups, strips, strip_bytes;
};

bool read_a8_layout(KernelContext *ctx, A8Layout *l) {
  l->bits = ctx->attrs->get_int("bits", 0);
  l->group = ctx->attrs->get_int("group_size", 0);
  l->k = ctx->attrs->get_int("k", 0);
  l->kp = ctx->attrs->get_int("kp", 0);
  l->n = ctx->attrs->get_int("n", 0);
  if (l->group <= 0 || l->group % 8 || l->k <= 0 || l->kp < l->k || l->kp % l->group) return false;
  l->groups = l->kp / l->group;
  l->strips = (l->n + 15) / 16;
  l->strip_bytes = l->bits == 8 ? l->kp * 16 : l->kp * 8;
  return l->bits == 4 || l->bits == 8;
}

int infer_quantize_rows(KernelContext *ctx) {
  if (int rc = require_inputs(ctx, 1)) return rc;
  int64_t k = ctx->attrs->get_int("k", 0), kp = ctx->attrs->get_int("kp", 0), g = ctx->attrs->get_int("group_size", 0);
  if (k <= 0 || kp < k || g <= 0 || kp % g) return SLM_INVALID(ctx, "quantize_rows: bad k/kp/group_size attributes");
  const Tensor &a = *input(ctx, 0);
  if (a.dtype != kF32 || a.rank < 1 || a.dims[a.rank - 1] != k)
    return SLM_INVALID(ctx, "quantize_rows: input must be float32 [..., %lld]", (long long)k);
  const int32_t dtypes[3] = {kI8, kF32, kI32};
  const int64_t last[3] = {kp, ctx->attrs->get_int("group_scales", 0) ? kp / g : 1, kp / g};
  for (int i = 0; i < 3; ++i) {
    Tensor *y = output(ctx, i);
    if (!y) return SLM_INVALID(ctx, "quantize_rows: output %d is missing", i);
    set_shape(y, dtypes[i], a.rank, a.dims);
    y->dims[a.rank - 1] = last[i];
  }
  return SLM_REF_OK;
}

} // namespace

void quantize_row_s8(const float *x, int64_t k, int64_t kp, int64_t group, int8_t *q, float *scale, int32_t *sums) {
  float amax = 0;
  for (int64_t i = 0; i < k; ++i) amax = std::max(amax, std::fabs(x[i]));
  // The multiplier is computed once in float so SIMD versions round exactly the same values.
  float inv = amax > 0 ? 127.0f / amax : 0.0f;
  *scale = amax / 127.0f;
  for (int64_t i = 0; i < kp; ++i) q[i] = i < k ? int8_t(std::nearbyint(x[i] * inv)) : 0;
  for (int64_t g = 0; g < kp / group; ++g) {
    int32_t s = 0;
    for (int64_t i = g * group; i < (g + 1) * group; ++i) s += q[i];
    sums[g] = s;
  }
}

namespace {

int run_quantize_rows(KernelContext *ctx) {
  const Tensor &a = *input(ctx, 0);
  int64_t k = ctx->attrs->get_int("k", 0), kp = ctx->attrs->get_int("kp", 0), g = ctx->attrs->get_int("group_size", 0);
  int64_t rows = a.numel() / k;
  bool group_scales = ctx->attrs->get_int("group_scales", 0) != 0;
  Tensor &q = *output(ctx, 0), &s = *output(ctx, 1), &sums = *output(ctx, 2);
  parallel(ctx, rows, 16, [&](int64_t b, int64_t e) {
    for (int64_t m = b; m < e; ++m) {
      const float *x = a.as<float>() + m * k;
      int8_t *qm = q.as<int8_t>() + m * kp;
      int32_t *sm = sums.as<int32_t>() + m * (kp / g);
      if (group_scales)
        quantize_row_groups_s8(quantize_row_s8, x, k, kp, g, qm, s.as<float>() + m * (kp / g), sm);
      else
        quantize_row_s8(x, k, kp, g, qm, s.as<float>() + m, sm);
    }
  });
  return SLM_REF_OK;
}

// Inputs 0-2 of slm.matmul_a8 / matmul_a8_sparse (quantize_rows' outputs) against the layout: int8
// activations [..., kp], their scales (one per row, or one per row and group: group_scales) and sums.
int check_a8_activations(KernelContext *ctx, const A8Layout &l, const char *op) {
  const Tensor &q = *input(ctx, 0);
  if (q.dtype != kI8 || q.rank < 1 || q.dims[q.rank - 1] != l.kp)
    return SLM_INVALID(ctx, "%s: activations must be int8 [..., %lld]", op, (long long)l.kp);
  int64_t scales = input(ctx, 1)->numel();
  if (input(ctx, 1)->dtype != kF32 || input(ctx, 2)->dtype != kI32 ||
      (scales * l.kp != q.numel() && scales * l.group != q.numel()) || input(ctx, 2)->numel() * l.group != q.numel())
    return SLM_INVALID(ctx, "%s: row scales/sums do not match the activations", op);
  return SLM_REF_OK;
}

int infer_matmul_a8(KernelContext *ctx) {
  if (int rc = require_inputs(ctx, 5)) return rc;
  A8Layout l;
  if (!read_a8_layout(ctx, &l)) return SLM_INVALID(ctx, "matmul_a8: bad bits/group_size/k/kp attributes");
  if (int rc = check_a8_activations(ctx, l, "matmul_a8")) return rc;
  const Tensor &q = *input(ctx, 0), &w = *input(ctx, 3), &s = *input(ctx, 4);
  // The ISA kernels read the strip size from w.dims[1]: the shape, not only the count, must match.
  if (w.rank != 2 || w.dims[0] != l.strips || w.dims[1] != l.strip_bytes || s.dtype != kF16 ||
      s.numel() != l.strips * l.groups * 16)
    return SLM_INVALID(ctx, "matmul_a8: weight must be [%lld strips, %lld bytes] with matching scales",
                       (long long)l.strips, (long long)l.strip_bytes);
  Act act;
  if (!parse_activation(*ctx->attrs, &act)) return SLM_UNSUPPORTED(ctx, "matmul_a8: unknown activation");
  Tensor *y = output(ctx, 0);
  set_shape(y, kF32, q.rank, q.dims);
  y->dims[q.rank - 1] = l.n;
  return check_epilogue_operands(ctx, 5, l.n, *y, "matmul_a8");
}

// Stored (unsigned, offset) weight code of row k, column lane c of a strip.
inline int32_t a8_code(const uint8_t *strip, int64_t k, int64_t c, int64_t bits) {
  if (bits == 8) return strip[(k / 4) * 64 + c * 4 + k % 4];
  uint8_t byte = strip[(k / 8) * 64 + c * 4 + k % 4];
  return k % 8 < 4 ? byte & 15 : byte >> 4;
}

int run_matmul_a8(KernelContext *ctx) {
  A8Layout l;
  read_a8_layout(ctx, &l);
  const Tensor &q = *input(ctx, 0), &as = *input(ctx, 1), &asum = *input(ctx, 2), &w = *input(ctx, 3),
               &s = *input(ctx, 4);
  Tensor &y = *output(ctx, 0);
  int64_t rows = q.numel() / l.kp, offset = l.bits == 8 ? 128 : 8;
  bool group_scales = as.numel() != rows; // [rows, groups] rather than [rows]
  const Epilogue epilogue(ctx, 5);
  parallel(ctx, rows * l.strips, 1, [&](int64_t b, int64_t e) {
    float acc[16];
    for (int64_t u = b; u < e; ++u) {
      int64_t m = u / l.strips, strip = u % l.strips, n0 = strip * 16, nn = std::min<int64_t>(16, l.n - n0);
      const int8_t *x = q.as<int8_t>() + m * l.kp;
      const uint8_t *ws = w.as<uint8_t>() + strip * l.strip_bytes;
      const uint16_t *sc = s.as<uint16_t>() + strip * l.groups * 16;
      for (int64_t c = 0; c < nn; ++c) {
        float total = 0;
        for (int64_t g = 0; g < l.groups; ++g) {
          // In 64 bits: a hostile artifact's group size or sums must not overflow a signed int
          // (the ISA kernels' 32-bit lanes wrap instead; real groups stay far below either limit).
          int64_t dot = 0;
          for (int64_t k = g * l.group; k < (g + 1) * l.group; ++k) dot += a8_code(ws, k, c, l.bits) * int64_t(x[k]);
          dot -= offset * int64_t(asum.as<int32_t>()[m * l.groups + g]);
          float a_scale = group_scales ? as.as<float>()[m * l.groups + g] : 1.0f;
          total += half_to_float(sc[g * 16 + c]) * a_scale * float(dot);
        }
        acc[c] = group_scales ? total : as.as<float>()[m] * total;
      }
      epilogue.apply(acc, m, n0, nn, l.n, y.as<float>() + m * l.n + n0);
    }
  });
  return SLM_REF_OK;
}

// ---- slm.matmul_a8_sparse: matmul_a8 with the masked-sparse weight of sparse_s8.h ----

int infer_matmul_a8_sparse(KernelContext *ctx) {
  if (int rc = require_inputs(ctx, 7)) return rc;
  A8Layout l;
  if (!read_a8_layout(ctx, &l)) return SLM_INVALID(ctx, "matmul_a8_sparse: bad bits/group_size/k/kp attributes");
  if (int rc = check_a8_activations(ctx, l, "matmul_a8_sparse")) return rc;
  const Tensor &q = *input(ctx, 0), &v = *input(ctx, 3), &mk = *input(ctx, 4), &off = *input(ctx, 5),
               &s = *input(ctx, 6);
  if (v.dtype != kU8 || v.rank != 1 || mk.dtype != kU64 || mk.rank != 2 || mk.dims[0] != l.strips ||
      mk.dims[1] != l.kp / 4 || off.dtype != kI64 || off.numel() != l.strips + 1 || s.dtype != kF16 ||
      s.numel() != l.strips * l.groups * 16)
    return SLM_INVALID(ctx, "matmul_a8_sparse: masks must be uint64 [%lld strips, %lld], offsets int64 [%lld], "
                       "values uint8, with matching scales", (long long)l.strips, (long long)(l.kp / 4),
                       (long long)(l.strips + 1));
  Act act;
  if (!parse_activation(*ctx->attrs, &act)) return SLM_UNSUPPORTED(ctx, "matmul_a8_sparse: unknown activation");
  Tensor *y = output(ctx, 0);
  set_shape(y, kF32, q.rank, q.dims);
  y->dims[q.rank - 1] = l.n;
  return check_epilogue_operands(ctx, 7, l.n, *y, "matmul_a8_sparse");
}

// Row m of strip `strip` before the epilogue: the tiles are expanded one code at a time in mask
// order, the unset ones reading as the zero code (= the offset, so they add nothing after the
// offset correction). The loader has checked that the offsets match the masks.
void matmul_a8_sparse_strip(const A8Layout &l, KernelContext *ctx, int64_t m, int64_t strip, float *acc) {
  const Tensor &q = *input(ctx, 0), &as = *input(ctx, 1), &asum = *input(ctx, 2), &s = *input(ctx, 6);
  const int8_t *x = q.as<int8_t>() + m * l.kp;
  const uint8_t *p = input(ctx, 3)->as<uint8_t>() + input(ctx, 5)->as<int64_t>()[strip];
  const uint64_t *masks = input(ctx, 4)->as<uint64_t>() + strip * (l.kp / 4);
  const uint16_t *sc = s.as<uint16_t>() + strip * l.groups * 16;
  const int64_t zero = slm_sparse_s8_zero_code(int(l.bits)), rows = q.numel() / l.kp;
  const bool group_scales = as.numel() != rows;
  float total[16] = {};
  for (int64_t g = 0; g < l.groups; ++g) {
    int64_t dot[16] = {}; // 64 bits, as run_matmul_a8: a hostile group size or sum must not overflow
    for (int64_t i = g * l.group / 4; i < (g + 1) * l.group / 4; ++i)
      for (int b = 0; b < 64; ++b) {
        int64_t u = (masks[i] >> b) & 1 ? *p++ : zero;
        dot[b / 4] += u * x[4 * i + b % 4];
      }
    float a_scale = group_scales ? as.as<float>()[m * l.groups + g] : 1.0f;
    for (int c = 0; c < 16; ++c)
      total[c] += half_to_float(sc[g * 16 + c]) * a_scale * float(dot[c] - zero * int64_t(asum.as<int32_t>()[m * l.groups + g]));
  }
  for (int c = 0; c < 16; ++c) acc[c] = group_scales ? total[c] : as.as<float>()[m] * total[c];
}

int run_matmul_a8_sparse(KernelContext *ctx) {
  A8Layout l;
  read_a8_layout(ctx, &l);
  int64_t rows = input(ctx, 0)->numel() / l.kp;
  float *y = output(ctx, 0)->as<float>();
  const Epilogue epilogue(ctx, 7);
  parallel(ctx, rows * l.strips, 1, [&](int64_t b, int64_t e) {
    float acc[16];
    for (int64_t u = b; u < e; ++u) {
      int64_t m = u / l.strips, strip = u % l.strips, n0 = strip * 16;
      matmul_a8_sparse_strip(l, ctx, m, strip, acc);
      epilogue.apply(acc, m, n0, std::min<int64_t>(16, l.n - n0), l.n, y + m * l.n + n0);
    }
  });
  return SLM_REF_OK;
}

// ---- slm.matmul_hw: float16 / bfloat16 weights widened to float32 ----

int infer_matmul_hw(KernelContext *ctx) {
  if (int rc = require_inputs(ctx, 2)) return rc;
  int64_t k = ctx->attrs->get_int("k", 0), n = ctx->attrs->get_int("n", 0);
  const Tensor &a = *input(ctx, 0), &w = *input(ctx, 1);
  if (a.dtype != kF32 || a.rank < 1 || a.dims[a.rank - 1] != k)
    return SLM_INVALID(ctx, "matmul_hw: input must be float32 [..., %lld]", (long long)k);
  if ((w.dtype != kF16 && w.dtype != kBF16) || w.numel() != k * n)
    return SLM_INVALID(ctx, "matmul_hw: weight must be float16/bfloat16 [%lld, %lld]", (long long)k, (long long)n);
  Act act;
  if (!parse_activation(*ctx->attrs, &act)) return SLM_UNSUPPORTED(ctx, "matmul_hw: unknown activation");
  Tensor *y = output(ctx, 0);
  set_shape(y, kF32, a.rank, a.dims);
  y->dims[a.rank - 1] = n;
  return check_epilogue_operands(ctx, 2, n, *y, "matmul_hw");
}

int run_matmul_hw(KernelContext *ctx) {
  const Tensor &a = *input(ctx, 0), &w = *input(ctx, 1);
  Tensor &y = *output(ctx, 0);
  int64_t k = ctx->attrs->get_int("k", 0), n = ctx->attrs->get_int("n", 0);
  int64_t rows = a.numel() / k, blocks = (n + kColumnBlock - 1) / kColumnBlock;
  bool bf16 = w.dtype == kBF16;
  const uint16_t *wd = w.as<uint16_t>();
  const Epilogue epilogue(ctx, 2);
  parallel(ctx, rows * blocks, 1, [&](int64_t b, int64_t e) {
    float acc[kColumnBlock];
    for (int64_t u = b; u < e; ++u) {
      int64_t m = u / blocks, n0 = (u % blocks) * kColumnBlock, nn = std::min(kColumnBlock, n - n0);
      const float *x = a.as<float>() + m * k;
      std::fill(acc, acc + nn, 0.0f);
      for (int64_t kk = 0; kk < k; ++kk) {
        const uint16_t *row = wd + kk * n + n0;
        for (int64_t j = 0; j < nn; ++j) acc[j] += x[kk] * (bf16 ? bf16_to_float(row[j]) : half_to_float(row[j]));
      }
      epilogue.apply(acc, m, n0, nn, n, y.as<float>() + m * n + n0);
    }
  });
  return SLM_REF_OK;
}

} // namespace

const OpKernel kQuantKernels[] = {
    {"slm.gather_wq", infer_gather_wq, run_gather_wq, 0},
    {"slm.matmul_a8", infer_matmul_a8, run_matmul_a8, 0},
    {"slm.matmul_a8_sparse", infer_matmul_a8_sparse, run_matmul_a8_sparse, 0},
    {"slm.matmul_hw", infer_matmul_hw, run_matmul_hw, 0},
    {"slm.matmul_wq", infer_matmul_wq, run_matmul_wq, 0},
    {"slm.quantize_rows", infer_quantize_rows, run_quantize_rows, 0},
};
const size_t kQuantKernels_count = sizeof(kQuantKernels) / sizeof(kQuantKernels[0]);

} // namespace slm
