// Round-to-nearest group quantization (symmetric Q4_0-style or asymmetric min/max) and code packing.
#include "passes/quant/WeightQuantizer.h"

#include "kernel_util.h"

#include <algorithm>
#include <cmath>

namespace slmc {
namespace {

struct GroupParams {
  float scale = 0;
  int zero = 0;   // stored zero point (asymmetric), in [0, 2^bits)
  int offset = 0; // code = q - offset, so int4 codes are in [-8, 7]
};

float roundedHalf(float v) { return ::slm::half_to_float(::slm::float_to_half(v)); }

// Scale and zero point of one group; values x[i * stride] for i < len.
GroupParams groupParams(const float *x, int64_t len, int64_t stride, const QuantScheme &s) {
  GroupParams p;
  int qmax = (1 << s.bits) - 1;
  if (s.symmetric) {
    float peak = 0; // the value of largest magnitude, with its sign
    for (int64_t i = 0; i < len; ++i)
      if (std::fabs(x[i * stride]) > std::fabs(peak)) peak = x[i * stride];
    // int4: map the peak to -8 (the full range, as Q4_0 does); int8: +-127.
    p.scale = roundedHalf(s.bits == 4 ? peak / -8.0f : std::fabs(peak) / 127.0f);
    return p;
  }
  float lo = 0, hi = 0;
  for (int64_t i = 0; i < len; ++i) {
    lo = std::min(lo, x[i * stride]);
    hi = std::max(hi, x[i * stride]);
  }
  p.scale = roundedHalf((hi - lo) / float(qmax));
  p.zero = p.scale > 0 ? std::clamp(int(std::lround(-lo / p.scale)), 0, qmax) : 0;
  p.offset = s.bits == 4 ? 8 : 128;
  return p;
}

int codeOf(float x, const GroupParams &p, const QuantScheme &s) {
  if (p.scale == 0) return 0;
  int q = int(std::lround(x / p.scale));
  if (s.symmetric) return s.bits == 4 ? std::clamp(q, -8, 7) : std::clamp(q, -127, 127);
  return std::clamp(q + p.zero, 0, (1 << s.bits) - 1) - p.offset;
}

float dequant(int code, const GroupParams &p) { return p.scale * float(code - (p.zero - p.offset)); }

// int4 layout: columns in blocks of 64 share 32 bytes; byte j of a block holds column j in its
// low nibble and column j + 32 in its high nibble, so SIMD kernels unpack 32 contiguous columns
// from each half without shuffles.
void storeCode(uint8_t *row, int64_t col, int code, int bits) {
  if (bits == 8) {
    row[col] = uint8_t(int8_t(code));
    return;
  }
  uint8_t nib = uint8_t(code + 8) & 15;
  int64_t j = col % 64, byte = col / 64 * 32 + j % 32;
  row[byte] = j >= 32 ? uint8_t((row[byte] & 15) | (nib << 4)) : uint8_t((row[byte] & 0xf0) | nib);
}

int64_t packedCols(int64_t cols, int bits) { return bits == 8 ? cols : (cols + 63) / 64 * 32; }

} // namespace

void fakeQuantizeForMatMul(const float *w, int64_t k, int64_t n, const QuantScheme &s, float *out) {
  int64_t group = s.groupSize > 0 ? s.groupSize : std::max<int64_t>(k, 1);
  for (int64_t k0 = 0; k0 < k; k0 += group) {
    int64_t len = std::min(group, k - k0);
    for (int64_t c = 0; c < n; ++c) {
      GroupParams p = groupParams(w + k0 * n + c, len, n, s);
      for (int64_t r = k0; r < k0 + len; ++r) out[r * n + c] = dequant(codeOf(w[r * n + c], p, s), p);
    }
  }
}

bool inverseCholeskyUpper(std::vector<double> h, int64_t k, std::vector<double> *u) {
  // h = L L^T
  for (int64_t j = 0; j < k; ++j) {
    double d = h[size_t(j * k + j)];
    for (int64_t p = 0; p < j; ++p) d -= h[size_t(j * k + p)] * h[size_t(j * k + p)];
    if (!(d > 0)) return false;
    d = std::sqrt(d);
    h[size_t(j * k + j)] = d;
    for (int64_t i = j + 1; i < k; ++i) {
      double v = h[size_t(i * k + j)];
      for (int64_t p = 0; p < j; ++p) v -= h[size_t(i * k + p)] * h[size_t(j * k + p)];
      h[size_t(i * k + j)] = v / d;
    }
  }
  // M = L^-1 (lower), then h^-1 = M^T M
  std::vector<double> m(size_t(k * k), 0.0);
  for (int64_t i = 0; i < k; ++i) {
    m[size_t(i * k + i)] = 1.0 / h[size_t(i * k + i)];
    for (int64_t j = 0; j < i; ++j) {
      double v = 0;
      for (int64_t p = j; p < i; ++p) v += h[size_t(i * k + p)] * m[size_t(p * k + j)];
      m[size_t(i * k + j)] = -v / h[size_t(i * k + i)];
    }
  }
  std::vector<double> inv(size_t(k * k), 0.0);
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j <= i; ++j) {
      double v = 0;
      for (int64_t p = i; p < k; ++p) v += m[size_t(p * k + i)] * m[size_t(p * k + j)];
      inv[size_t(i * k + j)] = inv[size_t(j * k + i)] = v;
    }
  // inv = C C^T (C lower) ; GPTQ wants the upper factor U = C^T... of the form inv = U^T U, i.e. the
  // Cholesky of inv taken from the last index down so U is upper: compute C lower of the reversed matrix.
  // Equivalent and simpler: U = chol_upper(inv) with inv = U^T U (standard upper Cholesky).
  u->assign(size_t(k * k), 0.0);
  for (int64_t i = 0; i < k; ++i) {
    double d = inv[size_t(i * k + i)];
    for (int64_t p = 0; p < i; ++p) d -= (*u)[size_t(p * k + i)] * (*u)[size_t(p * k + i)];
    if (!(d > 0)) return false;
    d = std::sqrt(d);
    (*u)[size_t(i * k + i)] = d;
    for (int64_t j = i + 1; j < k; ++j) {
      double v = inv[size_t(i * k + j)];
      for (int64_t p = 0; p < i; ++p) v -= (*u)[size_t(p * k + i)] * (*u)[size_t(p * k + j)];
      (*u)[size_t(i * k + j)] = v / d;
    }
  }
  return true;
}

void gptqQuantizeForMatMul(float *w, int64_t k, int64_t n, const QuantScheme &s, const std::vector<double> &u) {
  int64_t group = s.groupSize > 0 ? s.groupSize : std::max<int64_t>(k, 1);
  std::vector<GroupParams> params(static_cast<size_t>(n));
  // Row of each column's group peak, which keeps the extreme code (-8, or +-127): the scale that
  // round-to-nearest later derives from the rounded group is then the one used here, so it
  // re-encodes these values exactly.
  std::vector<int64_t> peakRow(static_cast<size_t>(n));
  std::vector<int> peakCode(static_cast<size_t>(n));
  std::vector<double> err(static_cast<size_t>(n));
  for (int64_t r = 0; r < k; ++r) {
    if (r % group == 0) {
      int64_t len = std::min(group, k - r);
      for (int64_t c = 0; c < n; ++c) {
        params[size_t(c)] = groupParams(w + r * n + c, len, n, s);
        int64_t best = r;
        for (int64_t i = r; i < r + len; ++i)
          if (std::fabs(w[i * n + c]) > std::fabs(w[best * n + c])) best = i;
        peakRow[size_t(c)] = best;
        peakCode[size_t(c)] = codeOf(w[best * n + c], params[size_t(c)], s);
      }
    }
    double d = u[size_t(r * k + r)];
    for (int64_t c = 0; c < n; ++c) {
      int code = r == peakRow[size_t(c)] ? peakCode[size_t(c)] : codeOf(w[r * n + c], params[size_t(c)], s);
      float q = dequant(code, params[size_t(c)]);
      err[size_t(c)] = (double(w[r * n + c]) - q) / d;
      w[r * n + c] = q;
    }
    for (int64_t j = r + 1; j < k; ++j) {
      double f = u[size_t(r * k + j)];
      if (f == 0) continue;
      float *row = w + j * n;
      for (int64_t c = 0; c < n; ++c) row[c] -= float(f * err[size_t(c)]);
    }
  }
}

QuantizedMatrix quantizeForMatMul(const float *w, int64_t k, int64_t n, const QuantScheme &s) {
  QuantizedMatrix m;
  int64_t group = s.groupSize > 0 ? s.groupSize : std::max<int64_t>(k, 1);
  int64_t groups = (k + group - 1) / group;
  m.rows = k;
  m.cols = packedCols(n, s.bits);
  m.scaleRows = groups;
  m.scaleCols = n;
  m.codes.assign(size_t(m.rows * m.cols), 0);
  m.scales.assign(size_t(groups * n), 0);
  if (!s.symmetric) m.zeros.assign(size_t(groups * n), 0);
  for (int64_t g = 0; g < groups; ++g) {
    int64_t k0 = g * group, len = std::min(group, k - k0);
    for (int64_t c = 0; c < n; ++c) {
      GroupParams p = groupParams(w + k0 * n + c, len, n, s);
      m.scales[size_t(g * n + c)] = ::slm::float_to_half(p.scale);
      if (!s.symmetric) m.zeros[size_t(g * n + c)] = uint8_t(p.zero);
      for (int64_t r = k0; r < k0 + len; ++r) {
        int code = codeOf(w[r * n + c], p, s);
        storeCode(m.codes.data() + r * m.cols, c, code, s.bits);
        m.track(w[r * n + c], dequant(code, p));
      }
    }
  }
  return m;
}

QuantizedMatrix quantizeForGather(const float *t, int64_t v, int64_t d, const QuantScheme &s) {
  QuantizedMatrix m;
  int64_t group = s.groupSize > 0 ? s.groupSize : std::max<int64_t>(d, 1);
  int64_t groups = (d + group - 1) / group;
  m.rows = v;
  m.cols = packedCols(d, s.bits);
  m.scaleRows = v;
  m.scaleCols = groups;
  m.codes.assign(size_t(m.rows * m.cols), 0);
  m.scales.assign(size_t(v * groups), 0);
  for (int64_t r = 0; r < v; ++r)
    for (int64_t g = 0; g < groups; ++g) {
      int64_t c0 = g * group, len = std::min(group, d - c0);
      QuantScheme sym = s;
      sym.symmetric = true; // gather_wq has no zero points
      GroupParams p = groupParams(t + r * d + c0, len, 1, sym);
      m.scales[size_t(r * groups + g)] = ::slm::float_to_half(p.scale);
      for (int64_t c = c0; c < c0 + len; ++c) {
        int code = codeOf(t[r * d + c], p, sym);
        storeCode(m.codes.data() + r * m.cols, c, code, s.bits);
        m.track(t[r * d + c], dequant(code, p));
      }
    }
  return m;
}

void a8Geometry(int64_t k, int64_t groupSize, int64_t *paddedK, int64_t *kernelGroup) {
  // Groups are whole multiples of 8 rows so int4 octets (and int8 quads) never straddle one.
  int64_t group = groupSize > 0 ? groupSize : std::max<int64_t>((k + 7) / 8 * 8, 8);
  *kernelGroup = group;
  *paddedK = (k + group - 1) / group * group;
}

QuantizedMatrix quantizeForMatMulA8(const float *w, int64_t k, int64_t n, const QuantScheme &s, int64_t *paddedK,
                                    int64_t *kernelGroup) {
  int64_t kp, group;
  a8Geometry(k, s.groupSize, &kp, &group);
  *paddedK = kp;
  *kernelGroup = group;
  QuantScheme sym = s;
  sym.symmetric = true;
  int64_t groups = kp / group, strips = (n + 15) / 16;
  QuantizedMatrix m;
  m.rows = strips;
  m.cols = s.bits == 8 ? kp * 16 : kp * 8;
  m.scaleRows = strips;
  m.scaleCols = groups * 16;
  // Stored codes are unsigned (code + 128, or code + 8 per nibble) so the u8 operand of vpdpbusd
  // is the weight; padding rows/columns hold the stored zero.
  m.codes.assign(size_t(m.rows * m.cols), s.bits == 8 ? 128 : 0x88);
  m.scales.assign(size_t(strips * groups * 16), 0);
  for (int64_t g = 0; g * group < k; ++g) {
    int64_t k0 = g * group, len = std::min(group, k - k0);
    for (int64_t c = 0; c < n; ++c) {
      GroupParams p = groupParams(w + k0 * n + c, len, n, sym);
      int64_t strip = c / 16, lane = c % 16;
      m.scales[size_t((strip * groups + g) * 16 + lane)] = ::slm::float_to_half(p.scale);
      uint8_t *base = m.codes.data() + strip * m.cols;
      for (int64_t r = k0; r < k0 + len; ++r) {
        int code = codeOf(w[r * n + c], p, sym);
        m.track(w[r * n + c], dequant(code, p));
        if (s.bits == 8) {
          base[(r / 4) * 64 + lane * 4 + r % 4] = uint8_t(code + 128);
        } else {
          // Octet r/8: byte lane*4 + r%4 holds row r%8 < 4 in its low nibble, row r%8 >= 4 in its high.
          uint8_t &byte = base[(r / 8) * 64 + lane * 4 + r % 4];
          uint8_t nib = uint8_t(code + 8);
          byte = r % 8 < 4 ? uint8_t((byte & 0xf0) | nib) : uint8_t((byte & 0x0f) | (nib << 4));
        }
      }
    }
  }
  return m;
}


QuantizedMatrix quantizePerChannelInt8(const float *w, int64_t m, int64_t per, std::vector<float> *channelScales) {
  QuantizedMatrix q;
  q.rows = m;
  q.cols = per;
  q.codes.resize(size_t(m * per));
  channelScales->assign(size_t(m), 1.0f);
  for (int64_t o = 0; o < m; ++o) {
    float amax = 0.0f;
    for (int64_t i = 0; i < per; ++i) amax = std::max(amax, std::fabs(w[o * per + i]));
    float s = amax > 0 ? amax / 127.0f : 1.0f;
    (*channelScales)[size_t(o)] = s;
    for (int64_t i = 0; i < per; ++i) {
      long c = std::clamp(std::lround(w[o * per + i] / s), -127L, 127L);
      q.codes[size_t(o * per + i)] = uint8_t(int8_t(c));
      q.track(w[o * per + i], float(c) * s);
    }
  }
  return q;
}

} // namespace slmc
