// RUN: slmc-opt --split-input-file --slm-fuse-norm %s | FileCheck %s

// The exporter's RMSNorm: x * (1 / sqrt(mean(x*x) + eps)) * w.
// CHECK-LABEL: func @rms_norm
// CHECK: %[[N:.*]] = "slm.rms_norm"(%arg0, %{{.*}}) <{epsilon = 9.99999974E-6 : f32}>
// CHECK-NOT: slm.ReduceMean
// CHECK: return %[[N]]
func.func @rms_norm(%x: tensor<?x?x8xf32>) -> tensor<?x?x8xf32> {
  %w = slm.constant dense<2.0> : tensor<8xf32> : tensor<8xf32>
  %eps = slm.constant dense<1.0e-5> : tensor<f32> : tensor<f32>
  %one = slm.constant dense<1.0> : tensor<f32> : tensor<f32>
  %0 = "slm.Mul"(%x, %x) : (tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
  %1 = "slm.ReduceMean"(%0) {axes = [-1], keepdims = 1 : i64} : (tensor<?x?x8xf32>) -> tensor<?x?x1xf32>
  %2 = "slm.Add"(%1, %eps) : (tensor<?x?x1xf32>, tensor<f32>) -> tensor<?x?x1xf32>
  %3 = "slm.Sqrt"(%2) : (tensor<?x?x1xf32>) -> tensor<?x?x1xf32>
  %4 = "slm.Div"(%one, %3) : (tensor<f32>, tensor<?x?x1xf32>) -> tensor<?x?x1xf32>
  %5 = "slm.Mul"(%x, %4) : (tensor<?x?x8xf32>, tensor<?x?x1xf32>) -> tensor<?x?x8xf32>
  %6 = "slm.Mul"(%5, %w) : (tensor<?x?x8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
  return %6 : tensor<?x?x8xf32>
}

// -----

// Pow(x, 2), Reciprocal and the weight on the left are the same norm.
// CHECK-LABEL: func @rms_norm_pow_reciprocal
// CHECK: "slm.rms_norm"
// CHECK-NOT: slm.Pow
func.func @rms_norm_pow_reciprocal(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %w = slm.constant dense<2.0> : tensor<8xf32> : tensor<8xf32>
  %eps = slm.constant dense<1.0e-6> : tensor<f32> : tensor<f32>
  %two = slm.constant dense<2.0> : tensor<f32> : tensor<f32>
  %0 = "slm.Pow"(%x, %two) : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %1 = "slm.ReduceMean"(%0) {axes = [1], keepdims = 1 : i64} : (tensor<2x8xf32>) -> tensor<2x1xf32>
  %2 = "slm.Add"(%eps, %1) : (tensor<f32>, tensor<2x1xf32>) -> tensor<2x1xf32>
  %3 = "slm.Sqrt"(%2) : (tensor<2x1xf32>) -> tensor<2x1xf32>
  %4 = "slm.Reciprocal"(%3) : (tensor<2x1xf32>) -> tensor<2x1xf32>
  %5 = "slm.Mul"(%4, %x) : (tensor<2x1xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %6 = "slm.Mul"(%w, %5) : (tensor<8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  return %6 : tensor<2x8xf32>
}

// -----

// Near miss: the mean runs over axis 0, not the last axis.
// CHECK-LABEL: func @rms_norm_wrong_axis
// CHECK-NOT: slm.rms_norm
// CHECK: "slm.ReduceMean"
func.func @rms_norm_wrong_axis(%x: tensor<8x8xf32>) -> tensor<8x8xf32> {
  %w = slm.constant dense<2.0> : tensor<8xf32> : tensor<8xf32>
  %eps = slm.constant dense<1.0e-6> : tensor<f32> : tensor<f32>
  %one = slm.constant dense<1.0> : tensor<f32> : tensor<f32>
  %0 = "slm.Mul"(%x, %x) : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
  %1 = "slm.ReduceMean"(%0) {axes = [0], keepdims = 1 : i64} : (tensor<8x8xf32>) -> tensor<1x8xf32>
  %2 = "slm.Add"(%1, %eps) : (tensor<1x8xf32>, tensor<f32>) -> tensor<1x8xf32>
  %3 = "slm.Sqrt"(%2) : (tensor<1x8xf32>) -> tensor<1x8xf32>
  %4 = "slm.Div"(%one, %3) : (tensor<f32>, tensor<1x8xf32>) -> tensor<1x8xf32>
  %5 = "slm.Mul"(%x, %4) : (tensor<8x8xf32>, tensor<1x8xf32>) -> tensor<8x8xf32>
  %6 = "slm.Mul"(%5, %w) : (tensor<8x8xf32>, tensor<8xf32>) -> tensor<8x8xf32>
  return %6 : tensor<8x8xf32>
}

// -----

// Near miss: the denominator is also returned, so it must stay.
// CHECK-LABEL: func @rms_norm_extra_consumer
// CHECK-NOT: slm.rms_norm
// CHECK: "slm.Sqrt"
func.func @rms_norm_extra_consumer(%x: tensor<2x8xf32>) -> (tensor<2x8xf32>, tensor<2x1xf32>) {
  %w = slm.constant dense<2.0> : tensor<8xf32> : tensor<8xf32>
  %eps = slm.constant dense<1.0e-6> : tensor<f32> : tensor<f32>
  %one = slm.constant dense<1.0> : tensor<f32> : tensor<f32>
  %0 = "slm.Mul"(%x, %x) : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %1 = "slm.ReduceMean"(%0) {axes = [-1], keepdims = 1 : i64} : (tensor<2x8xf32>) -> tensor<2x1xf32>
  %2 = "slm.Add"(%1, %eps) : (tensor<2x1xf32>, tensor<f32>) -> tensor<2x1xf32>
  %3 = "slm.Sqrt"(%2) : (tensor<2x1xf32>) -> tensor<2x1xf32>
  %4 = "slm.Div"(%one, %3) : (tensor<f32>, tensor<2x1xf32>) -> tensor<2x1xf32>
  %5 = "slm.Mul"(%x, %4) : (tensor<2x8xf32>, tensor<2x1xf32>) -> tensor<2x8xf32>
  %6 = "slm.Mul"(%5, %w) : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return %6, %3 : tensor<2x8xf32>, tensor<2x1xf32>
}

// -----

// Near miss: the weight is a run-time input, not a constant.
// CHECK-LABEL: func @rms_norm_runtime_weight
// CHECK-NOT: slm.rms_norm
func.func @rms_norm_runtime_weight(%x: tensor<2x8xf32>, %w: tensor<8xf32>) -> tensor<2x8xf32> {
  %eps = slm.constant dense<1.0e-6> : tensor<f32> : tensor<f32>
  %one = slm.constant dense<1.0> : tensor<f32> : tensor<f32>
  %0 = "slm.Mul"(%x, %x) : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %1 = "slm.ReduceMean"(%0) {axes = [-1], keepdims = 1 : i64} : (tensor<2x8xf32>) -> tensor<2x1xf32>
  %2 = "slm.Add"(%1, %eps) : (tensor<2x1xf32>, tensor<f32>) -> tensor<2x1xf32>
  %3 = "slm.Sqrt"(%2) : (tensor<2x1xf32>) -> tensor<2x1xf32>
  %4 = "slm.Div"(%one, %3) : (tensor<f32>, tensor<2x1xf32>) -> tensor<2x1xf32>
  %5 = "slm.Mul"(%x, %4) : (tensor<2x8xf32>, tensor<2x1xf32>) -> tensor<2x8xf32>
  %6 = "slm.Mul"(%5, %w) : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return %6 : tensor<2x8xf32>
}
