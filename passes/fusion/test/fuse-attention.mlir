// RUN: slmc-opt --split-input-file --slm-fuse-attention --slm-fold %s | FileCheck %s

// Grouped-query attention with a KV past, a causal mask and the head split/merge around it.
// CHECK-LABEL: func @gqa_causal_past
// CHECK: %[[Y:.*]], %[[K:.*]], %[[V:.*]] = "slm.attention"(%arg0, %arg1, %arg2, %arg3, %arg4) <{causal = 1 : i64, kv_num_heads = 2 : i64, num_heads = 4 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 0, 0>, scale = 0.353553385 : f32}>
// CHECK-NOT: slm.Softmax
// CHECK-NOT: slm.Concat
// CHECK: return %[[Y]], %[[K]], %[[V]]
func.func @gqa_causal_past(%q: tensor<1x2x32xf32>, %k: tensor<1x2x16xf32>, %v: tensor<1x2x16xf32>, %past_k: tensor<1x2x3x8xf32>, %past_v: tensor<1x2x3x8xf32>) -> (tensor<1x2x32xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>) {
  %s4q = slm.constant dense<[1, 2, 4, 8]> : tensor<4xi64> : tensor<4xi64>
  %s4kv = slm.constant dense<[1, 2, 2, 8]> : tensor<4xi64> : tensor<4xi64>
  %s5 = slm.constant dense<[1, 2, 2, 5, 8]> : tensor<5xi64> : tensor<5xi64>
  %s4r = slm.constant dense<[1, 4, 5, 8]> : tensor<4xi64> : tensor<4xi64>
  %s3 = slm.constant dense<[1, 2, 32]> : tensor<3xi64> : tensor<3xi64>
  %ax0 = slm.constant dense<0> : tensor<1xi64> : tensor<1xi64>
  %ax1 = slm.constant dense<1> : tensor<1xi64> : tensor<1xi64>
  %ax2 = slm.constant dense<2> : tensor<1xi64> : tensor<1xi64>
  %zero = slm.constant dense<0> : tensor<i64> : tensor<i64>
  %one = slm.constant dense<1> : tensor<i64> : tensor<i64>
  %P = slm.constant dense<3> : tensor<i64> : tensor<i64>
  %T = slm.constant dense<5> : tensor<i64> : tensor<i64>
  %scale = slm.constant dense<0.353553385> : tensor<f32> : tensor<f32>
  %fill = slm.constant dense<-1.000000e+09> : tensor<f32> : tensor<f32>
  %q4 = "slm.Reshape"(%q, %s4q) : (tensor<1x2x32xf32>, tensor<4xi64>) -> tensor<1x2x4x8xf32>
  %qh = "slm.Transpose"(%q4) {perm = [0, 2, 1, 3]} : (tensor<1x2x4x8xf32>) -> tensor<1x4x2x8xf32>
  %k4 = "slm.Reshape"(%k, %s4kv) : (tensor<1x2x16xf32>, tensor<4xi64>) -> tensor<1x2x2x8xf32>
  %kh = "slm.Transpose"(%k4) {perm = [0, 2, 1, 3]} : (tensor<1x2x2x8xf32>) -> tensor<1x2x2x8xf32>
  %v4 = "slm.Reshape"(%v, %s4kv) : (tensor<1x2x16xf32>, tensor<4xi64>) -> tensor<1x2x2x8xf32>
  %vh = "slm.Transpose"(%v4) {perm = [0, 2, 1, 3]} : (tensor<1x2x2x8xf32>) -> tensor<1x2x2x8xf32>
  %pk = "slm.Concat"(%past_k, %kh) {axis = 2 : i64} : (tensor<1x2x3x8xf32>, tensor<1x2x2x8xf32>) -> tensor<1x2x5x8xf32>
  %pv = "slm.Concat"(%past_v, %vh) {axis = 2 : i64} : (tensor<1x2x3x8xf32>, tensor<1x2x2x8xf32>) -> tensor<1x2x5x8xf32>
  %ku = "slm.Unsqueeze"(%pk, %ax2) : (tensor<1x2x5x8xf32>, tensor<1xi64>) -> tensor<1x2x1x5x8xf32>
  %ke = "slm.Expand"(%ku, %s5) : (tensor<1x2x1x5x8xf32>, tensor<5xi64>) -> tensor<1x2x2x5x8xf32>
  %kr = "slm.Reshape"(%ke, %s4r) : (tensor<1x2x2x5x8xf32>, tensor<4xi64>) -> tensor<1x4x5x8xf32>
  %vu = "slm.Unsqueeze"(%pv, %ax2) : (tensor<1x2x5x8xf32>, tensor<1xi64>) -> tensor<1x2x1x5x8xf32>
  %ve = "slm.Expand"(%vu, %s5) : (tensor<1x2x1x5x8xf32>, tensor<5xi64>) -> tensor<1x2x2x5x8xf32>
  %vr = "slm.Reshape"(%ve, %s4r) : (tensor<1x2x2x5x8xf32>, tensor<4xi64>) -> tensor<1x4x5x8xf32>
  %kt = "slm.Transpose"(%kr) {perm = [0, 1, 3, 2]} : (tensor<1x4x5x8xf32>) -> tensor<1x4x8x5xf32>
  %s = "slm.MatMul"(%qh, %kt) : (tensor<1x4x2x8xf32>, tensor<1x4x8x5xf32>) -> tensor<1x4x2x5xf32>
  %sc = "slm.Mul"(%s, %scale) : (tensor<1x4x2x5xf32>, tensor<f32>) -> tensor<1x4x2x5xf32>
  %r1 = "slm.Range"(%zero, %T, %one) : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<5xi64>
  %u1 = "slm.Unsqueeze"(%r1, %ax0) : (tensor<5xi64>, tensor<1xi64>) -> tensor<1x5xi64>
  %r2 = "slm.Range"(%P, %T, %one) : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<2xi64>
  %u2 = "slm.Unsqueeze"(%r2, %ax1) : (tensor<2xi64>, tensor<1xi64>) -> tensor<2x1xi64>
  %g = "slm.Greater"(%u1, %u2) : (tensor<1x5xi64>, tensor<2x1xi64>) -> tensor<2x5xi1>
  %w = "slm.Where"(%g, %fill, %sc) : (tensor<2x5xi1>, tensor<f32>, tensor<1x4x2x5xf32>) -> tensor<1x4x2x5xf32>
  %p = "slm.Softmax"(%w) {axis = -1 : i64} : (tensor<1x4x2x5xf32>) -> tensor<1x4x2x5xf32>
  %o = "slm.MatMul"(%p, %vr) : (tensor<1x4x2x5xf32>, tensor<1x4x5x8xf32>) -> tensor<1x4x2x8xf32>
  %ot = "slm.Transpose"(%o) {perm = [0, 2, 1, 3]} : (tensor<1x4x2x8xf32>) -> tensor<1x2x4x8xf32>
  %y = "slm.Reshape"(%ot, %s3) : (tensor<1x2x4x8xf32>, tensor<3xi64>) -> tensor<1x2x32xf32>
  return %y, %pk, %pv : tensor<1x2x32xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>
}

// -----

// Near miss: Softmax over the query axis (2), not the keys.
// CHECK-LABEL: func @softmax_wrong_axis
// CHECK-NOT: slm.attention
// CHECK: "slm.Softmax"
func.func @softmax_wrong_axis(%q: tensor<1x2x32xf32>, %k: tensor<1x2x16xf32>, %v: tensor<1x2x16xf32>, %past_k: tensor<1x2x3x8xf32>, %past_v: tensor<1x2x3x8xf32>) -> (tensor<1x2x32xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>) {
  %s4q = slm.constant dense<[1, 2, 4, 8]> : tensor<4xi64> : tensor<4xi64>
  %s4kv = slm.constant dense<[1, 2, 2, 8]> : tensor<4xi64> : tensor<4xi64>
  %s5 = slm.constant dense<[1, 2, 2, 5, 8]> : tensor<5xi64> : tensor<5xi64>
  %s4r = slm.constant dense<[1, 4, 5, 8]> : tensor<4xi64> : tensor<4xi64>
  %s3 = slm.constant dense<[1, 2, 32]> : tensor<3xi64> : tensor<3xi64>
  %ax0 = slm.constant dense<0> : tensor<1xi64> : tensor<1xi64>
  %ax1 = slm.constant dense<1> : tensor<1xi64> : tensor<1xi64>
  %ax2 = slm.constant dense<2> : tensor<1xi64> : tensor<1xi64>
  %zero = slm.constant dense<0> : tensor<i64> : tensor<i64>
  %one = slm.constant dense<1> : tensor<i64> : tensor<i64>
  %P = slm.constant dense<3> : tensor<i64> : tensor<i64>
  %T = slm.constant dense<5> : tensor<i64> : tensor<i64>
  %scale = slm.constant dense<0.353553385> : tensor<f32> : tensor<f32>
  %fill = slm.constant dense<-1.000000e+09> : tensor<f32> : tensor<f32>
  %q4 = "slm.Reshape"(%q, %s4q) : (tensor<1x2x32xf32>, tensor<4xi64>) -> tensor<1x2x4x8xf32>
  %qh = "slm.Transpose"(%q4) {perm = [0, 2, 1, 3]} : (tensor<1x2x4x8xf32>) -> tensor<1x4x2x8xf32>
  %k4 = "slm.Reshape"(%k, %s4kv) : (tensor<1x2x16xf32>, tensor<4xi64>) -> tensor<1x2x2x8xf32>
  %kh = "slm.Transpose"(%k4) {perm = [0, 2, 1, 3]} : (tensor<1x2x2x8xf32>) -> tensor<1x2x2x8xf32>
  %v4 = "slm.Reshape"(%v, %s4kv) : (tensor<1x2x16xf32>, tensor<4xi64>) -> tensor<1x2x2x8xf32>
  %vh = "slm.Transpose"(%v4) {perm = [0, 2, 1, 3]} : (tensor<1x2x2x8xf32>) -> tensor<1x2x2x8xf32>
  %pk = "slm.Concat"(%past_k, %kh) {axis = 2 : i64} : (tensor<1x2x3x8xf32>, tensor<1x2x2x8xf32>) -> tensor<1x2x5x8xf32>
  %pv = "slm.Concat"(%past_v, %vh) {axis = 2 : i64} : (tensor<1x2x3x8xf32>, tensor<1x2x2x8xf32>) -> tensor<1x2x5x8xf32>
  %ku = "slm.Unsqueeze"(%pk, %ax2) : (tensor<1x2x5x8xf32>, tensor<1xi64>) -> tensor<1x2x1x5x8xf32>
  %ke = "slm.Expand"(%ku, %s5) : (tensor<1x2x1x5x8xf32>, tensor<5xi64>) -> tensor<1x2x2x5x8xf32>
  %kr = "slm.Reshape"(%ke, %s4r) : (tensor<1x2x2x5x8xf32>, tensor<4xi64>) -> tensor<1x4x5x8xf32>
  %vu = "slm.Unsqueeze"(%pv, %ax2) : (tensor<1x2x5x8xf32>, tensor<1xi64>) -> tensor<1x2x1x5x8xf32>
  %ve = "slm.Expand"(%vu, %s5) : (tensor<1x2x1x5x8xf32>, tensor<5xi64>) -> tensor<1x2x2x5x8xf32>
  %vr = "slm.Reshape"(%ve, %s4r) : (tensor<1x2x2x5x8xf32>, tensor<4xi64>) -> tensor<1x4x5x8xf32>
  %kt = "slm.Transpose"(%kr) {perm = [0, 1, 3, 2]} : (tensor<1x4x5x8xf32>) -> tensor<1x4x8x5xf32>
  %s = "slm.MatMul"(%qh, %kt) : (tensor<1x4x2x8xf32>, tensor<1x4x8x5xf32>) -> tensor<1x4x2x5xf32>
  %sc = "slm.Mul"(%s, %scale) : (tensor<1x4x2x5xf32>, tensor<f32>) -> tensor<1x4x2x5xf32>
  %r1 = "slm.Range"(%zero, %T, %one) : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<5xi64>
  %u1 = "slm.Unsqueeze"(%r1, %ax0) : (tensor<5xi64>, tensor<1xi64>) -> tensor<1x5xi64>
  %r2 = "slm.Range"(%P, %T, %one) : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<2xi64>
  %u2 = "slm.Unsqueeze"(%r2, %ax1) : (tensor<2xi64>, tensor<1xi64>) -> tensor<2x1xi64>
  %g = "slm.Greater"(%u1, %u2) : (tensor<1x5xi64>, tensor<2x1xi64>) -> tensor<2x5xi1>
  %w = "slm.Where"(%g, %fill, %sc) : (tensor<2x5xi1>, tensor<f32>, tensor<1x4x2x5xf32>) -> tensor<1x4x2x5xf32>
  %p = "slm.Softmax"(%w) {axis = 2 : i64} : (tensor<1x4x2x5xf32>) -> tensor<1x4x2x5xf32>
  %o = "slm.MatMul"(%p, %vr) : (tensor<1x4x2x5xf32>, tensor<1x4x5x8xf32>) -> tensor<1x4x2x8xf32>
  %ot = "slm.Transpose"(%o) {perm = [0, 2, 1, 3]} : (tensor<1x4x2x8xf32>) -> tensor<1x2x4x8xf32>
  %y = "slm.Reshape"(%ot, %s3) : (tensor<1x2x4x8xf32>, tensor<3xi64>) -> tensor<1x2x32xf32>
  return %y, %pk, %pv : tensor<1x2x32xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>
}

// -----

// Near miss: the probabilities are returned too (an extra consumer of an intermediate).
// CHECK-LABEL: func @probs_returned
// CHECK-NOT: slm.attention
// CHECK: "slm.Softmax"
func.func @probs_returned(%q: tensor<1x2x32xf32>, %k: tensor<1x2x16xf32>, %v: tensor<1x2x16xf32>, %past_k: tensor<1x2x3x8xf32>, %past_v: tensor<1x2x3x8xf32>) -> (tensor<1x2x32xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x4x2x5xf32>) {
  %s4q = slm.constant dense<[1, 2, 4, 8]> : tensor<4xi64> : tensor<4xi64>
  %s4kv = slm.constant dense<[1, 2, 2, 8]> : tensor<4xi64> : tensor<4xi64>
  %s5 = slm.constant dense<[1, 2, 2, 5, 8]> : tensor<5xi64> : tensor<5xi64>
  %s4r = slm.constant dense<[1, 4, 5, 8]> : tensor<4xi64> : tensor<4xi64>
  %s3 = slm.constant dense<[1, 2, 32]> : tensor<3xi64> : tensor<3xi64>
  %ax0 = slm.constant dense<0> : tensor<1xi64> : tensor<1xi64>
  %ax1 = slm.constant dense<1> : tensor<1xi64> : tensor<1xi64>
  %ax2 = slm.constant dense<2> : tensor<1xi64> : tensor<1xi64>
  %zero = slm.constant dense<0> : tensor<i64> : tensor<i64>
  %one = slm.constant dense<1> : tensor<i64> : tensor<i64>
  %P = slm.constant dense<3> : tensor<i64> : tensor<i64>
  %T = slm.constant dense<5> : tensor<i64> : tensor<i64>
  %scale = slm.constant dense<0.353553385> : tensor<f32> : tensor<f32>
  %fill = slm.constant dense<-1.000000e+09> : tensor<f32> : tensor<f32>
  %q4 = "slm.Reshape"(%q, %s4q) : (tensor<1x2x32xf32>, tensor<4xi64>) -> tensor<1x2x4x8xf32>
  %qh = "slm.Transpose"(%q4) {perm = [0, 2, 1, 3]} : (tensor<1x2x4x8xf32>) -> tensor<1x4x2x8xf32>
  %k4 = "slm.Reshape"(%k, %s4kv) : (tensor<1x2x16xf32>, tensor<4xi64>) -> tensor<1x2x2x8xf32>
  %kh = "slm.Transpose"(%k4) {perm = [0, 2, 1, 3]} : (tensor<1x2x2x8xf32>) -> tensor<1x2x2x8xf32>
  %v4 = "slm.Reshape"(%v, %s4kv) : (tensor<1x2x16xf32>, tensor<4xi64>) -> tensor<1x2x2x8xf32>
  %vh = "slm.Transpose"(%v4) {perm = [0, 2, 1, 3]} : (tensor<1x2x2x8xf32>) -> tensor<1x2x2x8xf32>
  %pk = "slm.Concat"(%past_k, %kh) {axis = 2 : i64} : (tensor<1x2x3x8xf32>, tensor<1x2x2x8xf32>) -> tensor<1x2x5x8xf32>
  %pv = "slm.Concat"(%past_v, %vh) {axis = 2 : i64} : (tensor<1x2x3x8xf32>, tensor<1x2x2x8xf32>) -> tensor<1x2x5x8xf32>
  %ku = "slm.Unsqueeze"(%pk, %ax2) : (tensor<1x2x5x8xf32>, tensor<1xi64>) -> tensor<1x2x1x5x8xf32>
  %ke = "slm.Expand"(%ku, %s5) : (tensor<1x2x1x5x8xf32>, tensor<5xi64>) -> tensor<1x2x2x5x8xf32>
  %kr = "slm.Reshape"(%ke, %s4r) : (tensor<1x2x2x5x8xf32>, tensor<4xi64>) -> tensor<1x4x5x8xf32>
  %vu = "slm.Unsqueeze"(%pv, %ax2) : (tensor<1x2x5x8xf32>, tensor<1xi64>) -> tensor<1x2x1x5x8xf32>
  %ve = "slm.Expand"(%vu, %s5) : (tensor<1x2x1x5x8xf32>, tensor<5xi64>) -> tensor<1x2x2x5x8xf32>
  %vr = "slm.Reshape"(%ve, %s4r) : (tensor<1x2x2x5x8xf32>, tensor<4xi64>) -> tensor<1x4x5x8xf32>
  %kt = "slm.Transpose"(%kr) {perm = [0, 1, 3, 2]} : (tensor<1x4x5x8xf32>) -> tensor<1x4x8x5xf32>
  %s = "slm.MatMul"(%qh, %kt) : (tensor<1x4x2x8xf32>, tensor<1x4x8x5xf32>) -> tensor<1x4x2x5xf32>
  %sc = "slm.Mul"(%s, %scale) : (tensor<1x4x2x5xf32>, tensor<f32>) -> tensor<1x4x2x5xf32>
  %r1 = "slm.Range"(%zero, %T, %one) : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<5xi64>
  %u1 = "slm.Unsqueeze"(%r1, %ax0) : (tensor<5xi64>, tensor<1xi64>) -> tensor<1x5xi64>
  %r2 = "slm.Range"(%P, %T, %one) : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<2xi64>
  %u2 = "slm.Unsqueeze"(%r2, %ax1) : (tensor<2xi64>, tensor<1xi64>) -> tensor<2x1xi64>
  %g = "slm.Greater"(%u1, %u2) : (tensor<1x5xi64>, tensor<2x1xi64>) -> tensor<2x5xi1>
  %w = "slm.Where"(%g, %fill, %sc) : (tensor<2x5xi1>, tensor<f32>, tensor<1x4x2x5xf32>) -> tensor<1x4x2x5xf32>
  %p = "slm.Softmax"(%w) {axis = -1 : i64} : (tensor<1x4x2x5xf32>) -> tensor<1x4x2x5xf32>
  %o = "slm.MatMul"(%p, %vr) : (tensor<1x4x2x5xf32>, tensor<1x4x5x8xf32>) -> tensor<1x4x2x8xf32>
  %ot = "slm.Transpose"(%o) {perm = [0, 2, 1, 3]} : (tensor<1x4x2x8xf32>) -> tensor<1x2x4x8xf32>
  %y = "slm.Reshape"(%ot, %s3) : (tensor<1x2x4x8xf32>, tensor<3xi64>) -> tensor<1x2x32xf32>
  return %y, %pk, %pv, %p : tensor<1x2x32xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x4x2x5xf32>
}

// -----

// Near miss: a mask fill of -100 does not zero the masked keys' weight, so it is not causal attention.
// CHECK-LABEL: func @weak_mask_fill
// CHECK-NOT: slm.attention
// CHECK: "slm.Where"
func.func @weak_mask_fill(%q: tensor<1x2x32xf32>, %k: tensor<1x2x16xf32>, %v: tensor<1x2x16xf32>, %past_k: tensor<1x2x3x8xf32>, %past_v: tensor<1x2x3x8xf32>) -> (tensor<1x2x32xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>) {
  %s4q = slm.constant dense<[1, 2, 4, 8]> : tensor<4xi64> : tensor<4xi64>
  %s4kv = slm.constant dense<[1, 2, 2, 8]> : tensor<4xi64> : tensor<4xi64>
  %s5 = slm.constant dense<[1, 2, 2, 5, 8]> : tensor<5xi64> : tensor<5xi64>
  %s4r = slm.constant dense<[1, 4, 5, 8]> : tensor<4xi64> : tensor<4xi64>
  %s3 = slm.constant dense<[1, 2, 32]> : tensor<3xi64> : tensor<3xi64>
  %ax0 = slm.constant dense<0> : tensor<1xi64> : tensor<1xi64>
  %ax1 = slm.constant dense<1> : tensor<1xi64> : tensor<1xi64>
  %ax2 = slm.constant dense<2> : tensor<1xi64> : tensor<1xi64>
  %zero = slm.constant dense<0> : tensor<i64> : tensor<i64>
  %one = slm.constant dense<1> : tensor<i64> : tensor<i64>
  %P = slm.constant dense<3> : tensor<i64> : tensor<i64>
  %T = slm.constant dense<5> : tensor<i64> : tensor<i64>
  %scale = slm.constant dense<0.353553385> : tensor<f32> : tensor<f32>
  %fill = slm.constant dense<-1.000000e+02> : tensor<f32> : tensor<f32>
  %q4 = "slm.Reshape"(%q, %s4q) : (tensor<1x2x32xf32>, tensor<4xi64>) -> tensor<1x2x4x8xf32>
  %qh = "slm.Transpose"(%q4) {perm = [0, 2, 1, 3]} : (tensor<1x2x4x8xf32>) -> tensor<1x4x2x8xf32>
  %k4 = "slm.Reshape"(%k, %s4kv) : (tensor<1x2x16xf32>, tensor<4xi64>) -> tensor<1x2x2x8xf32>
  %kh = "slm.Transpose"(%k4) {perm = [0, 2, 1, 3]} : (tensor<1x2x2x8xf32>) -> tensor<1x2x2x8xf32>
  %v4 = "slm.Reshape"(%v, %s4kv) : (tensor<1x2x16xf32>, tensor<4xi64>) -> tensor<1x2x2x8xf32>
  %vh = "slm.Transpose"(%v4) {perm = [0, 2, 1, 3]} : (tensor<1x2x2x8xf32>) -> tensor<1x2x2x8xf32>
  %pk = "slm.Concat"(%past_k, %kh) {axis = 2 : i64} : (tensor<1x2x3x8xf32>, tensor<1x2x2x8xf32>) -> tensor<1x2x5x8xf32>
  %pv = "slm.Concat"(%past_v, %vh) {axis = 2 : i64} : (tensor<1x2x3x8xf32>, tensor<1x2x2x8xf32>) -> tensor<1x2x5x8xf32>
  %ku = "slm.Unsqueeze"(%pk, %ax2) : (tensor<1x2x5x8xf32>, tensor<1xi64>) -> tensor<1x2x1x5x8xf32>
  %ke = "slm.Expand"(%ku, %s5) : (tensor<1x2x1x5x8xf32>, tensor<5xi64>) -> tensor<1x2x2x5x8xf32>
  %kr = "slm.Reshape"(%ke, %s4r) : (tensor<1x2x2x5x8xf32>, tensor<4xi64>) -> tensor<1x4x5x8xf32>
  %vu = "slm.Unsqueeze"(%pv, %ax2) : (tensor<1x2x5x8xf32>, tensor<1xi64>) -> tensor<1x2x1x5x8xf32>
  %ve = "slm.Expand"(%vu, %s5) : (tensor<1x2x1x5x8xf32>, tensor<5xi64>) -> tensor<1x2x2x5x8xf32>
  %vr = "slm.Reshape"(%ve, %s4r) : (tensor<1x2x2x5x8xf32>, tensor<4xi64>) -> tensor<1x4x5x8xf32>
  %kt = "slm.Transpose"(%kr) {perm = [0, 1, 3, 2]} : (tensor<1x4x5x8xf32>) -> tensor<1x4x8x5xf32>
  %s = "slm.MatMul"(%qh, %kt) : (tensor<1x4x2x8xf32>, tensor<1x4x8x5xf32>) -> tensor<1x4x2x5xf32>
  %sc = "slm.Mul"(%s, %scale) : (tensor<1x4x2x5xf32>, tensor<f32>) -> tensor<1x4x2x5xf32>
  %r1 = "slm.Range"(%zero, %T, %one) : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<5xi64>
  %u1 = "slm.Unsqueeze"(%r1, %ax0) : (tensor<5xi64>, tensor<1xi64>) -> tensor<1x5xi64>
  %r2 = "slm.Range"(%P, %T, %one) : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<2xi64>
  %u2 = "slm.Unsqueeze"(%r2, %ax1) : (tensor<2xi64>, tensor<1xi64>) -> tensor<2x1xi64>
  %g = "slm.Greater"(%u1, %u2) : (tensor<1x5xi64>, tensor<2x1xi64>) -> tensor<2x5xi1>
  %w = "slm.Where"(%g, %fill, %sc) : (tensor<2x5xi1>, tensor<f32>, tensor<1x4x2x5xf32>) -> tensor<1x4x2x5xf32>
  %p = "slm.Softmax"(%w) {axis = -1 : i64} : (tensor<1x4x2x5xf32>) -> tensor<1x4x2x5xf32>
  %o = "slm.MatMul"(%p, %vr) : (tensor<1x4x2x5xf32>, tensor<1x4x5x8xf32>) -> tensor<1x4x2x8xf32>
  %ot = "slm.Transpose"(%o) {perm = [0, 2, 1, 3]} : (tensor<1x4x2x8xf32>) -> tensor<1x2x4x8xf32>
  %y = "slm.Reshape"(%ot, %s3) : (tensor<1x2x4x8xf32>, tensor<3xi64>) -> tensor<1x2x32xf32>
  return %y, %pk, %pv : tensor<1x2x32xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>
}
