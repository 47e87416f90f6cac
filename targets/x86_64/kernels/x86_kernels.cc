// x86-64 kernel provider: MatMul/Gemm overrides on the AVX2/AVX-512 fp32 GEMM microkernels, int8-activation matmuls on VNNI/AVX2.
#include "x86_kernels.h"

#include "epilogue.h"
#include "kernel_util.h"
#include "gemm_f32.h"
#include "gemm_f32_matmul.h"
#include "attention_f32.h"
#include "matmul_wq.h"
#include "gemm_s8.h"
#include "gemm_s8_matmul.h"
#include "sp24_f32.h"
#include "sparse_f32.h"

#include <cstdlib>
#include <cstring>

namespace slm {
namespace {

struct WqJob {
  Epilogue epilogue;
  slm_matmul_wq_args_t args;
  int64_t blocks; // 64-column blocks
};

// Work unit u: column block u over all rows, then the epilogue on that block.
void run_wq_units(void *arg, int64_t begin, int64_t end) {
  const WqJob *j = static_cast<const WqJob *>(arg);
  for (int64_t u = begin; u < end; ++u) {
    slm_matmul_wq_args_t a = j->args;
    a.n_begin = u * 64;
    a.n_end = a.n_begin + 64 < a.N ? a.n_begin + 64 : a.N;
    slm_matmul_wq__avx512f(&a);
    for (int64_t m = 0; m < a.M; ++m) {
      float *row = a.C + m * a.ldc + a.n_begin;
      j->epilogue.apply(row, m, a.n_begin, a.n_end - a.n_begin, a.N, row);
    }
  }
}

// slm.matmul_wq on the AVX-512 microkernel (float16 scales); anything else → the reference kernel.
int run_matmul_wq_avx512(KernelContext *ctx) {
  const Tensor &a = *ctx->inputs[0], &w = *ctx->inputs[1], &s = *ctx->inputs[2];
  const Tensor *zp = ctx->num_inputs > 3 ? ctx->inputs[3] : nullptr;
  Tensor &y = *ctx->outputs[0];
  int64_t k = ctx->attrs->get_int("k", 0), n = ctx->attrs->get_int("n", 0), group = ctx->attrs->get_int("group_size", 0);
  if (s.dtype != kF16 || k <= 0 || n <= 0) return find_ref_kernel("slm.matmul_wq")->run(ctx);
  WqJob job{Epilogue(ctx, 4), {}, (n + 63) / 64};
  job.args.M = a.numel() / k;
  job.args.K = k;
  job.args.N = n;
  job.args.A = a.as<float>();
  job.args.lda = k;
  job.args.W = w.as<uint8_t>();
  job.args.ldw = w.dims[1];
  job.args.scales = s.as<uint16_t>();
  job.args.zeros = zp ? zp->as<uint8_t>() : nullptr;
  job.args.bits = int(ctx->attrs->get_int("bits", 4));
  job.args.group = group > 0 ? group : k;
  job.args.C = y.as<float>();
  job.args.ldc = n;
  parallel(ctx, job.blocks, 1, [&](int64_t b, int64_t e) { run_wq_units(&job, b, e); });
  return SLM_REF_OK;
}

int infer_matmul_wq_ref(KernelContext *ctx) { return find_ref_kernel("slm.matmul_wq")->infer(ctx); }

// slm.matmul_hw (float16/bfloat16 weights) on the AVX-512 microkernel: 64-column units, then the epilogue.
int run_matmul_hw_avx512(KernelContext *ctx) {
  const Tensor &a = *ctx->inputs[0], &w = *ctx->inputs[1];
  int64_t k = ctx->attrs->get_int("k", 0), n = ctx->attrs->get_int("n", 0);
  slm_matmul_hw_args_t args{a.numel() / k, k, n, a.as<float>(), k, w.as<uint16_t>(), n, w.dtype == kBF16,
                            ctx->outputs[0]->as<float>(), n, 0, 0};
  const Epilogue epilogue(ctx, 2);
  parallel(ctx, (n + 63) / 64, 1, [&](int64_t b, int64_t e) {
    slm_matmul_hw_args_t u = args;
    u.n_begin = b * 64;
    u.n_end = e * 64 < n ? e * 64 : n;
    slm_matmul_wq_f16__avx512f(&u);
    for (int64_t m = 0; m < u.M; ++m)
      epilogue.apply(u.C + m * n + u.n_begin, m, u.n_begin, u.n_end - u.n_begin, n, u.C + m * n + u.n_begin);
  });
  return SLM_REF_OK;
}

int infer_matmul_hw_ref(KernelContext *ctx) { return find_ref_kernel("slm.matmul_hw")->infer(ctx); }

// A sparse fp32 matmul's AVX-512 microkernel over 64-column panels split across threads, each
// thread applying the epilogue (inputs from `epilogue_first` on) to its panels.
template <typename Args, void (*Kernel)(const Args *)>
int run_sparse_panels(KernelContext *ctx, const Args &args, int epilogue_first) {
  int64_t n = args.N;
  const Epilogue epilogue(ctx, epilogue_first);
  parallel(ctx, (n + 63) / 64, 1, [&](int64_t b, int64_t e) {
    Args u = args;
    u.panel_begin = b;
    u.panel_end = e;
    Kernel(&u);
    int64_t n0 = b * 64, n1 = e * 64 < n ? e * 64 : n;
    for (int64_t m = 0; m < u.M; ++m) epilogue.apply(u.C + m * n + n0, m, n0, n1 - n0, n, u.C + m * n + n0);
  });
  return SLM_REF_OK;
}

// slm.matmul_sp24 (2:4 sparse fp32).
int run_matmul_sp24_avx512(KernelContext *ctx) {
  const Tensor &a = *ctx->inputs[0];
  int64_t k = ctx->attrs->get_int("k", 0), n = ctx->attrs->get_int("n", 0);
  slm_sp24_f32_args_t args{a.numel() / k, k, (k + 15) / 16 * 16, n, a.as<float>(), k, ctx->inputs[1]->as<float>(),
                           ctx->inputs[2]->as<uint8_t>(), ctx->outputs[0]->as<float>(), n, 0, 0};
  return run_sparse_panels<slm_sp24_f32_args_t, slm_sp24_f32__avx512f>(ctx, args, 3);
}
int infer_matmul_sp24_ref(KernelContext *ctx) { return find_ref_kernel("slm.matmul_sp24")->infer(ctx); }

// slm.matmul_sparse (unstructured sparse fp32, masked).
int run_matmul_sparse_avx512(KernelContext *ctx) {
  const Tensor &a = *ctx->inputs[0];
  int64_t k = ctx->attrs->get_int("k", 0), n = ctx->attrs->get_int("n", 0);
  slm_sparse_f32_args_t args{a.numel() / k, k, n, a.as<float>(), k, ctx->inputs[1]->as<float>(),
                             ctx->inputs[2]->as<uint16_t>(), ctx->inputs[3]->as<int64_t>(), ctx->outputs[0]->as<float>(),
                             n, 0, 0};
  return run_sparse_panels<slm_sparse_f32_args_t, slm_sparse_f32__avx512f>(ctx, args, 4);
}
int infer_matmul_sparse_ref(KernelContext *ctx) { return find_ref_kernel("slm.matmul_sparse")->infer(ctx); }

const OpKernel kAvx2Kernels[] = {
    {"MatMul", infer_matmul_ref, run_matmul_f32_or_ref<slm_gemm_f32__avx2_fma>, 0},
    {"slm.fused_matmul", infer_fused_matmul_ref, run_fused_matmul_f32_or_ref<slm_gemm_f32__avx2_fma>, 0},
    {"slm.matmul_a8", infer_matmul_a8_ref, run_matmul_a8_on<slm_gemm_s8__avx2>, 0},
    {"slm.quantize_rows", infer_quantize_rows_ref, run_quantize_rows_on<slm_quantize_row_s8__avx2>, 0}};
const OpKernel kAvx512Kernels[] = {{"MatMul", infer_matmul_ref, run_matmul_f32_or_ref<slm_gemm_f32__avx512f>, 0},
                                   {"slm.attention", infer_attention_ref, run_attention_on<slm_attention_row_f32__avx512f>, 0},
                                   {"slm.fused_matmul", infer_fused_matmul_ref, run_fused_matmul_f32_or_ref<slm_gemm_f32__avx512f, slm_gemm_f32_nt__avx512f, slm_act_f32__avx512f>, 0},
                                   {"slm.matmul_wq", infer_matmul_wq_ref, run_matmul_wq_avx512, 0},
                                   {"slm.matmul_a8", infer_matmul_a8_ref, run_matmul_a8_on<slm_gemm_s8__avx2>, 0},
                                   {"slm.matmul_hw", infer_matmul_hw_ref, run_matmul_hw_avx512, 0},
                                   {"slm.matmul_sp24", infer_matmul_sp24_ref, run_matmul_sp24_avx512, 0},
                                   {"slm.matmul_sparse", infer_matmul_sparse_ref, run_matmul_sparse_avx512, 0},
                                   {"slm.quantize_rows", infer_quantize_rows_ref, run_quantize_rows_on<slm_quantize_row_s8__avx512>, 0}};
const OpKernel kAvx512VnniKernels[] = {
    {"MatMul", infer_matmul_ref, run_matmul_f32_or_ref<slm_gemm_f32__avx512f>, 0},
    {"slm.attention", infer_attention_ref, run_attention_on<slm_attention_row_f32__avx512f>, 0},
    {"slm.fused_matmul", infer_fused_matmul_ref, run_fused_matmul_f32_or_ref<slm_gemm_f32__avx512f, slm_gemm_f32_nt__avx512f, slm_act_f32__avx512f>, 0},
    {"slm.matmul_wq", infer_matmul_wq_ref, run_matmul_wq_avx512, 0},
    {"slm.matmul_a8", infer_matmul_a8_ref, run_matmul_a8_on<slm_gemm_s8__avx512vnni>, 0},
    {"slm.matmul_hw", infer_matmul_hw_ref, run_matmul_hw_avx512, 0},
    {"slm.matmul_sp24", infer_matmul_sp24_ref, run_matmul_sp24_avx512, 0},
    {"slm.matmul_sparse", infer_matmul_sparse_ref, run_matmul_sparse_avx512, 0},
    {"slm.quantize_rows", infer_quantize_rows_ref, run_quantize_rows_on<slm_quantize_row_s8__avx512>, 0}};
// The VNNI table plus slm.matmul_a8_sparse (vpexpandb); sorted by op name like the others.
const OpKernel kAvx512Vbmi2Kernels[] = {
    {"MatMul", infer_matmul_ref, run_matmul_f32_or_ref<slm_gemm_f32__avx512f>, 0},
    {"slm.attention", infer_attention_ref, run_attention_on<slm_attention_row_f32__avx512f>, 0},
    {"slm.fused_matmul", infer_fused_matmul_ref, run_fused_matmul_f32_or_ref<slm_gemm_f32__avx512f, slm_gemm_f32_nt__avx512f, slm_act_f32__avx512f>, 0},
    {"slm.matmul_wq", infer_matmul_wq_ref, run_matmul_wq_avx512, 0},
    {"slm.matmul_a8", infer_matmul_a8_ref, run_matmul_a8_on<slm_gemm_s8__avx512vnni>, 0},
    {"slm.matmul_a8_sparse", infer_matmul_a8_sparse_ref, run_matmul_a8_sparse_on<slm_gemm_s8_sparse__avx512vbmi2>, 0},
    {"slm.matmul_hw", infer_matmul_hw_ref, run_matmul_hw_avx512, 0},
    {"slm.matmul_sp24", infer_matmul_sp24_ref, run_matmul_sp24_avx512, 0},
    {"slm.matmul_sparse", infer_matmul_sparse_ref, run_matmul_sparse_avx512, 0},
    {"slm.quantize_rows", infer_quantize_rows_ref, run_quantize_rows_on<slm_quantize_row_s8__avx512>, 0}};

} // namespace

const char *x86_level_name(int level) {
  return level >= kX86Avx512Vbmi2 ? "avx512vbmi2" : level >= kX86Avx512Vnni ? "avx512vnni" : level >= kX86Avx512 ? "avx512" : level >= kX86Avx2 ? "avx2" : "ref";
}

int x86_cpu_level() {
  __builtin_cpu_init();
  int level = kX86Ref;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) level = kX86Avx2;
  // The AVX-512 kernels use byte/word masks (BW, VL) too; every such CPU has F16C.
  if (level == kX86Avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl"))
    level = kX86Avx512;
  if (level == kX86Avx512 && __builtin_cpu_supports("avx512vnni")) level = kX86Avx512Vnni;
  if (level == kX86Avx512Vnni && __builtin_cpu_supports("avx512vbmi2")) level = kX86Avx512Vbmi2;
  if (const char *env = std::getenv("SLM_X86_LEVEL")) {
    int cap = !std::strcmp(env, "ref")      ? kX86Ref
              : !std::strcmp(env, "avx2")   ? kX86Avx2
              : !std::strcmp(env, "avx512") ? kX86Avx512
              : !std::strcmp(env, "avx512vnni") ? kX86Avx512Vnni
                                            : kX86Avx512Vbmi2;
    if (cap < level) level = cap;
  }
  return level;
}

const OpKernel *find_x86_kernel(const char *key, int level) {
  const OpKernel *table = level >= kX86Avx512Vbmi2 ? kAvx512Vbmi2Kernels
                          : level >= kX86Avx512Vnni ? kAvx512VnniKernels
                          : level >= kX86Avx512    ? kAvx512Kernels
                          : level >= kX86Avx2      ? kAvx2Kernels
                                                   : nullptr;
  size_t n = level >= kX86Avx512Vbmi2 ? sizeof kAvx512Vbmi2Kernels / sizeof *kAvx512Vbmi2Kernels
             : level >= kX86Avx512Vnni ? sizeof kAvx512VnniKernels / sizeof *kAvx512VnniKernels
             : level >= kX86Avx512 ? sizeof kAvx512Kernels / sizeof *kAvx512Kernels
             : level >= kX86Avx2 ? sizeof kAvx2Kernels / sizeof *kAvx2Kernels
                                 : 0;
  for (size_t i = 0; i < n; ++i)
    if (!std::strcmp(table[i].op, key)) return &table[i];
  return nullptr;
}

} // namespace slm
