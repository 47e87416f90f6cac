// RUN: slmc-opt --split-input-file --verify-diagnostics %s

// slm.matmul_a8_sparse's verifier: the shapes of targets/common/sparse_s8.h (n = 20: 2 strips, kp = 16: 4 quads).

func.func @masks(%q: tensor<1x16xi8>, %s: tensor<1x1xf32>, %sum: tensor<1x1xi32>, %v: tensor<5xui8>, %m: tensor<2x3xui64>, %o: tensor<3xi64>, %ws: tensor<2x16xf16>) -> tensor<1x20xf32> {
  // expected-error @+1 {{masks must be 2x4, got 'tensor<2x3xui64>'}}
  %y = "slm.matmul_a8_sparse"(%q, %s, %sum, %v, %m, %o, %ws) {bits = 8 : i64, group_size = 16 : i64, k = 16 : i64, kp = 16 : i64, n = 20 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 1, 1, 0, 0, 0>}
      : (tensor<1x16xi8>, tensor<1x1xf32>, tensor<1x1xi32>, tensor<5xui8>, tensor<2x3xui64>, tensor<3xi64>, tensor<2x16xf16>) -> tensor<1x20xf32>
  return %y : tensor<1x20xf32>
}

// -----

func.func @offsets(%q: tensor<1x16xi8>, %s: tensor<1x1xf32>, %sum: tensor<1x1xi32>, %v: tensor<5xui8>, %m: tensor<2x4xui64>, %o: tensor<2xi64>, %ws: tensor<2x16xf16>) -> tensor<1x20xf32> {
  // expected-error @+1 {{offsets must have 3 elements, got 'tensor<2xi64>'}}
  %y = "slm.matmul_a8_sparse"(%q, %s, %sum, %v, %m, %o, %ws) {bits = 4 : i64, group_size = 16 : i64, k = 16 : i64, kp = 16 : i64, n = 20 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 1, 1, 0, 0, 0>}
      : (tensor<1x16xi8>, tensor<1x1xf32>, tensor<1x1xi32>, tensor<5xui8>, tensor<2x4xui64>, tensor<2xi64>, tensor<2x16xf16>) -> tensor<1x20xf32>
  return %y : tensor<1x20xf32>
}

// -----

func.func @bits(%q: tensor<1x16xi8>, %s: tensor<1x1xf32>, %sum: tensor<1x1xi32>, %v: tensor<5xui8>, %m: tensor<2x4xui64>, %o: tensor<3xi64>, %ws: tensor<2x16xf16>) -> tensor<1x20xf32> {
  // expected-error @+1 {{bits must be 4 or 8, got 2}}
  %y = "slm.matmul_a8_sparse"(%q, %s, %sum, %v, %m, %o, %ws) {bits = 2 : i64, group_size = 16 : i64, k = 16 : i64, kp = 16 : i64, n = 20 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 1, 1, 0, 0, 0>}
      : (tensor<1x16xi8>, tensor<1x1xf32>, tensor<1x1xi32>, tensor<5xui8>, tensor<2x4xui64>, tensor<3xi64>, tensor<2x16xf16>) -> tensor<1x20xf32>
  return %y : tensor<1x20xf32>
}

// -----

// A well-formed one verifies.
func.func @ok(%q: tensor<1x16xi8>, %s: tensor<1x1xf32>, %sum: tensor<1x1xi32>, %v: tensor<5xui8>, %m: tensor<2x4xui64>, %o: tensor<3xi64>, %ws: tensor<2x16xf16>) -> tensor<1x20xf32> {
  %y = "slm.matmul_a8_sparse"(%q, %s, %sum, %v, %m, %o, %ws) {bits = 8 : i64, group_size = 16 : i64, k = 16 : i64, kp = 16 : i64, n = 20 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 1, 1, 0, 0, 0>}
      : (tensor<1x16xi8>, tensor<1x1xf32>, tensor<1x1xi32>, tensor<5xui8>, tensor<2x4xui64>, tensor<3xi64>, tensor<2x16xf16>) -> tensor<1x20xf32>
  return %y : tensor<1x20xf32>
}
