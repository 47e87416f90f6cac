/* slm_kernel_abi.h — how the runtime calls the generated kernels in an artifact's code segment (freestanding C).
 *
 * The code segment is a position-independent ELF shared object for the artifact's target
 * (Target.triple, built for Target.cpu and Target.required_features) with no undefined symbols
 * and no DT_NEEDED entries: kernels call nothing, allocate nothing and keep no state, so any
 * number of threads may run them at once. The runtime maps it (memfd + dlopen on Linux) and
 * resolves each op's Op.code_symbol; ops whose kernel key starts with "gen." run that way.
 *
 * Versioning: Target.kernel_abi_version in the artifact must equal SLM_KERNEL_ABI_VERSION of the
 * runtime; a runtime refuses other versions. Nothing below changes within a version: any change to a
 * struct, a signature or the symbol naming bumps SLM_KERNEL_ABI_VERSION.
 */
#ifndef SLM_KERNEL_ABI_H_
#define SLM_KERNEL_ABI_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SLM_KERNEL_ABI_VERSION 1u

/* Prefix of every kernel's exported C entry point: the symbol in Op.code_symbol is the kernel's
 * name, the entry point is SLM_KERNEL_ABI_PREFIX + name (MLIR's C interface wrapper). */
#define SLM_KERNEL_ABI_PREFIX "_mlir_ciface_"

/* A 2-D float32 view of rows (MLIR's ranked memref descriptor, rank 2). Element [r][c] lives at
 * aligned[offset + r * strides[0] + c * strides[1]]. */
typedef struct slm_kabi_view2d_f32 {
  float *allocated;   /* base of the allocation; kernels never read it (set it equal to aligned) */
  float *aligned;     /* base the offset counts from */
  int64_t offset;     /* elements from aligned to element [0][0] */
  int64_t sizes[2];   /* rows, columns; rows may be 0 */
  int64_t strides[2]; /* elements between rows (>= columns for distinct rows), between columns (must be 1) */
} slm_kabi_view2d_f32_t;

/* A 1-D float32 view (rank-1 memref descriptor): element [c] at aligned[offset + c * strides[0]]. */
typedef struct slm_kabi_view1d_f32 {
  float *allocated;   /* as above */
  float *aligned;     /* as above */
  int64_t offset;     /* elements from aligned to element [0] */
  int64_t sizes[1];   /* length */
  int64_t strides[1]; /* must be 1 */
} slm_kabi_view1d_f32_t;

/* Every ABI-1 kernel is row-wise: it reads row r of x (and the per-column parameter vectors p, q)
 * and writes row r of y, for every row of the views, independently of the other rows. So the
 * executor splits the rows among its threads and passes each thread views of its rows only. y and x
 * have the same sizes; they may be the same memory (in place) but not overlap otherwise. p and q have
 * one element per column, or length 0 when the kernel has no such parameter: rms_norm p = scale;
 * layer_norm p = scale, q = bias (length 0 without one); softmax neither; elementwise (slm.elementwise)
 * p = the op's input 1, q = its input 2 (length 0 when it has fewer), so only chains with at most two
 * constant vectors get one. Attributes (epsilon; an elementwise op's steps and scalar constants) are
 * compiled into the kernel. */
typedef void (*slm_kabi_rowwise_fn)(slm_kabi_view2d_f32_t *y, slm_kabi_view2d_f32_t *x, slm_kabi_view1d_f32_t *p,
                                    slm_kabi_view1d_f32_t *q);

#ifdef __cplusplus
}
#endif

#endif /* SLM_KERNEL_ABI_H_ */
