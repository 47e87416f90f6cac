// RUN: slmc-opt --split-input-file --slm-fold %s | FileCheck %s

// A Cast to the type it already has is dropped; dead ops go with it.
// CHECK-LABEL: func @noop_cast
// CHECK-NOT: slm.Cast
// CHECK: %[[R:.*]] = "slm.Neg"(%arg0)
// CHECK: return %[[R]]
func.func @noop_cast(%arg0: tensor<4xi64>) -> tensor<4xi64> {
  %0 = "slm.Cast"(%arg0) {to = 7 : i64} : (tensor<4xi64>) -> tensor<4xi64>
  %1 = "slm.Neg"(%0) : (tensor<4xi64>) -> tensor<4xi64>
  %2 = "slm.Abs"(%0) : (tensor<4xi64>) -> tensor<4xi64>
  return %1 : tensor<4xi64>
}

// -----

// Near miss: a Cast that changes the type stays.
// CHECK-LABEL: func @real_cast
// CHECK: "slm.Cast"
func.func @real_cast(%arg0: tensor<4xi64>) -> tensor<4xf32> {
  %0 = "slm.Cast"(%arg0) {to = 1 : i64} : (tensor<4xi64>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// A leading Unsqueeze before a broadcasting Add is implied by numpy broadcasting.
// CHECK-LABEL: func @broadcast_unsqueeze
// CHECK-NOT: slm.Unsqueeze
// CHECK: "slm.Add"(%arg0, %arg1) : (tensor<?x?x8xf32>, tensor<?x8xf32>) -> tensor<?x?x8xf32>
func.func @broadcast_unsqueeze(%arg0: tensor<?x?x8xf32>, %arg1: tensor<?x8xf32>) -> tensor<?x?x8xf32> {
  %axes = slm.constant dense<0> : tensor<1xi64> : tensor<1xi64>
  %0 = "slm.Unsqueeze"(%arg1, %axes) : (tensor<?x8xf32>, tensor<1xi64>) -> tensor<1x?x8xf32>
  %1 = "slm.Add"(%arg0, %0) : (tensor<?x?x8xf32>, tensor<1x?x8xf32>) -> tensor<?x?x8xf32>
  return %1 : tensor<?x?x8xf32>
}

// -----

// Near miss: an Unsqueeze on a trailing axis changes how the operands line up.
// CHECK-LABEL: func @trailing_unsqueeze
// CHECK: "slm.Unsqueeze"
// CHECK: "slm.Add"
func.func @trailing_unsqueeze(%arg0: tensor<4x8x1xf32>, %arg1: tensor<4x8xf32>) -> tensor<4x8x1xf32> {
  %axes = slm.constant dense<2> : tensor<1xi64> : tensor<1xi64>
  %0 = "slm.Unsqueeze"(%arg1, %axes) : (tensor<4x8xf32>, tensor<1xi64>) -> tensor<4x8x1xf32>
  %1 = "slm.Add"(%arg0, %0) : (tensor<4x8x1xf32>, tensor<4x8x1xf32>) -> tensor<4x8x1xf32>
  return %1 : tensor<4x8x1xf32>
}

// -----

// Reshape(Reshape(x)) to a constant shape reads x directly.
// CHECK-LABEL: func @reshape_chain
// CHECK: %[[S:.*]] = slm.constant dense<[2, -1]>
// CHECK-NEXT: "slm.Reshape"(%arg0, %[[S]])
// CHECK-NOT: slm.Reshape
func.func @reshape_chain(%arg0: tensor<2x3x4xf32>) -> tensor<2x12xf32> {
  %s1 = slm.constant dense<[6, 4]> : tensor<2xi64> : tensor<2xi64>
  %s2 = slm.constant dense<[2, -1]> : tensor<2xi64> : tensor<2xi64>
  %0 = "slm.Reshape"(%arg0, %s1) : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<6x4xf32>
  %1 = "slm.Reshape"(%0, %s2) : (tensor<6x4xf32>, tensor<2xi64>) -> tensor<2x12xf32>
  return %1 : tensor<2x12xf32>
}

// -----

// Near miss: a 0 in the outer shape copies a dim of the inner result, so the chain stays.
// CHECK-LABEL: func @reshape_chain_zero
// CHECK-COUNT-2: "slm.Reshape"
func.func @reshape_chain_zero(%arg0: tensor<2x3x4xf32>) -> tensor<6x4xf32> {
  %s1 = slm.constant dense<[6, 4]> : tensor<2xi64> : tensor<2xi64>
  %s2 = slm.constant dense<[0, -1]> : tensor<2xi64> : tensor<2xi64>
  %0 = "slm.Reshape"(%arg0, %s1) : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<6x4xf32>
  %1 = "slm.Reshape"(%0, %s2) : (tensor<6x4xf32>, tensor<2xi64>) -> tensor<6x4xf32>
  return %1 : tensor<6x4xf32>
}
