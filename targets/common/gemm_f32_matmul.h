// MatMul on an fp32 GEMM microkernel: the ISA-independent part of every target's MatMul override.
#pragma once

#include "gemm_f32_ukernel.h"
#include "ref_kernel.h"

namespace slm {

// Runs ctx's MatMul with microkernel `fn`, splitting batches × column blocks over
// ctx->parallel_for. Covers fp32 A [..., M, K] × B [K, N] (any leading dims on A) and equal batch
// dims on both sides; returns false without touching the output for anything else, so the caller
// falls back to the reference kernel. The output shape must already be inferred.
bool matmul_f32_on_ukernel(KernelContext *ctx, slm_gemm_f32_fn fn);

// An OpKernel run function: MatMul on `Fn` where it fits, else the reference MatMul.
template <slm_gemm_f32_fn Fn> int run_matmul_f32_or_ref(KernelContext *ctx) {
  if (matmul_f32_on_ukernel(ctx, Fn))
    return SLM_REF_OK;
  return find_ref_kernel("MatMul")->run(ctx);
}

// The reference MatMul's shape inference, shared by every override.
int infer_matmul_ref(KernelContext *ctx);

// Runs slm.fused_matmul with microkernel `fn` and the op's epilogue (bias, activation, mul,
// residual; epilogue.h) on each column block right after the block is computed, while it is in
// cache. Covers an untransposed fp32 [K, N] weight; returns false without touching the output
// otherwise. Columns are split over ctx->parallel_for, so decode's single row uses every core.
// A transposed weight (trans_b) runs on `nt_fn` when given, else on a portable dot-product loop.
// `act_fn` (optional) vectorizes the epilogue's activation.
bool fused_matmul_f32_on_ukernel(KernelContext *ctx, slm_gemm_f32_fn fn, slm_gemm_f32_nt_fn nt_fn = nullptr,
                                 slm_act_f32_fn act_fn = nullptr);

// An OpKernel run function: slm.fused_matmul on `Fn` (and `NtFn` for trans_b, `ActFn` for the
// activation) where it fits, else the reference kernel.
template <slm_gemm_f32_fn Fn, slm_gemm_f32_nt_fn NtFn = nullptr, slm_act_f32_fn ActFn = nullptr>
int run_fused_matmul_f32_or_ref(KernelContext *ctx) {
  if (fused_matmul_f32_on_ukernel(ctx, Fn, NtFn, ActFn))
    return SLM_REF_OK;
  return find_ref_kernel("slm.fused_matmul")->run(ctx);
}

// The reference slm.fused_matmul's shape inference.
int infer_fused_matmul_ref(KernelContext *ctx);

} // namespace slm
