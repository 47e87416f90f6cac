// Passes.td — fusion passes: exporter subgraphs → slm's fused ops (kernels in targets/common/kernels/fused.cc).
#ifndef SLM_FUSION_PASSES
#define SLM_FUSION_PASSES

include "mlir/Pass/PassBase.td"

def FuseNorm : Pass<"slm-fuse-norm", "mlir::func::FuncOp"> {
  let summary = "Fuse RMSNorm and LayerNorm decompositions into slm.rms_norm and LayerNormalization";
  let description = [{
    Matches `x * 1/sqrt(mean(x^2, -1) + eps) * w` as exporters write it (x^2 as Mul(x, x) or
    Pow(x, 2); 1/s as Div(1, s), Reciprocal(s) or x / s) with a constant `w` of the last dim's
    size and every intermediate used once.

    Before:
    ```mlir
    %sq = "slm.Mul"(%x, %x)
    %m = "slm.ReduceMean"(%sq) {axes_attr = [-1], keepdims = 1}
    %a = "slm.Add"(%m, %eps)
    %s = "slm.Sqrt"(%a)
    %r = "slm.Div"(%one, %s)
    %n = "slm.Mul"(%x, %r)
    %y = "slm.Mul"(%n, %w)
    ```
    After:
    ```mlir
    %y = "slm.rms_norm"(%x, %w) {epsilon = 1.0e-06 : f32}
    ```
    The same graph over a centred input, `d = x - mean(x, -1)`, is LayerNorm as exporters
    before opset 17 write it (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul, Add); it
    becomes one LayerNormalization over the last axis, taking in a following Add of a constant
    bias:
    ```mlir
    %m = "slm.ReduceMean"(%x) {axes_attr = [-1], keepdims = 1}
    %d = "slm.Sub"(%x, %m)
    %sq = "slm.Pow"(%d, %two)   ...   %n = "slm.Div"(%d, %s)
    %g = "slm.Mul"(%n, %w)
    %y = "slm.Add"(%g, %b)
    ```
    After:
    ```mlir
    %y = "slm.LayerNormalization"(%x, %w, %b) {axis = -1, epsilon = 1.0e-05 : f32}
    ```
    Left alone: a mean over another axis, a non-constant or wrongly sized weight, an
    intermediate with another user (for LayerNorm also the centred `d` or the first mean).
  }];
  let dependentDialects = ["::slmc::slm::SlmDialect"];
}

def FuseRope : Pass<"slm-fuse-rope", "mlir::func::FuncOp"> {
  let summary = "Fuse rotate-half rotary embeddings into slm.rope";
  let description = [{
    Before:
    ```mlir
    %c = "slm.Mul"(%x, %cos)
    %lo = "slm.Slice"(%x, [0], [D/2], [-1])
    %hi = "slm.Slice"(%x, [D/2], [D], [-1])
    %n = "slm.Neg"(%hi)
    %r = "slm.Concat"(%n, %lo) {axis = -1}
    %s = "slm.Mul"(%r, %sin)
    %y = "slm.Add"(%c, %s)
    ```
    After:
    ```mlir
    %y = "slm.rope"(%x, %cos, %sin)
    ```
    Left alone: slices on another axis or not at D/2, a concat on another axis, intermediates
    with other users, cos/sin that do not end in D.
  }];
  let dependentDialects = ["::slmc::slm::SlmDialect"];
}

def FuseAttention : Pass<"slm-fuse-attention", "mlir::func::FuncOp"> {
  let summary = "Fuse scaled dot-product attention (with KV concat, GQA repeat, RoPE) into slm.attention";
  let description = [{
    From the projections' packed outputs `[B, S, H*D]` to the packed attention output:
    head split (Reshape + Transpose [0,2,1,3], target dims checked to be the input's own B and S),
    optional slm.rope on q and k with the same cos/sin, KV concat with the past on axis 2,
    grouped KV heads through Unsqueeze/Expand/Reshape, Q·Transpose(K, [0,1,3,2]), scale (Mul or
    Div by a constant), an optional causal mask (Where(Greater(Range(0, T), Range(P, T)), fill,
    s) with fill <= -1e9), Softmax on the last axis, ·V, and the head merge
    (Transpose [0,2,1,3] + Reshape to `[B, S, H*D]`).

    Before (one head branch shown):
    ```mlir
    %q4 = "slm.Reshape"(%q, %shape)      %qh = "slm.Transpose"(%q4) {perm = [0, 2, 1, 3]}
    %pk = "slm.Concat"(%past_k, %kh) {axis = 2}
    %kt = "slm.Transpose"(%pk) {perm = [0, 1, 3, 2]}
    %s = "slm.MatMul"(%qh, %kt)   %ss = "slm.Mul"(%s, %scale)
    %p = "slm.Softmax"(%ss) {axis = -1}   %o = "slm.MatMul"(%p, %pv)
    %ot = "slm.Transpose"(%o) {perm = [0, 2, 1, 3]}   %y = "slm.Reshape"(%ot, %shape3)
    ```
    After:
    ```mlir
    %y, %pk, %pv = "slm.attention"(%q, %k, %v, %past_k, %past_v)
        {num_heads = 4, kv_num_heads = 2, scale = 0.25 : f32, causal = 0}
    ```
    Left alone: a Softmax on another axis, an intermediate with another user (e.g. the
    probabilities returned), a mask that is not provably causal, q and k rotated with
    different tables.
  }];
  let dependentDialects = ["::slmc::slm::SlmDialect"];
}

def KvCacheState : Pass<"slm-kv-cache-state", "mlir::func::FuncOp"> {
  let summary = "Turn the past/present KV graph inputs/outputs of slm.attention into session state appended in place";
  let description = [{
    For every slm.attention whose `past_key`/`past_value` are function arguments used only by
    it (and by Shape ops, which read the current length) and whose present results are only
    returned: each past argument becomes an `slm.kv_cache` state tensor (named after the
    input, same dim names), the attention gets `kv_in_place`, and the past arguments and
    present results leave the signature. Shape users are moved before any attention so they
    read the length before this run's append. All of the function's attentions convert or
    none does (a model half in state and half in inputs would be hard to drive).

    Before:
    ```mlir
    func.func @main(%q: ..., %past_k: tensor<1x2x?x8xf32> {slm.name = "past.k"}, %past_v: ...)
        -> (tensor<1x?x32xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>) {
      %n = "slm.Shape"(%past_k)
      %y, %pk, %pv = "slm.attention"(%q, %k, %v, %past_k, %past_v) {...}
      return %y, %pk, %pv
    }
    ```
    After:
    ```mlir
    func.func @main(%q: ...) -> tensor<1x?x32xf32> {
      %ck = "slm.kv_cache"() {name = "past.k", dims = ["", "", "past", ""]}
      %cv = "slm.kv_cache"() {name = "past.v", dims = ["", "", "past", ""]}
      %n = "slm.Shape"(%ck)
      %y, %pk, %pv = "slm.attention"(%q, %k, %v, %ck, %cv) {kv_in_place, ...}
      return %y
    }
    ```
    Left alone: a past input with another user (e.g. a Concat the attention did not absorb),
    a present result that is used by an op rather than only returned, an attention without a
    past. Runs only with `slmc compile --kv-cache=state`.
  }];
  let dependentDialects = ["::slmc::slm::SlmDialect"];
}

def FuseMatMul : Pass<"slm-fuse-matmul", "mlir::func::FuncOp"> {
  let summary = "MatMul/Gemm with constant weights + bias + activation + multiplier + residual → slm.fused_matmul";
  let description = [{
    MatMul with a constant rank-2 weight and Gemm (alpha = beta = 1, no transA, bias of N
    elements) become slm.fused_matmul; then, one at a time while each intermediate has one
    user: a constant bias Add, an activation (Relu, Sigmoid, Tanh, Clip with constant bounds,
    Gelu, x*Sigmoid(x) = SiLU, the erf and tanh GELU formulas), a Mul by a same-shaped
    tensor (SwiGLU: silu(x·Wg) * (x·Wu)) and a residual Add of a same-shaped tensor.

    Before:
    ```mlir
    %m = "slm.MatMul"(%x, %w)   %b = "slm.Add"(%m, %bias)   %y = "slm.Relu"(%b)
    %r = "slm.Add"(%h, %y)
    ```
    After:
    ```mlir
    %r = "slm.fused_matmul"(%x, %w, %bias, %h) {activation = "relu"}
    ```
    Left alone: a non-constant or batched weight, a bias that is not N elements, an
    intermediate with another user, a residual whose dims may broadcast.
  }];
  let dependentDialects = ["::slmc::slm::SlmDialect"];
}

def FuseConv : Pass<"slm-fuse-conv", "mlir::func::FuncOp"> {
  let summary = "Fold BatchNormalization into Conv weights; fuse Conv + activation into slm.fused_conv";
  let description = [{
    An inference BatchNormalization whose input is a single-use Conv with constant weights
    (and bias), with constant scale/B/mean/var, becomes that Conv with new constants
    `W' = W * f`, `B' = (B - mean) * f + beta`, `f = scale / sqrt(var + eps)` per output channel.
    A Relu, Sigmoid, Tanh or Clip (constant bounds) of a single-use float Conv becomes
    slm.fused_conv with the Conv's attributes and an `activation`.

    Before:
    ```mlir
    %c = "slm.Conv"(%x, %w, %b) {pads = [1, 1, 1, 1]}
    %n = "slm.BatchNormalization"(%c, %scale, %beta, %mean, %var) {epsilon = 1.0e-05 : f32}
    %y = "slm.Relu"(%n)
    ```
    After:
    ```mlir
    %y = "slm.fused_conv"(%x, %w2, %b2) {activation = "relu", pads = [1, 1, 1, 1]}
    ```
    Left alone: a Conv output with another user, BatchNormalization in training mode or with
    run-time parameters, a Clip with run-time bounds, a Conv fed by DequantizeLinear (a QDQ
    island, kept whole for the quantization passes).
  }];
  let dependentDialects = ["::slmc::slm::SlmDialect"];
}

def FuseElementwise : Pass<"slm-fuse-elementwise", "mlir::func::FuncOp"> {
  let summary = "Fuse chains of float32 elementwise ops with constant operands into slm.elementwise";
  let description = [{
    A chain is a maximal sequence of float32 ops, each intermediate with exactly one user, of
    the unary Relu, Sigmoid, Tanh, Exp, Neg, Abs, Sqrt, Cos, Sin, Erf and the binary Add, Sub,
    Mul, Div whose other operand is a constant scalar (any shape of one element) or a constant
    vector over the last axis (`[C]` or `[1, ..., 1, C]`), on either side. Chains of two or more
    steps, and a single Sigmoid, Tanh, Exp, Cos, Sin or Erf, become one slm.elementwise (one
    pass over memory; a generated kernel with --codegen). Vector constants become `[C]`
    operands, equal ones shared; scalars move into the `scalars` attribute.

    Before:
    ```mlir
    %m = "slm.Mul"(%x, %a)        // %a: tensor<8xf32>
    %b = "slm.Add"(%m, %bias)     // %bias: tensor<1x8xf32>
    %s = "slm.Sigmoid"(%b)
    %y = "slm.Sub"(%half, %s)     // %half: tensor<f32> = 0.5
    ```
    After:
    ```mlir
    %y = "slm.elementwise"(%x, %a, %bias8) {steps = ["Mul", "Add", "Sigmoid", "Sub"],
           args = [1, 2, 0, -1], scalars = [0.0, 0.0, 0.0, 0.5], reversed = [0, 0, 0, 1]}
    ```
    Left alone: an intermediate with another user (the chain ends before its user), a
    non-constant second operand, a constant that broadcasts over another axis, other dtypes,
    a lone Relu/Neg/Abs/Sqrt or binary step.
  }];
  let dependentDialects = ["::slmc::slm::SlmDialect"];
}

#endif // SLM_FUSION_PASSES
