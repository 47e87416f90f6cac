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

// -----

// LayerNorm as pre-opset-17 exporters write it: centre, RMS-normalize, scale, shift.
// CHECK-LABEL: func @layer_norm
// CHECK: %[[N:.*]] = "slm.LayerNormalization"(%arg0, %{{.*}}, %{{.*}}) <{axis = -1 : i64, epsilon = 9.99999974E-6 : f32
// CHECK-NOT: slm.ReduceMean
// CHECK-NOT: slm.Add
// CHECK: return %[[N]]
func.func @layer_norm(%x: tensor<?x?x8xf32>) -> tensor<?x?x8xf32> {
  %w = slm.constant dense<2.0> : tensor<8xf32> : tensor<8xf32>
  %b = slm.constant dense<0.5> : tensor<8xf32> : tensor<8xf32>
  %eps = slm.constant dense<1.0e-5> : tensor<f32> : tensor<f32>
  %two = slm.constant dense<2.0> : tensor<f32> : tensor<f32>
  %0 = "slm.ReduceMean"(%x) {axes = [-1], keepdims = 1 : i64} : (tensor<?x?x8xf32>) -> tensor<?x?x1xf32>
  %1 = "slm.Sub"(%x, %0) : (tensor<?x?x8xf32>, tensor<?x?x1xf32>) -> tensor<?x?x8xf32>
  %2 = "slm.Pow"(%1, %two) : (tensor<?x?x8xf32>, tensor<f32>) -> tensor<?x?x8xf32>
  %3 = "slm.ReduceMean"(%2) {axes = [-1], keepdims = 1 : i64} : (tensor<?x?x8xf32>) -> tensor<?x?x1xf32>
  %4 = "slm.Add"(%3, %eps) : (tensor<?x?x1xf32>, tensor<f32>) -> tensor<?x?x1xf32>
  %5 = "slm.Sqrt"(%4) : (tensor<?x?x1xf32>) -> tensor<?x?x1xf32>
  %6 = "slm.Div"(%1, %5) : (tensor<?x?x8xf32>, tensor<?x?x1xf32>) -> tensor<?x?x8xf32>
  %7 = "slm.Mul"(%6, %w) : (tensor<?x?x8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
  %8 = "slm.Add"(%b, %7) : (tensor<8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
  return %8 : tensor<?x?x8xf32>
}

// -----

// Without a bias Add the LayerNormalization has no B; Mul(d, d) squares as well as Pow.
// CHECK-LABEL: func @layer_norm_no_bias
// CHECK: %[[N:.*]] = "slm.LayerNormalization"(%arg0, %{{.*}}) <{axis = -1
// CHECK: %[[R:.*]] = "slm.Relu"(%[[N]])
// CHECK: return %[[R]]
func.func @layer_norm_no_bias(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %w = slm.constant dense<2.0> : tensor<8xf32> : tensor<8xf32>
  %eps = slm.constant dense<1.0e-5> : tensor<f32> : tensor<f32>
  %0 = "slm.ReduceMean"(%x) {axes = [1], keepdims = 1 : i64} : (tensor<2x8xf32>) -> tensor<2x1xf32>
  %1 = "slm.Sub"(%x, %0) : (tensor<2x8xf32>, tensor<2x1xf32>) -> tensor<2x8xf32>
  %2 = "slm.Mul"(%1, %1) : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %3 = "slm.ReduceMean"(%2) {axes = [-1], keepdims = 1 : i64} : (tensor<2x8xf32>) -> tensor<2x1xf32>
  %4 = "slm.Add"(%3, %eps) : (tensor<2x1xf32>, tensor<f32>) -> tensor<2x1xf32>
  %5 = "slm.Sqrt"(%4) : (tensor<2x1xf32>) -> tensor<2x1xf32>
  %6 = "slm.Div"(%1, %5) : (tensor<2x8xf32>, tensor<2x1xf32>) -> tensor<2x8xf32>
  %7 = "slm.Mul"(%w, %6) : (tensor<8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %8 = "slm.Relu"(%7) : (tensor<2x8xf32>) -> tensor<2x8xf32>
  return %8 : tensor<2x8xf32>
}

// -----

// Near miss: the centred d is also returned, so it cannot disappear into a LayerNormalization;
// the rest is still an RMSNorm of d.
// CHECK-LABEL: func @layer_norm_centred_escapes
// CHECK-NOT: slm.LayerNormalization
// CHECK: "slm.Sub"
// CHECK: "slm.rms_norm"
func.func @layer_norm_centred_escapes(%x: tensor<2x8xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>) {
  %w = slm.constant dense<2.0> : tensor<8xf32> : tensor<8xf32>
  %eps = slm.constant dense<1.0e-5> : tensor<f32> : tensor<f32>
  %two = slm.constant dense<2.0> : tensor<f32> : tensor<f32>
  %0 = "slm.ReduceMean"(%x) {axes = [-1], keepdims = 1 : i64} : (tensor<2x8xf32>) -> tensor<2x1xf32>
  %1 = "slm.Sub"(%x, %0) : (tensor<2x8xf32>, tensor<2x1xf32>) -> tensor<2x8xf32>
  %2 = "slm.Pow"(%1, %two) : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %3 = "slm.ReduceMean"(%2) {axes = [-1], keepdims = 1 : i64} : (tensor<2x8xf32>) -> tensor<2x1xf32>
  %4 = "slm.Add"(%3, %eps) : (tensor<2x1xf32>, tensor<f32>) -> tensor<2x1xf32>
  %5 = "slm.Sqrt"(%4) : (tensor<2x1xf32>) -> tensor<2x1xf32>
  %6 = "slm.Div"(%1, %5) : (tensor<2x8xf32>, tensor<2x1xf32>) -> tensor<2x8xf32>
  %7 = "slm.Mul"(%6, %w) : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return %7, %1 : tensor<2x8xf32>, tensor<2x8xf32>
}

// -----

// Near miss: the centring mean runs over axis 0, so this is not a LayerNorm over the last axis.
// CHECK-LABEL: func @layer_norm_wrong_mean_axis
// CHECK-NOT: slm.LayerNormalization
// CHECK: "slm.ReduceMean"(%arg0) <{axes = [0]
func.func @layer_norm_wrong_mean_axis(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %w = slm.constant dense<2.0> : tensor<8xf32> : tensor<8xf32>
  %eps = slm.constant dense<1.0e-5> : tensor<f32> : tensor<f32>
  %two = slm.constant dense<2.0> : tensor<f32> : tensor<f32>
  %0 = "slm.ReduceMean"(%x) {axes = [0], keepdims = 1 : i64} : (tensor<2x8xf32>) -> tensor<1x8xf32>
  %1 = "slm.Sub"(%x, %0) : (tensor<2x8xf32>, tensor<1x8xf32>) -> tensor<2x8xf32>
  %2 = "slm.Pow"(%1, %two) : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %3 = "slm.ReduceMean"(%2) {axes = [-1], keepdims = 1 : i64} : (tensor<2x8xf32>) -> tensor<2x1xf32>
  %4 = "slm.Add"(%3, %eps) : (tensor<2x1xf32>, tensor<f32>) -> tensor<2x1xf32>
  %5 = "slm.Sqrt"(%4) : (tensor<2x1xf32>) -> tensor<2x1xf32>
  %6 = "slm.Div"(%1, %5) : (tensor<2x8xf32>, tensor<2x1xf32>) -> tensor<2x8xf32>
  %7 = "slm.Mul"(%6, %w) : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return %7 : tensor<2x8xf32>
}
