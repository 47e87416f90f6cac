// MatMul on an fp32 GEMM microkernel: shape checks, batching and the parallel split over columns.
#include "gemm_f32_matmul.h"

#include "epilogue.h"
#include "kernel_util.h"

namespace slm {
namespace {

constexpr int64_t kColumnBlock = 64; // columns per parallel work unit

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
  parallel(ctx, units, 1, [&](int64_t b, int64_t e) { run_units(&job, b, e); });
}

struct FusedJob {
  Epilogue epilogue;
  slm_gemm_f32_fn fn;
  slm_gemm_f32_args_t args;
  bool packed = false; // args.B is panel-packed [ceil(N / 32), K, 32]
};

// Columns [n0, n1) of a panel-packed B (SLM_GEMM_F32_PANEL): one microkernel call per panel, each
// panel a contiguous row-major [K, 32] matrix.
void run_panels(const FusedJob *j, int64_t n0, int64_t n1) {
  const int64_t w = SLM_GEMM_F32_PANEL;
  for (int64_t p0 = n0; p0 < n1; p0 += w) {
    slm_gemm_f32_args_t a = j->args;
    a.B = j->args.B + (p0 / w) * j->args.K * w;
    a.ldb = w;
    a.C = j->args.C + p0;
    a.N = n1 - p0 < w ? n1 - p0 : w;
    a.n_begin = 0;
    a.n_end = a.N;
    j->fn(&a);
  }
}

// Work unit u: column block u over all rows, then the epilogue on that block.
void run_fused_units(void *arg, int64_t begin, int64_t end) {
  const FusedJob *j = static_cast<const FusedJob *>(arg);
  for (int64_t u = begin; u < end; ++u) {
    slm_gemm_f32_args_t a = j->args;
    a.n_begin = u * kColumnBlock;
    a.n_end = a.n_begin + kColumnBlock < a.N ? a.n_begin + kColumnBlock : a.N;
    if (j->packed)
      run_panels(j, a.n_begin, a.n_end);
    else
      j->fn(&a);
    for (int64_t m = 0; m < a.M; ++m) {
      float *row = a.C + m * a.ldc + a.n_begin;
      j->epilogue.apply(row, m, a.n_begin, a.n_end - a.n_begin, a.N, row);
    }
  }
}

// C[m, n] = dot(A[m, :], B[n, :]) for n in [n0, n1): a transposed ([N, K]) weight read row by row,
// so each weight row streams once from memory. Fixed 16-wide partial sums let the compiler
// vectorize for whatever ISA this file is built for.
void dot_rows(const float *A, int64_t M, int64_t K, const float *B, int64_t n0, int64_t n1, float *C, int64_t ldc) {
  for (int64_t n = n0; n < n1; ++n) {
    const float *b = B + n * K;
    for (int64_t m = 0; m < M; ++m) {
      const float *a = A + m * K;
      float acc[16] = {0};
      int64_t k = 0;
      for (; k + 16 <= K; k += 16)
        for (int j = 0; j < 16; ++j) acc[j] += a[k + j] * b[k + j];
      float sum = 0;
      for (int j = 0; j < 16; ++j) sum += acc[j];
      for (; k < K; ++k) sum += a[k] * b[k];
      C[m * ldc + n] = sum;
    }
  }
}

struct FusedNtJob {
  Epilogue epilogue;
  const float *A, *B;
  float *C;
  int64_t M, K, N;
  slm_gemm_f32_nt_fn nt_fn;
};

void run_fused_nt_units(void *arg, int64_t begin, int64_t end) {
  const FusedNtJob *j = static_cast<const FusedNtJob *>(arg);
  for (int64_t u = begin; u < end; ++u) {
    int64_t n0 = u * kColumnBlock, n1 = n0 + kColumnBlock < j->N ? n0 + kColumnBlock : j->N;
    if (j->nt_fn) {
      slm_gemm_f32_args_t a{j->M, j->N, j->K, j->A, j->K, j->B, j->K, j->C, j->N, n0, n1, 0};
      j->nt_fn(&a);
    } else {
      dot_rows(j->A, j->M, j->K, j->B, n0, n1, j->C, j->N);
    }
    for (int64_t m = 0; m < j->M; ++m) {
      float *row = j->C + m * j->N + n0;
      j->epilogue.apply(row, m, n0, n1 - n0, j->N, row);
    }
  }
}

// slm.fused_matmul with trans_b = 1 (b is [N, K], e.g. tied embeddings as the LM head).
bool fused_matmul_nt(KernelContext *ctx, slm_gemm_f32_nt_fn nt_fn, slm_act_f32_fn act_fn) {
  const Tensor &a = *ctx->inputs[0], &b = *ctx->inputs[1];
  Tensor &y = *ctx->outputs[0];
  if (a.dtype != kF32 || b.dtype != kF32 || b.rank != 2 || a.rank < 1 || a.dims[a.rank - 1] != b.dims[1])
    return false;
  int64_t k = b.dims[1], n = b.dims[0];
  FusedNtJob job{Epilogue(ctx, 2), a.as<float>(), b.as<float>(), y.as<float>(), k ? a.numel() / k : y.numel() / (n ? n : 1), k, n,
                 nt_fn};
  job.epilogue.vector_act = act_fn;
  if (y.numel() == 0) return true;
  int64_t blocks = (n + kColumnBlock - 1) / kColumnBlock;
  parallel(ctx, blocks, 1, [&](int64_t b, int64_t e) { run_fused_nt_units(&job, b, e); });
  return true;
}

} // namespace

bool fused_matmul_f32_on_ukernel(KernelContext *ctx, slm_gemm_f32_fn fn, slm_gemm_f32_nt_fn nt_fn,
                                 slm_act_f32_fn act_fn) {
  const Tensor &a = *ctx->inputs[0], &b = *ctx->inputs[1];
  Tensor &y = *ctx->outputs[0];
  if (ctx->attrs->get_int("trans_b", 0) != 0) return fused_matmul_nt(ctx, nt_fn, act_fn);
  bool packed = b.rank == 3;
  int64_t k = b.rank >= 2 ? b.dims[b.rank - 2] : 0, n = packed ? ctx->attrs->get_int("n", -1) : b.dims[1];
  if (a.dtype != kF32 || b.dtype != kF32 || a.rank < 1 || a.dims[a.rank - 1] != k ||
      (packed ? b.dims[2] != SLM_GEMM_F32_PANEL || n < 0 || n > b.dims[0] * SLM_GEMM_F32_PANEL : b.rank != 2))
    return false; // the reference kernel reports what is wrong
  FusedJob job{Epilogue(ctx, 2), fn, {}, packed};
  job.epilogue.vector_act = act_fn;
  job.args.M = k ? a.numel() / k : y.numel() / (n ? n : 1);
  job.args.N = n;
  job.args.K = k;
  job.args.A = a.as<float>();
  job.args.lda = k;
  job.args.B = b.as<float>();
  job.args.ldb = n;
  job.args.C = y.as<float>();
  job.args.ldc = n;
  int64_t blocks = (n + kColumnBlock - 1) / kColumnBlock;
  if (y.numel() == 0)
    return true;
  parallel(ctx, blocks, 1, [&](int64_t b, int64_t e) { run_fused_units(&job, b, e); });
  return true;
}

int infer_fused_matmul_ref(KernelContext *ctx) {
  return find_ref_kernel("slm.fused_matmul")->infer(ctx);
}

bool matmul_f32_on_ukernel(KernelContext *ctx, slm_gemm_f32_fn fn) {
  const Tensor &a = *ctx->inputs[0], &b = *ctx->inputs[1];
  Tensor &y = *ctx->outputs[0];
  if (a.dtype != kF32 || b.dtype != kF32 || a.rank < 2 || b.rank < 2)
    return false;
  int64_t K = a.dims[a.rank - 1], N = b.dims[b.rank - 1];
  if (b.dims[b.rank - 2] != K)
    return false;
  GemmJob job{fn, {}, 1, 0, 0, 0, 0};
  if (b.rank == 2) { // flatten A's leading dims into rows
    job.args.M = a.numel() / (K ? K : 1);
    if (K == 0)
      job.args.M = y.numel() / (N ? N : 1);
  } else {
    if (a.rank != b.rank)
      return false;
    for (int i = 0; i < a.rank - 2; ++i)
      if (a.dims[i] != b.dims[i])
        return false;
    job.args.M = a.dims[a.rank - 2];
    for (int i = 0; i < a.rank - 2; ++i)
      job.batches *= a.dims[i];
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
  if (y.numel() == 0)
    return true;
  run_job(ctx, job);
  return true;
}

int infer_matmul_ref(KernelContext *ctx) { return find_ref_kernel("MatMul")->infer(ctx); }

} // namespace slm
