// RUN: slmc-opt --split-input-file --slm-fuse-matmul %s | FileCheck %s

// MatMul + constant bias + Relu + residual Add → one fused_matmul.
// CHECK-LABEL: func @bias_relu_residual
// CHECK: %[[F:.*]] = "slm.fused_matmul"(%arg0, %{{.*}}, %{{.*}}, %arg1) <{activation = "relu", operandSegmentSizes = array<i32: 1, 1, 1, 0, 1>}>
// CHECK-NOT: slm.Relu
// CHECK: return %[[F]]
func.func @bias_relu_residual(%x: tensor<4x8xf32>, %h: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %w = slm.constant dense<0.5> : tensor<8x16xf32> : tensor<8x16xf32>
  %b = slm.constant dense<0.1> : tensor<16xf32> : tensor<16xf32>
  %0 = "slm.MatMul"(%x, %w) : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %1 = "slm.Add"(%0, %b) : (tensor<4x16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %2 = "slm.Relu"(%1) : (tensor<4x16xf32>) -> tensor<4x16xf32>
  %3 = "slm.Add"(%h, %2) : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %3 : tensor<4x16xf32>
}

// -----

// SwiGLU: silu(x·Wg) * (x·Wu) → the gate as a silu fused_matmul, the up projection multiplies it.
// CHECK-LABEL: func @swiglu
// CHECK: %[[G:.*]] = "slm.fused_matmul"(%arg0, %{{.*}}) <{activation = "silu"
// CHECK: %[[U:.*]] = "slm.fused_matmul"(%arg0, %{{.*}}, %[[G]]) <{operandSegmentSizes = array<i32: 1, 1, 0, 1, 0>}>
// CHECK-NOT: slm.Sigmoid
// CHECK: return %[[U]]
func.func @swiglu(%x: tensor<?x?x8xf32>) -> tensor<?x?x16xf32> {
  %wg = slm.constant dense<0.5> : tensor<8x16xf32> : tensor<8x16xf32>
  %wu = slm.constant dense<0.25> : tensor<8x16xf32> : tensor<8x16xf32>
  %0 = "slm.MatMul"(%x, %wg) : (tensor<?x?x8xf32>, tensor<8x16xf32>) -> tensor<?x?x16xf32>
  %1 = "slm.Sigmoid"(%0) : (tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  %2 = "slm.Mul"(%0, %1) : (tensor<?x?x16xf32>, tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  %3 = "slm.MatMul"(%x, %wu) : (tensor<?x?x8xf32>, tensor<8x16xf32>) -> tensor<?x?x16xf32>
  %4 = "slm.Mul"(%2, %3) : (tensor<?x?x16xf32>, tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  return %4 : tensor<?x?x16xf32>
}

// -----

// tanh GELU as the exporter writes it, after a bias.
// CHECK-LABEL: func @gelu_tanh
// CHECK: "slm.fused_matmul"(%arg0, %{{.*}}, %{{.*}}) <{activation = "gelu_tanh"
// CHECK-NOT: slm.Tanh
func.func @gelu_tanh(%x: tensor<2x8xf32>) -> tensor<2x16xf32> {
  %w = slm.constant dense<0.5> : tensor<8x16xf32> : tensor<8x16xf32>
  %b = slm.constant dense<0.1> : tensor<16xf32> : tensor<16xf32>
  %half = slm.constant dense<0.5> : tensor<f32> : tensor<f32>
  %c3 = slm.constant dense<0.044715> : tensor<f32> : tensor<f32>
  %k = slm.constant dense<0.797884583> : tensor<f32> : tensor<f32>
  %one = slm.constant dense<1.0> : tensor<f32> : tensor<f32>
  %m = "slm.MatMul"(%x, %w) : (tensor<2x8xf32>, tensor<8x16xf32>) -> tensor<2x16xf32>
  %y = "slm.Add"(%b, %m) : (tensor<16xf32>, tensor<2x16xf32>) -> tensor<2x16xf32>
  %0 = "slm.Mul"(%y, %half) : (tensor<2x16xf32>, tensor<f32>) -> tensor<2x16xf32>
  %1 = "slm.Mul"(%y, %c3) : (tensor<2x16xf32>, tensor<f32>) -> tensor<2x16xf32>
  %2 = "slm.Mul"(%1, %y) : (tensor<2x16xf32>, tensor<2x16xf32>) -> tensor<2x16xf32>
  %3 = "slm.Mul"(%2, %y) : (tensor<2x16xf32>, tensor<2x16xf32>) -> tensor<2x16xf32>
  %4 = "slm.Add"(%y, %3) : (tensor<2x16xf32>, tensor<2x16xf32>) -> tensor<2x16xf32>
  %5 = "slm.Mul"(%4, %k) : (tensor<2x16xf32>, tensor<f32>) -> tensor<2x16xf32>
  %6 = "slm.Tanh"(%5) : (tensor<2x16xf32>) -> tensor<2x16xf32>
  %7 = "slm.Add"(%6, %one) : (tensor<2x16xf32>, tensor<f32>) -> tensor<2x16xf32>
  %8 = "slm.Mul"(%0, %7) : (tensor<2x16xf32>, tensor<2x16xf32>) -> tensor<2x16xf32>
  return %8 : tensor<2x16xf32>
}

// -----

// Gemm(transB) with a bias, and a tied-embedding MatMul(x, Transpose(W)) read in place.
// CHECK-LABEL: func @gemm_and_transposed_weight
// CHECK: "slm.fused_matmul"(%arg0, %{{.*}}, %{{.*}}) <{operandSegmentSizes = array<i32: 1, 1, 1, 0, 0>, trans_b = 1 : i64}>
// CHECK: "slm.fused_matmul"(%arg0, %{{.*}}) <{operandSegmentSizes = array<i32: 1, 1, 0, 0, 0>, trans_b = 1 : i64}>
// CHECK-NOT: slm.Transpose
func.func @gemm_and_transposed_weight(%x: tensor<4x8xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>) {
  %w = slm.constant dense<0.5> : tensor<16x8xf32> : tensor<16x8xf32>
  %b = slm.constant dense<0.1> : tensor<16xf32> : tensor<16xf32>
  %0 = "slm.Gemm"(%x, %w, %b) {transB = 1 : i64} : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %t = "slm.Transpose"(%w) {perm = [1, 0]} : (tensor<16x8xf32>) -> tensor<8x16xf32>
  %1 = "slm.MatMul"(%x, %t) : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  return %0, %1 : tensor<4x16xf32>, tensor<4x16xf32>
}

// -----

// Near miss: the MatMul result has a second consumer, so the Relu is not folded in.
// CHECK-LABEL: func @extra_consumer
// CHECK: %[[F:.*]] = "slm.fused_matmul"(%arg0, %{{.*}}) <{operandSegmentSizes = array<i32: 1, 1, 0, 0, 0>}>
// CHECK: "slm.Relu"(%[[F]])
func.func @extra_consumer(%x: tensor<4x8xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>) {
  %w = slm.constant dense<0.5> : tensor<8x16xf32> : tensor<8x16xf32>
  %0 = "slm.MatMul"(%x, %w) : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %1 = "slm.Relu"(%0) : (tensor<4x16xf32>) -> tensor<4x16xf32>
  return %0, %1 : tensor<4x16xf32>, tensor<4x16xf32>
}

// -----

// Near miss: a bias that broadcasts over rows (4x1) is not an N-element bias; a run-time weight stays a MatMul.
// CHECK-LABEL: func @wrong_bias_runtime_weight
// CHECK: "slm.Add"
// CHECK: "slm.MatMul"(%arg0, %arg1)
func.func @wrong_bias_runtime_weight(%x: tensor<4x8xf32>, %w2: tensor<8x16xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>) {
  %w = slm.constant dense<0.5> : tensor<8x16xf32> : tensor<8x16xf32>
  %b = slm.constant dense<0.1> : tensor<4x1xf32> : tensor<4x1xf32>
  %0 = "slm.MatMul"(%x, %w) : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %1 = "slm.Add"(%0, %b) : (tensor<4x16xf32>, tensor<4x1xf32>) -> tensor<4x16xf32>
  %2 = "slm.MatMul"(%x, %w2) : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  return %1, %2 : tensor<4x16xf32>, tensor<4x16xf32>
}

// -----

// Near miss: the residual may broadcast (1x16 against 4x16), so it is not folded in.
// CHECK-LABEL: func @broadcast_residual
// CHECK: "slm.fused_matmul"
// CHECK: "slm.Add"
func.func @broadcast_residual(%x: tensor<4x8xf32>, %h: tensor<1x16xf32>) -> tensor<4x16xf32> {
  %w = slm.constant dense<0.5> : tensor<8x16xf32> : tensor<8x16xf32>
  %0 = "slm.MatMul"(%x, %w) : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
  %1 = "slm.Add"(%0, %h) : (tensor<4x16xf32>, tensor<1x16xf32>) -> tensor<4x16xf32>
  return %1 : tensor<4x16xf32>
}
