// Reference kernels of slm's sparse matmuls: slm.matmul_sp24, 2:4 semi-structured fp32 weights
// (targets/common/sp24_f32.h), and slm.matmul_sparse, unstructured fp32 weights stored masked
// (targets/common/sparse_f32.h).
#include "epilogue.h"
#include "kernel_util.h"
#include "sp24_f32.h"
#include "sparse_f32.h"

#include <algorithm>

namespace slm {
namespace {

struct Sp24Layout {
  int64_t k, n, kp, groups, panels;
};

bool read_sp24_layout(KernelContext *ctx, Sp24Layout *l) {
  l->k = ctx->attrs->get_int("k", 0);
  l->n = ctx->attrs->get_int("n", 0);
  if (l->k <= 0 || l->n <= 0 || l->k > (int64_t(1) << 40) || l->n > (int64_t(1) << 40)) return false;
  l->kp = (l->k + 15) / 16 * 16;
  l->groups = l->kp / 4;
  l->panels = (l->n + 63) / 64;
  return true;
}

int infer_matmul_sp24(KernelContext *ctx) {
  if (int rc = require_inputs(ctx, 3)) return rc;
  Sp24Layout l;
  if (!read_sp24_layout(ctx, &l)) return SLM_INVALID(ctx, "matmul_sp24: bad k/n attributes");
  const Tensor &a = *input(ctx, 0), &v = *input(ctx, 1), &ix = *input(ctx, 2);
  if (a.dtype != kF32 || a.rank < 1 || a.dims[a.rank - 1] != l.k)
    return SLM_INVALID(ctx, "matmul_sp24: input must be float32 [..., %lld]", (long long)l.k);
  // The ISA kernels index panels by these exact shapes.
  if (v.dtype != kF32 || v.rank != 2 || v.dims[0] != l.panels || v.dims[1] != l.groups * 128)
    return SLM_INVALID(ctx, "matmul_sp24: values must be float32 [%lld panels, %lld]", (long long)l.panels,
                       (long long)(l.groups * 128));
  if (ix.dtype != kU8 || ix.rank != 2 || ix.dims[0] != l.panels || ix.dims[1] != l.groups * 64)
    return SLM_INVALID(ctx, "matmul_sp24: indices must be uint8 [%lld panels, %lld]", (long long)l.panels,
                       (long long)(l.groups * 64));
  Act act;
  if (!parse_activation(*ctx->attrs, &act)) return SLM_UNSUPPORTED(ctx, "matmul_sp24: unknown activation");
  Tensor *y = output(ctx, 0);
  set_shape(y, kF32, a.rank, a.dims);
  y->dims[a.rank - 1] = l.n;
  return check_epilogue_operands(ctx, 3, l.n, *y, "matmul_sp24");
}

int run_matmul_sp24(KernelContext *ctx) {
  Sp24Layout l;
  read_sp24_layout(ctx, &l);
  const Tensor &a = *input(ctx, 0), &v = *input(ctx, 1), &ix = *input(ctx, 2);
  Tensor &y = *output(ctx, 0);
  int64_t rows = a.numel() / l.k;
  const Epilogue epilogue(ctx, 3);
  parallel(ctx, rows * l.panels, 1, [&](int64_t b, int64_t e) {
    float acc[64];
    for (int64_t u = b; u < e; ++u) {
      int64_t m = u / l.panels, p = u % l.panels, n0 = p * 64, nn = std::min<int64_t>(64, l.n - n0);
      const float *x = a.as<float>() + m * l.k;
      const float *vals = v.as<float>() + p * l.groups * 128;
      const uint8_t *idx = ix.as<uint8_t>() + p * l.groups * 64;
      for (int64_t c = 0; c < nn; ++c) {
        float s = 0;
        for (int64_t g = 0; g < l.groups; ++g) {
          uint8_t byte = idx[g * 64 + c];
          int64_t k0 = 4 * g + (byte & 3), k1 = 4 * g + ((byte >> 4) & 3);
          if (k0 < l.k) s += vals[g * 128 + c] * x[k0];
          if (k1 < l.k) s += vals[g * 128 + 64 + c] * x[k1];
        }
        acc[c] = s;
      }
      epilogue.apply(acc, m, n0, nn, l.n, y.as<float>() + m * l.n + n0);
    }
  });
  return SLM_REF_OK;
}

int infer_matmul_sparse(KernelContext *ctx) {
  if (int rc = require_inputs(ctx, 4)) return rc;
  int64_t k = ctx->attrs->get_int("k", 0), n = ctx->attrs->get_int("n", 0);
  if (k <= 0 || n <= 0 || k > (int64_t(1) << 40) || n > (int64_t(1) << 40))
    return SLM_INVALID(ctx, "matmul_sparse: bad k/n attributes");
  int64_t panels = (n + 63) / 64;
  const Tensor &a = *input(ctx, 0), &v = *input(ctx, 1), &m = *input(ctx, 2), &o = *input(ctx, 3);
  if (a.dtype != kF32 || a.rank < 1 || a.dims[a.rank - 1] != k)
    return SLM_INVALID(ctx, "matmul_sparse: input must be float32 [..., %lld]", (long long)k);
  if (v.dtype != kF32 || v.rank != 1) return SLM_INVALID(ctx, "matmul_sparse: values must be a float32 vector");
  if (m.dtype != kU16 || m.rank != 2 || m.dims[0] != panels || m.dims[1] != k * 4)
    return SLM_INVALID(ctx, "matmul_sparse: masks must be uint16 [%lld panels, %lld]", (long long)panels,
                       (long long)(k * 4));
  if (o.dtype != kI64 || o.rank != 1 || o.dims[0] != panels + 1)
    return SLM_INVALID(ctx, "matmul_sparse: offsets must be int64 [%lld]", (long long)(panels + 1));
  Act act;
  if (!parse_activation(*ctx->attrs, &act)) return SLM_UNSUPPORTED(ctx, "matmul_sparse: unknown activation");
  Tensor *y = output(ctx, 0);
  set_shape(y, kF32, a.rank, a.dims);
  y->dims[a.rank - 1] = n;
  return check_epilogue_operands(ctx, 4, n, *y, "matmul_sparse");
}

// Trusts offsets against the masks: the loader checked them (slm_masked_layout_bad_unit).
int run_matmul_sparse(KernelContext *ctx) {
  int64_t k = ctx->attrs->get_int("k", 0), n = ctx->attrs->get_int("n", 0), panels = (n + 63) / 64;
  const Tensor &a = *input(ctx, 0);
  const float *values = input(ctx, 1)->as<float>();
  const uint16_t *masks = input(ctx, 2)->as<uint16_t>();
  const int64_t *offsets = input(ctx, 3)->as<int64_t>();
  Tensor &y = *output(ctx, 0);
  int64_t rows = a.numel() / k;
  const Epilogue epilogue(ctx, 4);
  parallel(ctx, rows * panels, 1, [&](int64_t b, int64_t e) {
    float acc[64];
    for (int64_t u = b; u < e; ++u) {
      int64_t m = u / panels, p = u % panels, n0 = p * 64, nn = std::min<int64_t>(64, n - n0);
      const float *x = a.as<float>() + m * k, *v = values + offsets[p];
      const uint16_t *mk = masks + p * k * 4;
      std::fill(acc, acc + 64, 0.0f);
      for (int64_t r = 0; r < k; ++r)
        for (int b16 = 0; b16 < 4; ++b16)
          for (uint32_t bits = mk[r * 4 + b16]; bits; bits &= bits - 1) acc[b16 * 16 + __builtin_ctz(bits)] += *v++ * x[r];
      epilogue.apply(acc, m, n0, nn, n, y.as<float>() + m * n + n0);
    }
  });
  return SLM_REF_OK;
}

} // namespace

const OpKernel kSparseKernels[] = {
    {"slm.matmul_sp24", infer_matmul_sp24, run_matmul_sp24, 0},
    {"slm.matmul_sparse", infer_matmul_sparse, run_matmul_sparse, 0},
};
const size_t kSparseKernels_count = sizeof(kSparseKernels) / sizeof(kSparseKernels[0]);

} // namespace slm
