// SlmOps.td — slm's own ops (hand-written); the ONNX mirrors are generated into OnnxOps.td.
#ifndef SLM_OPS
#define SLM_OPS

include "SlmBase.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"

def Slm_ConstantOp : Slm_Op<"constant", [ConstantLike, Pure]> {
  let summary = "A constant tensor (an ONNX initializer or Constant node)";
  let description = [{
    Holds weights and other constant tensors. Large initializers use dense resource
    attributes so their bytes are not copied into the context.

    ```mlir
    %w = slm.constant dense<[1.0, 2.0]> : tensor<2xf32> : tensor<2xf32>
    ```
  }];
  let arguments = (ins ElementsAttr:$value, OptionalAttr<StrAttr>:$name);
  let results = (outs AnyTensor:$output);
  let assemblyFormat = "$value attr-dict `:` type($output)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

// ---- Fused ops created by the passes in passes/fusion (kernels in targets/common/kernels/fused.cc).

def Slm_FusedMatMulOp : Slm_Op<"fused_matmul", [Pure, AttrSizedOperandSegments]> {
  let summary = "MatMul with bias, activation, multiplier and residual epilogue";
  let description = [{
    `y = act(a @ b' + bias) * mul + residual`, with `b'` = `b` (or its transpose when
    `trans_b` = 1). `a` is `[..., M, K]`, `b` a rank-2 `[K, N]` (`[N, K]` transposed), `bias`
    has N elements, `mul` and `residual` have the output's shape. `activation` is one of
    "" (none), "relu", "gelu_erf", "gelu_tanh", "silu", "sigmoid", "tanh", "clip" (with
    `clip_min`/`clip_max`).

    ```mlir
    %y = "slm.fused_matmul"(%x, %w, %b) {activation = "relu",
           operandSegmentSizes = array<i32: 1, 1, 1, 0, 0>} : (...) -> tensor<?x8xf32>
    ```
  }];
  let arguments = (ins AnyTensor:$a, AnyTensor:$b, Optional<AnyTensor>:$bias,
                   Optional<AnyTensor>:$mul, Optional<AnyTensor>:$residual,
                   OptionalAttr<StrAttr>:$activation, OptionalAttr<F32Attr>:$clip_min,
                   OptionalAttr<F32Attr>:$clip_max, OptionalAttr<I64Attr>:$trans_b);
  let results = (outs AnyTensor:$output);
}

def Slm_MatMulSp24Op : Slm_Op<"matmul_sp24", [Pure, AttrSizedOperandSegments]> {
  let summary = "MatMul by a constant 2:4 semi-structured sparse float32 weight, zeros skipped";
  let description = [{
    `y = act(a @ W + bias) * mul + residual` (the fused_matmul epilogue) where `W` [K, N] has two
    nonzeros in every group of four consecutive k of a column (`--prune=2:4`). The weight is
    stored as the kept `values` [ceil(N/64), kp/4 * 128] f32 and their positions `indices`
    [ceil(N/64), kp/4 * 64] ui8 (kp = K rounded up to 16), in 64-column panels; the layout is
    specified in targets/common/sp24_f32.h. Half the weight bytes plus one eighth for the
    indices, half the multiply-adds.

    ```mlir
    %y = "slm.matmul_sp24"(%x, %v, %i) {k = 64 : i64, n = 256 : i64,
           operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0>}
        : (tensor<1x?x64xf32>, tensor<4x2048xf32>, tensor<4x1024xui8>) -> tensor<1x?x256xf32>
    ```
  }];
  let arguments = (ins TensorOf<[F32]>:$a, TensorOf<[F32]>:$values, TensorOf<[UI8]>:$indices,
                   Optional<TensorOf<[F32]>>:$bias, Optional<TensorOf<[F32]>>:$mul,
                   Optional<TensorOf<[F32]>>:$residual, I64Attr:$k, I64Attr:$n,
                   OptionalAttr<StrAttr>:$activation, OptionalAttr<F32Attr>:$clip_min,
                   OptionalAttr<F32Attr>:$clip_max);
  let results = (outs TensorOf<[F32]>:$output);
  let hasVerifier = 1;
}

def Slm_MatMulSparseOp : Slm_Op<"matmul_sparse", [Pure, AttrSizedOperandSegments]> {
  let summary = "MatMul by a constant unstructured sparse float32 weight, stored masked";
  let description = [{
    `y = act(a @ W + bias) * mul + residual` (the fused_matmul epilogue) where `W` [K, N] has any
    pattern of zeros (`--prune=magnitude:S`). Stored in 64-column panels: `masks`
    [ceil(N/64), K*4] ui16 (per k and 16-column block, which columns are nonzero), the nonzeros
    `values` [nnz] f32 in mask order and each panel's first value `offsets` [ceil(N/64) + 1] i64;
    the layout is specified in targets/common/sparse_f32.h. (1 - S) of the weight bytes plus one
    thirty-second for the masks.

    ```mlir
    %y = "slm.matmul_sparse"(%x, %v, %m, %o) {k = 64 : i64, n = 128 : i64,
           operandSegmentSizes = array<i32: 1, 1, 1, 1, 0, 0, 0>}
        : (tensor<1x?x64xf32>, tensor<2458xf32>, tensor<2x256xui16>, tensor<3xi64>) -> tensor<1x?x128xf32>
    ```
  }];
  let arguments = (ins TensorOf<[F32]>:$a, TensorOf<[F32]>:$values, TensorOf<[UI16]>:$masks,
                   TensorOf<[I64]>:$offsets, Optional<TensorOf<[F32]>>:$bias, Optional<TensorOf<[F32]>>:$mul,
                   Optional<TensorOf<[F32]>>:$residual, I64Attr:$k, I64Attr:$n,
                   OptionalAttr<StrAttr>:$activation, OptionalAttr<F32Attr>:$clip_min,
                   OptionalAttr<F32Attr>:$clip_max);
  let results = (outs TensorOf<[F32]>:$output);
  let hasVerifier = 1;
}

def Slm_RmsNormOp : Slm_Op<"rms_norm", [Pure]> {
  let summary = "RMS normalization over the last axis";
  let description = [{
    `y = x / sqrt(mean(x^2, axis=-1) + epsilon) * scale`; `scale` has the last dim's size.
  }];
  let arguments = (ins AnyTensor:$x, AnyTensor:$scale, F32Attr:$epsilon);
  let results = (outs AnyTensor:$output);
}

def Slm_ElementwiseOp : Slm_Op<"elementwise", [Pure]> {
  let summary = "A chain of float32 elementwise steps on one tensor, with constant scalars and last-axis vectors";
  let description = [{
    `y = step_n(... step_1(x))`, created by slm-fuse-elementwise. Step i is `steps[i]`, one of
    the unary "Relu", "Sigmoid", "Tanh", "Exp", "Neg", "Abs", "Sqrt", "Cos", "Sin", "Erf" or the
    binary "Add", "Sub", "Mul", "Div" (ONNX semantics). A binary step's constant is
    `scalars[i]` when `args[i]` = -1, else operand `args[i]` (>= 1), a float32 vector with one
    value per element of the last axis; `reversed[i]` = 1 puts the constant on the left
    (`c - x`, `c / x`). Unary steps have `args[i]` = 0. Every operand after `x` is used by some
    step; `x` and `y` are float32 of one shape.

    ```mlir
    %y = "slm.elementwise"(%x, %a, %b) {steps = ["Mul", "Add", "Sigmoid", "Mul"],
           args = [1, 2, 0, -1], scalars = [0.0 : f32, 0.0 : f32, 0.0 : f32, 0.5 : f32],
           reversed = [0, 0, 0, 0]} : (tensor<?x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
    ```
  }];
  let arguments = (ins TensorOf<[F32]>:$x, Variadic<TensorOf<[F32]>>:$params, StrArrayAttr:$steps,
                   I64ArrayAttr:$args, F32ArrayAttr:$scalars, I64ArrayAttr:$reversed);
  let results = (outs TensorOf<[F32]>:$output);
  let hasVerifier = 1;
}

def Slm_RopeOp : Slm_Op<"rope", [Pure]> {
  let summary = "Rotary position embedding, rotate-half form";
  let description = [{
    `y = x * cos + rotate_half(x) * sin` with `rotate_half(x) = concat(-x[..., D/2:], x[..., :D/2])`
    over the last axis (D even); `cos` and `sin` broadcast to `x` (numpy rules).
  }];
  let arguments = (ins AnyTensor:$x, AnyTensor:$cos, AnyTensor:$sin);
  let results = (outs AnyTensor:$output);
}

def Slm_AttentionOp : Slm_Op<"attention", [Pure, AttrSizedOperandSegments]> {
  let summary = "Multi-head / grouped-query attention with KV-cache concat and optional RoPE";
  let description = [{
    `q` `[B, S, num_heads*D]`, `k`/`v` `[B, S, kv_num_heads*D]` (heads packed, as the
    projections write them), `past_key`/`past_value` `[B, kv_num_heads, P, D]`, `cos`/`sin`
    (optional, S*D or B*S*D elements) rotate q and the new k (rotate-half RoPE).
    `present_key`/`present_value` = concat(past, new) on axis 2 (`[B, kv_num_heads, P+S, D]`);
    `output` `[B, S, num_heads*D]` = softmax(scale * q·kᵀ [+ causal mask]) · v, query head h
    reading kv head h / (num_heads / kv_num_heads). With `causal` = 1, query i sees keys
    j <= P + i.

    With `kv_in_place` (set by slm-kv-cache-state), `past_key`/`past_value` are `slm.kv_cache`
    session state: the kernel appends the new rows to them in place (no concat copy) and the
    present results are those same caches, P + S positions long; nothing may use them.
  }];
  let arguments = (ins AnyTensor:$q, AnyTensor:$k, AnyTensor:$v, Optional<AnyTensor>:$past_key,
                   Optional<AnyTensor>:$past_value, Optional<AnyTensor>:$cos,
                   Optional<AnyTensor>:$sin, I64Attr:$num_heads, I64Attr:$kv_num_heads,
                   F32Attr:$scale, I64Attr:$causal, UnitAttr:$kv_in_place);
  let results = (outs AnyTensor:$output, AnyTensor:$present_key, AnyTensor:$present_value);
  let hasVerifier = 1;
}

def Slm_KvCacheOp : Slm_Op<"kv_cache", []> {
  let summary = "An attention KV cache kept as session state";
  let description = [{
    The cache's current content `[B, kv_heads, P, D]` (f32): the runtime allocates it per
    session at its bound (the bound of the `past` dim is its capacity in positions), starts it
    at P = 0, and `slm.attention` ops with `kv_in_place` append to it. `name` is the graph
    input it replaces, `dims` that input's symbolic dim names ("" for static dims). Not pure:
    two caches with the same attributes are still two caches.

    ```mlir
    %k0 = "slm.kv_cache"() {name = "past_key_values.0.key", dims = ["batch", "", "past", ""]}
          : () -> tensor<?x2x?x16xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, StrArrayAttr:$dims);
  let results = (outs AnyTensor:$cache);
  let hasVerifier = 1;
}

def Slm_FusedConvOp : Slm_Op<"fused_conv", [Pure]> {
  let summary = "ONNX Conv followed by an activation";
  let description = [{
    `y = act(Conv(X, W, B))`: the Conv operands and attributes are ONNX Conv's; `activation`
    is one of "relu", "sigmoid", "tanh", "clip" (with `clip_min`/`clip_max`).
  }];
  let arguments = (ins AnyTensor:$X, AnyTensor:$W, Optional<AnyTensor>:$B,
                   OptionalAttr<StrAttr>:$auto_pad, OptionalAttr<I64ArrayAttr>:$dilations,
                   OptionalAttr<I64Attr>:$group, OptionalAttr<I64ArrayAttr>:$kernel_shape,
                   OptionalAttr<I64ArrayAttr>:$pads, OptionalAttr<I64ArrayAttr>:$strides,
                   StrAttr:$activation, OptionalAttr<F32Attr>:$clip_min, OptionalAttr<F32Attr>:$clip_max);
  let results = (outs AnyTensor:$Y);
}

#endif // SLM_OPS
