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
  }];
  let options = [
    Option<"bits", "bits", "int64_t", "4", "Bits per weight: 8 or 4">,
    Option<"groupSize", "group-size", "int64_t", "32", "Group size along K (0: one group per output channel)">,
    Option<"symmetric", "symmetric", "bool", "true", "Symmetric (no zero point) or asymmetric groups">,
    Option<"keepFloat", "keep-float", "std::string", "\"\"", "Regex of layer names to leave in float">,
    Option<"embeddings", "embeddings", "bool", "true", "Also quantize Gather tables (embeddings)">
  ];
  let dependentDialects = ["::slmc::slm::SlmDialect"];
}

#endif // SLM_QUANT_PASSES
