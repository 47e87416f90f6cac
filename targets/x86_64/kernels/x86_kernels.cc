// x86-64 kernel provider: MatMul/Gemm overrides on the AVX2/AVX-512 fp32 GEMM microkernels.
#include "x86_kernels.h"

#include "gemm_f32.h"
#include "kernel_util.h"

#include <cstdlib>
#include <cstring>

namespace slm {
namespace {

constexpr int64_t kColumnBlock = 64; // columns per parallel work unit

slm_gemm_f32_fn gemm_for(int level) {
  return level >= kX86Avx512 ? slm_gemm_f32__avx512f : slm_gemm_f32__avx2_fma;
}

struct GemmJob {
  slm_gemm_f32_fn fn;
  slm_gemm_f32_args_t args; // n_begin/n_end set per chunk
  int64_t batches;
  int64_t a_stride, b_stride, c_stride; // per batch, in floats
  int64_t col_units;                    // column blocks per batch
};

// Runs work units [begin, end): unit u covers batch u / col_units, column block u % col_units.
void run_units(void *arg, int64_t begin, int64_t end) {
  const GemmJob *j = static_cast<const GemmJob *>(arg);
  for (int64_t u = begin; u < end; ++u) {
    int64_t b = u / j->col_units, c = u % j->col_units;
    slm_gemm_f32_args_t a = j->args;
    a.A += b * j->a_stride;
    a.B += b * j->b_stride;
    a.C += b * j->c_stride;
    a.n_begin = c * kColumnBlock;
    a.n_end = a.n_begin + kColumnBlock < a.N ? a.n_begin + kColumnBlock : a.N;
    j->fn(&a);
  }
}

void run_job(KernelContext *ctx, GemmJob &job) {
  job.col_units = (job.args.N + kColumnBlock - 1) / kColumnBlock;
  int64_t units = job.batches * job.col_units;
  if (ctx->parallel_for)
    ctx->parallel_for(ctx->runner, units, 1, run_units, &job);
  else
    run_units(&job, 0, units);
}

// A [..., M, K] (any leading dims) × B [K, N], or equal batch dims on both sides.
bool matmul_fast(KernelContext *ctx, int level) {
  const Tensor &a = *ctx->inputs[0], &b = *ctx->inputs[1];
  Tensor &y = *ctx->outputs[0];
  if (a.dtype != kF32 || b.dtype != kF32 || a.rank < 2 || b.rank < 2) return false;
  int64_t K = a.dims[a.rank - 1], N = b.dims[b.rank - 1];
  if (b.dims[b.rank - 2] != K) return false;
  GemmJob job{gemm_for(level), {}, 1, 0, 0, 0, 0};
  if (b.rank == 2) { // flatten A's leading dims into rows
    job.args.M = a.numel() / (K ? K : 1);
    if (K == 0) job.args.M = y.numel() / (N ? N : 1);
  } else {
    if (a.rank != b.rank) return false;
    for (int i = 0; i < a.rank - 2; ++i)
      if (a.dims[i] != b.dims[i]) return false;
    job.args.M = a.dims[a.rank - 2];
    for (int i = 0; i < a.rank - 2; ++i) job.batches *= a.dims[i];
    job.a_stride = job.args.M * K;
    job.b_stride = K * N;
    job.c_stride = job.args.M * N;
  }
  job.args.N = N;
  job.args.K = K;
  job.args.A = a.as<float>();
  job.args.lda = K;
  job.args.B = b.as<float>();
  job.args.ldb = N;
  job.args.C = y.as<float>();
  job.args.ldc = N;
  if (y.numel() == 0) return true;
  run_job(ctx, job);
  return true;
}

template <int Level> int run_matmul(KernelContext *ctx) {
  if (matmul_fast(ctx, Level)) return SLM_REF_OK;
  return find_ref_kernel("MatMul")->run(ctx);
}

int infer_matmul(KernelContext *ctx) { return find_ref_kernel("MatMul")->infer(ctx); }

const OpKernel kAvx2Kernels[] = {{"MatMul", infer_matmul, run_matmul<kX86Avx2>, 0}};
const OpKernel kAvx512Kernels[] = {{"MatMul", infer_matmul, run_matmul<kX86Avx512>, 0}};

} // namespace

const char *x86_level_name(int level) {
  return level >= kX86Avx512 ? "avx512" : level >= kX86Avx2 ? "avx2" : "ref";
}

int x86_cpu_level() {
  __builtin_cpu_init();
  int level = kX86Ref;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) level = kX86Avx2;
  if (level == kX86Avx2 && __builtin_cpu_supports("avx512f")) level = kX86Avx512;
  if (const char *env = std::getenv("SLM_X86_LEVEL")) {
    int cap = !std::strcmp(env, "ref") ? kX86Ref : !std::strcmp(env, "avx2") ? kX86Avx2 : kX86Avx512;
    if (cap < level) level = cap;
  }
  return level;
}

const OpKernel *find_x86_kernel(const char *key, int level) {
  const OpKernel *table = level >= kX86Avx512 ? kAvx512Kernels : level >= kX86Avx2 ? kAvx2Kernels : nullptr;
  size_t n = level >= kX86Avx512 ? sizeof kAvx512Kernels / sizeof *kAvx512Kernels
             : level >= kX86Avx2 ? sizeof kAvx2Kernels / sizeof *kAvx2Kernels
                                 : 0;
  for (size_t i = 0; i < n; ++i)
    if (!std::strcmp(table[i].op, key)) return &table[i];
  return nullptr;
}

} // namespace slm
