// Shared helpers for the reference kernels (see kernel_util.h).
#include "kernel_util.h"

#include <algorithm>

namespace slm {

size_t dtype_size(int32_t dtype) {
  switch (dtype) {
  case kF32: case kI32: case kU32: return 4;
  case kF64: case kI64: case kU64: return 8;
  case kF16: case kBF16: case kI16: case kU16: return 2;
  case kI8: case kU8: case kBool: return 1;
  default: return 0;
  }
}

const char *dtype_name(int32_t dtype) {
  switch (dtype) {
  case kF32: return "float32";
  case kF64: return "float64";
  case kF16: return "float16";
  case kBF16: return "bfloat16";
  case kI8: return "int8";
  case kU8: return "uint8";
  case kI16: return "int16";
  case kU16: return "uint16";
  case kI32: return "int32";
  case kU32: return "uint32";
  case kI64: return "int64";
  case kU64: return "uint64";
  case kBool: return "bool";
  case kString: return "string";
  default: return "unknown";
  }
}

int kernel_fail(KernelContext *ctx, int status, const char *fmt, ...) {
  if (ctx->error && ctx->error_size) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->error, ctx->error_size, fmt, ap);
    va_end(ap);
  }
  return status;
}

int require_inputs(KernelContext *ctx, int count) {
  for (int i = 0; i < count; ++i)
    if (!input(ctx, i))
      return SLM_INVALID(ctx, "required input %d is missing", i);
  return SLM_REF_OK;
}

const Attr *AttrList::find(const char *name) const {
  for (size_t i = 0; i < count; ++i)
    if (std::strcmp(items[i].name, name) == 0)
      return &items[i];
  return nullptr;
}

int64_t AttrList::get_int(const char *name, int64_t fallback) const {
  const Attr *a = find(name);
  if (!a) return fallback;
  if (a->kind == kAttrInt) return a->i;
  if (a->kind == kAttrFloat) return int64_t(a->f);
  return fallback;
}

float AttrList::get_float(const char *name, float fallback) const {
  const Attr *a = find(name);
  if (!a) return fallback;
  if (a->kind == kAttrFloat) return a->f;
  if (a->kind == kAttrInt) return float(a->i);
  return fallback;
}

const char *AttrList::get_string(const char *name, const char *fallback, char *buf,
                                 size_t cap) const {
  const Attr *a = find(name);
  const char *src = fallback;
  size_t len = fallback ? std::strlen(fallback) : 0;
  if (a && a->kind == kAttrString) {
    src = a->s;
    len = a->count;
  }
  if (!cap) return buf;
  len = std::min(len, cap - 1);
  if (len) std::memcpy(buf, src, len);
  buf[len] = 0;
  return buf;
}

size_t AttrList::get_ints(const char *name, const int64_t **out) const {
  const Attr *a = find(name);
  if (!a || a->kind != kAttrInts) {
    *out = nullptr;
    return 0;
  }
  *out = a->ints;
  return a->count;
}

size_t AttrList::get_floats(const char *name, const float **out) const {
  const Attr *a = find(name);
  if (!a || a->kind != kAttrFloats) {
    *out = nullptr;
    return 0;
  }
  *out = a->floats;
  return a->count;
}

bool broadcast_shapes(const Tensor &a, const Tensor &b, int *out_rank, int64_t *out_dims) {
  int rank = std::max(a.rank, b.rank);
  for (int i = 0; i < rank; ++i) {
    int ia = i - (rank - a.rank), ib = i - (rank - b.rank);
    int64_t da = ia >= 0 ? a.dims[ia] : 1, db = ib >= 0 ? b.dims[ib] : 1;
    if (da == db || db == 1)
      out_dims[i] = da;
    else if (da == 1)
      out_dims[i] = db;
    else
      return false;
  }
  *out_rank = rank;
  return true;
}

void contiguous_strides(int rank, const int64_t *dims, int64_t *strides) {
  int64_t s = 1;
  for (int i = rank - 1; i >= 0; --i) {
    strides[i] = s;
    s *= dims[i];
  }
}

void broadcast_strides(const Tensor &t, int rank, const int64_t *out_dims, int64_t *strides) {
  int64_t own[kMaxRank];
  contiguous_strides(t.rank, t.dims, own);
  for (int i = 0; i < rank; ++i) {
    int it = i - (rank - t.rank);
    strides[i] = (it < 0 || t.dims[it] == 1) ? 0 : own[it];
    (void)out_dims;
  }
}

int64_t read_int(const Tensor &t, int64_t i) {
  switch (t.dtype) {
  case kI64: return t.as<int64_t>()[i];
  case kI32: return t.as<int32_t>()[i];
  case kI16: return t.as<int16_t>()[i];
  case kI8: return t.as<int8_t>()[i];
  case kU8: return t.as<uint8_t>()[i];
  case kU16: return t.as<uint16_t>()[i];
  case kU32: return t.as<uint32_t>()[i];
  case kU64: return int64_t(t.as<uint64_t>()[i]);
  case kBool: return t.as<bool>()[i] ? 1 : 0;
  default: return int64_t(read_double(t, i));
  }
}

double read_double(const Tensor &t, int64_t i) {
  switch (t.dtype) {
  case kF32: return t.as<float>()[i];
  case kF64: return t.as<double>()[i];
  case kF16: return half_to_float(t.as<uint16_t>()[i]);
  case kBF16: return bf16_to_float(t.as<uint16_t>()[i]);
  case kI64: return double(t.as<int64_t>()[i]);
  case kI32: return t.as<int32_t>()[i];
  case kI16: return t.as<int16_t>()[i];
  case kI8: return t.as<int8_t>()[i];
  case kU8: return t.as<uint8_t>()[i];
  case kU16: return t.as<uint16_t>()[i];
  case kU32: return t.as<uint32_t>()[i];
  case kU64: return double(t.as<uint64_t>()[i]);
  case kBool: return t.as<bool>()[i] ? 1.0 : 0.0;
  default: return 0.0;
  }
}

void write_double(const Tensor &t, int64_t i, double v) {
  switch (t.dtype) {
  case kF32: t.as<float>()[i] = float(v); break;
  case kF64: t.as<double>()[i] = v; break;
  case kF16: t.as<uint16_t>()[i] = float_to_half(float(v)); break;
  case kBF16: t.as<uint16_t>()[i] = float_to_bf16(float(v)); break;
  case kI64: t.as<int64_t>()[i] = int64_t(v); break;
  case kI32: t.as<int32_t>()[i] = int32_t(v); break;
  case kI16: t.as<int16_t>()[i] = int16_t(v); break;
  case kI8: t.as<int8_t>()[i] = int8_t(v); break;
  case kU8: t.as<uint8_t>()[i] = uint8_t(v); break;
  case kU16: t.as<uint16_t>()[i] = uint16_t(v); break;
  case kU32: t.as<uint32_t>()[i] = uint32_t(v); break;
  case kU64: t.as<uint64_t>()[i] = uint64_t(v); break;
  case kBool: t.as<bool>()[i] = v != 0.0; break;
  default: break;
  }
}

float half_to_float(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else { // subnormal: normalize
      exp = 127 - 15 + 1;
      while (!(mant & 0x400)) {
        mant <<= 1;
        --exp;
      }
      bits = sign | (exp << 23) | ((mant & 0x3ff) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t float_to_half(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  uint32_t sign = (u >> 16) & 0x8000;
  uint32_t abs = u & 0x7fffffffu;
  if (abs > 0x7f800000u) return uint16_t(sign | 0x7e00); // NaN
  if (abs >= 0x477ff000u) return uint16_t(sign | 0x7c00); // overflow → inf (rounded)
  if (abs < 0x38800000u) { // subnormal or zero in half
    if (abs < 0x33000000u) return uint16_t(sign);
    uint32_t e = abs >> 23, m = (abs & 0x7fffff) | 0x800000;
    uint32_t shift = 126 - e; // 14 + (113 - e)
    uint32_t v = m >> (shift - 0), rem;
    // half subnormal = m * 2^(e-127-23) / 2^-24 = m >> (126 - e) ... with rounding
    v = m >> shift;
    rem = m & ((1u << shift) - 1);
    uint32_t halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (v & 1))) ++v;
    return uint16_t(sign | v);
  }
  uint32_t v = abs - 0x38000000u; // rebias exponent 127 → 15 (shifted by 13)
  uint32_t rem = v & 0x1fff;
  v >>= 13;
  if (rem > 0x1000 || (rem == 0x1000 && (v & 1))) ++v;
  return uint16_t(sign | v);
}

} // namespace slm
