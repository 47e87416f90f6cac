// RUN: slmc-opt --split-input-file --slm-fold-constants %s | FileCheck %s

// Shape arithmetic on a statically shaped tensor folds to one constant: Shape, Gather, Unsqueeze,
// Concat all run through the reference kernels at compile time; the Reshape keeps a constant shape.
// CHECK-LABEL: func @shape_arithmetic
// CHECK-NOT: slm.Shape
// CHECK-NOT: slm.Gather
// CHECK-NOT: slm.Concat
// CHECK: %[[S:.*]] = slm.constant dense<[8, 2]> : tensor<2xi64>
// CHECK: "slm.Reshape"(%arg0, %[[S]])
func.func @shape_arithmetic(%x: tensor<2x8xf32>) -> tensor<8x2xf32> {
  %zero = slm.constant dense<0> : tensor<i64> : tensor<i64>
  %one = slm.constant dense<1> : tensor<i64> : tensor<i64>
  %ax = slm.constant dense<0> : tensor<1xi64> : tensor<1xi64>
  %s = "slm.Shape"(%x) : (tensor<2x8xf32>) -> tensor<2xi64>
  %d0 = "slm.Gather"(%s, %zero) {axis = 0 : i64} : (tensor<2xi64>, tensor<i64>) -> tensor<i64>
  %d1 = "slm.Gather"(%s, %one) {axis = 0 : i64} : (tensor<2xi64>, tensor<i64>) -> tensor<i64>
  %u0 = "slm.Unsqueeze"(%d0, %ax) : (tensor<i64>, tensor<1xi64>) -> tensor<1xi64>
  %u1 = "slm.Unsqueeze"(%d1, %ax) : (tensor<i64>, tensor<1xi64>) -> tensor<1xi64>
  %shape = "slm.Concat"(%u1, %u0) {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %y = "slm.Reshape"(%x, %shape) : (tensor<2x8xf32>, tensor<2xi64>) -> tensor<8x2xf32>
  return %y : tensor<8x2xf32>
}

// -----

// A transposed weight used only here folds (its input constant dies with it) and arithmetic on
// constants gives the exact values.
// CHECK-LABEL: func @weight_transpose
// CHECK-NOT: slm.Transpose
// CHECK-NOT: slm.Add
// CHECK-DAG: slm.constant dense<{{\[}}[1.000000e+00, 3.000000e+00], [2.000000e+00, 4.000000e+00]]> : tensor<2x2xf32>
// CHECK-DAG: slm.constant dense<[1.100000e+01, 2.400000e+01]> : tensor<2xf32>
// CHECK: "slm.MatMul"(%arg0,
func.func @weight_transpose(%x: tensor<3x2xf32>) -> (tensor<3x2xf32>, tensor<2xf32>) {
  %w = slm.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32> : tensor<2x2xf32>
  %a = slm.constant dense<[1.0, 2.0]> : tensor<2xf32> : tensor<2xf32>
  %b = slm.constant dense<10.0> : tensor<f32> : tensor<f32>
  %wt = "slm.Transpose"(%w) {perm = [1, 0]} : (tensor<2x2xf32>) -> tensor<2x2xf32>
  %y = "slm.MatMul"(%x, %wt) : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32>
  %s = "slm.Add"(%a, %b) : (tensor<2xf32>, tensor<f32>) -> tensor<2xf32>
  %m = "slm.Mul"(%s, %a) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %y, %m : tensor<3x2xf32>, tensor<2xf32>
}

// -----

// Near misses: an op with a non-constant operand, a Shape of a dynamic dim and an Expand of a small
// constant to a large result (folding would grow the weights) all stay.
// CHECK-LABEL: func @left_alone
// CHECK: "slm.Add"(%arg0,
// CHECK: "slm.Shape"(%arg1)
// CHECK: "slm.Expand"
func.func @left_alone(%x: tensor<2xf32>, %d: tensor<?x4xf32>) -> (tensor<2xf32>, tensor<2xi64>, tensor<512x512xf32>) {
  %c = slm.constant dense<[1.0, 2.0]> : tensor<2xf32> : tensor<2xf32>
  %y = "slm.Add"(%x, %c) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %s = "slm.Shape"(%d) : (tensor<?x4xf32>) -> tensor<2xi64>
  %one = slm.constant dense<1.0> : tensor<f32> : tensor<f32>
  %big = slm.constant dense<[512, 512]> : tensor<2xi64> : tensor<2xi64>
  %e = "slm.Expand"(%one, %big) : (tensor<f32>, tensor<2xi64>) -> tensor<512x512xf32>
  return %y, %s, %e : tensor<2xf32>, tensor<2xi64>, tensor<512x512xf32>
}
