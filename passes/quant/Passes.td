// Passes.td — quantization passes on the slm dialect.
#ifndef SLM_QUANT_PASSES
#define SLM_QUANT_PASSES

include "mlir/Pass/PassBase.td"

def QuantizeWeights : Pass<"slm-quantize-weights", "mlir::ModuleOp"> {
  let summary = "Store constant matmul weights and embedding tables as int8/int4 with group scales";
  let description = [{
    Round-to-nearest weight-only quantization. A `slm.MatMul` or `slm.fused_matmul` whose weight
    is a constant float32 matrix becomes `slm.matmul_wq` (the epilogue carried over; a transposed
    weight is transposed at compile time); a `slm.Gather` over a constant float32 table on axis 0
    becomes `slm.gather_wq`. Groups run along K (matmul) or along the row (gather); scales are
    float16. Every candidate is recorded in the module's `slm.quant_report` with its shape,
    scheme, bytes before/after, or the reason it was skipped.

    Before:
    ```mlir
    %w = slm.constant dense<...> : tensor<64x256xf32> : tensor<64x256xf32>
    %y = "slm.MatMul"(%x, %w) : (tensor<1x?x64xf32>, tensor<64x256xf32>) -> tensor<1x?x256xf32>
    ```
    After (bits=4, group-size=32):
    ```mlir
    %q = slm.constant dense_resource<...> : tensor<64x128xui8> : tensor<64x128xui8>
    %s = slm.constant dense_resource<...> : tensor<2x256xf16> : tensor<2x256xf16>
    %y = "slm.matmul_wq"(%x, %q, %s) {bits = 4 : i64, group_size = 32 : i64, k = 64 : i64, n = 256 : i64,
           operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0>} : (...) -> tensor<1x?x256xf32>
    ```
    Layers whose name matches `keep-float` are left alone (and reported).

    With `act-bits=8` (w8a8, w4a8) a matmul instead becomes `slm.matmul_a8` on a VNNI-packed
    weight, fed by one `slm.quantize_rows` per distinct activation (shared by Q/K/V, gate/up):
    ```mlir
    %q, %s, %sum = "slm.quantize_rows"(%x) {group_size = 32 : i64, k = 64 : i64, kp = 64 : i64} : ...
    %y = "slm.matmul_a8"(%q, %s, %sum, %w, %ws) {bits = 4 : i64, ...} : ... -> tensor<1x?x256xf32>
    ```
  }];
  let options = [
    Option<"bits", "bits", "int64_t", "4", "Bits per weight: 8 or 4">,
    Option<"groupSize", "group-size", "int64_t", "32", "Group size along K (0: one group per output channel)">,
    Option<"symmetric", "symmetric", "bool", "true", "Symmetric (no zero point) or asymmetric groups">,
    Option<"keepFloat", "keep-float", "std::string", "\"\"", "Regex of layer names to leave in float">,
    Option<"embeddings", "embeddings", "bool", "true", "Also quantize Gather tables (embeddings)">,
    Option<"storage", "storage", "std::string", "\"\"",
           "f16 or bf16: store matmul weights in half precision (slm.matmul_hw) instead of integer codes">,
    Option<"actBits", "act-bits", "int64_t", "0",
           "0: weight-only (slm.matmul_wq); 8: per-row int8 activations (slm.quantize_rows + slm.matmul_a8, symmetric weights)">,
    Option<"actGroupScales", "act-group-scales", "bool", "true",
           "With act-bits=8: one activation scale per row and weight group (quantize_rows group_scales) instead of per row">
  ];
  let dependentDialects = ["::slmc::slm::SlmDialect"];
}

def FuseQdq : Pass<"slm-fuse-qdq", "mlir::func::FuncOp"> {
  let summary = "Rewrite QDQ islands (DequantizeLinear → Conv/MatMul → QuantizeLinear) into QLinearConv/QLinearMatMul";
  let description = [{
    Models quantized by other tools in QDQ form keep the float op between DequantizeLinear and
    QuantizeLinear; this pass turns such an island into the integer op so it runs in int8.
    The activation scale/zero point must be constant and per tensor; weight scales may be per
    output channel (Conv axis 0, MatMul axis 1). A Conv bias is either DequantizeLinear of an
    int32 constant with scale x_scale * w_scale and zero point 0, or a float constant quantized
    here to int32 with that scale. A Relu between the op and QuantizeLinear is dropped when the
    output zero point is the type's minimum (the clamp does the same). MaxPool of a
    DequantizeLinear output becomes DequantizeLinear of an integer MaxPool (max commutes with a
    positive scale), so a later Conv can read the DequantizeLinear. A QuantizeLinear of a
    DequantizeLinear with the same constant per-tensor scale and zero point is dropped (the
    integer tensor passes through). Anything else (run-time scales, an intermediate with another
    consumer, a bias Add after MatMul) is left alone.

    Before:
    ```mlir
    %x = "slm.DequantizeLinear"(%xq, %xs, %xz) : (...) -> tensor<1x3x8x8xf32>
    %w = "slm.DequantizeLinear"(%wq, %ws, %wz) {axis = 0 : i64} : (...) -> tensor<4x3x3x3xf32>
    %c = "slm.Conv"(%x, %w, %b) {pads = [1, 1, 1, 1]} : (...) -> tensor<1x4x8x8xf32>
    %y = "slm.QuantizeLinear"(%c, %ys, %yz) : (...) -> tensor<1x4x8x8xui8>
    ```
    After:
    ```mlir
    %bq = slm.constant dense<...> : tensor<4xi32> : tensor<4xi32>
    %y = "slm.QLinearConv"(%xq, %xs, %xz, %wq, %ws, %wz, %ys, %yz, %bq) {pads = [1, 1, 1, 1]}
           : (...) -> tensor<1x4x8x8xui8>
    ```
  }];
  let dependentDialects = ["::slmc::slm::SlmDialect"];
}

def QuantizeStatic : Pass<"slm-quantize-static", "mlir::func::FuncOp"> {
  let summary = "Static int8: Conv (and Conv + Relu) with calibrated activation ranges into QDQ form";
  let description = [{
    `slmc compile --quantize=int8 --calibration-data DIR` runs the float model on the calibration
    sets, records each candidate's input and output ranges as `slm.range_x` / `slm.range_y`
    (`[min, max]`), then runs this pass, `slm-fuse-qdq` and `slm-fold`. A `slm.Conv` or a
    `slm.fused_conv` with a Relu (or a Clip from 0, ReLU6: its range is capped at the clip) whose
    weight is a float32 constant becomes
    QuantizeLinear → DequantizeLinear (uint8, per tensor, from the range widened to include 0) →
    Conv on DequantizeLinear of int8 weights (symmetric, per output channel) → Relu →
    QuantizeLinear → DequantizeLinear; `slm-fuse-qdq` then makes each island one `QLinearConv`
    (the Relu becomes the output clamp: the range starts at 0) and a DequantizeLinear that feeds
    a QuantizeLinear with the same scale and zero point disappears. A value's scale and zero
    point depend only on its range, so a Conv feeding a Conv hands over uint8 directly.

    Before:
    ```mlir
    %y = "slm.fused_conv"(%x, %w, %b) {activation = "relu", pads = [1, 1, 1, 1],
           slm.range_x = [-1.0, 1.0], slm.range_y = [0.0, 6.0]} : (...) -> tensor<1x4x8x8xf32>
    ```
    After (this pass):
    ```mlir
    %xq = "slm.QuantizeLinear"(%x, %sx, %zx)   %xd = "slm.DequantizeLinear"(%xq, %sx, %zx)
    %wd = "slm.DequantizeLinear"(%wq, %sw, %zw) {axis = 0 : i64}
    %c = "slm.Conv"(%xd, %wd, %b) {pads = [1, 1, 1, 1]}   %r = "slm.Relu"(%c)
    %yq = "slm.QuantizeLinear"(%r, %sy, %zy)   %y = "slm.DequantizeLinear"(%yq, %sy, %zy)
    ```
    Left alone (stay float): ops without ranges, other activations (sigmoid, tanh, a Clip not
    starting at 0), a weight that is not a constant.
  }];
  let dependentDialects = ["::slmc::slm::SlmDialect"];
}

#endif // SLM_QUANT_PASSES
