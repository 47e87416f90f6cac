// RUN: slmc-opt --split-input-file --slm-fuse-rope %s | FileCheck %s

// x*cos + concat(-x[..., 4:], x[..., :4])*sin over the last axis.
// CHECK-LABEL: func @rope
// CHECK: %[[R:.*]] = "slm.rope"(%arg0, %arg1, %arg2)
// CHECK-NOT: slm.Slice
// CHECK: return %[[R]]
func.func @rope(%x: tensor<1x2x?x8xf32>, %cos: tensor<?x8xf32>, %sin: tensor<?x8xf32>) -> tensor<1x2x?x8xf32> {
  %z = slm.constant dense<0> : tensor<1xi64> : tensor<1xi64>
  %h = slm.constant dense<4> : tensor<1xi64> : tensor<1xi64>
  %e = slm.constant dense<9223372036854775807> : tensor<1xi64> : tensor<1xi64>
  %ax = slm.constant dense<-1> : tensor<1xi64> : tensor<1xi64>
  %one = slm.constant dense<1> : tensor<1xi64> : tensor<1xi64>
  %0 = "slm.Mul"(%x, %cos) : (tensor<1x2x?x8xf32>, tensor<?x8xf32>) -> tensor<1x2x?x8xf32>
  %1 = "slm.Slice"(%x, %z, %h, %ax, %one) {operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>} : (tensor<1x2x?x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x2x?x4xf32>
  %2 = "slm.Slice"(%x, %h, %e, %ax, %one) {operandSegmentSizes = array<i32: 1, 1, 1, 1, 1>} : (tensor<1x2x?x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x2x?x4xf32>
  %3 = "slm.Neg"(%2) : (tensor<1x2x?x4xf32>) -> tensor<1x2x?x4xf32>
  %4 = "slm.Concat"(%3, %1) {axis = -1 : i64} : (tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>) -> tensor<1x2x?x8xf32>
  %5 = "slm.Mul"(%4, %sin) : (tensor<1x2x?x8xf32>, tensor<?x8xf32>) -> tensor<1x2x?x8xf32>
  %6 = "slm.Add"(%0, %5) : (tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32>
  return %6 : tensor<1x2x?x8xf32>
}

// -----

// Near miss: the halves are sliced on axis 2, not the last axis.
// CHECK-LABEL: func @rope_wrong_axis
// CHECK-NOT: slm.rope
// CHECK: "slm.Neg"
func.func @rope_wrong_axis(%x: tensor<1x2x8x8xf32>, %cos: tensor<8x8xf32>, %sin: tensor<8x8xf32>) -> tensor<1x2x8x8xf32> {
  %z = slm.constant dense<0> : tensor<1xi64> : tensor<1xi64>
  %h = slm.constant dense<4> : tensor<1xi64> : tensor<1xi64>
  %e = slm.constant dense<8> : tensor<1xi64> : tensor<1xi64>
  %ax = slm.constant dense<2> : tensor<1xi64> : tensor<1xi64>
  %0 = "slm.Mul"(%x, %cos) : (tensor<1x2x8x8xf32>, tensor<8x8xf32>) -> tensor<1x2x8x8xf32>
  %1 = "slm.Slice"(%x, %z, %h, %ax) {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<1x2x8x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x2x4x8xf32>
  %2 = "slm.Slice"(%x, %h, %e, %ax) {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<1x2x8x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x2x4x8xf32>
  %3 = "slm.Neg"(%2) : (tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  %4 = "slm.Concat"(%3, %1) {axis = 2 : i64} : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x8x8xf32>
  %5 = "slm.Mul"(%4, %sin) : (tensor<1x2x8x8xf32>, tensor<8x8xf32>) -> tensor<1x2x8x8xf32>
  %6 = "slm.Add"(%0, %5) : (tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  return %6 : tensor<1x2x8x8xf32>
}

// -----

// Near miss: the rotated half is also returned.
// CHECK-LABEL: func @rope_extra_consumer
// CHECK-NOT: slm.rope
func.func @rope_extra_consumer(%x: tensor<2x8xf32>, %cos: tensor<2x8xf32>, %sin: tensor<2x8xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>) {
  %z = slm.constant dense<0> : tensor<1xi64> : tensor<1xi64>
  %h = slm.constant dense<4> : tensor<1xi64> : tensor<1xi64>
  %e = slm.constant dense<8> : tensor<1xi64> : tensor<1xi64>
  %ax = slm.constant dense<1> : tensor<1xi64> : tensor<1xi64>
  %0 = "slm.Mul"(%x, %cos) : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %1 = "slm.Slice"(%x, %z, %h, %ax) {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<2x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2x4xf32>
  %2 = "slm.Slice"(%x, %h, %e, %ax) {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0>} : (tensor<2x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2x4xf32>
  %3 = "slm.Neg"(%2) : (tensor<2x4xf32>) -> tensor<2x4xf32>
  %4 = "slm.Concat"(%3, %1) {axis = -1 : i64} : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x8xf32>
  %5 = "slm.Mul"(%4, %sin) : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %6 = "slm.Add"(%0, %5) : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  return %6, %4 : tensor<2x8xf32>, tensor<2x8xf32>
}
