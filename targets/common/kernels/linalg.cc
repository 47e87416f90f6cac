// Reference kernels for linear algebra ops: MatMul, Gemm, Einsum, and the integer ones
// (MatMulInteger, QLinearMatMul, Quantize/Dequantize/DynamicQuantizeLinear).
#include "kernel_util.h"
#include "quant_util.h"

#include <initializer_list>
#include <type_traits>

namespace slm {
namespace {

// Accumulator type per storage type: halves accumulate in float, ints in 64 bits.
template <typename T> struct Acc {
  using type = typename std::conditional<std::is_floating_point<typename Compute<T>::type>::value,
                                         typename Compute<T>::type, int64_t>::type;
};
template <> struct Acc<uint64_t> { using type = uint64_t; };

constexpr int64_t kTileM = 4;   // rows sharing one pass over a B tile
constexpr int64_t kTileN = 128; // columns accumulated on the stack at once

// A strided matrix view: element (r, c) is p[r * rs + c * cs].
template <typename T> struct View {
  const T *p;
  int64_t rs, cs;
  T at(int64_t r, int64_t c) const { return p[r * rs + c * cs]; }
};

// Optional epilogue: y = alpha * acc + beta * C(i, j), C given by strides (0 = broadcast).
template <typename T> struct Epilogue {
  double alpha = 1.0, beta = 0.0;
  const T *c = nullptr;
  int64_t c_rs = 0, c_cs = 0;
};

template <typename T>
inline T finish(typename Acc<T>::type acc, const Epilogue<T> &ep, int64_t i, int64_t j) {
  using C = Compute<T>;
  using A = typename Acc<T>::type;
  if (ep.alpha == 1.0 && !ep.c)
    return C::store(typename C::type(acc));
  // Ints go through double so fractional alpha/beta behave like the float path.
  using E = typename std::conditional<std::is_floating_point<A>::value, A, double>::type;
  E v = E(ep.alpha) * E(acc);
  if (ep.c)
    v += E(ep.beta) * E(C::load(ep.c[i * ep.c_rs + j * ep.c_cs]));
  return C::store(typename C::type(v));
}

// An MR × 8 block of A·B held in registers over the whole K loop. The fixed-size inner
// loops are what GCC's -O2 (very-cheap cost model) still vectorizes, via SLP.
constexpr int kPanel = 8;

template <typename T, int MR>
void gemm_micro(View<T> a, View<T> b, T *y, int64_t ldy, int64_t K, int64_t i0, int64_t j,
                const Epilogue<T> &ep) {
  using C = Compute<T>;
  using A = typename Acc<T>::type;
  A acc[MR][kPanel] = {};
  for (int64_t k = 0; k < K; ++k) {
    const T *brow = b.p + k * b.rs + j;
    A bv[kPanel];
    for (int u = 0; u < kPanel; ++u)
      bv[u] = A(C::load(brow[u]));
    for (int r = 0; r < MR; ++r) {
      A av = A(C::load(a.at(i0 + r, k)));
      for (int u = 0; u < kPanel; ++u)
        acc[r][u] += av * bv[u];
    }
  }
  for (int r = 0; r < MR; ++r)
    for (int u = 0; u < kPanel; ++u)
      y[(i0 + r) * ldy + j + u] = finish<T>(acc[r][u], ep, i0 + r, j + u);
}

// A single row (decode GEMV): streams each B row segment once into an L1-resident
// accumulator, which reads B sequentially instead of in 8-column strips.
template <typename T>
void gemm_row_stream(View<T> a, View<T> b, T *y, int64_t ldy, int64_t K, int64_t i, int64_t j0,
                     int64_t nr, const Epilogue<T> &ep) {
  using C = Compute<T>;
  using A = typename Acc<T>::type;
  A acc[kTileN] = {};
  int64_t full = nr / kPanel * kPanel, k = 0;
  // Four B rows per pass so each accumulator load/store serves four multiply-adds.
  for (; k + 4 <= K; k += 4) {
    const T *b0 = b.p + k * b.rs + j0, *b1 = b0 + b.rs, *b2 = b1 + b.rs, *b3 = b2 + b.rs;
    A a0 = A(C::load(a.at(i, k))), a1 = A(C::load(a.at(i, k + 1)));
    A a2 = A(C::load(a.at(i, k + 2))), a3 = A(C::load(a.at(i, k + 3)));
    for (int64_t j = 0; j < full; j += kPanel)
      for (int u = 0; u < kPanel; ++u)
        acc[j + u] += a0 * A(C::load(b0[j + u])) + a1 * A(C::load(b1[j + u])) +
                      a2 * A(C::load(b2[j + u])) + a3 * A(C::load(b3[j + u]));
    for (int64_t j = full; j < nr; ++j)
      acc[j] += a0 * A(C::load(b0[j])) + a1 * A(C::load(b1[j])) + a2 * A(C::load(b2[j])) +
                a3 * A(C::load(b3[j]));
  }
  for (; k < K; ++k) {
    const T *brow = b.p + k * b.rs + j0;
    A av = A(C::load(a.at(i, k)));
    for (int64_t j = 0; j < full; j += kPanel)
      for (int u = 0; u < kPanel; ++u)
        acc[j + u] += av * A(C::load(brow[j + u]));
    for (int64_t j = full; j < nr; ++j)
      acc[j] += av * A(C::load(brow[j]));
  }
  for (int64_t j = 0; j < nr; ++j)
    y[i * ldy + j0 + j] = finish<T>(acc[j], ep, i, j0 + j);
}

// Rows [i0, i0+mr) × columns [j0, j0+nr) of Y for B with contiguous rows: register
// panels of 8 columns, then a scalar loop for the leftover columns.
template <typename T>
void gemm_tile_rows(View<T> a, View<T> b, T *y, int64_t ldy, int64_t K, int64_t i0, int64_t mr,
                    int64_t j0, int64_t nr, const Epilogue<T> &ep) {
  using C = Compute<T>;
  using A = typename Acc<T>::type;
  if (mr == 1) {
    gemm_row_stream(a, b, y, ldy, K, i0, j0, nr, ep);
    return;
  }
  int64_t j = j0;
  for (; j + kPanel <= j0 + nr; j += kPanel) {
    switch (mr) {
    case 4:
      gemm_micro<T, 4>(a, b, y, ldy, K, i0, j, ep);
      break;
    case 3:
      gemm_micro<T, 3>(a, b, y, ldy, K, i0, j, ep);
      break;
    case 2:
      gemm_micro<T, 2>(a, b, y, ldy, K, i0, j, ep);
      break;
    default:
      gemm_micro<T, 1>(a, b, y, ldy, K, i0, j, ep);
      break;
    }
  }
  for (int64_t i = i0; i < i0 + mr; ++i)
    for (int64_t jj = j; jj < j0 + nr; ++jj) {
      A sum = A(0);
      for (int64_t k = 0; k < K; ++k)
        sum += A(C::load(a.at(i, k))) * A(C::load(b.p[k * b.rs + jj]));
      y[i * ldy + jj] = finish<T>(sum, ep, i, jj);
    }
}

// Same tile when B is given transposed (B(k, j) contiguous in k): dot products with
// several partial sums so the reduction still vectorizes without -ffast-math.
template <typename T>
void gemm_tile_dots(View<T> a, View<T> b, T *y, int64_t ldy, int64_t K, int64_t i0, int64_t mr,
                    int64_t j0, int64_t nr, const Epilogue<T> &ep) {
  using C = Compute<T>;
  using A = typename Acc<T>::type;
  constexpr int kLanes = 8;
  for (int64_t r = 0; r < mr; ++r) {
    for (int64_t j = j0; j < j0 + nr; ++j) {
      const T *bcol = b.p + j * b.cs;
      A part[kLanes] = {};
      int64_t k = 0;
      if (a.cs == 1) {
        const T *arow = a.p + (i0 + r) * a.rs;
        for (; k + kLanes <= K; k += kLanes)
          for (int u = 0; u < kLanes; ++u)
            part[u] += A(C::load(arow[k + u])) * A(C::load(bcol[k + u]));
      }
      for (; k < K; ++k)
        part[0] += A(C::load(a.at(i0 + r, k))) * A(C::load(bcol[k]));
      A sum = A(0);
      for (int u = 0; u < kLanes; ++u)
        sum += part[u];
      y[(i0 + r) * ldy + j] = finish<T>(sum, ep, i0 + r, j);
    }
  }
}

// Fallback for arbitrary B strides.
template <typename T>
void gemm_tile_strided(View<T> a, View<T> b, T *y, int64_t ldy, int64_t K, int64_t i0, int64_t mr,
                       int64_t j0, int64_t nr, const Epilogue<T> &ep) {
  using C = Compute<T>;
  using A = typename Acc<T>::type;
  for (int64_t i = i0; i < i0 + mr; ++i)
    for (int64_t j = j0; j < j0 + nr; ++j) {
      A sum = A(0);
      for (int64_t k = 0; k < K; ++k)
        sum += A(C::load(a.at(i, k))) * A(C::load(b.at(k, j)));
      y[i * ldy + j] = finish<T>(sum, ep, i, j);
    }
}

template <typename T>
void gemm_tile(View<T> a, View<T> b, T *y, int64_t ldy, int64_t K, int64_t i0, int64_t mr,
               int64_t j0, int64_t nr, const Epilogue<T> &ep) {
  if (b.cs == 1)
    gemm_tile_rows(a, b, y, ldy, K, i0, mr, j0, nr, ep);
  else if (b.rs == 1)
    gemm_tile_dots(a, b, y, ldy, K, i0, mr, j0, nr, ep);
  else
    gemm_tile_strided(a, b, y, ldy, K, i0, mr, j0, nr, ep);
}

// Batch layout of a (broadcast) batched matmul.
struct MatMulShape {
  int64_t M = 1, N = 1, K = 1;
  int batch_rank = 0;
  int64_t batch_dims[kMaxRank] = {};
  int64_t a_bstride[kMaxRank] = {}, b_bstride[kMaxRank] = {}; // in matrices, 0 = broadcast
  int64_t batches = 1;
  int out_rank = 0;
  int64_t out_dims[kMaxRank] = {};
};

// numpy matmul shape rules: 1-D operands are promoted then the added dim dropped.
int matmul_shape(KernelContext *ctx, const char *op, const Tensor &a, const Tensor &b,
                 MatMulShape *s) {
  if (a.rank < 1 || b.rank < 1)
    return SLM_INVALID(ctx, "%s: operands must have rank >= 1 (got %d and %d)", op, a.rank, b.rank);
  s->M = a.rank >= 2 ? a.dims[a.rank - 2] : 1;
  int64_t ka = a.dims[a.rank - 1];
  int64_t kb = b.rank >= 2 ? b.dims[b.rank - 2] : b.dims[0];
  s->N = b.rank >= 2 ? b.dims[b.rank - 1] : 1;
  if (ka != kb)
    return SLM_INVALID(ctx, "%s: inner dimensions differ: A has %lld columns, B has %lld rows", op,
                       (long long)ka, (long long)kb);
  s->K = ka;
  int ra = a.rank >= 2 ? a.rank - 2 : 0, rb = b.rank >= 2 ? b.rank - 2 : 0;
  s->batch_rank = ra > rb ? ra : rb;
  int64_t sa = s->M * s->K, sb = s->K * s->N;
  for (int i = s->batch_rank - 1; i >= 0; --i) {
    int ia = i - (s->batch_rank - ra), ib = i - (s->batch_rank - rb);
    int64_t da = ia >= 0 ? a.dims[ia] : 1, db = ib >= 0 ? b.dims[ib] : 1;
    if (da != db && da != 1 && db != 1)
      return SLM_INVALID(ctx, "%s: batch dimensions %lld and %lld do not broadcast", op,
                         (long long)da, (long long)db);
    s->batch_dims[i] = da == 1 ? db : da;
    s->a_bstride[i] = da == 1 ? 0 : sa;
    s->b_bstride[i] = db == 1 ? 0 : sb;
    sa *= da;
    sb *= db;
    s->batches *= s->batch_dims[i];
  }
  s->out_rank = 0;
  for (int i = 0; i < s->batch_rank; ++i)
    s->out_dims[s->out_rank++] = s->batch_dims[i];
  if (a.rank >= 2)
    s->out_dims[s->out_rank++] = s->M;
  if (b.rank >= 2)
    s->out_dims[s->out_rank++] = s->N;
  return SLM_REF_OK;
}

// Element offsets (in matrices) of batch `bi` in A and B.
void batch_offsets(const MatMulShape &s, int64_t bi, int64_t *oa, int64_t *ob) {
  *oa = *ob = 0;
  for (int i = s.batch_rank - 1; i >= 0; --i) {
    int64_t idx = bi % s.batch_dims[i];
    bi /= s.batch_dims[i];
    *oa += idx * s.a_bstride[i];
    *ob += idx * s.b_bstride[i];
  }
}

// Parallel batched GEMM over work units (batch, row tile, column tile), so a single-row
// decode GEMV still spreads over N.
template <typename T>
void batched_gemm(KernelContext *ctx, const MatMulShape &s, const T *a, int64_t a_rs, int64_t a_cs,
                  const T *b, int64_t b_rs, int64_t b_cs, T *y, const Epilogue<T> &ep) {
  int64_t mt = (s.M + kTileM - 1) / kTileM, nt = (s.N + kTileN - 1) / kTileN;
  int64_t units = s.batches * mt * nt;
  int64_t cost = kTileM * kTileN * (s.K ? s.K : 1);
  int64_t grain = cost >= (1 << 16) ? 1 : (1 << 16) / cost;
  parallel(ctx, units, grain, [&](int64_t begin, int64_t end) {
    for (int64_t u = begin; u < end; ++u) {
      int64_t jt = u % nt, it = (u / nt) % mt, bi = u / (nt * mt);
      int64_t oa, ob;
      batch_offsets(s, bi, &oa, &ob);
      View<T> av{a + oa, a_rs, a_cs}, bv{b + ob, b_rs, b_cs};
      int64_t i0 = it * kTileM, j0 = jt * kTileN;
      int64_t mr = s.M - i0 < kTileM ? s.M - i0 : kTileM;
      int64_t nr = s.N - j0 < kTileN ? s.N - j0 : kTileN;
      gemm_tile(av, bv, y + bi * s.M * s.N, s.N, s.K, i0, mr, j0, nr, ep);
    }
  });
}

bool matmul_dtype_ok(int32_t d) { return d != kBool && (is_float_dtype(d) || is_int_dtype(d)); }

// ---- MatMul ----

int infer_matmul(KernelContext *ctx) {
  if (int st = require_inputs(ctx, 2))
    return st;
  const Tensor &a = *input(ctx, 0), &b = *input(ctx, 1);
  if (a.dtype != b.dtype)
    return SLM_INVALID(ctx, "MatMul: A is %s but B is %s", dtype_name(a.dtype),
                       dtype_name(b.dtype));
  if (!matmul_dtype_ok(a.dtype))
    return SLM_UNSUPPORTED(ctx, "MatMul: dtype %s is not supported", dtype_name(a.dtype));
  MatMulShape s;
  if (int st = matmul_shape(ctx, "MatMul", a, b, &s))
    return st;
  set_shape(output(ctx, 0), a.dtype, s.out_rank, s.out_dims);
  return SLM_REF_OK;
}

int run_matmul(KernelContext *ctx) {
  const Tensor &a = *input(ctx, 0), &b = *input(ctx, 1);
  Tensor &y = *output(ctx, 0);
  MatMulShape s;
  if (int st = matmul_shape(ctx, "MatMul", a, b, &s))
    return st;
  return dispatch_numeric(ctx, a.dtype, "MatMul", [&](auto tag) -> int {
    using T = decltype(tag);
    if (std::is_same<T, bool>::value)
      return SLM_UNSUPPORTED(ctx, "MatMul: dtype bool is not supported");
    batched_gemm<T>(ctx, s, a.as<T>(), s.K, 1, b.as<T>(), s.N, 1, y.as<T>(), Epilogue<T>());
    return SLM_REF_OK;
  });
}

// ---- Gemm ----

struct GemmShape {
  int64_t M, N, K;
  int64_t c_rs = 0, c_cs = 0;
};

int gemm_shape(KernelContext *ctx, GemmShape *g) {
  if (int st = require_inputs(ctx, 2))
    return st;
  const Tensor &a = *input(ctx, 0), &b = *input(ctx, 1);
  const Tensor *c = input(ctx, 2);
  if (a.rank != 2 || b.rank != 2)
    return SLM_INVALID(ctx, "Gemm: A and B must be 2-D (got rank %d and %d)", a.rank, b.rank);
  bool ta = ctx->attrs->get_int("transA", 0) != 0, tb = ctx->attrs->get_int("transB", 0) != 0;
  g->M = a.dims[ta ? 1 : 0];
  g->K = a.dims[ta ? 0 : 1];
  int64_t kb = b.dims[tb ? 1 : 0];
  g->N = b.dims[tb ? 0 : 1];
  if (kb != g->K)
    return SLM_INVALID(ctx, "Gemm: A' has %lld columns but B' has %lld rows", (long long)g->K,
                       (long long)kb);
  if (a.dtype != b.dtype || (c && c->dtype != a.dtype))
    return SLM_INVALID(ctx, "Gemm: A, B and C must share a dtype (A is %s, B is %s)",
                       dtype_name(a.dtype), dtype_name(b.dtype));
  if (!matmul_dtype_ok(a.dtype))
    return SLM_UNSUPPORTED(ctx, "Gemm: dtype %s is not supported", dtype_name(a.dtype));
  if (c) {
    if (c->rank > 2)
      return SLM_INVALID(ctx, "Gemm: C must have rank <= 2 (got %d)", c->rank);
    int64_t cm = c->rank == 2 ? c->dims[0] : 1, cn = c->rank >= 1 ? c->dims[c->rank - 1] : 1;
    if ((cm != 1 && cm != g->M) || (cn != 1 && cn != g->N))
      return SLM_INVALID(ctx, "Gemm: C of shape [%lld, %lld] does not broadcast to [%lld, %lld]",
                         (long long)cm, (long long)cn, (long long)g->M, (long long)g->N);
    g->c_rs = cm == 1 ? 0 : cn;
    g->c_cs = cn == 1 ? 0 : 1;
  }
  return SLM_REF_OK;
}

int infer_gemm(KernelContext *ctx) {
  GemmShape g;
  if (int st = gemm_shape(ctx, &g))
    return st;
  int64_t dims[2] = {g.M, g.N};
  set_shape(output(ctx, 0), input(ctx, 0)->dtype, 2, dims);
  return SLM_REF_OK;
}

int run_gemm(KernelContext *ctx) {
  GemmShape g;
  if (int st = gemm_shape(ctx, &g))
    return st;
  const Tensor &a = *input(ctx, 0), &b = *input(ctx, 1);
  const Tensor *c = input(ctx, 2);
  bool ta = ctx->attrs->get_int("transA", 0) != 0, tb = ctx->attrs->get_int("transB", 0) != 0;
  MatMulShape s;
  s.M = g.M;
  s.N = g.N;
  s.K = g.K;
  return dispatch_numeric(ctx, a.dtype, "Gemm", [&](auto tag) -> int {
    using T = decltype(tag);
    if (std::is_same<T, bool>::value)
      return SLM_UNSUPPORTED(ctx, "Gemm: dtype bool is not supported");
    Epilogue<T> ep;
    ep.alpha = ctx->attrs->get_float("alpha", 1.0f);
    ep.beta = ctx->attrs->get_float("beta", 1.0f);
    if (c && ep.beta != 0.0) {
      ep.c = c->as<T>();
      ep.c_rs = g.c_rs;
      ep.c_cs = g.c_cs;
    }
    int64_t a_rs = ta ? 1 : g.K, a_cs = ta ? g.M : 1;
    int64_t b_rs = tb ? 1 : g.N, b_cs = tb ? g.K : 1;
    batched_gemm<T>(ctx, s, a.as<T>(), a_rs, a_cs, b.as<T>(), b_rs, b_cs, output(ctx, 0)->as<T>(),
                    ep);
    return SLM_REF_OK;
  });
}

// ---- MatMulInteger ----

// Zero point of row/column `i` (scalar or per-row/column 1-D tensor), 0 when absent.
inline int32_t zero_point(const Tensor *zp, int64_t i) {
  if (!zp || zp->numel() == 0)
    return 0;
  return int32_t(read_int(*zp, zp->numel() == 1 ? 0 : i));
}

int check_zero_point(KernelContext *ctx, const Tensor *zp, const Tensor &x, int64_t n,
                     const char *what) {
  if (!zp)
    return SLM_REF_OK;
  if (zp->dtype != x.dtype)
    return SLM_INVALID(ctx, "MatMulInteger: %s is %s but its input is %s", what,
                       dtype_name(zp->dtype), dtype_name(x.dtype));
  if (zp->numel() != 1 && !(zp->rank == 1 && zp->dims[0] == n))
    return SLM_UNSUPPORTED(ctx, "MatMulInteger: %s must be a scalar or 1-D of size %lld", what,
                           (long long)n);
  return SLM_REF_OK;
}

int matmul_integer_shape(KernelContext *ctx, MatMulShape *s) {
  if (int st = require_inputs(ctx, 2))
    return st;
  const Tensor &a = *input(ctx, 0), &b = *input(ctx, 1);
  for (const Tensor *t : {&a, &b})
    if (t->dtype != kU8 && t->dtype != kI8)
      return SLM_UNSUPPORTED(ctx, "MatMulInteger: dtype %s is not supported (uint8/int8 only)",
                             dtype_name(t->dtype));
  if (int st = matmul_shape(ctx, "MatMulInteger", a, b, s))
    return st;
  if (int st = check_zero_point(ctx, input(ctx, 2), a, s->M, "a_zero_point"))
    return st;
  return check_zero_point(ctx, input(ctx, 3), b, s->N, "b_zero_point");
}

int infer_matmul_integer(KernelContext *ctx) {
  MatMulShape s;
  if (int st = matmul_integer_shape(ctx, &s))
    return st;
  set_shape(output(ctx, 0), kI32, s.out_rank, s.out_dims);
  return SLM_REF_OK;
}

// One output row of an integer matmul: acc = sum_k (a - za) * (b - zb[j]) in int32, handed to
// store(j, acc) so MatMulInteger writes it and QLinearMatMul requantizes it.
template <typename TA, typename TB, typename Store>
void int_matmul_row(const MatMulShape &s, const TA *a, const TB *b, int64_t row, int32_t za,
                    const Tensor *bzp, Store &&store) {
  int64_t i = row % s.M, bi = row / s.M;
  int64_t oa, ob;
  batch_offsets(s, bi, &oa, &ob);
  const TA *arow = a + oa + i * s.K;
  const TB *bm = b + ob;
  for (int64_t j0 = 0; j0 < s.N; j0 += kTileN) {
    int64_t nr = s.N - j0 < kTileN ? s.N - j0 : kTileN;
    int32_t acc[kTileN] = {}, zb[kTileN];
    for (int64_t j = 0; j < nr; ++j)
      zb[j] = zero_point(bzp, j0 + j);
    for (int64_t k = 0; k < s.K; ++k) {
      int32_t av = int32_t(arow[k]) - za;
      const TB *brow = bm + k * s.N + j0;
      for (int64_t j = 0; j < nr; ++j)
        acc[j] += av * (int32_t(brow[j]) - zb[j]);
    }
    for (int64_t j = 0; j < nr; ++j)
      store(j0 + j, acc[j]);
  }
}

inline int64_t int_matmul_grain(const MatMulShape &s) {
  return s.N * s.K >= (1 << 15) ? 1 : (1 << 15) / (s.N * s.K + 1) + 1;
}

template <typename TA, typename TB>
void matmul_integer_typed(KernelContext *ctx, const MatMulShape &s) {
  const TA *a = input(ctx, 0)->as<TA>();
  const TB *b = input(ctx, 1)->as<TB>();
  int32_t *y = output(ctx, 0)->as<int32_t>();
  const Tensor *azp = input(ctx, 2), *bzp = input(ctx, 3);
  parallel(ctx, s.batches * s.M, int_matmul_grain(s), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      int32_t *yrow = y + r * s.N;
      int_matmul_row(s, a, b, r, zero_point(azp, r % s.M), bzp,
                     [&](int64_t j, int32_t acc) { yrow[j] = acc; });
    }
  });
}

// Calls fn(TA{}, TB{}) for the four uint8/int8 combinations of a and b.
template <typename F> void dispatch_q8_pair(int32_t da, int32_t db, F &&fn) {
  bool a8 = da == kU8, b8 = db == kU8;
  if (a8 && b8)
    fn(uint8_t{}, uint8_t{});
  else if (a8)
    fn(uint8_t{}, int8_t{});
  else if (b8)
    fn(int8_t{}, uint8_t{});
  else
    fn(int8_t{}, int8_t{});
}

int run_matmul_integer(KernelContext *ctx) {
  MatMulShape s;
  if (int st = matmul_integer_shape(ctx, &s))
    return st;
  dispatch_q8_pair(input(ctx, 0)->dtype, input(ctx, 1)->dtype, [&](auto ta, auto tb) {
    matmul_integer_typed<decltype(ta), decltype(tb)>(ctx, s);
  });
  return SLM_REF_OK;
}

// ---- QLinearMatMul ----
// Inputs: a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point.
// a's parameters are per-tensor or per-row (M), b's per-tensor or per-column (N); the product
// is accumulated in int32 and requantized once per element.

int qlinear_matmul_shape(KernelContext *ctx, MatMulShape *s) {
  if (int st = require_inputs(ctx, 8))
    return st;
  const Tensor &a = *input(ctx, 0), &b = *input(ctx, 3), &yzp = *input(ctx, 7);
  const char *op = "QLinearMatMul";
  for (const Tensor *t : {&a, &b, &yzp})
    if (!is_q8_dtype(t->dtype))
      return SLM_UNSUPPORTED(ctx, "%s: dtype %s is not supported (uint8/int8 only)", op,
                             dtype_name(t->dtype));
  if (input(ctx, 2)->dtype != a.dtype || input(ctx, 5)->dtype != b.dtype)
    return SLM_INVALID(ctx, "%s: zero points must have their input's dtype", op);
  for (int i : {1, 4, 6})
    if (!is_float_dtype(input(ctx, i)->dtype))
      return SLM_INVALID(ctx, "%s: scales must be float", op);
  if (int st = matmul_shape(ctx, op, a, b, s))
    return st;
  struct {
    int idx;
    int64_t n;
    const char *what;
  } params[] = {{1, s->M, "a_scale"}, {2, s->M, "a_zero_point"}, {4, s->N, "b_scale"},
                {5, s->N, "b_zero_point"}, {6, 0, "y_scale"}, {7, 0, "y_zero_point"}};
  for (const auto &p : params)
    if (int st = check_q_param(ctx, op, p.what, input(ctx, p.idx), p.n))
      return st;
  return SLM_REF_OK;
}

int infer_qlinear_matmul(KernelContext *ctx) {
  MatMulShape s;
  if (int st = qlinear_matmul_shape(ctx, &s))
    return st;
  set_shape(output(ctx, 0), input(ctx, 7)->dtype, s.out_rank, s.out_dims);
  return SLM_REF_OK;
}

template <typename TA, typename TB, typename TY>
void qlinear_matmul_typed(KernelContext *ctx, const MatMulShape &s) {
  const TA *a = input(ctx, 0)->as<TA>();
  const TB *b = input(ctx, 3)->as<TB>();
  TY *y = output(ctx, 0)->as<TY>();
  const Tensor &as = *input(ctx, 1), &bs = *input(ctx, 4);
  const Tensor *azp = input(ctx, 2), *bzp = input(ctx, 5);
  float ys = scale_at(*input(ctx, 6), 0);
  int32_t yzp = zero_point_at(input(ctx, 7), 0);
  parallel(ctx, s.batches * s.M, int_matmul_grain(s), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      int64_t i = r % s.M;
      TY *yrow = y + r * s.N;
      float ascale = scale_at(as, i);
      int_matmul_row(s, a, b, r, zero_point(azp, i), bzp, [&](int64_t j, int32_t acc) {
        yrow[j] = requantize<TY>(acc, ascale * scale_at(bs, j) / ys, yzp);
      });
    }
  });
}

int run_qlinear_matmul(KernelContext *ctx) {
  MatMulShape s;
  if (int st = qlinear_matmul_shape(ctx, &s))
    return st;
  bool yu8 = input(ctx, 7)->dtype == kU8;
  dispatch_q8_pair(input(ctx, 0)->dtype, input(ctx, 3)->dtype, [&](auto ta, auto tb) {
    if (yu8)
      qlinear_matmul_typed<decltype(ta), decltype(tb), uint8_t>(ctx, s);
    else
      qlinear_matmul_typed<decltype(ta), decltype(tb), int8_t>(ctx, s);
  });
  return SLM_REF_OK;
}

// ---- QuantizeLinear / DequantizeLinear ----
// Per-tensor or per-axis (`axis`, default 1) scale and zero point. y = saturate(rint(x / scale)
// + zp) with the zero point's dtype (uint8 when absent); x = (q - zp) * scale in float32.

// Checks the parameters of a (de)quantize op and finds the size/stride of the quantized axis.
int q_axis(KernelContext *ctx, const char *op, int64_t *axis_len, int64_t *inner) {
  if (int st = require_inputs(ctx, 2))
    return st;
  const Tensor &x = *input(ctx, 0), &scale = *input(ctx, 1);
  const Tensor *zp = input(ctx, 2);
  if (!is_float_dtype(scale.dtype))
    return SLM_INVALID(ctx, "%s: scale must be float, got %s", op, dtype_name(scale.dtype));
  *axis_len = 1;
  *inner = 1;
  bool per_axis = scale.numel() != 1 || scale.rank == 1;
  if (per_axis && scale.rank == 1 && x.rank > 0) {
    int axis;
    if (!normalize_axis(ctx->attrs->get_int("axis", 1), x.rank, &axis))
      return SLM_INVALID(ctx, "%s: axis out of range for rank %d", op, x.rank);
    *axis_len = x.dims[axis];
    for (int d = axis + 1; d < x.rank; ++d)
      *inner *= x.dims[d];
  }
  if (int st = check_q_param(ctx, op, "scale", &scale, *axis_len))
    return st;
  if (zp && zp->numel() > 1 && zp->numel() != scale.numel())
    return SLM_INVALID(ctx, "%s: zero point and scale differ in size", op);
  return check_q_param(ctx, op, "zero point", zp, *axis_len);
}

int infer_quantize(KernelContext *ctx) {
  int64_t n, inner;
  if (int st = q_axis(ctx, "QuantizeLinear", &n, &inner))
    return st;
  const Tensor &x = *input(ctx, 0);
  const Tensor *zp = input(ctx, 2);
  int32_t qt = zp ? zp->dtype : kU8;
  if (!is_q8_dtype(qt))
    return SLM_UNSUPPORTED(ctx, "QuantizeLinear: output dtype %s is not supported (uint8/int8)",
                           dtype_name(qt));
  if (!is_float_dtype(x.dtype) && x.dtype != kI32)
    return SLM_UNSUPPORTED(ctx, "QuantizeLinear: input dtype %s is not supported",
                           dtype_name(x.dtype));
  set_shape(output(ctx, 0), qt, x.rank, x.dims);
  return SLM_REF_OK;
}

template <typename Q> void quantize_typed(KernelContext *ctx, int64_t n, int64_t inner) {
  const Tensor &x = *input(ctx, 0), &scale = *input(ctx, 1);
  const Tensor *zp = input(ctx, 2);
  Q *y = output(ctx, 0)->as<Q>();
  int64_t total = x.numel();
  parallel(ctx, total, 1 << 14, [&](int64_t begin, int64_t end) {
    for (int64_t e = begin; e < end; ++e) {
      int64_t c = (e / inner) % n;
      float v = x.dtype == kF32 ? x.as<float>()[e] : float(read_double(x, e));
      y[e] = saturate<Q>(round_even(v / scale_at(scale, c)) + float(zero_point_at(zp, c)));
    }
  });
}

int run_quantize(KernelContext *ctx) {
  int64_t n, inner;
  if (int st = q_axis(ctx, "QuantizeLinear", &n, &inner))
    return st;
  if (output(ctx, 0)->dtype == kU8)
    quantize_typed<uint8_t>(ctx, n, inner);
  else
    quantize_typed<int8_t>(ctx, n, inner);
  return SLM_REF_OK;
}

int infer_dequantize(KernelContext *ctx) {
  int64_t n, inner;
  if (int st = q_axis(ctx, "DequantizeLinear", &n, &inner))
    return st;
  const Tensor &x = *input(ctx, 0);
  if (!is_q8_dtype(x.dtype) && x.dtype != kI32)
    return SLM_UNSUPPORTED(ctx, "DequantizeLinear: dtype %s is not supported (uint8/int8/int32)",
                           dtype_name(x.dtype));
  const Tensor *zp = input(ctx, 2);
  if (zp && zp->dtype != x.dtype)
    return SLM_INVALID(ctx, "DequantizeLinear: zero point is %s but x is %s",
                       dtype_name(zp->dtype), dtype_name(x.dtype));
  set_shape(output(ctx, 0), input(ctx, 1)->dtype, x.rank, x.dims);
  return SLM_REF_OK;
}

int run_dequantize(KernelContext *ctx) {
  int64_t n, inner;
  if (int st = q_axis(ctx, "DequantizeLinear", &n, &inner))
    return st;
  const Tensor &x = *input(ctx, 0), &scale = *input(ctx, 1);
  const Tensor *zp = input(ctx, 2);
  Tensor &y = *output(ctx, 0);
  parallel(ctx, x.numel(), 1 << 14, [&](int64_t begin, int64_t end) {
    for (int64_t e = begin; e < end; ++e) {
      int64_t c = (e / inner) % n;
      float v = float(read_int(x, e) - zero_point_at(zp, c)) * scale_at(scale, c);
      if (y.dtype == kF32)
        y.as<float>()[e] = v;
      else
        write_double(y, e, v);
    }
  });
  return SLM_REF_OK;
}

// ---- DynamicQuantizeLinear ----
// uint8 with a scale and zero point from the tensor's range widened to include 0.

int infer_dynamic_quantize(KernelContext *ctx) {
  if (int st = require_inputs(ctx, 1))
    return st;
  const Tensor &x = *input(ctx, 0);
  if (x.dtype != kF32)
    return SLM_UNSUPPORTED(ctx, "DynamicQuantizeLinear: dtype %s is not supported (float32)",
                           dtype_name(x.dtype));
  set_shape(output(ctx, 0), kU8, x.rank, x.dims);
  if (Tensor *s = output(ctx, 1))
    set_shape(s, kF32, 0, nullptr);
  if (Tensor *z = output(ctx, 2))
    set_shape(z, kU8, 0, nullptr);
  return SLM_REF_OK;
}

int run_dynamic_quantize(KernelContext *ctx) {
  const Tensor &x = *input(ctx, 0);
  const float *xv = x.as<float>();
  int64_t n = x.numel();
  float lo = 0.0f, hi = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    lo = xv[i] < lo ? xv[i] : lo;
    hi = xv[i] > hi ? xv[i] : hi;
  }
  float scale = (hi - lo) / 255.0f;
  // An all-zero tensor has no range; any scale reproduces it, zero point 0 keeps y at 0.
  uint8_t zp = scale > 0 ? saturate<uint8_t>(round_even(0.0f - lo / scale)) : 0;
  uint8_t *y = output(ctx, 0)->as<uint8_t>();
  parallel(ctx, n, 1 << 14, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      y[i] = scale > 0 ? saturate<uint8_t>(round_even(xv[i] / scale) + float(zp)) : 0;
  });
  if (Tensor *s = output(ctx, 1))
    *s->as<float>() = scale;
  if (Tensor *z = output(ctx, 2))
    *z->as<uint8_t>() = zp;
  return SLM_REF_OK;
}

// ---- Einsum ----

constexpr int kMaxOperands = 8;
constexpr int kMaxLabels = 64; // 52 letters + ellipsis dims

// A parsed equation: each operand axis and output axis mapped to a label id.
struct Einsum {
  int num_ops = 0;
  int op_rank[kMaxOperands] = {};
  int op_label[kMaxOperands][kMaxRank] = {};
  int out_rank = 0;
  int out_label[kMaxRank] = {};
  int64_t label_size[kMaxLabels] = {};
  bool used[kMaxLabels] = {};
  int sum_count = 0;
  int sum_label[kMaxLabels] = {};
  // Stride of each label in each operand (sum over repeated axes gives diagonals).
  int64_t stride[kMaxOperands][kMaxLabels] = {};
};

int letter_id(char c) {
  if (c >= 'a' && c <= 'z')
    return c - 'a';
  if (c >= 'A' && c <= 'Z')
    return 26 + c - 'A';
  return -1;
}

// Parses one term (an operand's or the output's subscripts) into label ids; the
// ellipsis expands to `ell_rank` trailing-aligned ids 52.. (broadcast dims).
int parse_term(KernelContext *ctx, const char *&p, const char *end, int ell_rank, int tensor_rank,
               int *labels, int *rank) {
  int n = 0, letters = 0;
  for (const char *q = p; q < end && *q != ',' && *q != '-'; ++q)
    letters += letter_id(*q) >= 0;
  int ell = tensor_rank >= 0 ? tensor_rank - letters : ell_rank;
  for (; p < end && *p != ',' && *p != '-'; ++p) {
    if (*p == ' ')
      continue;
    if (*p == '.') {
      if (p + 2 >= end || p[1] != '.' || p[2] != '.')
        return SLM_INVALID(ctx, "Einsum: malformed ellipsis in equation");
      if (ell < 0 || ell > ell_rank)
        return SLM_INVALID(ctx, "Einsum: ellipsis covers %d dims, max %d", ell, ell_rank);
      for (int i = 0; i < ell; ++i) {
        if (n >= kMaxRank)
          return SLM_INVALID(ctx, "Einsum: term has more than %d subscripts", kMaxRank);
        labels[n++] = 52 + (ell_rank - ell) + i;
      }
      p += 2;
      continue;
    }
    int id = letter_id(*p);
    if (id < 0)
      return SLM_INVALID(ctx, "Einsum: invalid character '%c' in equation", *p);
    if (n >= kMaxRank)
      return SLM_INVALID(ctx, "Einsum: term has more than %d subscripts", kMaxRank);
    labels[n++] = id;
  }
  *rank = n;
  return SLM_REF_OK;
}

// Size of a label across operands; ellipsis dims broadcast from 1.
int bind_sizes(KernelContext *ctx, Einsum *e) {
  for (int o = 0; o < e->num_ops; ++o) {
    const Tensor &t = *input(ctx, o);
    if (e->op_rank[o] != t.rank)
      return SLM_INVALID(ctx, "Einsum: operand %d has rank %d but the equation gives %d", o, t.rank,
                         e->op_rank[o]);
    for (int i = 0; i < t.rank; ++i) {
      int l = e->op_label[o][i];
      int64_t d = t.dims[i], &size = e->label_size[l];
      if (!e->used[l] || size == 1)
        size = d;
      else if (d != size && !(l >= 52 && d == 1))
        return SLM_INVALID(ctx,
                           "Einsum: subscript dimension %lld of operand %d conflicts with %lld",
                           (long long)d, o, (long long)size);
      e->used[l] = true;
    }
  }
  for (int o = 0; o < e->num_ops; ++o) {
    const Tensor &t = *input(ctx, o);
    int64_t st[kMaxRank];
    contiguous_strides(t.rank, t.dims, st);
    for (int i = 0; i < t.rank; ++i)
      if (t.dims[i] != 1 || e->label_size[e->op_label[o][i]] == 1)
        e->stride[o][e->op_label[o][i]] += st[i];
  }
  return SLM_REF_OK;
}

// Implicit output: ellipsis dims, then letters used exactly once, alphabetically.
void implicit_output(Einsum *e, int ell_rank) {
  int count[kMaxLabels] = {};
  for (int o = 0; o < e->num_ops; ++o)
    for (int i = 0; i < e->op_rank[o]; ++i)
      ++count[e->op_label[o][i]];
  for (int i = 0; i < ell_rank; ++i)
    e->out_label[e->out_rank++] = 52 + i;
  const int order[52] = {26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43,
                         44, 45, 46, 47, 48, 49, 50, 51, 0,  1,  2,  3,  4,  5,  6,  7,  8,  9,
                         10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25};
  for (int id : order)
    if (count[id] == 1 && e->out_rank < kMaxRank)
      e->out_label[e->out_rank++] = id;
}

int parse_einsum(KernelContext *ctx, Einsum *e) {
  const Attr *eq = ctx->attrs->find("equation");
  if (!eq || eq->kind != kAttrString)
    return SLM_INVALID(ctx, "Einsum: missing 'equation' attribute");
  const char *p = eq->s, *end = eq->s + eq->count;
  e->num_ops = ctx->num_inputs;
  if (e->num_ops < 1 || e->num_ops > kMaxOperands)
    return SLM_UNSUPPORTED(ctx, "Einsum: %d operands (1 to %d supported)", e->num_ops,
                           kMaxOperands);
  if (int st = require_inputs(ctx, e->num_ops))
    return st;
  int ell_rank = 0;
  for (int o = 0; o < e->num_ops; ++o) {
    int rank;
    if (int st = parse_term(ctx, p, end, kMaxRank, input(ctx, o)->rank, e->op_label[o], &rank))
      return st;
    e->op_rank[o] = rank;
    for (int i = 0; i < rank; ++i)
      if (e->op_label[o][i] >= 52 && kMaxRank - (e->op_label[o][i] - 52) > ell_rank)
        ell_rank = kMaxRank - (e->op_label[o][i] - 52);
    if (o + 1 < e->num_ops) {
      if (p >= end || *p != ',')
        return SLM_INVALID(ctx, "Einsum: equation has fewer terms than the %d inputs", e->num_ops);
      ++p;
    }
  }
  // Re-base ellipsis ids from the kMaxRank frame to ell_rank so outputs use 52..52+ell_rank.
  for (int o = 0; o < e->num_ops; ++o)
    for (int i = 0; i < e->op_rank[o]; ++i)
      if (e->op_label[o][i] >= 52)
        e->op_label[o][i] -= kMaxRank - ell_rank;
  while (p < end && *p == ' ')
    ++p;
  if (p < end && *p == ',')
    return SLM_INVALID(ctx, "Einsum: equation has more terms than the %d inputs", e->num_ops);
  if (p + 1 < end && p[0] == '-' && p[1] == '>') {
    p += 2;
    if (int st = parse_term(ctx, p, end, ell_rank, -1, e->out_label, &e->out_rank))
      return st;
  } else if (p < end) {
    return SLM_INVALID(ctx, "Einsum: malformed equation");
  } else {
    implicit_output(e, ell_rank);
  }
  if (int st = bind_sizes(ctx, e))
    return st;
  bool in_out[kMaxLabels] = {};
  for (int i = 0; i < e->out_rank; ++i) {
    int l = e->out_label[i];
    if (!e->used[l] || in_out[l])
      return SLM_INVALID(ctx, "Einsum: output subscript %d is unknown or repeated", i);
    in_out[l] = true;
  }
  for (int l = 0; l < kMaxLabels; ++l)
    if (e->used[l] && !in_out[l])
      e->sum_label[e->sum_count++] = l;
  return SLM_REF_OK;
}

int infer_einsum(KernelContext *ctx) {
  Einsum e;
  if (int st = parse_einsum(ctx, &e))
    return st;
  int32_t dt = input(ctx, 0)->dtype;
  for (int o = 1; o < e.num_ops; ++o)
    if (input(ctx, o)->dtype != dt)
      return SLM_INVALID(ctx, "Einsum: operand %d is %s but operand 0 is %s", o,
                         dtype_name(input(ctx, o)->dtype), dtype_name(dt));
  if (!matmul_dtype_ok(dt))
    return SLM_UNSUPPORTED(ctx, "Einsum: dtype %s is not supported", dtype_name(dt));
  int64_t dims[kMaxRank];
  for (int i = 0; i < e.out_rank; ++i)
    dims[i] = e.label_size[e.out_label[i]];
  set_shape(output(ctx, 0), dt, e.out_rank, dims);
  return SLM_REF_OK;
}

// One output element: loops over the summed labels with an odometer.
template <typename T>
typename Acc<T>::type einsum_element(const Einsum &e, const T *const *ops, const int64_t *base) {
  using C = Compute<T>;
  using A = typename Acc<T>::type;
  int64_t idx[kMaxLabels] = {}, off[kMaxOperands];
  for (int o = 0; o < e.num_ops; ++o)
    off[o] = base[o];
  if (e.num_ops == 2 && e.sum_count == 1) { // the matmul/attention shape: one dot product
    int l = e.sum_label[0];
    int64_t sa = e.stride[0][l], sb = e.stride[1][l];
    const T *pa = ops[0] + base[0], *pb = ops[1] + base[1];
    A sum = A(0);
    for (int64_t t = 0; t < e.label_size[l]; ++t)
      sum += A(C::load(pa[t * sa])) * A(C::load(pb[t * sb]));
    return sum;
  }
  for (int s = 0; s < e.sum_count; ++s)
    if (e.label_size[e.sum_label[s]] == 0)
      return A(0);
  A sum = A(0);
  for (;;) {
    A prod = A(1);
    for (int o = 0; o < e.num_ops; ++o)
      prod *= A(C::load(ops[o][off[o]]));
    sum += prod;
    int s = e.sum_count - 1;
    for (; s >= 0; --s) {
      int l = e.sum_label[s];
      for (int o = 0; o < e.num_ops; ++o)
        off[o] += e.stride[o][l];
      if (++idx[s] < e.label_size[l])
        break;
      for (int o = 0; o < e.num_ops; ++o)
        off[o] -= e.stride[o][l] * idx[s];
      idx[s] = 0;
    }
    if (s < 0)
      return sum;
  }
}

int run_einsum(KernelContext *ctx) {
  Einsum e;
  if (int st = parse_einsum(ctx, &e))
    return st;
  Tensor &y = *output(ctx, 0);
  int64_t inner = 1;
  for (int s = 0; s < e.sum_count; ++s)
    inner *= e.label_size[e.sum_label[s]];
  return dispatch_numeric(ctx, y.dtype, "Einsum", [&](auto tag) -> int {
    using T = decltype(tag);
    if (std::is_same<T, bool>::value)
      return SLM_UNSUPPORTED(ctx, "Einsum: dtype bool is not supported");
    const T *ops[kMaxOperands];
    for (int o = 0; o < e.num_ops; ++o)
      ops[o] = input(ctx, o)->as<T>();
    T *out = y.as<T>();
    int64_t grain = inner >= 4096 ? 1 : 4096 / (inner + 1) + 1;
    parallel(ctx, y.numel(), grain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        int64_t base[kMaxOperands] = {}, rem = i;
        for (int d = e.out_rank - 1; d >= 0; --d) {
          int l = e.out_label[d];
          int64_t v = rem % e.label_size[l];
          rem /= e.label_size[l];
          for (int o = 0; o < e.num_ops; ++o)
            base[o] += v * e.stride[o][l];
        }
        out[i] = Compute<T>::store(typename Compute<T>::type(einsum_element(e, ops, base)));
      }
    });
    return SLM_REF_OK;
  });
}

} // namespace

const OpKernel kLinalgKernels[] = {
    {"Einsum", infer_einsum, run_einsum, 0},
    {"Gemm", infer_gemm, run_gemm, 0},
    {"MatMul", infer_matmul, run_matmul, 0},
    {"MatMulInteger", infer_matmul_integer, run_matmul_integer, 0},
    {"DequantizeLinear", infer_dequantize, run_dequantize, 0},
    {"DynamicQuantizeLinear", infer_dynamic_quantize, run_dynamic_quantize, 0},
    {"QLinearMatMul", infer_qlinear_matmul, run_qlinear_matmul, 0},
    {"QuantizeLinear", infer_quantize, run_quantize, 0},
};
const size_t kLinalgKernels_count = sizeof(kLinalgKernels) / sizeof(kLinalgKernels[0]);

} // namespace slm
