// Google Benchmark of fp32 MatMul kernels: reference vs AVX2 vs AVX-512, decode (GEMV) and prefill (GEMM) shapes.
#include "kernel_util.h"
#include "x86_kernels.h"

#include <benchmark/benchmark.h>

#include <vector>

namespace {

using namespace slm;

void BM_MatMul(benchmark::State &state, int level) {
  int64_t M = state.range(0), K = state.range(1), N = state.range(2);
  if (level > x86_cpu_level()) {
    state.SkipWithError("CPU lacks this level");
    return;
  }
  const OpKernel *k = level == kX86Ref ? find_ref_kernel("MatMul") : find_x86_kernel("MatMul", level);
  std::vector<float> a(size_t(M * K), 0.5f), b(size_t(K * N), 0.25f), y(size_t(M * N));
  Tensor ta, tb, ty;
  ta.dtype = tb.dtype = kF32;
  ta.rank = tb.rank = 2;
  ta.dims[0] = M, ta.dims[1] = K, tb.dims[0] = K, tb.dims[1] = N;
  ta.data = a.data(), tb.data = b.data();
  const Tensor *ins[2] = {&ta, &tb};
  Tensor *outs[1] = {&ty};
  AttrList attrs;
  char err[128];
  KernelContext ctx;
  ctx.attrs = &attrs, ctx.inputs = ins, ctx.num_inputs = 2, ctx.outputs = outs, ctx.num_outputs = 1;
  ctx.error = err, ctx.error_size = sizeof err;
  k->infer(&ctx);
  ty.data = y.data();
  for (auto _ : state) {
    k->run(&ctx);
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * M * N * K, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
  state.counters["GB/s(B)"] =
      benchmark::Counter(4.0 * K * N, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

void Shapes(benchmark::internal::Benchmark *b) {
  b->Args({1, 512, 1536})->Args({1, 960, 2560})->Args({1, 2048, 2048})->Args({64, 512, 1536})->Args({64, 960, 2560});
}

BENCHMARK_CAPTURE(BM_MatMul, ref, int(kX86Ref))->Apply(Shapes);
BENCHMARK_CAPTURE(BM_MatMul, avx2, int(kX86Avx2))->Apply(Shapes);
BENCHMARK_CAPTURE(BM_MatMul, avx512, int(kX86Avx512))->Apply(Shapes);

} // namespace

BENCHMARK_MAIN();
