// RUN: slmc-opt --split-input-file --slm-fuse-elementwise %s | FileCheck %s

// (x*a + b) -> Sigmoid -> *0.5 with a [8] and b [1x1x8] (reshaped to [8]); one op, scalars in attributes.
// CHECK-LABEL: func @affine_sigmoid
// CHECK-DAG: %[[A:.*]] = slm.constant dense<{{.*}}> : tensor<8xf32>
// CHECK-DAG: %[[B:.*]] = slm.constant dense<[1.000000e+00, 2.000000e+00{{.*}}> : tensor<8xf32>
// CHECK: %[[Y:.*]] = "slm.elementwise"(%arg0, %[[A]], %[[B]]) <{args = [1, 2, 0, -1], reversed = [0, 0, 0, 0], scalars = [0.000000e+00 : f32, 0.000000e+00 : f32, 0.000000e+00 : f32, 5.000000e-01 : f32], steps = ["Mul", "Add", "Sigmoid", "Mul"]}>
// CHECK-NOT: slm.Sigmoid
// CHECK-NOT: slm.Add
// CHECK: return %[[Y]]
func.func @affine_sigmoid(%x: tensor<1x?x8xf32>) -> tensor<1x?x8xf32> {
  %a = slm.constant dense<0.25> : tensor<8xf32> : tensor<8xf32>
  %b = slm.constant dense<[[[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]]]> : tensor<1x1x8xf32> : tensor<1x1x8xf32>
  %h = slm.constant dense<0.5> : tensor<f32> : tensor<f32>
  %0 = "slm.Mul"(%x, %a) : (tensor<1x?x8xf32>, tensor<8xf32>) -> tensor<1x?x8xf32>
  %1 = "slm.Add"(%0, %b) : (tensor<1x?x8xf32>, tensor<1x1x8xf32>) -> tensor<1x?x8xf32>
  %2 = "slm.Sigmoid"(%1) : (tensor<1x?x8xf32>) -> tensor<1x?x8xf32>
  %3 = "slm.Mul"(%2, %h) : (tensor<1x?x8xf32>, tensor<f32>) -> tensor<1x?x8xf32>
  return %3 : tensor<1x?x8xf32>
}

// -----

// The constant on the left (1 - x, 2 / x) is recorded as reversed; one scalar [1] constant.
// CHECK-LABEL: func @constant_left
// CHECK: "slm.elementwise"(%arg0) <{args = [-1, 0, -1], reversed = [1, 0, 1], scalars = [1.000000e+00 : f32, 0.000000e+00 : f32, 2.000000e+00 : f32], steps = ["Sub", "Cos", "Div"]}>
func.func @constant_left(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %one = slm.constant dense<1.0> : tensor<1xf32> : tensor<1xf32>
  %two = slm.constant dense<2.0> : tensor<f32> : tensor<f32>
  %0 = "slm.Sub"(%one, %x) : (tensor<1xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %1 = "slm.Cos"(%0) : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %2 = "slm.Div"(%two, %1) : (tensor<f32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return %2 : tensor<4x8xf32>
}

// -----

// One vector used twice becomes one operand; a single Sin and a single Erf are worth a kernel alone.
// CHECK-LABEL: func @shared_vector_and_singles
// CHECK: %[[E:.*]] = "slm.elementwise"(%arg0, %{{.*}}) <{args = [1, 0, 1]
// CHECK-SAME: steps = ["Add", "Tanh", "Mul"]
// CHECK: "slm.elementwise"(%arg1) <{args = [0]{{.*}}steps = ["Sin"]
// CHECK: "slm.elementwise"(%arg1) <{args = [0]{{.*}}steps = ["Erf"]
func.func @shared_vector_and_singles(%x: tensor<2x4xf32>, %t: tensor<2x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>) {
  %v = slm.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> : tensor<4xf32>
  %0 = "slm.Add"(%x, %v) : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %1 = "slm.Tanh"(%0) : (tensor<2x4xf32>) -> tensor<2x4xf32>
  %2 = "slm.Mul"(%v, %1) : (tensor<4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %3 = "slm.Sin"(%t) : (tensor<2x4xf32>) -> tensor<2x4xf32>
  %4 = "slm.Erf"(%t) : (tensor<2x4xf32>) -> tensor<2x4xf32>
  return %2, %3, %4 : tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>
}

// -----

// Near miss: the Add's result has two users, so the chain ends there; Relu + Neg after it is a chain
// of its own and the lone Abs on the other branch is not worth a kernel.
// CHECK-LABEL: func @two_users
// CHECK: %[[M:.*]] = "slm.elementwise"(%arg0, %{{.*}}) <{args = [-1, 1]{{.*}}steps = ["Mul", "Add"]
// CHECK: "slm.elementwise"(%[[M]]) <{{.*}}steps = ["Relu", "Neg"]
// CHECK: "slm.Abs"(%[[M]])
func.func @two_users(%x: tensor<2x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>) {
  %s = slm.constant dense<3.0> : tensor<f32> : tensor<f32>
  %v = slm.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32> : tensor<4xf32>
  %0 = "slm.Mul"(%x, %s) : (tensor<2x4xf32>, tensor<f32>) -> tensor<2x4xf32>
  %1 = "slm.Add"(%0, %v) : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %2 = "slm.Relu"(%1) : (tensor<2x4xf32>) -> tensor<2x4xf32>
  %3 = "slm.Neg"(%2) : (tensor<2x4xf32>) -> tensor<2x4xf32>
  %4 = "slm.Abs"(%1) : (tensor<2x4xf32>) -> tensor<2x4xf32>
  return %3, %4 : tensor<2x4xf32>, tensor<2x4xf32>
}

// -----

// Near misses: a non-constant second operand, a constant broadcasting over the first axis
// ([2, 1]), a non-f32 chain, and a lone Relu. Nothing changes.
// CHECK-LABEL: func @near_misses
// CHECK-NOT: slm.elementwise
// CHECK: "slm.Mul"(%arg0, %arg1)
// CHECK: "slm.Add"
// CHECK: "slm.Relu"
// CHECK: "slm.Add"(%arg2
// CHECK: "slm.Exp"
// CHECK-NOT: slm.elementwise
func.func @near_misses(%x: tensor<2x4xf32>, %y: tensor<2x4xf32>, %d: tensor<2x4xf64>) -> (tensor<2x4xf32>, tensor<2x4xf64>) {
  %col = slm.constant dense<[[1.0], [2.0]]> : tensor<2x1xf32> : tensor<2x1xf32>
  %one = slm.constant dense<1.0> : tensor<f64> : tensor<f64>
  %0 = "slm.Mul"(%x, %y) : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %1 = "slm.Add"(%0, %col) : (tensor<2x4xf32>, tensor<2x1xf32>) -> tensor<2x4xf32>
  %2 = "slm.Relu"(%1) : (tensor<2x4xf32>) -> tensor<2x4xf32>
  %3 = "slm.Add"(%d, %one) : (tensor<2x4xf64>, tensor<f64>) -> tensor<2x4xf64>
  %4 = "slm.Exp"(%3) : (tensor<2x4xf64>) -> tensor<2x4xf64>
  return %2, %4 : tensor<2x4xf32>, tensor<2x4xf64>
}
