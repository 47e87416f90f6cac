// Per-row int8 activation quantization shared by slm.quantize_rows' reference kernel and the tests.
#pragma once

#include <algorithm>
#include <cstdint>

namespace slm {

// One row x[0, k) → q[0, kp) (zeros past k), *scale = max|x| / 127, sums[g] = sum of q over
// [g * group, (g + 1) * group) for g < kp / group. q[i] = round-half-even(x[i] * (127 / max|x|)),
// the multiplier rounded to float first, so SIMD kernels that do the same produce the same bytes.
void quantize_row_s8(const float *x, int64_t k, int64_t kp, int64_t group, int8_t *q, float *scale, int32_t *sums);

// quantize_rows with `group_scales`: each group of `group` columns is quantized by `row_fn` (a
// quantize_row_s8 with the same contract) as a row of its own, so scales[g] = max|x over g| / 127
// (0 for a group wholly past k). Same bytes whichever row_fn, since each matches the reference.
template <class RowFn>
void quantize_row_groups_s8(RowFn row_fn, const float *x, int64_t k, int64_t kp, int64_t group, int8_t *q,
                            float *scales, int32_t *sums) {
  for (int64_t g = 0; g < kp / group; ++g) {
    int64_t k0 = g * group, live = std::clamp<int64_t>(k - k0, 0, group);
    row_fn(live > 0 ? x + k0 : x, live, group, group, q + k0, scales + g, sums + g);
  }
}

} // namespace slm
