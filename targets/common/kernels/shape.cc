// Reference kernels for shape queries and data movement: reshape, transpose, slice, gather, pad,
// ...
#include "kernel_util.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

namespace slm {
namespace {

constexpr int64_t kGrain = 1 << 16;

size_t attr_ints(KernelContext *ctx, const char *name, const int64_t **out) {
  *out = nullptr;
  return ctx->attrs ? ctx->attrs->get_ints(name, out) : 0;
}

// True when input i is present but its values are unknown (bound inference).
bool missing_value(KernelContext *ctx, int i) {
  const Tensor *t = input(ctx, i);
  return t && !t->data;
}

bool same_dims(int rank, const int64_t *a, const int64_t *b) {
  for (int i = 0; i < rank; ++i)
    if (a[i] != b[i])
      return false;
  return true;
}

// Formats dims as "[2, 3]" for error messages.
const char *dims_str(char *buf, size_t cap, int rank, const int64_t *dims) {
  size_t n = size_t(snprintf(buf, cap, "["));
  for (int i = 0; i < rank && n < cap; ++i)
    n += size_t(snprintf(buf + n, cap - n, i ? ", %lld" : "%lld", (long long)dims[i]));
  if (n < cap)
    snprintf(buf + n, cap - n, "]");
  return buf;
}

int check_out(KernelContext *ctx, const char *op, int n_in) {
  if (int st = require_inputs(ctx, n_in))
    return st;
  if (!output(ctx, 0))
    return SLM_INVALID(ctx, "%s: output 0 is missing", op);
  if (!dtype_size(input(ctx, 0)->dtype))
    return SLM_UNSUPPORTED(ctx, "%s: dtype %s is not supported", op,
                           dtype_name(input(ctx, 0)->dtype));
  return SLM_REF_OK;
}

int copy_input(KernelContext *ctx) {
  size_t n = input(ctx, 0)->nbytes();
  if (n)
    std::memcpy(output(ctx, 0)->data, input(ctx, 0)->data, n);
  return SLM_REF_OK;
}

// Walks a strided view (up to 2*kMaxRank dims, strides in elements, possibly
// negative or zero) into a contiguous destination.
constexpr int kViewRank = 2 * kMaxRank;

template <typename T>
void copy_rows(const T *src, T *dst, int rank, const int64_t *dims, const int64_t *st, int64_t b,
               int64_t e) {
  const int last = rank - 1;
  const int64_t inner = dims[last], s = st[last];
  int64_t idx[kViewRank], off = 0, rem = b;
  for (int d = last; d >= 0; --d) {
    idx[d] = rem % dims[d];
    rem /= dims[d];
    off += idx[d] * st[d];
  }
  for (int64_t i = b; i < e;) {
    int64_t n = std::min(inner - idx[last], e - i);
    const T *p = src + off;
    if (s == 1)
      std::memcpy(dst + i, p, size_t(n) * sizeof(T));
    else
      for (int64_t j = 0; j < n; ++j)
        dst[i + j] = p[j * s];
    i += n;
    idx[last] += n;
    off += n * s;
    for (int d = last; d > 0 && idx[d] == dims[d]; --d) {
      off += st[d - 1] - idx[d] * st[d];
      idx[d] = 0;
      ++idx[d - 1];
    }
  }
}

void strided_copy(KernelContext *ctx, void *dst, const void *src, size_t es, int rank,
                  const int64_t *dims, const int64_t *st) {
  int64_t cd[kViewRank], cs[kViewRank], total = 1;
  int r = 0;
  for (int d = 0; d < rank; ++d) {
    total *= dims[d];
    if (dims[d] == 1)
      continue;
    if (r > 0 && cs[r - 1] == st[d] * dims[d]) {
      cd[r - 1] *= dims[d];
      cs[r - 1] = st[d];
    } else {
      cd[r] = dims[d];
      cs[r++] = st[d];
    }
  }
  if (total == 0)
    return;
  if (r == 0) {
    cd[0] = 1;
    cs[0] = 1;
    r = 1;
  }
  auto go = [&](auto tag) {
    using T = decltype(tag);
    parallel(ctx, total, kGrain, [&](int64_t b, int64_t e) {
      copy_rows(static_cast<const T *>(src), static_cast<T *>(dst), r, cd, cs, b, e);
    });
  };
  switch (es) {
  case 1: go(uint8_t{}); break;
  case 2: go(uint16_t{}); break;
  case 4: go(uint32_t{}); break;
  default: go(uint64_t{}); break;
  }
}

// ---- Shape, Size ----

int shape_range(KernelContext *ctx, int rank, int64_t *b, int64_t *e) {
  *b = attr_int(ctx, "start", 0);
  *e = attr_int(ctx, "end", rank);
  if (*b < 0)
    *b += rank;
  if (*e < 0)
    *e += rank;
  *b = std::min<int64_t>(std::max<int64_t>(*b, 0), rank);
  *e = std::min<int64_t>(std::max<int64_t>(*e, 0), rank);
  return SLM_REF_OK;
}

int infer_Shape(KernelContext *ctx) {
  if (int st = check_out(ctx, "Shape", 1))
    return st;
  int64_t b, e;
  shape_range(ctx, input(ctx, 0)->rank, &b, &e);
  int64_t n = std::max<int64_t>(e - b, 0);
  set_shape(output(ctx, 0), kI64, 1, &n);
  return SLM_REF_OK;
}
int run_Shape(KernelContext *ctx) {
  int64_t b, e;
  shape_range(ctx, input(ctx, 0)->rank, &b, &e);
  for (int64_t i = b; i < e; ++i)
    output(ctx, 0)->as<int64_t>()[i - b] = input(ctx, 0)->dims[i];
  return SLM_REF_OK;
}

int infer_Size(KernelContext *ctx) {
  if (int st = check_out(ctx, "Size", 1))
    return st;
  set_shape(output(ctx, 0), kI64, 0, nullptr);
  return SLM_REF_OK;
}
int run_Size(KernelContext *ctx) {
  *output(ctx, 0)->as<int64_t>() = input(ctx, 0)->numel();
  return SLM_REF_OK;
}

// ---- Reshape, Flatten, Squeeze, Unsqueeze: same bytes, new dims ----

int infer_Reshape(KernelContext *ctx) {
  if (int st = check_out(ctx, "Reshape", 2))
    return st;
  const Tensor &x = *input(ctx, 0), &s = *input(ctx, 1);
  if (!s.data)
    return SLM_REF_NEED_VALUE;
  if (!is_int_dtype(s.dtype) || s.rank != 1)
    return SLM_INVALID(ctx, "Reshape: shape must be a 1-D integer tensor");
  if (s.dims[0] > kMaxRank)
    return SLM_UNSUPPORTED(ctx, "Reshape: rank %lld exceeds %d", (long long)s.dims[0], kMaxRank);
  const bool allowzero = attr_int(ctx, "allowzero", 0) != 0;
  int rank = int(s.dims[0]), infer_at = -1;
  int64_t dims[kMaxRank], req[kMaxRank], known = 1;
  for (int i = 0; i < rank; ++i) {
    req[i] = dims[i] = read_int(s, i);
    if (dims[i] == 0 && !allowzero) {
      if (i >= x.rank)
        return SLM_INVALID(ctx, "Reshape: shape[%d] = 0 copies a dim the input (rank %d) lacks", i,
                           x.rank);
      dims[i] = x.dims[i];
    }
    if (dims[i] == -1) {
      if (infer_at >= 0)
        return SLM_INVALID(ctx, "Reshape: more than one -1 in shape");
      infer_at = i;
    } else if (dims[i] < 0) {
      return SLM_INVALID(ctx, "Reshape: shape[%d] = %lld is negative", i, (long long)dims[i]);
    } else {
      known *= dims[i];
    }
  }
  char buf[128];
  if (infer_at >= 0) {
    if (known == 0 || x.numel() % known != 0)
      return SLM_INVALID(ctx, "Reshape: cannot reshape %lld elements into %s", (long long)x.numel(),
                         dims_str(buf, sizeof buf, rank, req));
    dims[infer_at] = x.numel() / known;
  } else if (known != x.numel()) {
    return SLM_INVALID(ctx, "Reshape: cannot reshape %lld elements into %s", (long long)x.numel(),
                       dims_str(buf, sizeof buf, rank, req));
  }
  set_shape(output(ctx, 0), x.dtype, rank, dims);
  return SLM_REF_OK;
}

int infer_Flatten(KernelContext *ctx) {
  if (int st = check_out(ctx, "Flatten", 1))
    return st;
  const Tensor &x = *input(ctx, 0);
  int64_t axis = attr_int(ctx, "axis", 1);
  if (axis < -x.rank || axis > x.rank)
    return SLM_INVALID(ctx, "Flatten: axis %lld is out of range for rank %d", (long long)axis,
                       x.rank);
  if (axis < 0)
    axis += x.rank;
  int64_t dims[2] = {1, 1};
  for (int d = 0; d < x.rank; ++d)
    dims[d < axis ? 0 : 1] *= x.dims[d];
  set_shape(output(ctx, 0), x.dtype, 2, dims);
  return SLM_REF_OK;
}

// Axes from attribute "axes" (old opsets) or input 1 (opset 13+). *n = -1 when absent.
int read_axes(KernelContext *ctx, const char *op, int64_t *axes, int *n) {
  const int64_t *attr;
  size_t cnt = attr_ints(ctx, "axes", &attr);
  *n = -1;
  if (attr) {
    if (cnt > size_t(kMaxRank))
      return SLM_INVALID(ctx, "%s: too many axes", op);
    std::copy(attr, attr + cnt, axes);
    *n = int(cnt);
    return SLM_REF_OK;
  }
  const Tensor *t = input(ctx, 1);
  if (!t)
    return SLM_REF_OK;
  if (!t->data)
    return SLM_REF_NEED_VALUE;
  if (!is_int_dtype(t->dtype) || t->rank > 1 || t->numel() > kMaxRank)
    return SLM_INVALID(ctx, "%s: axes must be a 1-D integer tensor of at most %d values", op,
                       kMaxRank);
  *n = int(t->numel());
  for (int i = 0; i < *n; ++i)
    axes[i] = read_int(*t, i);
  return SLM_REF_OK;
}

int infer_Squeeze(KernelContext *ctx) {
  if (int st = check_out(ctx, "Squeeze", 1))
    return st;
  const Tensor &x = *input(ctx, 0);
  int64_t axes[kMaxRank];
  int n;
  if (int st = read_axes(ctx, "Squeeze", axes, &n))
    return st;
  bool drop[kMaxRank] = {};
  for (int i = 0; i < n; ++i) {
    int d;
    if (!normalize_axis(axes[i], x.rank, &d))
      return SLM_INVALID(ctx, "Squeeze: axis %lld is out of range for rank %d", (long long)axes[i],
                         x.rank);
    if (x.dims[d] != 1)
      return SLM_INVALID(ctx, "Squeeze: dim %d has size %lld, not 1", d, (long long)x.dims[d]);
    drop[d] = true;
  }
  int64_t dims[kMaxRank];
  int rank = 0;
  for (int d = 0; d < x.rank; ++d)
    if (!(n <= 0 ? x.dims[d] == 1 : drop[d])) // no or empty axes: drop every 1
      dims[rank++] = x.dims[d];
  set_shape(output(ctx, 0), x.dtype, rank, dims);
  return SLM_REF_OK;
}

int infer_Unsqueeze(KernelContext *ctx) {
  if (int st = check_out(ctx, "Unsqueeze", 1))
    return st;
  const Tensor &x = *input(ctx, 0);
  int64_t axes[kMaxRank];
  int n;
  if (int st = read_axes(ctx, "Unsqueeze", axes, &n))
    return st;
  if (n < 0)
    return SLM_INVALID(ctx, "Unsqueeze: axes are missing");
  const int rank = x.rank + n;
  if (rank > kMaxRank)
    return SLM_UNSUPPORTED(ctx, "Unsqueeze: rank %d exceeds %d", rank, kMaxRank);
  bool added[kMaxRank] = {};
  for (int i = 0; i < n; ++i) {
    int d;
    if (!normalize_axis(axes[i], rank, &d))
      return SLM_INVALID(ctx, "Unsqueeze: axis %lld is out of range for output rank %d",
                         (long long)axes[i], rank);
    if (added[d])
      return SLM_INVALID(ctx, "Unsqueeze: axis %lld is repeated", (long long)axes[i]);
    added[d] = true;
  }
  int64_t dims[kMaxRank];
  for (int d = 0, j = 0; d < rank; ++d)
    dims[d] = added[d] ? 1 : x.dims[j++];
  set_shape(output(ctx, 0), x.dtype, rank, dims);
  return SLM_REF_OK;
}

// ---- Transpose ----

int read_perm(KernelContext *ctx, int rank, int *perm) {
  const int64_t *p;
  size_t n = attr_ints(ctx, "perm", &p);
  if (!p) {
    for (int i = 0; i < rank; ++i)
      perm[i] = rank - 1 - i;
    return SLM_REF_OK;
  }
  if (int(n) != rank)
    return SLM_INVALID(ctx, "Transpose: perm has %zu entries for rank %d", n, rank);
  bool seen[kMaxRank] = {};
  for (int i = 0; i < rank; ++i) {
    int d;
    if (!normalize_axis(p[i], rank, &d) || seen[d])
      return SLM_INVALID(ctx, "Transpose: perm is not a permutation of 0..%d", rank - 1);
    seen[d] = true;
    perm[i] = d;
  }
  return SLM_REF_OK;
}

int infer_Transpose(KernelContext *ctx) {
  if (int st = check_out(ctx, "Transpose", 1))
    return st;
  const Tensor &x = *input(ctx, 0);
  int perm[kMaxRank];
  if (int st = read_perm(ctx, x.rank, perm))
    return st;
  int64_t dims[kMaxRank];
  for (int i = 0; i < x.rank; ++i)
    dims[i] = x.dims[perm[i]];
  set_shape(output(ctx, 0), x.dtype, x.rank, dims);
  return SLM_REF_OK;
}

int run_Transpose(KernelContext *ctx) {
  const Tensor &x = *input(ctx, 0);
  const Tensor &y = *output(ctx, 0);
  int perm[kMaxRank];
  if (int st = read_perm(ctx, x.rank, perm))
    return st;
  int64_t xs[kMaxRank], st[kMaxRank];
  contiguous_strides(x.rank, x.dims, xs);
  for (int i = 0; i < x.rank; ++i)
    st[i] = xs[perm[i]];
  strided_copy(ctx, y.data, x.data, dtype_size(x.dtype), y.rank, y.dims, st);
  return SLM_REF_OK;
}

// ---- Concat, Split ----

int infer_Concat(KernelContext *ctx) {
  if (ctx->num_inputs < 1)
    return SLM_INVALID(ctx, "Concat: needs at least one input");
  if (int st = check_out(ctx, "Concat", ctx->num_inputs))
    return st;
  const Tensor &x0 = *input(ctx, 0);
  int axis = 0;
  int64_t a = attr_int(ctx, "axis", 0);
  if (!normalize_axis(a, x0.rank, &axis))
    return SLM_INVALID(ctx, "Concat: axis %lld is out of range for rank %d", (long long)a, x0.rank);
  int64_t dims[kMaxRank];
  std::copy(x0.dims, x0.dims + x0.rank, dims);
  for (int i = 1; i < ctx->num_inputs; ++i) {
    const Tensor &t = *input(ctx, i);
    if (t.dtype != x0.dtype || t.rank != x0.rank)
      return SLM_INVALID(ctx, "Concat: input %d has dtype %s rank %d, expected %s rank %d", i,
                         dtype_name(t.dtype), t.rank, dtype_name(x0.dtype), x0.rank);
    for (int d = 0; d < t.rank; ++d)
      if (d != axis && t.dims[d] != x0.dims[d])
        return SLM_INVALID(ctx, "Concat: input %d dim %d is %lld, expected %lld", i, d,
                           (long long)t.dims[d], (long long)x0.dims[d]);
    dims[axis] += t.dims[axis];
  }
  set_shape(output(ctx, 0), x0.dtype, x0.rank, dims);
  return SLM_REF_OK;
}

int run_Concat(KernelContext *ctx) {
  const Tensor &y = *output(ctx, 0);
  int axis = 0;
  normalize_axis(attr_int(ctx, "axis", 0), y.rank, &axis);
  const size_t es = dtype_size(y.dtype);
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < y.rank; ++d)
    (d < axis ? outer : inner) *= d == axis ? 1 : y.dims[d];
  char *dst = static_cast<char *>(y.data);
  size_t row = size_t(y.dims[axis] * inner) * es, at = 0;
  for (int i = 0; i < ctx->num_inputs; ++i) {
    const Tensor &t = *input(ctx, i);
    size_t chunk = size_t(t.dims[axis] * inner) * es;
    const char *src = static_cast<const char *>(t.data);
    for (int64_t o = 0; chunk && o < outer; ++o)
      std::memcpy(dst + size_t(o) * row + at, src + size_t(o) * chunk, chunk);
    at += chunk;
  }
  return SLM_REF_OK;
}

// Split sizes along the axis: from attr/input "split", else near-equal chunks.
int split_sizes(KernelContext *ctx, int64_t dim, int64_t *sizes) {
  const int n = ctx->num_outputs;
  const int64_t *attr;
  size_t cnt = attr_ints(ctx, "split", &attr);
  const Tensor *t = attr ? nullptr : input(ctx, 1);
  if (t && !t->data)
    return SLM_REF_NEED_VALUE;
  if (t && t->numel() == 0)
    t = nullptr;
  if (attr || t) {
    if (t)
      cnt = size_t(t->numel());
    if (int(cnt) != n)
      return SLM_INVALID(ctx, "Split: %zu split sizes for %d outputs", cnt, n);
    int64_t sum = 0;
    for (int i = 0; i < n; ++i) {
      sizes[i] = t ? read_int(*t, i) : attr[i];
      if (sizes[i] < 0)
        return SLM_INVALID(ctx, "Split: split size %lld is negative", (long long)sizes[i]);
      sum += sizes[i];
    }
    if (sum != dim)
      return SLM_INVALID(ctx, "Split: split sizes sum to %lld, axis has %lld", (long long)sum,
                         (long long)dim);
    return SLM_REF_OK;
  }
  int64_t chunk = (dim + n - 1) / n, left = dim;
  for (int i = 0; i < n; ++i) {
    sizes[i] = std::min(chunk, left);
    left -= sizes[i];
  }
  return SLM_REF_OK;
}

int split_axis(KernelContext *ctx, const Tensor &x, int *axis) {
  int64_t a = attr_int(ctx, "axis", 0);
  if (!normalize_axis(a, x.rank, axis))
    return SLM_INVALID(ctx, "Split: axis %lld is out of range for rank %d", (long long)a, x.rank);
  return SLM_REF_OK;
}

int infer_Split(KernelContext *ctx) {
  if (int st = check_out(ctx, "Split", 1))
    return st;
  const Tensor &x = *input(ctx, 0);
  int axis = 0;
  if (int st = split_axis(ctx, x, &axis))
    return st;
  const int n = ctx->num_outputs;
  int64_t num = attr_int(ctx, "num_outputs", n);
  if (num != n)
    return SLM_INVALID(ctx, "Split: num_outputs is %lld but the node has %d outputs",
                       (long long)num, n);
  int64_t stack_sizes[64];
  if (n > 64)
    return SLM_UNSUPPORTED(ctx, "Split: more than 64 outputs");
  if (int st = split_sizes(ctx, x.dims[axis], stack_sizes))
    return st;
  for (int i = 0; i < n; ++i) {
    Tensor *y = output(ctx, i);
    if (!y)
      continue;
    set_shape(y, x.dtype, x.rank, x.dims);
    y->dims[axis] = stack_sizes[i];
  }
  return SLM_REF_OK;
}

int run_Split(KernelContext *ctx) {
  const Tensor &x = *input(ctx, 0);
  int axis = 0;
  if (int st = split_axis(ctx, x, &axis))
    return st;
  int64_t sizes[64];
  if (ctx->num_outputs > 64)
    return SLM_UNSUPPORTED(ctx, "Split: more than 64 outputs");
  if (int st = split_sizes(ctx, x.dims[axis], sizes))
    return st;
  const size_t es = dtype_size(x.dtype);
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < x.rank; ++d)
    (d < axis ? outer : inner) *= d == axis ? 1 : x.dims[d];
  const char *src = static_cast<const char *>(x.data);
  size_t row = size_t(x.dims[axis] * inner) * es, at = 0;
  for (int i = 0; i < ctx->num_outputs; ++i) {
    size_t chunk = size_t(sizes[i] * inner) * es;
    if (Tensor *y = output(ctx, i))
      for (int64_t o = 0; chunk && o < outer; ++o)
        std::memcpy(static_cast<char *>(y->data) + size_t(o) * chunk, src + size_t(o) * row + at,
                    chunk);
    at += chunk;
  }
  return SLM_REF_OK;
}

// ---- Slice ----

struct SliceSpec {
  int64_t start[kMaxRank], step[kMaxRank], len[kMaxRank];
};

// Reads starts/ends/axes/steps (attrs before opset 10, inputs 1..4 after) and
// clamps them per ONNX into a start, step and length for every dim.
int slice_spec(KernelContext *ctx, const Tensor &x, SliceSpec *s) {
  for (int d = 0; d < x.rank; ++d) {
    s->start[d] = 0;
    s->step[d] = 1;
    s->len[d] = x.dims[d];
  }
  const int64_t *as = nullptr, *ae = nullptr, *aa = nullptr;
  size_t n = attr_ints(ctx, "starts", &as);
  const bool from_attrs = as != nullptr;
  size_t ne = attr_ints(ctx, "ends", &ae), na = attr_ints(ctx, "axes", &aa);
  const Tensor *ts = nullptr, *te = nullptr, *ta = nullptr, *tp = nullptr;
  if (!from_attrs) {
    if (int st = require_inputs(ctx, 3))
      return st;
    for (int i = 1; i <= 4; ++i)
      if (missing_value(ctx, i))
        return SLM_REF_NEED_VALUE;
    ts = input(ctx, 1), te = input(ctx, 2), ta = input(ctx, 3), tp = input(ctx, 4);
    n = size_t(ts->numel());
    ne = size_t(te->numel());
    na = ta ? size_t(ta->numel()) : 0;
    aa = nullptr;
    if (tp && size_t(tp->numel()) != n)
      return SLM_INVALID(ctx, "Slice: steps has %lld values, starts has %zu",
                         (long long)tp->numel(), n);
  }
  const bool has_axes = from_attrs ? aa != nullptr : ta != nullptr;
  if (ne != n || (has_axes && na != n))
    return SLM_INVALID(ctx, "Slice: starts, ends and axes lengths differ (%zu, %zu, %zu)", n, ne,
                       na);
  bool seen[kMaxRank] = {};
  for (size_t i = 0; i < n; ++i) {
    int64_t a = has_axes ? (from_attrs ? aa[i] : read_int(*ta, int64_t(i))) : int64_t(i);
    int d;
    if (!normalize_axis(a, x.rank, &d))
      return SLM_INVALID(ctx, "Slice: axis %lld is out of range for rank %d", (long long)a, x.rank);
    if (seen[d])
      return SLM_INVALID(ctx, "Slice: axis %lld is repeated", (long long)a);
    seen[d] = true;
    int64_t dim = x.dims[d];
    int64_t b = from_attrs ? as[i] : read_int(*ts, int64_t(i));
    int64_t e = from_attrs ? ae[i] : read_int(*te, int64_t(i));
    int64_t step = tp ? read_int(*tp, int64_t(i)) : 1;
    if (step == 0)
      return SLM_INVALID(ctx, "Slice: step for axis %d is 0", d);
    if (b < 0)
      b += dim;
    if (e < 0)
      e += dim;
    int64_t len;
    if (step > 0) {
      b = std::min(std::max<int64_t>(b, 0), dim);
      e = std::min(std::max<int64_t>(e, 0), dim);
      len = e > b ? (e - b + step - 1) / step : 0;
    } else {
      b = std::min(std::max<int64_t>(b, 0), dim - 1);
      e = std::min(std::max<int64_t>(e, -1), dim - 1);
      len = b > e ? (b - e + (-step) - 1) / (-step) : 0;
    }
    s->start[d] = len ? b : 0;
    s->step[d] = step;
    s->len[d] = len;
  }
  return SLM_REF_OK;
}

int infer_Slice(KernelContext *ctx) {
  if (int st = check_out(ctx, "Slice", 1))
    return st;
  const Tensor &x = *input(ctx, 0);
  SliceSpec s;
  if (int st = slice_spec(ctx, x, &s))
    return st;
  set_shape(output(ctx, 0), x.dtype, x.rank, s.len);
  return SLM_REF_OK;
}

int run_Slice(KernelContext *ctx) {
  const Tensor &x = *input(ctx, 0);
  const Tensor &y = *output(ctx, 0);
  SliceSpec s;
  if (int st = slice_spec(ctx, x, &s))
    return st == SLM_REF_NEED_VALUE ? SLM_INVALID(ctx, "Slice: starts/ends have no data") : st;
  if (y.numel() == 0)
    return SLM_REF_OK;
  int64_t xs[kMaxRank], st[kMaxRank], base = 0;
  contiguous_strides(x.rank, x.dims, xs);
  for (int d = 0; d < x.rank; ++d) {
    base += s.start[d] * xs[d];
    st[d] = s.step[d] * xs[d];
  }
  const size_t es = dtype_size(x.dtype);
  strided_copy(ctx, y.data, static_cast<const char *>(x.data) + size_t(base) * es, es, y.rank,
               y.dims, st);
  return SLM_REF_OK;
}

// ---- Gather family ----

bool index_dtype(int32_t d) { return d == kI32 || d == kI64; }

// Normalizes a possibly negative index into [0, dim); false when out of range.
bool fix_index(int64_t i, int64_t dim, int64_t *out) {
  if (i < -dim || i >= dim)
    return false;
  *out = i < 0 ? i + dim : i;
  return true;
}

int infer_Gather(KernelContext *ctx) {
  if (int st = check_out(ctx, "Gather", 2))
    return st;
  const Tensor &x = *input(ctx, 0), &idx = *input(ctx, 1);
  if (!index_dtype(idx.dtype))
    return SLM_INVALID(ctx, "Gather: indices must be int32/int64, got %s", dtype_name(idx.dtype));
  int axis = 0;
  int64_t a = attr_int(ctx, "axis", 0);
  if (!normalize_axis(a, x.rank, &axis))
    return SLM_INVALID(ctx, "Gather: axis %lld is out of range for rank %d", (long long)a, x.rank);
  const int rank = x.rank - 1 + idx.rank;
  if (rank > kMaxRank)
    return SLM_UNSUPPORTED(ctx, "Gather: output rank %d exceeds %d", rank, kMaxRank);
  int64_t dims[kMaxRank];
  int r = 0;
  for (int d = 0; d < axis; ++d)
    dims[r++] = x.dims[d];
  for (int d = 0; d < idx.rank; ++d)
    dims[r++] = idx.dims[d];
  for (int d = axis + 1; d < x.rank; ++d)
    dims[r++] = x.dims[d];
  set_shape(output(ctx, 0), x.dtype, rank, dims);
  return SLM_REF_OK;
}

int run_Gather(KernelContext *ctx) {
  const Tensor &x = *input(ctx, 0), &idx = *input(ctx, 1);
  int axis = 0;
  normalize_axis(attr_int(ctx, "axis", 0), x.rank, &axis);
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < x.rank; ++d)
    (d < axis ? outer : inner) *= d == axis ? 1 : x.dims[d];
  const int64_t dim = x.dims[axis], n = idx.numel();
  const size_t block = size_t(inner) * dtype_size(x.dtype);
  const char *src = static_cast<const char *>(x.data);
  char *dst = static_cast<char *>(output(ctx, 0)->data);
  for (int64_t j = 0; j < n; ++j) {
    int64_t k;
    if (!fix_index(read_int(idx, j), dim, &k))
      return SLM_INVALID(ctx, "Gather: index %lld is out of range for axis size %lld",
                         (long long)read_int(idx, j), (long long)dim);
  }
  if (!block)
    return SLM_REF_OK;
  parallel(ctx, outer * n, std::max<int64_t>(1, kGrain / int64_t(block)),
           [&](int64_t b, int64_t e) {
             for (int64_t t = b; t < e; ++t) {
               int64_t o = t / n, k = 0;
               fix_index(read_int(idx, t % n), dim, &k);
               std::memcpy(dst + size_t(t) * block, src + size_t(o * dim + k) * block, block);
             }
           });
  return SLM_REF_OK;
}

int elements_axis(KernelContext *ctx, const char *op, const Tensor &x, const Tensor &idx,
                  int *axis) {
  if (!index_dtype(idx.dtype))
    return SLM_INVALID(ctx, "%s: indices must be int32/int64, got %s", op, dtype_name(idx.dtype));
  int64_t a = attr_int(ctx, "axis", 0);
  if (!normalize_axis(a, x.rank, axis))
    return SLM_INVALID(ctx, "%s: axis %lld is out of range for rank %d", op, (long long)a, x.rank);
  if (idx.rank != x.rank)
    return SLM_INVALID(ctx, "%s: indices rank %d differs from data rank %d", op, idx.rank, x.rank);
  for (int d = 0; d < x.rank; ++d)
    if (d != *axis && idx.dims[d] > x.dims[d])
      return SLM_INVALID(ctx, "%s: indices dim %d (%lld) exceeds data's (%lld)", op, d,
                         (long long)idx.dims[d], (long long)x.dims[d]);
  return SLM_REF_OK;
}

// Calls fn(i, data_offset) for each element i of `idx` (same rank as data),
// with the data offset of that element's index along `axis`; false on a bad index.
template <typename F>
bool for_each_element_index(const Tensor &data, const Tensor &idx, int axis, F &&fn) {
  int64_t ds[kMaxRank], pos[kMaxRank] = {};
  contiguous_strides(data.rank, data.dims, ds);
  const int64_t n = idx.numel();
  for (int64_t i = 0; i < n; ++i) {
    int64_t k, off = 0;
    if (!fix_index(read_int(idx, i), data.dims[axis], &k))
      return false;
    for (int d = 0; d < data.rank; ++d)
      off += (d == axis ? k : pos[d]) * ds[d];
    fn(i, off);
    for (int d = idx.rank - 1; d >= 0 && ++pos[d] == idx.dims[d]; --d)
      pos[d] = 0;
  }
  return true;
}

int infer_GatherElements(KernelContext *ctx) {
  if (int st = check_out(ctx, "GatherElements", 2))
    return st;
  const Tensor &x = *input(ctx, 0), &idx = *input(ctx, 1);
  int axis = 0;
  if (int st = elements_axis(ctx, "GatherElements", x, idx, &axis))
    return st;
  set_shape(output(ctx, 0), x.dtype, idx.rank, idx.dims);
  return SLM_REF_OK;
}

int run_GatherElements(KernelContext *ctx) {
  const Tensor &x = *input(ctx, 0), &idx = *input(ctx, 1);
  int axis = 0;
  if (int st = elements_axis(ctx, "GatherElements", x, idx, &axis))
    return st;
  const size_t es = dtype_size(x.dtype);
  const char *src = static_cast<const char *>(x.data);
  char *dst = static_cast<char *>(output(ctx, 0)->data);
  bool ok = for_each_element_index(x, idx, axis, [&](int64_t i, int64_t off) {
    std::memcpy(dst + size_t(i) * es, src + size_t(off) * es, es);
  });
  return ok ? SLM_REF_OK : SLM_INVALID(ctx, "GatherElements: index out of range");
}

// Element-wise reduction used by the Scatter ops.
enum ScatterRed { kNone, kAdd, kMul, kMaxR, kMinR };

int scatter_reduction(KernelContext *ctx, const char *op, ScatterRed *r) {
  char s[8] = "none";
  if (ctx->attrs)
    ctx->attrs->get_string("reduction", "none", s, sizeof s);
  const char *names[] = {"none", "add", "mul", "max", "min"};
  for (int i = 0; i < 5; ++i)
    if (std::strcmp(s, names[i]) == 0) {
      *r = ScatterRed(i);
      return SLM_REF_OK;
    }
  return SLM_INVALID(ctx, "%s: unknown reduction '%s'", op, s);
}

// Applies dst[j] = red(dst[j], src[i]) for `count` consecutive elements.
int scatter_apply(KernelContext *ctx, const char *op, ScatterRed r, int32_t dtype, void *dst,
                  const void *src, int64_t count) {
  if (r == kNone) {
    std::memcpy(dst, src, size_t(count) * dtype_size(dtype));
    return SLM_REF_OK;
  }
  return dispatch_numeric(ctx, dtype, op, [&](auto tag) {
    using T = decltype(tag);
    using C = typename Compute<T>::type;
    T *d = static_cast<T *>(dst);
    const T *s = static_cast<const T *>(src);
    for (int64_t j = 0; j < count; ++j) {
      C a = Compute<T>::load(d[j]), b = Compute<T>::load(s[j]);
      C v = r == kAdd    ? C(a + b)
            : r == kMul  ? C(a * b)
            : r == kMaxR ? std::max(a, b)
                         : std::min(a, b);
      d[j] = Compute<T>::store(v);
    }
    return int(SLM_REF_OK);
  });
}

int infer_ScatterElements(KernelContext *ctx) {
  if (int st = check_out(ctx, "ScatterElements", 3))
    return st;
  const Tensor &x = *input(ctx, 0), &idx = *input(ctx, 1), &upd = *input(ctx, 2);
  int axis = 0;
  if (int st = elements_axis(ctx, "ScatterElements", x, idx, &axis))
    return st;
  if (upd.dtype != x.dtype || upd.rank != idx.rank || !same_dims(idx.rank, idx.dims, upd.dims))
    return SLM_INVALID(ctx, "ScatterElements: updates must match indices' shape and data's dtype");
  ScatterRed r;
  if (int st = scatter_reduction(ctx, "ScatterElements", &r))
    return st;
  set_shape(output(ctx, 0), x.dtype, x.rank, x.dims);
  return SLM_REF_OK;
}

int run_ScatterElements(KernelContext *ctx) {
  const Tensor &x = *input(ctx, 0), &idx = *input(ctx, 1), &upd = *input(ctx, 2);
  int axis = 0;
  ScatterRed r;
  if (int st = elements_axis(ctx, "ScatterElements", x, idx, &axis))
    return st;
  if (int st = scatter_reduction(ctx, "ScatterElements", &r))
    return st;
  copy_input(ctx);
  const size_t es = dtype_size(x.dtype);
  char *dst = static_cast<char *>(output(ctx, 0)->data);
  const char *src = static_cast<const char *>(upd.data);
  int status = SLM_REF_OK;
  bool ok = for_each_element_index(x, idx, axis, [&](int64_t i, int64_t off) {
    if (status == SLM_REF_OK)
      status = scatter_apply(ctx, "ScatterElements", r, x.dtype, dst + size_t(off) * es,
                             src + size_t(i) * es, 1);
  });
  return ok ? status : SLM_INVALID(ctx, "ScatterElements: index out of range");
}

// GatherND/ScatterND: indices [..., k] address slices of data's trailing dims.
struct NDView {
  int64_t batch = 1, per_batch = 1, k = 0, slice = 1, data_batch_stride = 0;
  int64_t strides[kMaxRank]; // data strides of the k indexed dims (after batch dims)
};

int nd_view(KernelContext *ctx, const char *op, const Tensor &x, const Tensor &idx, int b,
            NDView *v) {
  if (!index_dtype(idx.dtype))
    return SLM_INVALID(ctx, "%s: indices must be int32/int64, got %s", op, dtype_name(idx.dtype));
  if (idx.rank < 1 || b < 0 || b >= idx.rank || b >= x.rank)
    return SLM_INVALID(ctx, "%s: indices rank %d / batch_dims %d are invalid", op, idx.rank, b);
  v->k = idx.dims[idx.rank - 1];
  if (v->k > x.rank - b)
    return SLM_INVALID(ctx, "%s: index tuples of %lld exceed data rank %d - batch_dims %d", op,
                       (long long)v->k, x.rank, b);
  for (int d = 0; d < b; ++d) {
    if (idx.dims[d] != x.dims[d])
      return SLM_INVALID(ctx, "%s: batch dim %d differs between data and indices", op, d);
    v->batch *= x.dims[d];
  }
  for (int d = b; d < idx.rank - 1; ++d)
    v->per_batch *= idx.dims[d];
  int64_t xs[kMaxRank];
  contiguous_strides(x.rank, x.dims, xs);
  for (int d = b + int(v->k); d < x.rank; ++d)
    v->slice *= x.dims[d];
  for (int j = 0; j < v->k; ++j)
    v->strides[j] = xs[b + j];
  v->data_batch_stride = b ? xs[b - 1] : 0;
  return SLM_REF_OK;
}

// Data offset (elements) of index tuple t, or -1 when an index is out of range.
int64_t nd_offset(const Tensor &x, const Tensor &idx, int b, const NDView &v, int64_t t) {
  int64_t batch = t / std::max<int64_t>(v.per_batch, 1), off = batch * v.data_batch_stride;
  for (int j = 0; j < v.k; ++j) {
    int64_t k;
    if (!fix_index(read_int(idx, t * v.k + j), x.dims[b + j], &k))
      return -1;
    off += k * v.strides[j];
  }
  return off;
}

int infer_GatherND(KernelContext *ctx) {
  if (int st = check_out(ctx, "GatherND", 2))
    return st;
  const Tensor &x = *input(ctx, 0), &idx = *input(ctx, 1);
  int b = int(attr_int(ctx, "batch_dims", 0));
  NDView v;
  if (int st = nd_view(ctx, "GatherND", x, idx, b, &v))
    return st;
  int rank = idx.rank - 1 + x.rank - b - int(v.k);
  if (rank > kMaxRank)
    return SLM_UNSUPPORTED(ctx, "GatherND: output rank %d exceeds %d", rank, kMaxRank);
  int64_t dims[kMaxRank];
  int r = 0;
  for (int d = 0; d < idx.rank - 1; ++d)
    dims[r++] = idx.dims[d];
  for (int d = b + int(v.k); d < x.rank; ++d)
    dims[r++] = x.dims[d];
  set_shape(output(ctx, 0), x.dtype, rank, dims);
  return SLM_REF_OK;
}

int run_GatherND(KernelContext *ctx) {
  const Tensor &x = *input(ctx, 0), &idx = *input(ctx, 1);
  int b = int(attr_int(ctx, "batch_dims", 0));
  NDView v;
  if (int st = nd_view(ctx, "GatherND", x, idx, b, &v))
    return st;
  const size_t es = dtype_size(x.dtype), block = size_t(v.slice) * es;
  const char *src = static_cast<const char *>(x.data);
  char *dst = static_cast<char *>(output(ctx, 0)->data);
  for (int64_t t = 0, n = v.batch * v.per_batch; t < n; ++t) {
    int64_t off = nd_offset(x, idx, b, v, t);
    if (off < 0)
      return SLM_INVALID(ctx, "GatherND: index tuple %lld is out of range", (long long)t);
    if (block)
      std::memcpy(dst + size_t(t) * block, src + size_t(off) * es, block);
  }
  return SLM_REF_OK;
}

int infer_ScatterND(KernelContext *ctx) {
  if (int st = check_out(ctx, "ScatterND", 3))
    return st;
  const Tensor &x = *input(ctx, 0), &idx = *input(ctx, 1), &upd = *input(ctx, 2);
  NDView v;
  if (int st = nd_view(ctx, "ScatterND", x, idx, 0, &v))
    return st;
  // updates' shape = indices.shape[:-1] + data.shape[k:]
  bool ok = upd.dtype == x.dtype && upd.rank == idx.rank - 1 + x.rank - int(v.k);
  for (int d = 0; ok && d < idx.rank - 1; ++d)
    ok = upd.dims[d] == idx.dims[d];
  for (int d = int(v.k); ok && d < x.rank; ++d)
    ok = upd.dims[idx.rank - 1 + d - int(v.k)] == x.dims[d];
  if (!ok)
    return SLM_INVALID(ctx, "ScatterND: updates' dtype/shape does not match data and indices");
  ScatterRed r;
  if (int st = scatter_reduction(ctx, "ScatterND", &r))
    return st;
  set_shape(output(ctx, 0), x.dtype, x.rank, x.dims);
  return SLM_REF_OK;
}

int run_ScatterND(KernelContext *ctx) {
  const Tensor &x = *input(ctx, 0), &idx = *input(ctx, 1), &upd = *input(ctx, 2);
  NDView v;
  ScatterRed r;
  if (int st = nd_view(ctx, "ScatterND", x, idx, 0, &v))
    return st;
  if (int st = scatter_reduction(ctx, "ScatterND", &r))
    return st;
  copy_input(ctx);
  const size_t es = dtype_size(x.dtype);
  char *dst = static_cast<char *>(output(ctx, 0)->data);
  const char *src = static_cast<const char *>(upd.data);
  for (int64_t t = 0; t < v.per_batch; ++t) {
    int64_t off = nd_offset(x, idx, 0, v, t);
    if (off < 0)
      return SLM_INVALID(ctx, "ScatterND: index tuple %lld is out of range", (long long)t);
    if (int st = scatter_apply(ctx, "ScatterND", r, x.dtype, dst + size_t(off) * es,
                               src + size_t(t * v.slice) * es, v.slice))
      return st;
  }
  return SLM_REF_OK;
}

// ---- Expand, Tile ----

int read_shape_input(KernelContext *ctx, const char *op, int i, int64_t *vals, int *n) {
  const Tensor *t = input(ctx, i);
  if (!t->data)
    return SLM_REF_NEED_VALUE;
  if (!is_int_dtype(t->dtype) || t->rank > 1)
    return SLM_INVALID(ctx, "%s: input %d must be a 1-D integer tensor", op, i);
  if (t->numel() > kMaxRank)
    return SLM_UNSUPPORTED(ctx, "%s: input %d has more than %d values", op, i, kMaxRank);
  *n = int(t->numel());
  for (int j = 0; j < *n; ++j)
    vals[j] = read_int(*t, j);
  return SLM_REF_OK;
}

int infer_Expand(KernelContext *ctx) {
  if (int st = check_out(ctx, "Expand", 2))
    return st;
  const Tensor &x = *input(ctx, 0);
  Tensor shape;
  if (int st = read_shape_input(ctx, "Expand", 1, shape.dims, &shape.rank))
    return st;
  for (int d = 0; d < shape.rank; ++d)
    if (shape.dims[d] < 0)
      return SLM_INVALID(ctx, "Expand: shape[%d] = %lld is negative", d, (long long)shape.dims[d]);
  int64_t dims[kMaxRank];
  int rank;
  char b1[128], b2[128];
  if (!broadcast_shapes(x, shape, &rank, dims))
    return SLM_INVALID(ctx, "Expand: cannot broadcast %s to %s",
                       dims_str(b1, sizeof b1, x.rank, x.dims),
                       dims_str(b2, sizeof b2, shape.rank, shape.dims));
  set_shape(output(ctx, 0), x.dtype, rank, dims);
  return SLM_REF_OK;
}

int run_Expand(KernelContext *ctx) {
  const Tensor &x = *input(ctx, 0);
  const Tensor &y = *output(ctx, 0);
  int64_t st[kMaxRank];
  broadcast_strides(x, y.rank, y.dims, st);
  strided_copy(ctx, y.data, x.data, dtype_size(x.dtype), y.rank, y.dims, st);
  return SLM_REF_OK;
}

int infer_Tile(KernelContext *ctx) {
  if (int st = check_out(ctx, "Tile", 2))
    return st;
  const Tensor &x = *input(ctx, 0);
  int64_t reps[kMaxRank];
  int n;
  if (int st = read_shape_input(ctx, "Tile", 1, reps, &n))
    return st;
  if (n != x.rank)
    return SLM_INVALID(ctx, "Tile: %d repeats for rank %d", n, x.rank);
  int64_t dims[kMaxRank];
  for (int d = 0; d < n; ++d) {
    if (reps[d] < 0)
      return SLM_INVALID(ctx, "Tile: repeat %lld is negative", (long long)reps[d]);
    dims[d] = x.dims[d] * reps[d];
  }
  set_shape(output(ctx, 0), x.dtype, n, dims);
  return SLM_REF_OK;
}

int run_Tile(KernelContext *ctx) {
  const Tensor &x = *input(ctx, 0);
  const Tensor &y = *output(ctx, 0);
  // View y as [r0, d0, r1, d1, ...]: each repeat dim re-reads x with stride 0.
  int64_t xs[kMaxRank], dims[kViewRank], st[kViewRank];
  contiguous_strides(x.rank, x.dims, xs);
  for (int d = 0; d < x.rank; ++d) {
    dims[2 * d] = x.dims[d] ? y.dims[d] / x.dims[d] : 0;
    st[2 * d] = 0;
    dims[2 * d + 1] = x.dims[d];
    st[2 * d + 1] = xs[d];
  }
  strided_copy(ctx, y.data, x.data, dtype_size(x.dtype), 2 * x.rank, dims, st);
  return SLM_REF_OK;
}

// ---- Range, ConstantOfShape, EyeLike, Trilu ----

int infer_Range(KernelContext *ctx) {
  if (int st = check_out(ctx, "Range", 3))
    return st;
  for (int i = 0; i < 3; ++i) {
    const Tensor &t = *input(ctx, i);
    if (t.numel() != 1 || t.dtype != input(ctx, 0)->dtype)
      return SLM_INVALID(ctx, "Range: start, limit and delta must be scalars of one dtype");
    if (!t.data)
      return SLM_REF_NEED_VALUE;
  }
  int32_t dt = input(ctx, 0)->dtype;
  if (!is_float_dtype(dt) && dt != kI16 && dt != kI32 && dt != kI64)
    return SLM_UNSUPPORTED(ctx, "Range: dtype %s is not supported", dtype_name(dt));
  int64_t n;
  if (is_float_dtype(dt)) {
    double s = read_double(*input(ctx, 0), 0), l = read_double(*input(ctx, 1), 0),
           d = read_double(*input(ctx, 2), 0);
    if (d == 0)
      return SLM_INVALID(ctx, "Range: delta is 0");
    n = int64_t(std::max(std::ceil((l - s) / d), 0.0));
  } else {
    int64_t s = read_int(*input(ctx, 0), 0), l = read_int(*input(ctx, 1), 0),
            d = read_int(*input(ctx, 2), 0);
    if (d == 0)
      return SLM_INVALID(ctx, "Range: delta is 0");
    int64_t span = l - s;
    n = (span > 0) == (d > 0) && span != 0 ? (span + d + (d > 0 ? -1 : 1)) / d : 0;
  }
  set_shape(output(ctx, 0), dt, 1, &n);
  return SLM_REF_OK;
}

int run_Range(KernelContext *ctx) {
  const Tensor &y = *output(ctx, 0);
  const Tensor &s = *input(ctx, 0), &d = *input(ctx, 2);
  for (int64_t i = 0, n = y.numel(); i < n; ++i) {
    if (is_float_dtype(y.dtype))
      write_double(y, i, read_double(s, 0) + double(i) * read_double(d, 0));
    else if (y.dtype == kI64)
      y.as<int64_t>()[i] = read_int(s, 0) + i * read_int(d, 0);
    else
      write_double(y, i, double(read_int(s, 0) + i * read_int(d, 0)));
  }
  return SLM_REF_OK;
}

int infer_ConstantOfShape(KernelContext *ctx) {
  if (int st = require_inputs(ctx, 1))
    return st;
  if (!output(ctx, 0))
    return SLM_INVALID(ctx, "ConstantOfShape: output 0 is missing");
  Tensor shape;
  if (int st = read_shape_input(ctx, "ConstantOfShape", 0, shape.dims, &shape.rank))
    return st;
  for (int d = 0; d < shape.rank; ++d)
    if (shape.dims[d] < 0)
      return SLM_INVALID(ctx, "ConstantOfShape: dim %d is negative", d);
  const Attr *v = ctx->attrs ? ctx->attrs->find("value") : nullptr;
  int32_t dt = kF32;
  if (v) {
    if (v->kind != kAttrTensor || !v->tensor || v->tensor->numel() != 1 || !v->tensor->data)
      return SLM_INVALID(ctx, "ConstantOfShape: value must be a one-element tensor");
    dt = v->tensor->dtype;
    if (!dtype_size(dt))
      return SLM_UNSUPPORTED(ctx, "ConstantOfShape: dtype %s is not supported", dtype_name(dt));
  }
  set_shape(output(ctx, 0), dt, shape.rank, shape.dims);
  return SLM_REF_OK;
}

int run_ConstantOfShape(KernelContext *ctx) {
  const Tensor &y = *output(ctx, 0);
  const Attr *v = ctx->attrs ? ctx->attrs->find("value") : nullptr;
  const size_t es = dtype_size(y.dtype);
  char zero[8] = {};
  const char *val = v && v->tensor ? static_cast<const char *>(v->tensor->data) : zero;
  char *dst = static_cast<char *>(y.data);
  for (int64_t i = 0, n = y.numel(); i < n; ++i)
    std::memcpy(dst + size_t(i) * es, val, es);
  return SLM_REF_OK;
}

int infer_EyeLike(KernelContext *ctx) {
  if (int st = check_out(ctx, "EyeLike", 1))
    return st;
  const Tensor &x = *input(ctx, 0);
  if (x.rank != 2)
    return SLM_INVALID(ctx, "EyeLike: input must be 2-D, got rank %d", x.rank);
  int32_t dt = int32_t(attr_int(ctx, "dtype", x.dtype));
  if (!is_float_dtype(dt) && !is_int_dtype(dt) && dt != kBool)
    return SLM_UNSUPPORTED(ctx, "EyeLike: dtype %s is not supported", dtype_name(dt));
  set_shape(output(ctx, 0), dt, 2, x.dims);
  return SLM_REF_OK;
}

int run_EyeLike(KernelContext *ctx) {
  const Tensor &y = *output(ctx, 0);
  const int64_t k = attr_int(ctx, "k", 0), rows = y.dims[0], cols = y.dims[1];
  if (y.nbytes())
    std::memset(y.data, 0, y.nbytes());
  for (int64_t r = std::max<int64_t>(0, -k); r < rows && r + k < cols; ++r)
    write_double(y, r * cols + r + k, 1.0);
  return SLM_REF_OK;
}

int infer_Trilu(KernelContext *ctx) {
  if (int st = check_out(ctx, "Trilu", 1))
    return st;
  const Tensor &x = *input(ctx, 0);
  if (x.rank < 2)
    return SLM_INVALID(ctx, "Trilu: input rank must be >= 2, got %d", x.rank);
  const Tensor *k = input(ctx, 1);
  if (k && (!is_int_dtype(k->dtype) || k->numel() != 1))
    return SLM_INVALID(ctx, "Trilu: k must be an integer scalar");
  set_shape(output(ctx, 0), x.dtype, x.rank, x.dims);
  return SLM_REF_OK;
}

int run_Trilu(KernelContext *ctx) {
  const Tensor &x = *input(ctx, 0);
  const Tensor &y = *output(ctx, 0);
  const Tensor *kt = input(ctx, 1);
  const int64_t k = kt ? read_int(*kt, 0) : 0;
  const bool upper = attr_int(ctx, "upper", 1) != 0;
  const int64_t rows = x.dims[x.rank - 2], cols = x.dims[x.rank - 1];
  const size_t es = dtype_size(x.dtype);
  copy_input(ctx);
  char *dst = static_cast<char *>(y.data);
  const int64_t mats = rows * cols != 0 ? x.numel() / (rows * cols) : 0;
  // Zero what falls outside: below diagonal k (upper) or above it (lower).
  for (int64_t m = 0; m < mats; ++m)
    for (int64_t r = 0; r < rows; ++r) {
      int64_t lo = upper ? 0 : std::max<int64_t>(0, std::min(cols, r + k + 1));
      int64_t hi = upper ? std::max<int64_t>(0, std::min(cols, r + k)) : cols;
      if (hi > lo)
        std::memset(dst + size_t((m * rows + r) * cols + lo) * es, 0, size_t(hi - lo) * es);
    }
  return SLM_REF_OK;
}

// ---- Pad ----

enum PadMode { kConstant, kReflect, kEdge, kWrap };

struct PadSpec {
  PadMode mode = kConstant;
  int64_t begin[kMaxRank] = {}, end[kMaxRank] = {};
};

int pad_spec(KernelContext *ctx, const Tensor &x, PadSpec *p) {
  char mode[16] = "constant";
  if (ctx->attrs)
    ctx->attrs->get_string("mode", "constant", mode, sizeof mode);
  const char *names[] = {"constant", "reflect", "edge", "wrap"};
  int m = 0;
  while (m < 4 && std::strcmp(mode, names[m]) != 0)
    ++m;
  if (m == 4)
    return SLM_INVALID(ctx, "Pad: unknown mode '%s'", mode);
  p->mode = PadMode(m);
  const int64_t *attr;
  size_t n = attr_ints(ctx, "pads", &attr);
  const Tensor *tp = attr ? nullptr : input(ctx, 1);
  const Tensor *ta = input(ctx, 3);
  if (!attr && !tp)
    return SLM_INVALID(ctx, "Pad: pads are missing");
  if ((tp && !tp->data) || (ta && !ta->data))
    return SLM_REF_NEED_VALUE;
  if (tp)
    n = size_t(tp->numel());
  int axes[kMaxRank], na = x.rank;
  for (int d = 0; d < x.rank; ++d)
    axes[d] = d;
  if (ta) {
    na = int(ta->numel());
    if (na > x.rank)
      return SLM_INVALID(ctx, "Pad: %d axes for rank %d", na, x.rank);
    for (int i = 0; i < na; ++i)
      if (!normalize_axis(read_int(*ta, i), x.rank, &axes[i]))
        return SLM_INVALID(ctx, "Pad: axis %lld is out of range for rank %d",
                           (long long)read_int(*ta, i), x.rank);
  }
  if (n != size_t(2 * na))
    return SLM_INVALID(ctx, "Pad: %zu pads for %d axes (need %d)", n, na, 2 * na);
  for (int i = 0; i < na; ++i) {
    p->begin[axes[i]] = tp ? read_int(*tp, i) : attr[i];
    p->end[axes[i]] = tp ? read_int(*tp, i + na) : attr[i + na];
  }
  for (int d = 0; d < x.rank; ++d) {
    int64_t padded; // checked: pads come from the artifact or from run-time tensors
    if (__builtin_add_overflow(x.dims[d], p->begin[d], &padded) || __builtin_add_overflow(padded, p->end[d], &padded))
      return SLM_INVALID(ctx, "Pad: pads %lld and %lld overflow dim %d", (long long)p->begin[d], (long long)p->end[d], d);
    if (padded < 0)
      return SLM_INVALID(ctx, "Pad: pads make dim %d negative", d);
    if (p->mode != kConstant && x.dims[d] == 0 && (p->begin[d] > 0 || p->end[d] > 0))
      return SLM_INVALID(ctx, "Pad: cannot %s-pad dim %d of size 0", mode, d);
  }
  return SLM_REF_OK;
}

int infer_Pad(KernelContext *ctx) {
  if (int st = check_out(ctx, "Pad", 1))
    return st;
  const Tensor &x = *input(ctx, 0);
  const Tensor *cv = input(ctx, 2);
  if (cv && (cv->dtype != x.dtype || cv->numel() > 1))
    return SLM_INVALID(ctx, "Pad: constant_value must be a scalar of the input's dtype");
  PadSpec p;
  if (int st = pad_spec(ctx, x, &p))
    return st;
  int64_t dims[kMaxRank];
  for (int d = 0; d < x.rank; ++d)
    dims[d] = x.dims[d] + p.begin[d] + p.end[d];
  set_shape(output(ctx, 0), x.dtype, x.rank, dims);
  return SLM_REF_OK;
}

// Source index along one dim for output index i, or -1 for the constant.
int64_t pad_source(PadMode mode, int64_t i, int64_t before, int64_t dim) {
  int64_t j = i - before;
  if (j >= 0 && j < dim)
    return j;
  switch (mode) {
  case kConstant: return -1;
  case kEdge: return j < 0 ? 0 : dim - 1;
  case kWrap: return ((j % dim) + dim) % dim;
  default: {
    if (dim == 1)
      return 0;
    int64_t period = 2 * (dim - 1), r = ((j % period) + period) % period;
    return r < dim ? r : period - r;
  }
  }
}

int run_Pad(KernelContext *ctx) {
  const Tensor &x = *input(ctx, 0);
  const Tensor &y = *output(ctx, 0);
  PadSpec p;
  if (int st = pad_spec(ctx, x, &p))
    return st;
  const size_t es = dtype_size(x.dtype);
  char value[8] = {};
  const Tensor *cv = input(ctx, 2);
  if (cv && cv->data && cv->numel() == 1) {
    std::memcpy(value, cv->data, es);
  } else if (ctx->attrs && ctx->attrs->find("value")) { // opset < 11: a float attribute
    Tensor v;
    v.dtype = x.dtype;
    v.data = value;
    write_double(v, 0, ctx->attrs->get_float("value", 0.0f));
  }
  const int64_t n = y.numel();
  if (n == 0)
    return SLM_REF_OK;
  int64_t xs[kMaxRank];
  contiguous_strides(x.rank, x.dims, xs);
  const char *src = static_cast<const char *>(x.data);
  char *dst = static_cast<char *>(y.data);
  int64_t pos[kMaxRank] = {};
  for (int64_t i = 0; i < n; ++i) {
    int64_t off = 0;
    for (int d = 0; d < x.rank && off >= 0; ++d) {
      int64_t j = pad_source(p.mode, pos[d], p.begin[d], x.dims[d]);
      off = j < 0 ? -1 : off + j * xs[d];
    }
    std::memcpy(dst + size_t(i) * es, off < 0 ? value : src + size_t(off) * es, es);
    for (int d = y.rank - 1; d >= 0 && ++pos[d] == y.dims[d]; --d)
      pos[d] = 0;
  }
  return SLM_REF_OK;
}

// ---- OneHot, NonZero ----

int infer_OneHot(KernelContext *ctx) {
  if (int st = check_out(ctx, "OneHot", 3))
    return st;
  const Tensor &idx = *input(ctx, 0), &depth = *input(ctx, 1), &vals = *input(ctx, 2);
  if (!depth.data)
    return SLM_REF_NEED_VALUE;
  if (depth.numel() != 1 || vals.numel() != 2 || !dtype_size(vals.dtype))
    return SLM_INVALID(ctx, "OneHot: depth must be a scalar and values a pair");
  if (!is_int_dtype(idx.dtype) && !is_float_dtype(idx.dtype))
    return SLM_UNSUPPORTED(ctx, "OneHot: indices dtype %s is not supported", dtype_name(idx.dtype));
  const int64_t d = int64_t(read_double(depth, 0));
  if (d < 1)
    return SLM_INVALID(ctx, "OneHot: depth %lld must be positive", (long long)d);
  const int rank = idx.rank + 1;
  if (rank > kMaxRank)
    return SLM_UNSUPPORTED(ctx, "OneHot: output rank %d exceeds %d", rank, kMaxRank);
  int axis = 0;
  int64_t a = attr_int(ctx, "axis", -1);
  if (!normalize_axis(a, rank, &axis))
    return SLM_INVALID(ctx, "OneHot: axis %lld is out of range for rank %d", (long long)a, rank);
  int64_t dims[kMaxRank];
  for (int o = 0, i = 0; o < rank; ++o)
    dims[o] = o == axis ? d : idx.dims[i++];
  set_shape(output(ctx, 0), vals.dtype, rank, dims);
  return SLM_REF_OK;
}

int run_OneHot(KernelContext *ctx) {
  const Tensor &idx = *input(ctx, 0), &vals = *input(ctx, 2);
  const Tensor &y = *output(ctx, 0);
  int axis = 0;
  normalize_axis(attr_int(ctx, "axis", -1), y.rank, &axis);
  const int64_t depth = y.dims[axis];
  int64_t inner = 1;
  for (int d = axis + 1; d < y.rank; ++d)
    inner *= y.dims[d];
  const size_t es = dtype_size(y.dtype);
  const char *off = static_cast<const char *>(vals.data), *on = off + es;
  char *dst = static_cast<char *>(y.data);
  for (int64_t i = 0, n = y.numel(); i < n; ++i)
    std::memcpy(dst + size_t(i) * es, off, es);
  for (int64_t i = 0, n = idx.numel(); i < n; ++i) {
    int64_t k = int64_t(read_double(idx, i));
    if (k < 0)
      k += depth;
    if (k < 0 || k >= depth)
      continue; // out-of-range indices leave the row all "off"
    int64_t o = i / inner, r = i % inner;
    std::memcpy(dst + size_t((o * depth + k) * inner + r) * es, on, es);
  }
  return SLM_REF_OK;
}

// Nonzero test on raw storage, so every dtype works (halves: ±0 has no bits but the sign).
bool element_nonzero(const Tensor &t, int64_t i) {
  if (t.dtype == kF16 || t.dtype == kBF16)
    return (t.as<uint16_t>()[i] & 0x7fff) != 0;
  if (is_float_dtype(t.dtype))
    return read_double(t, i) != 0.0;
  return read_int(t, i) != 0;
}

int infer_NonZero(KernelContext *ctx) {
  if (int st = check_out(ctx, "NonZero", 1))
    return st;
  const Tensor &x = *input(ctx, 0);
  if (!x.data)
    return SLM_REF_NEED_VALUE;
  if (!is_float_dtype(x.dtype) && !is_int_dtype(x.dtype) && x.dtype != kBool)
    return SLM_UNSUPPORTED(ctx, "NonZero: dtype %s is not supported", dtype_name(x.dtype));
  int64_t dims[2] = {std::max(x.rank, 1), 0};
  for (int64_t i = 0, n = x.numel(); i < n; ++i)
    dims[1] += element_nonzero(x, i);
  set_shape(output(ctx, 0), kI64, 2, dims);
  return SLM_REF_OK;
}

int run_NonZero(KernelContext *ctx) {
  const Tensor &x = *input(ctx, 0);
  const Tensor &y = *output(ctx, 0);
  const int rank = std::max(x.rank, 1);
  const int64_t nnz = y.dims[1];
  int64_t *py = y.as<int64_t>(), pos[kMaxRank] = {}, col = 0;
  for (int64_t i = 0, n = x.numel(); i < n; ++i) {
    if (element_nonzero(x, i)) {
      if (col >= nnz)
        return SLM_INVALID(ctx, "NonZero: output has room for %lld indices only", (long long)nnz);
      for (int d = 0; d < rank; ++d)
        py[d * nnz + col] = pos[d];
      ++col;
    }
    for (int d = x.rank - 1; d >= 0 && ++pos[d] == x.dims[d]; --d)
      pos[d] = 0;
  }
  return SLM_REF_OK;
}

// ---- DepthToSpace, SpaceToDepth (NCHW, as 6-D transposes) ----

int block_infer(KernelContext *ctx, const char *op, bool to_space) {
  if (int st = check_out(ctx, op, 1))
    return st;
  const Tensor &x = *input(ctx, 0);
  const int64_t b = attr_int(ctx, "blocksize", 0);
  if (x.rank != 4 || b < 1)
    return SLM_INVALID(ctx, "%s: needs a 4-D input and blocksize >= 1", op);
  int64_t dims[4] = {x.dims[0], x.dims[1], x.dims[2], x.dims[3]};
  if (to_space) {
    if (x.dims[1] % (b * b))
      return SLM_INVALID(ctx, "%s: channels %lld not divisible by blocksize^2", op,
                         (long long)x.dims[1]);
    char mode[8] = "DCR";
    if (ctx->attrs)
      ctx->attrs->get_string("mode", "DCR", mode, sizeof mode);
    if (std::strcmp(mode, "DCR") != 0 && std::strcmp(mode, "CRD") != 0)
      return SLM_INVALID(ctx, "%s: mode must be DCR or CRD, got '%s'", op, mode);
    dims[1] /= b * b;
    dims[2] *= b;
    dims[3] *= b;
  } else {
    if (x.dims[2] % b || x.dims[3] % b)
      return SLM_INVALID(ctx, "%s: spatial dims not divisible by blocksize", op);
    dims[1] *= b * b;
    dims[2] /= b;
    dims[3] /= b;
  }
  set_shape(output(ctx, 0), x.dtype, 4, dims);
  return SLM_REF_OK;
}

// Copies x viewed with 6-D dims `v` into y in the order `perm`.
void permute6(KernelContext *ctx, const int64_t *v, const int *perm) {
  const Tensor &x = *input(ctx, 0);
  int64_t vs[6], dims[6], st[6];
  contiguous_strides(6, v, vs);
  for (int i = 0; i < 6; ++i) {
    dims[i] = v[perm[i]];
    st[i] = vs[perm[i]];
  }
  strided_copy(ctx, output(ctx, 0)->data, x.data, dtype_size(x.dtype), 6, dims, st);
}

int infer_DepthToSpace(KernelContext *ctx) { return block_infer(ctx, "DepthToSpace", true); }
int run_DepthToSpace(KernelContext *ctx) {
  const Tensor &x = *input(ctx, 0);
  const int64_t b = attr_int(ctx, "blocksize", 1), n = x.dims[0], c = x.dims[1] / (b * b),
                h = x.dims[2], w = x.dims[3];
  char mode[8] = "DCR";
  if (ctx->attrs)
    ctx->attrs->get_string("mode", "DCR", mode, sizeof mode);
  if (std::strcmp(mode, "CRD") == 0) {
    const int64_t v[6] = {n, c, b, b, h, w};
    const int perm[6] = {0, 1, 4, 2, 5, 3};
    permute6(ctx, v, perm);
  } else {
    const int64_t v[6] = {n, b, b, c, h, w};
    const int perm[6] = {0, 3, 4, 1, 5, 2};
    permute6(ctx, v, perm);
  }
  return SLM_REF_OK;
}

int infer_SpaceToDepth(KernelContext *ctx) { return block_infer(ctx, "SpaceToDepth", false); }
int run_SpaceToDepth(KernelContext *ctx) {
  const Tensor &x = *input(ctx, 0);
  const int64_t b = attr_int(ctx, "blocksize", 1);
  const int64_t v[6] = {x.dims[0], x.dims[1], x.dims[2] / b, b, x.dims[3] / b, b};
  const int perm[6] = {0, 3, 5, 1, 2, 4};
  permute6(ctx, v, perm);
  return SLM_REF_OK;
}

} // namespace

const OpKernel kShapeKernels[] = {
    {"Shape", infer_Shape, run_Shape, 0},
    {"Size", infer_Size, run_Size, 0},
    {"Reshape", infer_Reshape, copy_input, 1u << 1},
    {"Flatten", infer_Flatten, copy_input, 0},
    {"Squeeze", infer_Squeeze, copy_input, 1u << 1},
    {"Unsqueeze", infer_Unsqueeze, copy_input, 1u << 1},
    {"Transpose", infer_Transpose, run_Transpose, 0},
    {"Concat", infer_Concat, run_Concat, 0},
    {"Split", infer_Split, run_Split, 1u << 1},
    {"Slice", infer_Slice, run_Slice, (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4)},
    {"Gather", infer_Gather, run_Gather, 0},
    {"GatherElements", infer_GatherElements, run_GatherElements, 0},
    {"GatherND", infer_GatherND, run_GatherND, 0},
    {"ScatterElements", infer_ScatterElements, run_ScatterElements, 0},
    // Scatter (opsets 9-10) is ScatterElements under its old name.
    {"Scatter", infer_ScatterElements, run_ScatterElements, 0},
    {"ScatterND", infer_ScatterND, run_ScatterND, 0},
    {"Expand", infer_Expand, run_Expand, 1u << 1},
    {"Tile", infer_Tile, run_Tile, 1u << 1},
    {"Range", infer_Range, run_Range, (1u << 0) | (1u << 1) | (1u << 2)},
    {"ConstantOfShape", infer_ConstantOfShape, run_ConstantOfShape, 1u << 0},
    {"Trilu", infer_Trilu, run_Trilu, 0},
    {"Pad", infer_Pad, run_Pad, (1u << 1) | (1u << 3)},
    {"OneHot", infer_OneHot, run_OneHot, 1u << 1},
    {"NonZero", infer_NonZero, run_NonZero, 1u << 0},
    {"DepthToSpace", infer_DepthToSpace, run_DepthToSpace, 0},
    {"SpaceToDepth", infer_SpaceToDepth, run_SpaceToDepth, 0},
    {"EyeLike", infer_EyeLike, run_EyeLike, 0},
};
const size_t kShapeKernels_count = sizeof(kShapeKernels) / sizeof(kShapeKernels[0]);

} // namespace slm
