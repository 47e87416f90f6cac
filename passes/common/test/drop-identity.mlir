// RUN: slmc-opt --split-input-file --slm-drop-identity %s | FileCheck %s

// CHECK-LABEL: func @identity
// CHECK-NOT: slm.Identity
// CHECK: %[[R:.*]] = "slm.Relu"(%arg0)
// CHECK: return %[[R]]
func.func @identity(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  %0 = "slm.Identity"(%arg0) : (tensor<4xf32>) -> tensor<4xf32>
  %1 = "slm.Relu"(%0) : (tensor<4xf32>) -> tensor<4xf32>
  return %1 : tensor<4xf32>
}

// -----

// Dropout in inference (no training_mode) is a copy.
// CHECK-LABEL: func @dropout_inference
// CHECK-NOT: slm.Dropout
// CHECK: return %arg0
func.func @dropout_inference(%arg0: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = "slm.Dropout"(%arg0) {operandSegmentSizes = array<i32: 1, 0, 0>, resultSegmentSizes = array<i32: 1, 0>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// Near miss: the mask is used, so the Dropout stays.
// CHECK-LABEL: func @dropout_mask_used
// CHECK: "slm.Dropout"
func.func @dropout_mask_used(%arg0: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xi1>) {
  %0, %1 = "slm.Dropout"(%arg0) {operandSegmentSizes = array<i32: 1, 0, 0>, resultSegmentSizes = array<i32: 1, 1>} : (tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xi1>)
  return %0, %1 : tensor<2x3xf32>, tensor<2x3xi1>
}

// -----

// Near miss: training_mode is a run-time input, so the Dropout stays.
// CHECK-LABEL: func @dropout_training_input
// CHECK: "slm.Dropout"
func.func @dropout_training_input(%arg0: tensor<2x3xf32>, %arg1: tensor<f32>, %arg2: tensor<i1>) -> tensor<2x3xf32> {
  %0 = "slm.Dropout"(%arg0, %arg1, %arg2) {operandSegmentSizes = array<i32: 1, 1, 1>, resultSegmentSizes = array<i32: 1, 0>} : (tensor<2x3xf32>, tensor<f32>, tensor<i1>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}
