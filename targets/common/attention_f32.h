/* attention_f32.h — the per-row contract of slm.attention's ISA kernels.
 *
 * One query row of one head: out[0:d] = softmax(scale * q · k_j for j < t) · v_j, with k_j = k + j*d
 * and v_j = v + j*d (the cache rows of the query's KV head; q already rotated). t >= 0; t == 0 writes
 * zeros. d <= 512. Freestanding: no allocation (stack scratch only), no OS calls, reentrant. Each
 * ISA declares `slm_attention_row_f32__<isa>` in its kernels header; the driver in
 * targets/common (run_attention_rows) fills the caches and splits rows over threads.
 */
#ifndef SLM_ATTENTION_F32_H_
#define SLM_ATTENTION_F32_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct slm_attention_row_args {
  const float *q;
  const float *k, *v;
  int64_t t, d;
  float scale;
  float *out;
} slm_attention_row_args_t;

typedef void (*slm_attention_row_fn)(const slm_attention_row_args_t *args);

#ifdef __cplusplus
} /* extern "C" */

#include "ref_kernel.h"

namespace slm {
// slm.attention with rows computed by `row` (the reference row when null): shape checks, the KV
// cache append (in place or concat) and the parallel loop over (batch, head, query) rows.
int run_attention_rows(KernelContext *ctx, slm_attention_row_fn row);
int infer_attention_ref(KernelContext *ctx);
template <slm_attention_row_fn Row> int run_attention_on(KernelContext *ctx) { return run_attention_rows(ctx, Row); }
} // namespace slm
#endif

#endif /* SLM_ATTENTION_F32_H_ */
