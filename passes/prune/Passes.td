// Passes.td — structured pruning passes on the slm dialect.
#ifndef SLM_PRUNE_PASSES
#define SLM_PRUNE_PASSES

include "mlir/Pass/PassBase.td"

def PruneFfn : Pass<"slm-prune-ffn", "mlir::ModuleOp"> {
  let summary = "Remove the least important FFN intermediate channels (gate/up columns and down rows together)";
  let description = [{
    A feed-forward block after fusion is `up = fused_matmul(x, Wu, mul = gate)` (SwiGLU, with
    `gate = fused_matmul(x, Wg, activation)`) or `up = fused_matmul(x, Wu, bias, activation)`
    (GELU MLP), followed by `down = fused_matmul(up, Wd, ...)`. Every epilogue of gate and up is
    per channel, so dropping intermediate channel c means dropping column c of Wg and Wu (and
    their biases) and row c of Wd: the matrices really shrink and the block computes the same
    function minus that channel's contribution.

    Channel importance: with `slm.act_sq` on the down projection (calibration, E[h_c^2] of the
    intermediate activation) it is E[h_c^2] * |Wd[c,:]|^2, the expected squared contribution of
    the channel to the output; otherwise |Wg[:,c]| * |Wu[:,c]| * |Wd[c,:]| (weight magnitude).
    The kept count is rounded up to a multiple of 16 (the microkernels' column block) when the
    block has at least 64 channels. With `bias-correction` and `slm.act_mean`, the mean
    contribution of the removed channels, sum_c E[h_c] * Wd[c,:], is folded into the down
    projection's bias. Intermediates with other users, multipliers that are not a constant-weight
    projection and residuals on gate/up are near misses: left alone and reported as skipped.

    Before (fraction = 0.5):
    ```mlir
    %g = "slm.fused_matmul"(%x, %wg) {activation = "silu"} : (tensor<1x?x8xf32>, tensor<8x4xf32>) -> tensor<1x?x4xf32>
    %u = "slm.fused_matmul"(%x, %wu, %g) : (tensor<1x?x8xf32>, tensor<8x4xf32>, tensor<1x?x4xf32>) -> tensor<1x?x4xf32>
    %y = "slm.fused_matmul"(%u, %wd, %x) : (tensor<1x?x4xf32>, tensor<4x8xf32>, tensor<1x?x8xf32>) -> tensor<1x?x8xf32>
    ```
    After:
    ```mlir
    %g = "slm.fused_matmul"(%x, %wg2) {activation = "silu"} : (tensor<1x?x8xf32>, tensor<8x2xf32>) -> tensor<1x?x2xf32>
    %u = "slm.fused_matmul"(%x, %wu2, %g) : (tensor<1x?x8xf32>, tensor<8x2xf32>, tensor<1x?x2xf32>) -> tensor<1x?x2xf32>
    %y = "slm.fused_matmul"(%u, %wd2, %x) : (tensor<1x?x2xf32>, tensor<2x8xf32>, tensor<1x?x8xf32>) -> tensor<1x?x8xf32>
    ```
    Each block is recorded in the module's `slm.prune_report`.
  }];
  let options = [
    Option<"fraction", "fraction", "double", "0.25", "Fraction of intermediate channels to remove (0..1)">,
    Option<"biasCorrection", "bias-correction", "bool", "false",
           "Fold the removed channels' mean contribution into the down projection's bias (needs slm.act_mean)">
  ];
  let dependentDialects = ["::slmc::slm::SlmDialect"];
}

def PruneHeads : Pass<"slm-prune-heads", "mlir::ModuleOp"> {
  let summary = "Remove the least important attention heads (Q/K/V columns, O rows, head counts, KV cache shape)";
  let description = [{
    An `slm.attention` whose q, k and v are constant-weight `slm.fused_matmul` projections and
    whose output feeds one constant-weight output projection loses whole heads: the Q columns
    and O rows of a removed query head, and the K/V columns of a removed KV head, go away and
    `num_heads`/`kv_num_heads` shrink (head_dim, scale and the RoPE tables stay). The grouping
    stays valid: either whole KV groups are removed (a KV head with all query heads that read
    it; the KV cache inputs/outputs lose that head, so the function signature changes) or the
    same number of query heads is removed from every group (the KV cache keeps its shape),
    whichever comes closer to `fraction` of the query heads; ties remove whole groups, which
    also shrinks K, V and the cache.

    Head importance: `slm.head_loss` on the output projection when present (calibration: the
    loss the model's output suffers when the head or its KV group is masked out); else with
    `slm.act_sq` (calibration) the sum over the head's channels of E[o_c^2] * |Wo[c,:]|^2;
    otherwise |Wv[:, kv(h)]| * |Wo[h,:]| (the value path sets the size of a head's output). A group scores the sum of its query heads. Past
    KV inputs must be function arguments read only by this attention (and Shape ops), presents
    must go only to the return; anything else is a near miss, left alone and reported.

    Before (fraction = 0.5, 2 heads, 2 KV heads, head_dim 2):
    ```mlir
    %o, %pk, %pv = "slm.attention"(%q, %k, %v, %past_k, %past_v) {num_heads = 2, kv_num_heads = 2, ...}
        : (tensor<1x?x4xf32>, tensor<1x?x4xf32>, tensor<1x?x4xf32>, tensor<1x2x?x2xf32>, tensor<1x2x?x2xf32>)
        -> (tensor<1x?x4xf32>, tensor<1x2x?x2xf32>, tensor<1x2x?x2xf32>)
    ```
    After (Q/K/V weights 4x2, O weight 2x4, function arguments and results follow):
    ```mlir
    %o, %pk, %pv = "slm.attention"(%q, %k, %v, %past_k, %past_v) {num_heads = 1, kv_num_heads = 1, ...}
        : (tensor<1x?x2xf32>, tensor<1x?x2xf32>, tensor<1x?x2xf32>, tensor<1x1x?x2xf32>, tensor<1x1x?x2xf32>)
        -> (tensor<1x?x2xf32>, tensor<1x1x?x2xf32>, tensor<1x1x?x2xf32>)
    ```
    Each attention is recorded in the module's `slm.prune_report`.
  }];
  let options = [
    Option<"fraction", "fraction", "double", "0.25", "Fraction of query heads to remove (0..1)">,
    Option<"biasCorrection", "bias-correction", "bool", "false",
           "Fold the removed heads' mean contribution into the output projection's bias (needs slm.act_mean)">
  ];
  let dependentDialects = ["::slmc::slm::SlmDialect"];
}

def Prune24 : Pass<"slm-prune-24", "mlir::ModuleOp"> {
  let summary = "2:4 semi-structured sparsity: keep two of every four weights along K, run as slm.matmul_sp24";
  let description = [{
    Every `slm.fused_matmul` with a constant float32 weight keeps, in each column, the two largest
    |w| of every four consecutive weights along K and becomes `slm.matmul_sp24` (same operands and
    epilogue; values + 2-bit positions in 64-column panels, half the multiply-adds). With
    `slm.sp24_compensated` (set by `slmc compile --calibration-data`, which has already pruned the
    weight to 2:4 with SparseGPT-style error compensation) the two nonzeros of each group are
    what magnitude keeps, and the report names the method.

    Left dense and reported: a matmul whose result is a function result (an LM head: its error
    lands directly on the logits), one whose weight is not a constant float32 matrix, one with
    K < 16, and one whose 2:4 form would not be smaller (N padded to the 64-column panel).

    Before / after:
    ```mlir
    %y = "slm.fused_matmul"(%x, %w) : (tensor<1x?x64xf32>, tensor<64x256xf32>) -> tensor<1x?x256xf32>
    %y = "slm.matmul_sp24"(%x, %v, %i) {k = 64 : i64, n = 256 : i64, ...} : (...) -> tensor<1x?x256xf32>
    ```
    Each matmul is recorded in the module's `slm.prune_report` (kind "2:4").
  }];
  let options = [
    Option<"pack", "pack", "bool", "true",
           "Pack into slm.matmul_sp24; false only zeroes the weights (a quantizer follows and stores them)">
  ];
  let dependentDialects = ["::slmc::slm::SlmDialect"];
}

def PruneMagnitude : Pass<"slm-prune-magnitude", "mlir::ModuleOp"> {
  let summary = "Unstructured sparsity: zero the smallest weights, run as slm.matmul_sparse where that pays";
  let description = [{
    Every `slm.fused_matmul` with a constant float32 weight loses, in each output column, the
    round(sparsity * K) weights of smallest |w|. With `slm.sparse_compensated` (set by
    `slmc compile --calibration-data`, which has already pruned the weight with SparseGPT-style
    error compensation) its zeros are taken as they are.

    With `pack`, a weight becomes `slm.matmul_sparse` (targets/common/sparse_f32.h: per k and
    16 columns a bitmask, the nonzeros compressed) when its zeros are at least `min-sparsity` of
    it and the masked form is smaller than dense; otherwise it stays a dense fused_matmul with
    the zeros in it, and the report says it was not worth it. Without `pack` (a quantizer
    follows, and slm-sparsify-a8 decides) only the zeros are written.

    Left alone and reported: a matmul whose result is a function result (an LM head) and one
    whose weight is not a constant float32 matrix.

    Before / after:
    ```mlir
    %y = "slm.fused_matmul"(%x, %w) : (tensor<1x?x64xf32>, tensor<64x128xf32>) -> tensor<1x?x128xf32>
    %y = "slm.matmul_sparse"(%x, %v, %m, %o) {k = 64 : i64, n = 128 : i64, ...} : (...) -> tensor<1x?x128xf32>
    ```
    Each matmul is recorded in the module's `slm.prune_report` (kind "magnitude").
  }];
  let options = [
    Option<"sparsity", "sparsity", "double", "0.5", "Fraction of each column's weights to zero (0..1)">,
    Option<"pack", "pack", "bool", "true", "Store as slm.matmul_sparse where that pays">,
    Option<"minSparsity", "min-sparsity", "double", "0.5",
           "Below this fraction of zeros the masked form does not pay (benchmarks/kernels/sparse_gemv_bench: "
           "decode gains from 0.3, prefill loses below 0.7): stay dense">
  ];
  let dependentDialects = ["::slmc::slm::SlmDialect"];
}

def SparsifyA8 : Pass<"slm-sparsify-a8", "mlir::ModuleOp"> {
  let summary = "Store a pruned slm.matmul_a8 weight as mask + nonzero codes (slm.matmul_a8_sparse)";
  let description = [{
    Every `slm.matmul_a8` with a constant weight has its zero codes counted (a pruned fp32
    weight quantizes its zeros to the zero code exactly: 128 for int8, 8 for int4). When the
    masked-sparse form of targets/common/sparse_s8.h (one uint64 mask per 64-byte tile, the
    other codes a byte each, int64 strip offsets) takes at most `max-ratio` (0.8) times the dense
    weight bytes, the op becomes `slm.matmul_a8_sparse` with the same activations, scales,
    epilogue and attributes. At 0.8 that takes about 32.5% zero codes for int8 and 72.5% for int4
    (whose dense codes are nibbles, while the sparse form stores bytes). Otherwise it is left
    dense, and the reason recorded.

    Before / after:
    ```mlir
    %y = "slm.matmul_a8"(%q, %s, %sum, %w, %ws) {bits = 8 : i64, ...} : (..., tensor<1x1024xui8>, tensor<1x16xf16>) -> tensor<1x?x16xf32>
    %y = "slm.matmul_a8_sparse"(%q, %s, %sum, %v, %m, %o, %ws) {bits = 8 : i64, ...}
        : (..., tensor<300xui8>, tensor<1x16xui64>, tensor<2xi64>, tensor<1x16xf16>) -> tensor<1x?x16xf32>
    ```
    Each matmul is recorded in the module's `slm.prune_report` (kind "sparse-a8": bytes before
    and after, or skipped with the reason).
  }];
  let options = [
    Option<"maxRatio", "max-ratio", "double", "0.8",
           "Convert only when the sparse form takes at most this fraction of the dense weight bytes">
  ];
  let dependentDialects = ["::slmc::slm::SlmDialect"];
}

#endif // SLM_PRUNE_PASSES
