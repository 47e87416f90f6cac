// Per-row int8 activation quantization shared by slm.quantize_rows' reference kernel and the tests.
#pragma once

#include <cstdint>

namespace slm {

// One row x[0, k) → q[0, kp) (zeros past k), *scale = max|x| / 127, sums[g] = sum of q over
// [g * group, (g + 1) * group) for g < kp / group. q[i] = round-half-even(x[i] * (127 / max|x|)),
// the multiplier rounded to float first, so SIMD kernels that do the same produce the same bytes.
void quantize_row_s8(const float *x, int64_t k, int64_t kp, int64_t group, int8_t *q, float *scale, int32_t *sums);

} // namespace slm
