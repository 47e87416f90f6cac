// RUN: slmc-opt --split-input-file --slm-fuse-conv %s | FileCheck %s

// Conv + BatchNormalization + Relu → one fused_conv with folded constants.
// CHECK-LABEL: func @conv_bn_relu
// CHECK: %[[W:.*]] = slm.constant dense<{{.*}}> : tensor<2x1x1x1xf32> {name = "bnfold.W"}
// CHECK: %[[B:.*]] = slm.constant dense<{{.*}}> : tensor<2xf32> {name = "bnfold.B"}
// CHECK: %[[Y:.*]] = "slm.fused_conv"(%arg0, %[[W]], %[[B]]) <{activation = "relu"
// CHECK-NOT: slm.BatchNormalization
// CHECK: return %[[Y]]
func.func @conv_bn_relu(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = slm.constant dense<[[[[1.0]]], [[[2.0]]]]> : tensor<2x1x1x1xf32> : tensor<2x1x1x1xf32>
  %b = slm.constant dense<[0.5, -0.5]> : tensor<2xf32> : tensor<2xf32>
  %scale = slm.constant dense<[2.0, 1.0]> : tensor<2xf32> : tensor<2xf32>
  %beta = slm.constant dense<[0.0, 1.0]> : tensor<2xf32> : tensor<2xf32>
  %mean = slm.constant dense<[0.5, 0.0]> : tensor<2xf32> : tensor<2xf32>
  %var = slm.constant dense<[4.0, 1.0]> : tensor<2xf32> : tensor<2xf32>
  %0 = "slm.Conv"(%x, %w, %b) {kernel_shape = [1, 1]} : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  %1 = "slm.BatchNormalization"(%0, %scale, %beta, %mean, %var) {epsilon = 0.0 : f32, resultSegmentSizes = array<i32: 1, 0, 0, 0, 0>} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  %2 = "slm.Relu"(%1) : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  return %2 : tensor<1x2x4x4xf32>
}

// -----

// Near miss: the Conv output is returned too, so neither the BatchNormalization nor the Relu folds in.
// CHECK-LABEL: func @conv_extra_consumer
// CHECK: "slm.Conv"
// CHECK: "slm.BatchNormalization"
// CHECK: "slm.Relu"
// CHECK-NOT: slm.fused_conv
func.func @conv_extra_consumer(%x: tensor<1x1x4x4xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) {
  %w = slm.constant dense<1.0> : tensor<2x1x1x1xf32> : tensor<2x1x1x1xf32>
  %p = slm.constant dense<1.0> : tensor<2xf32> : tensor<2xf32>
  %0 = "slm.Conv"(%x, %w) {kernel_shape = [1, 1]} : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32>
  %1 = "slm.BatchNormalization"(%0, %p, %p, %p, %p) {resultSegmentSizes = array<i32: 1, 0, 0, 0, 0>} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  %2 = "slm.Relu"(%1) : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  return %2, %0 : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
}

// -----

// Near miss: Clip bounds are run-time inputs.
// CHECK-LABEL: func @conv_clip_runtime_bounds
// CHECK: "slm.Clip"
// CHECK-NOT: slm.fused_conv
func.func @conv_clip_runtime_bounds(%x: tensor<1x1x4x4xf32>, %lo: tensor<f32>, %hi: tensor<f32>) -> tensor<1x2x4x4xf32> {
  %w = slm.constant dense<1.0> : tensor<2x1x1x1xf32> : tensor<2x1x1x1xf32>
  %0 = "slm.Conv"(%x, %w) {kernel_shape = [1, 1]} : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32>
  %1 = "slm.Clip"(%0, %lo, %hi) {operandSegmentSizes = array<i32: 1, 1, 1>} : (tensor<1x2x4x4xf32>, tensor<f32>, tensor<f32>) -> tensor<1x2x4x4xf32>
  return %1 : tensor<1x2x4x4xf32>
}

// -----

// Near miss: a Conv reading DequantizeLinear (a QDQ island) is left for the quantization passes.
// CHECK-LABEL: func @qdq_conv
// CHECK: "slm.Conv"
// CHECK: "slm.Relu"
// CHECK-NOT: slm.fused_conv
func.func @qdq_conv(%x: tensor<1x1x4x4xi8>) -> tensor<1x2x4x4xf32> {
  %s = slm.constant dense<0.5> : tensor<f32> : tensor<f32>
  %z = slm.constant dense<0> : tensor<i8> : tensor<i8>
  %w = slm.constant dense<1.0> : tensor<2x1x1x1xf32> : tensor<2x1x1x1xf32>
  %d = "slm.DequantizeLinear"(%x, %s, %z) : (tensor<1x1x4x4xi8>, tensor<f32>, tensor<i8>) -> tensor<1x1x4x4xf32>
  %0 = "slm.Conv"(%d, %w) {kernel_shape = [1, 1]} : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32>
  %1 = "slm.Relu"(%0) : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  return %1 : tensor<1x2x4x4xf32>
}
