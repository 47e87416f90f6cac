// RUN: slmc-opt --split-input-file --slm-prune-ffn="fraction=0.5" %s | FileCheck %s
// RUN: slmc-opt --split-input-file --slm-prune-ffn="fraction=0.5 bias-correction=true" %s | FileCheck %s --check-prefix=BIAS

// SwiGLU block, magnitude importance: |Wg[:,c]| * |Wu[:,c]| * |Wd[c,:]| is largest for channels
// 0 and 2 (up columns scaled 1, 0.1, 2, 0.01), so gate/up keep columns 0 and 2 and down rows 0, 2.
// CHECK: module attributes {slm.prune_report = [{bias_corrected = false, bytes_after = 48 : i64, bytes_before = 96 : i64, detail = "2 of 4 channels", importance = "magnitude", kind = "ffn", layer = "/l0/mlp", removed = 2 : i64, total = 4 : i64}]}
// CHECK-LABEL: func @swiglu_magnitude
// CHECK: %[[WG:.*]] = slm.constant dense_resource<wg> : tensor<2x2xf32>
// CHECK: %[[G:.*]] = "slm.fused_matmul"(%arg0, %[[WG]]) <{activation = "silu"{{.*}}-> tensor<1x?x2xf32>
// CHECK: %[[WU:.*]] = slm.constant dense_resource<wu> : tensor<2x2xf32>
// CHECK: %[[U:.*]] = "slm.fused_matmul"(%arg0, %[[WU]], %[[G]]) {{.*}} : (tensor<1x?x2xf32>, tensor<2x2xf32>, tensor<1x?x2xf32>) -> tensor<1x?x2xf32>
// CHECK: %[[WD:.*]] = slm.constant dense_resource<wd> : tensor<2x2xf32>
// CHECK: "slm.fused_matmul"(%[[U]], %[[WD]], %arg0) {{.*}} : (tensor<1x?x2xf32>, tensor<2x2xf32>, tensor<1x?x2xf32>) -> tensor<1x?x2xf32>
// Up keeps [[1, 2], [1, 2]]; down keeps rows 0 (1, 2) and 2 (5, 6).
// CHECK: wu: "0x400000000000803F000000400000803F00000040"
// CHECK: wd: "0x400000000000803F000000400000A0400000C040"
// The mean contribution of channels 1 and 3 (E[h] = 1 and 2) to y: 1 * (3, 4) + 2 * (7, 8) = (17, 20).
// BIAS-LABEL: func @swiglu_magnitude
// BIAS: %[[B:.*]] = slm.constant dense_resource<wd.bias> : tensor<2xf32>
// BIAS: "slm.fused_matmul"(%{{.*}}, %[[B]], %arg0) <{operandSegmentSizes = array<i32: 1, 1, 1, 0, 1>}>
// BIAS: wd.bias: "0x40000000000088410000A041"
module {
func.func @swiglu_magnitude(%x: tensor<1x?x2xf32>) -> tensor<1x?x2xf32> {
  %wg = slm.constant dense<1.0> : tensor<2x4xf32> {name = "wg"} : tensor<2x4xf32>
  %wu = slm.constant dense<[[1.0, 0.1, 2.0, 0.01], [1.0, 0.1, 2.0, 0.01]]> : tensor<2x4xf32> {name = "wu"} : tensor<2x4xf32>
  %wd = slm.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]> : tensor<4x2xf32> {name = "wd"} : tensor<4x2xf32>
  %g = "slm.fused_matmul"(%x, %wg) <{activation = "silu", operandSegmentSizes = array<i32: 1, 1, 0, 0, 0>}> {slm.node = "/l0/mlp/Mul"} : (tensor<1x?x2xf32>, tensor<2x4xf32>) -> tensor<1x?x4xf32>
  %u = "slm.fused_matmul"(%x, %wu, %g) <{operandSegmentSizes = array<i32: 1, 1, 0, 1, 0>}> {slm.node = "/l0/mlp/Mul_1"} : (tensor<1x?x2xf32>, tensor<2x4xf32>, tensor<1x?x4xf32>) -> tensor<1x?x4xf32>
  %y = "slm.fused_matmul"(%u, %wd, %x) <{operandSegmentSizes = array<i32: 1, 1, 0, 0, 1>}> {slm.node = "/l0/Add_1", slm.act_mean = array<f32: 0.5, 1.0, 0.5, 2.0>} : (tensor<1x?x4xf32>, tensor<4x2xf32>, tensor<1x?x2xf32>) -> tensor<1x?x2xf32>
  return %y : tensor<1x?x2xf32>
}
}

// -----

// Calibration importance E[h_c^2] * |Wd[c,:]|^2 overrides the weights: channels 1 and 3 carry the
// activation energy, so they stay although their up columns are the smallest.
// CHECK: module attributes {slm.prune_report = [{{.*}}importance = "calibration"
// CHECK-LABEL: func @swiglu_calibration
// CHECK: slm.constant dense_resource<wu> : tensor<2x2xf32>
// CHECK-NOT: slm.act_sq
// CHECK: wu: "0x40000000CDCCCC3D0AD7233CCDCCCC3D0AD7233C"
module {
func.func @swiglu_calibration(%x: tensor<1x?x2xf32>) -> tensor<1x?x2xf32> {
  %wg = slm.constant dense<1.0> : tensor<2x4xf32> {name = "wg"} : tensor<2x4xf32>
  %wu = slm.constant dense<[[1.0, 0.1, 2.0, 0.01], [1.0, 0.1, 2.0, 0.01]]> : tensor<2x4xf32> {name = "wu"} : tensor<2x4xf32>
  %wd = slm.constant dense<1.0> : tensor<4x2xf32> {name = "wd"} : tensor<4x2xf32>
  %g = "slm.fused_matmul"(%x, %wg) <{activation = "silu", operandSegmentSizes = array<i32: 1, 1, 0, 0, 0>}> : (tensor<1x?x2xf32>, tensor<2x4xf32>) -> tensor<1x?x4xf32>
  %u = "slm.fused_matmul"(%x, %wu, %g) <{operandSegmentSizes = array<i32: 1, 1, 0, 1, 0>}> : (tensor<1x?x2xf32>, tensor<2x4xf32>, tensor<1x?x4xf32>) -> tensor<1x?x4xf32>
  %y = "slm.fused_matmul"(%u, %wd) <{operandSegmentSizes = array<i32: 1, 1, 0, 0, 0>}> {slm.act_sq = array<f32: 0.1, 5.0, 0.2, 9.0>} : (tensor<1x?x4xf32>, tensor<4x2xf32>) -> tensor<1x?x2xf32>
  return %y : tensor<1x?x2xf32>
}
}

// -----

// Near miss: the intermediate activation is also a function result, so its width must stay.
// CHECK: module attributes {slm.prune_report = [{kind = "ffn", layer = "wu", skipped = "up projection output has other users"}]}
// CHECK-LABEL: func @intermediate_escapes
// CHECK: "slm.fused_matmul"(%arg0, %{{.*}}) {{.*}} -> tensor<1x?x4xf32>
// CHECK: -> tensor<1x?x2xf32>
module {
func.func @intermediate_escapes(%x: tensor<1x?x2xf32>) -> (tensor<1x?x2xf32>, tensor<1x?x4xf32>) {
  %wu = slm.constant dense<1.0> : tensor<2x4xf32> {name = "wu"} : tensor<2x4xf32>
  %wd = slm.constant dense<1.0> : tensor<4x2xf32> {name = "wd"} : tensor<4x2xf32>
  %u = "slm.fused_matmul"(%x, %wu) <{activation = "relu", operandSegmentSizes = array<i32: 1, 1, 0, 0, 0>}> : (tensor<1x?x2xf32>, tensor<2x4xf32>) -> tensor<1x?x4xf32>
  %y = "slm.fused_matmul"(%u, %wd) <{operandSegmentSizes = array<i32: 1, 1, 0, 0, 0>}> : (tensor<1x?x4xf32>, tensor<4x2xf32>) -> tensor<1x?x2xf32>
  return %y, %u : tensor<1x?x2xf32>, tensor<1x?x4xf32>
}
}
