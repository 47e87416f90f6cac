// slm.quantize_rows / slm.matmul_a8 / slm.matmul_a8_sparse on an ISA microkernel: the ISA-independent runner every target's override shares.
#pragma once

#include "epilogue.h"
#include "gemm_s8_args.h"
#include "kernel_util.h"
#include "quant_a8.h"
#include "ref_kernel.h"
#include "sparse_s8.h"

namespace slm {

// One row, with quantize_row_s8's contract (same bytes, scale and sums as the reference).
using QuantizeRowS8Fn = void (*)(const float *x, int64_t k, int64_t kp, int64_t group, int8_t *q, float *scale,
                                 int32_t *sums);
// Columns of strips [args->strip_begin, args->strip_end), as gemm_s8_args.h describes.
using GemmS8Fn = void (*)(const slm_gemm_s8_args_t *args);

// An OpKernel run function for slm.quantize_rows: rows split over ctx->parallel_for, each quantized by `Fn` (per
// row, or per row and group with `group_scales`). Shapes must already be inferred.
template <QuantizeRowS8Fn Fn> int run_quantize_rows_on(KernelContext *ctx) {
  const Tensor &a = *ctx->inputs[0];
  int64_t k = ctx->attrs->get_int("k", 0), kp = ctx->attrs->get_int("kp", 0), g = ctx->attrs->get_int("group_size", 0);
  bool group_scales = ctx->attrs->get_int("group_scales", 0) != 0;
  Tensor &q = *ctx->outputs[0], &s = *ctx->outputs[1], &sums = *ctx->outputs[2];
  parallel(ctx, a.numel() / k, 16, [&](int64_t b, int64_t e) {
    for (int64_t m = b; m < e; ++m) {
      const float *x = a.as<float>() + m * k;
      int8_t *qm = q.as<int8_t>() + m * kp;
      int32_t *sm = sums.as<int32_t>() + m * (kp / g);
      if (group_scales)
        quantize_row_groups_s8(Fn, x, k, kp, g, qm, s.as<float>() + m * (kp / g), sm);
      else
        Fn(x, k, kp, g, qm, s.as<float>() + m, sm);
    }
  });
  return SLM_REF_OK;
}

// The args of a matmul_a8-like op (q, a_scale, a_sums at inputs 0..2, float16 scales at input `scales_input`), without
// the weight and the strip range.
inline slm_gemm_s8_args_t matmul_a8_args(KernelContext *ctx, int scales_input) {
  const Tensor &q = *ctx->inputs[0];
  int64_t kp = ctx->attrs->get_int("kp", 0), n = ctx->attrs->get_int("n", 0), group = ctx->attrs->get_int("group_size", 0);
  slm_gemm_s8_args_t args{};
  args.M = q.numel() / kp;
  args.kp = kp;
  args.group = group;
  args.groups = kp / group;
  args.A = q.as<int8_t>();
  args.lda = kp;
  args.a_scale = ctx->inputs[1]->as<float>();
  args.a_group_scales = ctx->inputs[1]->numel() != args.M;
  args.a_sums = ctx->inputs[2]->as<int32_t>();
  args.scales = ctx->inputs[scales_input]->as<uint16_t>();
  args.bits = int(ctx->attrs->get_int("bits", 8));
  args.C = ctx->outputs[0]->as<float>();
  args.ldc = n;
  args.N = n;
  return args;
}

// Work unit: 4 strips of 16 columns when M = 1 (decode: enough columns per call to hide dot-product latency), else 2,
// over all rows; `gemm(args)` on the unit's strips, then the op's epilogue (bias at input `epilogue_input`) on those
// columns while they are in cache.
template <class GemmUnit>
void run_matmul_a8_units(KernelContext *ctx, const slm_gemm_s8_args_t &args, int epilogue_input, GemmUnit gemm) {
  const int64_t n = args.N;
  const Epilogue epilogue(ctx, epilogue_input);
  int64_t strips = (n + 15) / 16, per_unit = args.M == 1 ? 4 : 2, units = (strips + per_unit - 1) / per_unit;
  parallel(ctx, units, 1, [&](int64_t b, int64_t e) {
    slm_gemm_s8_args_t a = args;
    a.strip_begin = b * per_unit;
    a.strip_end = e * per_unit < strips ? e * per_unit : strips;
    gemm(a);
    int64_t n0 = a.strip_begin * 16, n1 = a.strip_end * 16 < n ? a.strip_end * 16 : n;
    for (int64_t m = 0; m < a.M; ++m) epilogue.apply(a.C + m * n + n0, m, n0, n1 - n0, n, a.C + m * n + n0);
  });
}

// An OpKernel run function for slm.matmul_a8 on microkernel `Gemm`. Shapes must already be inferred
// (infer_matmul_a8_ref checks the layout).
template <GemmS8Fn Gemm> int run_matmul_a8_on(KernelContext *ctx) {
  slm_gemm_s8_args_t args = matmul_a8_args(ctx, 4);
  args.W = ctx->inputs[3]->as<uint8_t>();
  args.strip_bytes = ctx->inputs[3]->dims[1];
  run_matmul_a8_units(ctx, args, 5, [](const slm_gemm_s8_args_t &a) { Gemm(&a); });
  return SLM_REF_OK;
}

// Columns of strips [args->gemm.strip_begin, args->gemm.strip_end), as sparse_s8.h describes.
using SparseS8Fn = void (*)(const slm_sparse_s8_args_t *args);

// An OpKernel run function for slm.matmul_a8_sparse on microkernel `Gemm`: the work units of matmul_a8. Shapes
// must already be inferred (infer_matmul_a8_sparse_ref) and the offsets checked against the masks (the loader).
template <SparseS8Fn Gemm> int run_matmul_a8_sparse_on(KernelContext *ctx) {
  slm_sparse_s8_args_t sp{};
  sp.values = ctx->inputs[3]->as<uint8_t>();
  sp.masks = ctx->inputs[4]->as<uint64_t>();
  sp.offsets = ctx->inputs[5]->as<int64_t>();
  run_matmul_a8_units(ctx, matmul_a8_args(ctx, 6), 7, [&sp](const slm_gemm_s8_args_t &a) {
    slm_sparse_s8_args_t u = sp;
    u.gemm = a;
    Gemm(&u);
  });
  return SLM_REF_OK;
}

// The reference kernels' shape inference (and layout checks), shared by every override.
inline int infer_matmul_a8_ref(KernelContext *ctx) { return find_ref_kernel("slm.matmul_a8")->infer(ctx); }
inline int infer_matmul_a8_sparse_ref(KernelContext *ctx) { return find_ref_kernel("slm.matmul_a8_sparse")->infer(ctx); }
inline int infer_quantize_rows_ref(KernelContext *ctx) { return find_ref_kernel("slm.quantize_rows")->infer(ctx); }

} // namespace slm
