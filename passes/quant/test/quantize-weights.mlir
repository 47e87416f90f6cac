// RUN: slmc-opt --split-input-file --slm-quantize-weights="bits=4 group-size=32" %s | FileCheck %s
// RUN: slmc-opt --split-input-file --slm-quantize-weights="bits=8 group-size=0" %s | FileCheck %s --check-prefix=W8
// RUN: slmc-opt --split-input-file --slm-quantize-weights="bits=4 keep-float=down" %s | FileCheck %s --check-prefix=KEEP

// CHECK: slm.quant_report = [{{.*}}layer = "up_proj"{{.*}}scheme = "w4", shape = [64, 128]
// CHECK-LABEL: func @matmul
// CHECK-DAG: %[[Q:.*]] = slm.constant {{.*}} : tensor<64x64xui8>
// CHECK-DAG: %[[S:.*]] = slm.constant {{.*}} : tensor<2x128xf16>
// CHECK: "slm.matmul_wq"(%arg0, %[[Q]], %[[S]]) <{bits = 4 : i64, group_size = 32 : i64, k = 64 : i64, n = 128 : i64
// CHECK-NOT: slm.MatMul
// W8-LABEL: func @matmul
// W8: slm.constant {{.*}} : tensor<64x128xi8>
// W8: slm.constant {{.*}} : tensor<1x128xf16>
// W8: "slm.matmul_wq"{{.*}}bits = 8 : i64, group_size = 0 : i64
// KEEP-LABEL: func @matmul
// KEEP: "slm.matmul_wq"
func.func @matmul(%arg0: tensor<1x?x64xf32>) -> tensor<1x?x128xf32> {
  %w = slm.constant dense<0.5> : tensor<64x128xf32> : tensor<64x128xf32>
  %0 = "slm.MatMul"(%arg0, %w) {slm.node = "up_proj"} : (tensor<1x?x64xf32>, tensor<64x128xf32>) -> tensor<1x?x128xf32>
  return %0 : tensor<1x?x128xf32>
}

// -----

// Near miss: a matrix too narrow to shrink (int4 packs 64 columns per block) stays float, reported.
// CHECK: slm.quant_report = [{{.*}}skipped = "the quantized form would not be smaller"
// CHECK-LABEL: func @narrow
// CHECK: "slm.MatMul"
func.func @narrow(%arg0: tensor<2x64xf32>) -> tensor<2x8xf32> {
  %w = slm.constant dense<0.5> : tensor<64x8xf32> : tensor<64x8xf32>
  %0 = "slm.MatMul"(%arg0, %w) : (tensor<2x64xf32>, tensor<64x8xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

// Near miss: the weight is computed at run time, so the MatMul stays.
// CHECK-LABEL: func @dynamic_weight
// CHECK: "slm.MatMul"
// CHECK-NOT: slm.matmul_wq
func.func @dynamic_weight(%arg0: tensor<2x64xf32>, %arg1: tensor<64x8xf32>) -> tensor<2x8xf32> {
  %0 = "slm.MatMul"(%arg0, %arg1) : (tensor<2x64xf32>, tensor<64x8xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

// --keep-float leaves matching layers alone.
// CHECK-LABEL: func @kept
// CHECK: "slm.matmul_wq"
// KEEP-LABEL: func @kept
// KEEP: "slm.MatMul"
// KEEP-NOT: slm.matmul_wq
func.func @kept(%arg0: tensor<2x64xf32>) -> tensor<2x128xf32> {
  %w = slm.constant dense<0.25> : tensor<64x128xf32> : tensor<64x128xf32>
  %0 = "slm.MatMul"(%arg0, %w) {slm.node = "down_proj"} : (tensor<2x64xf32>, tensor<64x128xf32>) -> tensor<2x128xf32>
  return %0 : tensor<2x128xf32>
}

// -----

// Embedding tables become gather_wq; a gather along another axis is left alone (and reported).
// CHECK: skipped = "gather is not along axis 0"
// CHECK-LABEL: func @embedding
// CHECK: "slm.gather_wq"
// CHECK: "slm.Gather"
func.func @embedding(%ids: tensor<1x?xi64>, %i: tensor<2xi64>) -> (tensor<1x?x128xf32>, tensor<16x2xf32>) {
  %t = slm.constant dense<1.0> : tensor<16x128xf32> : tensor<16x128xf32>
  %0 = "slm.Gather"(%t, %ids) {axis = 0 : i64} : (tensor<16x128xf32>, tensor<1x?xi64>) -> tensor<1x?x128xf32>
  %1 = "slm.Gather"(%t, %i) {axis = 1 : i64} : (tensor<16x128xf32>, tensor<2xi64>) -> tensor<16x2xf32>
  return %0, %1 : tensor<1x?x128xf32>, tensor<16x2xf32>
}
