// SlmQuantOps.td — slm's quantized ops, created by passes/quant (kernels in targets/common/kernels/quant.cc).
#ifndef SLM_QUANT_OPS
#define SLM_QUANT_OPS

include "SlmBase.td"

def Slm_MatMulWqOp : Slm_Op<"matmul_wq", [Pure, AttrSizedOperandSegments]> {
  let summary = "MatMul by a constant weight stored as int8 or int4 with group-wise scales";
  let description = [{
    `acc[..., n] = sum_k a[..., k] * scale[k / group, n] * (q[k, n] - zero[k / group, n])`, then
    the fused_matmul epilogue `y = act(acc + bias) * mul + residual` (each part optional).
    The weight `q` is `[K, N]` int8 for `bits` = 8, or `[K, 32 * ceil(N/64)]` ui8 for `bits` = 4:
    each block of 64 columns takes 32 bytes, byte j holding column j in its low nibble and column
    j + 32 in its high nibble (SIMD-friendly); codes are stored offset by 8, so 8 means zero. `scales` is `[ceil(K / group_size), N]` (f16 or f32);
    `group_size` = 0 means one group over all of K (per output channel). `zero_points`, when
    present, has the scales' shape (ui8 codes; symmetric schemes omit it).

    ```mlir
    %y = "slm.matmul_wq"(%x, %q, %s) {bits = 4 : i64, group_size = 32 : i64, k = 64 : i64, n = 256 : i64,
           operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0>} : (tensor<1x?x64xf32>, tensor<64x128xui8>, tensor<2x256xf16>) -> tensor<1x?x256xf32>
    ```
  }];
  let arguments = (ins TensorOf<[F32]>:$a, TensorOf<[I8, UI8]>:$weight, TensorOf<[F16, F32]>:$scales,
                   Optional<TensorOf<[UI8]>>:$zero_points, Optional<TensorOf<[F32]>>:$bias,
                   Optional<TensorOf<[F32]>>:$mul, Optional<TensorOf<[F32]>>:$residual, I64Attr:$bits,
                   I64Attr:$group_size, I64Attr:$k, I64Attr:$n, OptionalAttr<StrAttr>:$activation,
                   OptionalAttr<F32Attr>:$clip_min, OptionalAttr<F32Attr>:$clip_max);
  let results = (outs TensorOf<[F32]>:$output);
  let hasVerifier = 1;
}

def Slm_GatherWqOp : Slm_Op<"gather_wq", [Pure]> {
  let summary = "Row gather from a constant table stored as int8 or int4 with group-wise scales";
  let description = [{
    Embedding lookup: `y[..., d] = scale[i, d / group] * (q[i, d] - zero[i, d / group])` for each
    index `i` in `indices` (negative indices count from the end). The table `q` is `[V, D]` int8
    (`bits` = 8) or `[V, 32 * ceil(D/64)]` ui8 in matmul_wq's int4 block layout (`bits` = 4);
    `scales` is `[V, ceil(D / group_size)]`.
  }];
  let arguments = (ins TensorOf<[I8, UI8]>:$table, AnyTypeOf<[TensorOf<[I32]>, TensorOf<[I64]>]>:$indices,
                   TensorOf<[F16, F32]>:$scales, I64Attr:$bits, I64Attr:$group_size, I64Attr:$d);
  let results = (outs TensorOf<[F32]>:$output);
}

def Slm_QuantizeRowsOp : Slm_Op<"quantize_rows", [Pure]> {
  let summary = "Per-row (per-token) dynamic int8 quantization of activations for slm.matmul_a8";
  let description = [{
    For each row x of `input` [..., K]: `scale = max|x| / 127`, `q[k] = round_half_even(x[k] * (127 / max|x|))`
    for k < K and 0 for K <= k < `kp`; `sums[g] = sum of q over group g` (`kp / group_size` groups).
    With `group_scales` = 1 each group of the row is quantized on its own (its own max, `scale`
    [..., kp / group_size]), as ONNX Runtime's MatMulNBits (accuracy level 4) and llama.cpp's Q8
    blocks do: one outlier then coarsens only its group.
    One quantize_rows feeds every slm.matmul_a8 that reads the same activation with the same
    `kp` and `group_size` (Q/K/V, gate/up).

    ```mlir
    %q, %s, %sum = "slm.quantize_rows"(%x) {k = 64 : i64, kp = 64 : i64, group_size = 32 : i64}
        : (tensor<1x?x64xf32>) -> (tensor<1x?x64xi8>, tensor<1x?x1xf32>, tensor<1x?x2xi32>)
    ```
  }];
  let arguments = (ins TensorOf<[F32]>:$input, I64Attr:$k, I64Attr:$kp, I64Attr:$group_size,
                   OptionalAttr<I64Attr>:$group_scales);
  let results = (outs TensorOf<[I8]>:$q, TensorOf<[F32]>:$scale, TensorOf<[I32]>:$sums);
}

def Slm_MatMulA8Op : Slm_Op<"matmul_a8", [Pure, AttrSizedOperandSegments]> {
  let summary = "MatMul of per-row int8 activations by a constant int8/int4 weight, integer dot products";
  let description = [{
    `acc[m, n] = sum_g a_scale[m, g] * scale[g, n] * sum_{k in g} q[m, k] * w[k, n]` (`a_scale`
    [..., 1] is one scale for every group, [..., groups] one per group), then the
    fused_matmul epilogue `y = act(acc + bias) * mul + residual`. `q`, `a_scale`, `a_sums` come
    from slm.quantize_rows. The weight is packed for VNNI (vpdpbusd: u8 weight x s8 activation,
    4 products per 32-bit lane): columns in strips of 16 (N padded), one row per strip.
    `bits` = 8: for k-quad i, byte 64*i + 4*c + j = w[4i + j, 16s + c] + 128. `bits` = 4: for
    k-octet i, byte 64*i + 4*c + j holds w[8i + j] + 8 in its low nibble and w[8i + 4 + j] + 8 in
    its high nibble. The stored offset (128 or 8) times the group's activation sum `a_sums` is
    subtracted from each group's integer dot. `scales` is f16 [strips, groups * 16] (group-major
    within a strip); `group_size` is a multiple of 8 and `kp` (padded K) a multiple of it.

    ```mlir
    %y = "slm.matmul_a8"(%q, %s, %sum, %w, %ws) {bits = 4 : i64, group_size = 32 : i64, k = 64 : i64, kp = 64 : i64,
           n = 256 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 0, 0, 0>}
        : (tensor<1x?x64xi8>, tensor<1x?x1xf32>, tensor<1x?x2xi32>, tensor<16x512xui8>, tensor<16x32xf16>) -> tensor<1x?x256xf32>
    ```
  }];
  let arguments = (ins TensorOf<[I8]>:$q, TensorOf<[F32]>:$a_scale, TensorOf<[I32]>:$a_sums,
                   TensorOf<[UI8]>:$weight, TensorOf<[F16]>:$scales, Optional<TensorOf<[F32]>>:$bias,
                   Optional<TensorOf<[F32]>>:$mul, Optional<TensorOf<[F32]>>:$residual, I64Attr:$bits,
                   I64Attr:$group_size, I64Attr:$k, I64Attr:$kp, I64Attr:$n, OptionalAttr<StrAttr>:$activation,
                   OptionalAttr<F32Attr>:$clip_min, OptionalAttr<F32Attr>:$clip_max);
  let results = (outs TensorOf<[F32]>:$output);
  let hasVerifier = 1;
}

def Slm_MatMulA8SparseOp : Slm_Op<"matmul_a8_sparse", [Pure, AttrSizedOperandSegments]> {
  let summary = "slm.matmul_a8 with a masked-sparse weight: only the codes that are not the zero code are stored";
  let description = [{
    The product and epilogue of `slm.matmul_a8` (same `q`, `a_scale`, `a_sums`, `scales`,
    attributes) with the weight's 64-byte tiles (strip s, k-quad i) stored as a mask and the
    tile's bytes that are not the zero code (targets/common/sparse_s8.h): `masks` ui64
    [strips, kp / 4] (bit 4*c + j <=> w[4i + j, 16s + c] is not zero), `offsets` i64 [strips + 1]
    (strip s's bytes are values[offsets[s] .. offsets[s + 1])), `values` ui8 [nnz]. Codes are
    stored offset as in matmul_a8 (128 for `bits` = 8; 8 for `bits` = 4, one code per byte here),
    so the zero code is the offset. Created by slm-sparsify-a8 from a pruned matmul_a8.

    ```mlir
    %y = "slm.matmul_a8_sparse"(%q, %s, %sum, %v, %m, %o, %ws) {bits = 8 : i64, group_size = 64 : i64, k = 64 : i64,
           kp = 64 : i64, n = 16 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 1, 1, 0, 0, 0>}
        : (tensor<1x?x64xi8>, tensor<1x?x1xf32>, tensor<1x?x1xi32>, tensor<300xui8>, tensor<1x16xui64>,
           tensor<2xi64>, tensor<1x16xf16>) -> tensor<1x?x16xf32>
    ```
  }];
  let arguments = (ins TensorOf<[I8]>:$q, TensorOf<[F32]>:$a_scale, TensorOf<[I32]>:$a_sums,
                   TensorOf<[UI8]>:$values, TensorOf<[UI64]>:$masks, TensorOf<[I64]>:$offsets,
                   TensorOf<[F16]>:$scales, Optional<TensorOf<[F32]>>:$bias,
                   Optional<TensorOf<[F32]>>:$mul, Optional<TensorOf<[F32]>>:$residual, I64Attr:$bits,
                   I64Attr:$group_size, I64Attr:$k, I64Attr:$kp, I64Attr:$n, OptionalAttr<StrAttr>:$activation,
                   OptionalAttr<F32Attr>:$clip_min, OptionalAttr<F32Attr>:$clip_max);
  let results = (outs TensorOf<[F32]>:$output);
  let hasVerifier = 1;
}

def Slm_MatMulHwOp : Slm_Op<"matmul_hw", [Pure, AttrSizedOperandSegments]> {
  let summary = "MatMul by a constant weight stored in float16 or bfloat16 (widened to float32 in the kernel)";
  let description = [{
    `acc[..., n] = sum_k a[..., k] * float(w[k, n])` with `w` `[K, N]` f16 or bf16, then the
    fused_matmul epilogue `y = act(acc + bias) * mul + residual`. Halves the weight bytes with
    float arithmetic (`--quantize=fp16|bf16`).

    ```mlir
    %y = "slm.matmul_hw"(%x, %w) {k = 64 : i64, n = 256 : i64, operandSegmentSizes = array<i32: 1, 1, 0, 0, 0>}
        : (tensor<1x?x64xf32>, tensor<64x256xf16>) -> tensor<1x?x256xf32>
    ```
  }];
  let arguments = (ins TensorOf<[F32]>:$a, TensorOf<[F16, BF16]>:$weight, Optional<TensorOf<[F32]>>:$bias,
                   Optional<TensorOf<[F32]>>:$mul, Optional<TensorOf<[F32]>>:$residual, I64Attr:$k, I64Attr:$n,
                   OptionalAttr<StrAttr>:$activation, OptionalAttr<F32Attr>:$clip_min, OptionalAttr<F32Attr>:$clip_max);
  let results = (outs TensorOf<[F32]>:$output);
}

#endif // SLM_QUANT_OPS
