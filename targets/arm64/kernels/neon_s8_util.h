/* neon_s8_util.h — baseline-NEON helpers the arm64 slm.matmul_a8 microkernels share (static inline, so
 * each kernel file compiles them with its own -march). */
#ifndef SLM_ARM64_NEON_S8_UTIL_H_
#define SLM_ARM64_NEON_S8_UTIL_H_

#include <arm_neon.h>
#include <stdint.h>

/* Four consecutive activation bytes repeated over 16 lanes (every 32-bit lane), the pattern of one
 * 4-column x 4-k weight vector of the strip layout. */
static inline int8x16_t slm_bcast4_s8(const int8_t *p) {
  int32_t v;
  __builtin_memcpy(&v, p, 4);
  return vreinterpretq_s8_s32(vdupq_n_s32(v));
}

/* Four float16 scales widened to float32. */
static inline float32x4_t slm_load_f16x4(const uint16_t *p) {
  return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)));
}

#endif /* SLM_ARM64_NEON_S8_UTIL_H_ */
