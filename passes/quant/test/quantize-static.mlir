// RUN: slmc-opt --split-input-file --slm-quantize-static %s | FileCheck %s
// RUN: slmc-opt --split-input-file --slm-quantize-static --slm-fuse-qdq --slm-fold %s | FileCheck %s --check-prefix=FUSED

// A Conv + Relu with calibrated ranges becomes the QDQ form: uint8 activations (the input range
// [-1, 1] gives scale 2/255 and zero point 128; the Relu output [0, 6] zero point 0), int8
// weights per output channel; slm-fuse-qdq then makes it one QLinearConv.
// CHECK-LABEL: func @conv_relu
// CHECK: %[[XQ:.*]] = "slm.QuantizeLinear"(%arg0, %[[SX:.*]], %[[ZX:.*]]) : (tensor<1x2x4x4xf32>, tensor<f32>, tensor<ui8>) -> tensor<1x2x4x4xui8>
// CHECK: %[[XD:.*]] = "slm.DequantizeLinear"(%[[XQ]], %[[SX]], %[[ZX]])
// CHECK: %[[WD:.*]] = "slm.DequantizeLinear"(%{{.*}}, %{{.*}}, %{{.*}}) <{axis = 0 : i64}> : (tensor<3x2x1x1xi8>, tensor<3xf32>, tensor<3xi8>) -> tensor<3x2x1x1xf32>
// CHECK: %[[C:.*]] = "slm.Conv"(%[[XD]], %[[WD]], %{{.*}})
// CHECK: %[[R:.*]] = "slm.Relu"(%[[C]])
// CHECK: "slm.QuantizeLinear"(%[[R]]
// CHECK: "slm.DequantizeLinear"
// CHECK-NOT: slm.fused_conv
// FUSED-LABEL: func @conv_relu
// FUSED: "slm.QuantizeLinear"(%arg0
// FUSED: "slm.QLinearConv"
// FUSED-NOT: slm.Conv
// FUSED: "slm.DequantizeLinear"
func.func @conv_relu(%x: tensor<1x2x4x4xf32>) -> tensor<1x3x4x4xf32> {
  %w = slm.constant dense<[[[[0.5]], [[-0.25]]], [[[1.0]], [[0.0]]], [[[0.0]], [[0.0]]]]> : tensor<3x2x1x1xf32> : tensor<3x2x1x1xf32>
  %b = slm.constant dense<[0.1, -0.2, 0.0]> : tensor<3xf32> : tensor<3xf32>
  %y = "slm.fused_conv"(%x, %w, %b) {activation = "relu", slm.range_x = [-1.0, 1.0], slm.range_y = [0.0, 6.0]} : (tensor<1x2x4x4xf32>, tensor<3x2x1x1xf32>, tensor<3xf32>) -> tensor<1x3x4x4xf32>
  return %y : tensor<1x3x4x4xf32>
}

// -----

// Two Convs in a row hand over uint8: the DequantizeLinear → QuantizeLinear pair between them
// has one scale and zero point (the same range) and is dropped.
// FUSED-LABEL: func @conv_chain
// FUSED: "slm.QuantizeLinear"(%arg0
// FUSED-NEXT: "slm.QLinearConv"
// FUSED-NEXT: "slm.QLinearConv"
// FUSED-NEXT: "slm.DequantizeLinear"
func.func @conv_chain(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  %w = slm.constant dense<0.5> : tensor<1x1x1x1xf32> : tensor<1x1x1x1xf32>
  %y = "slm.fused_conv"(%x, %w) {activation = "relu", slm.range_x = [-2.0, 2.0], slm.range_y = [0.0, 1.0]} : (tensor<1x1x4x4xf32>, tensor<1x1x1x1xf32>) -> tensor<1x1x4x4xf32>
  %z = "slm.fused_conv"(%y, %w) {activation = "clip", clip_min = 0.0 : f32, clip_max = 6.0 : f32, slm.range_x = [0.0, 1.0], slm.range_y = [0.0, 0.5]} : (tensor<1x1x4x4xf32>, tensor<1x1x1x1xf32>) -> tensor<1x1x4x4xf32>
  return %z : tensor<1x1x4x4xf32>
}

// -----

// Near misses: a sigmoid activation has no int8 form, and an op without ranges is not a candidate.
// CHECK-LABEL: func @left_alone
// CHECK-NOT: slm.QuantizeLinear
// CHECK: "slm.fused_conv"(%arg0
// CHECK: "slm.Conv"(%arg0
func.func @left_alone(%x: tensor<1x1x4x4xf32>) -> (tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>) {
  %w = slm.constant dense<0.5> : tensor<1x1x1x1xf32> : tensor<1x1x1x1xf32>
  %y = "slm.fused_conv"(%x, %w) {activation = "sigmoid", slm.range_x = [-2.0, 2.0], slm.range_y = [0.0, 1.0]} : (tensor<1x1x4x4xf32>, tensor<1x1x1x1xf32>) -> tensor<1x1x4x4xf32>
  %z = "slm.Conv"(%x, %w) : (tensor<1x1x4x4xf32>, tensor<1x1x1x1xf32>) -> tensor<1x1x4x4xf32>
  return %y, %z : tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>
}
