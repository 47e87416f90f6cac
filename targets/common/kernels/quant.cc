// Reference kernels of slm's weight-quantized ops: matmul_wq (int8/int4 weights, group scales) and gather_wq.
#include "epilogue.h"
#include "kernel_util.h"

#include <algorithm>

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
  const Tensor *bias = input(ctx, 4);
  if (bias && bias->numel() != l.n) return SLM_INVALID(ctx, "matmul_wq: bias must have %lld elements", (long long)l.n);
  for (int i = 5; i <= 6; ++i)
    if (const Tensor *t = input(ctx, i); t && t->numel() != y->numel())
      return SLM_INVALID(ctx, "matmul_wq: %s must have the output's shape", i == 5 ? "mul" : "residual");
  return SLM_REF_OK;
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

} // namespace

const OpKernel kQuantKernels[] = {
    {"slm.gather_wq", infer_gather_wq, run_gather_wq, 0},
    {"slm.matmul_wq", infer_matmul_wq, run_matmul_wq, 0},
};
const size_t kQuantKernels_count = sizeof(kQuantKernels) / sizeof(kQuantKernels[0]);

} // namespace slm
