// Round-to-nearest group quantization of float matrices into the matmul_wq / gather_wq layouts.
#pragma once

#include <cstdint>
#include <algorithm>
#include <cmath>
#include <vector>

namespace slmc {

struct QuantScheme {
  int bits = 4;           // 8 or 4
  int64_t groupSize = 32; // along the reduction axis; 0: the whole axis
  bool symmetric = true;
};

struct QuantizedMatrix {
  std::vector<uint8_t> codes;     // packed codes (int8, or two offset-by-8 nibbles per byte)
  std::vector<uint16_t> scales;   // float16 bits
  std::vector<uint8_t> zeros;     // stored zero points (asymmetric only)
  int64_t rows = 0, cols = 0;     // shape of the packed code matrix
  int64_t scaleRows = 0, scaleCols = 0;
  double maxAbsError = 0;         // largest |w - dequant(q)| over the matrix
  double errSq = 0, refSq = 0;    // sums of (w - dequant(q))^2 and w^2

  void track(float w, float dq) {
    double d = double(w) - dq;
    maxAbsError = std::max(maxAbsError, std::fabs(d));
    errSq += d * d;
    refSq += double(w) * w;
  }
  // ||w - dequant(q)|| / ||w|| over the matrix.
  double relRmsError() const { return refSq > 0 ? std::sqrt(errSq / refSq) : std::sqrt(errSq); }
};

// Weight w[K, N] (row-major) for y = x @ w: groups along K per column; codes [K, packed N],
// scales [groups, N].
QuantizedMatrix quantizeForMatMul(const float *w, int64_t k, int64_t n, const QuantScheme &scheme);

// Table t[V, D] (row-major) for row lookups: groups along D per row; codes [V, packed D],
// scales [V, groups].
QuantizedMatrix quantizeForGather(const float *t, int64_t v, int64_t d, const QuantScheme &scheme);

// Weight w[K, N] for slm.matmul_a8 (int8 activations, integer dot products): codes in the
// VNNI strip layout of quantizeForMatMulA8's description in SlmQuantOps.td. Symmetric only.
// rows = ceil(N / 16) strips, cols = bytes per strip; scaleRows = strips, scaleCols = groups * 16.
// `paddedK` and `kernelGroup` receive Kp and the group the kernel runs with (per channel: Kp).
QuantizedMatrix quantizeForMatMulA8(const float *w, int64_t k, int64_t n, const QuantScheme &scheme,
                                    int64_t *paddedK, int64_t *kernelGroup);

// Kp and the kernel group for K and a --group-size (0: per channel); both multiples of 8.
void a8Geometry(int64_t k, int64_t groupSize, int64_t *paddedK, int64_t *kernelGroup);

// What quantizeForMatMul's codes dequantize to, without packing: out[K, N] = dequant(q(w)) with
// the same groups and rounding (for searching scales, e.g. activation-aware scaling).
void fakeQuantizeForMatMul(const float *w, int64_t k, int64_t n, const QuantScheme &scheme, float *out);

// Upper Cholesky factor U of the inverse of the symmetric positive definite h (k x k, row-major):
// h^-1 = U^T U. false when h is not positive definite. (What GPTQ and SparseGPT-style pruning push
// each row's error through, with h = X^T X of calibration inputs.)
bool inverseCholeskyUpper(std::vector<double> h, int64_t k, std::vector<double> *u);

// Error-compensating rounding (GPTQ) of w[K, N] for y = x @ w, in place: the rows (input
// channels) are rounded one at a time with the same groups, parameters and codes as
// quantizeForMatMul, and each row's rounding error is pushed onto the rows not yet rounded
// through `u`, the upper Cholesky factor of the inverse of H = X^T X (K x K, row-major) of
// calibration inputs X. Each group's peak keeps its extreme code, so on return w holds values that
// quantizeForMatMul encodes exactly (same scales, same codes). Symmetric schemes only.
void gptqQuantizeForMatMul(float *w, int64_t k, int64_t n, const QuantScheme &scheme, const std::vector<double> &u);

// Static int8 Conv weights w[M, ...] (M output channels, `per` values each): symmetric per
// output channel, codes in [-127, 127] (one int8 per value, rows = M, cols = per), float32 scales
// max|w| / 127 (1 for an all-zero channel) in `channelScales`; the error is tracked.
QuantizedMatrix quantizePerChannelInt8(const float *w, int64_t m, int64_t per, std::vector<float> *channelScales);

} // namespace slmc
