// RUN: slmc-opt --split-input-file --slm-kv-cache-state %s | FileCheck %s

// Two layers: every past argument becomes an slm.kv_cache, the Shape of a past (positions) moves
// before the appends, and the past arguments and present results leave the signature.
// CHECK-LABEL: func @two_layers
// CHECK-SAME: (%[[Q:[^:]*]]: tensor<1x?x32xf32>, %[[K:[^:]*]]: tensor<1x?x16xf32>, %[[V:[^:]*]]: tensor<1x?x16xf32>) -> (tensor<1x?x32xf32> {slm.name = "logits"}, tensor<4xi64> {slm.name = "n"})
// CHECK: %[[K0:.*]] = "slm.kv_cache"() <{dims = ["", "", "past", ""], name = "past_key_values.0.key"}> : () -> tensor<1x2x?x8xf32>
// CHECK: %[[V0:.*]] = "slm.kv_cache"() <{dims = ["", "", "past", ""], name = "past_key_values.0.value"}> : () -> tensor<1x2x?x8xf32>
// CHECK: %[[K1:.*]] = "slm.kv_cache"() <{dims = ["", "", "past", ""], name = "past_key_values.1.key"}>
// CHECK: %[[V1:.*]] = "slm.kv_cache"() <{dims = ["", "", "past", ""], name = "past_key_values.1.value"}>
// CHECK-NEXT: %[[N:.*]] = "slm.Shape"(%[[K1]])
// CHECK: %[[Y0:.*]], %{{.*}}, %{{.*}} = "slm.attention"(%[[Q]], %[[K]], %[[V]], %[[K0]], %[[V0]]) <{causal = 1 : i64, kv_in_place
// CHECK: %[[Y1:.*]], %{{.*}}, %{{.*}} = "slm.attention"(%[[Y0]], %[[K]], %[[V]], %[[K1]], %[[V1]]) <{causal = 1 : i64, kv_in_place
// CHECK: return %[[Y1]], %[[N]] : tensor<1x?x32xf32>, tensor<4xi64>
func.func @two_layers(%q: tensor<1x?x32xf32>, %k: tensor<1x?x16xf32>, %v: tensor<1x?x16xf32>,
    %pk0: tensor<1x2x?x8xf32> {slm.name = "past_key_values.0.key", slm.dims = ["", "", "past", ""]},
    %pv0: tensor<1x2x?x8xf32> {slm.name = "past_key_values.0.value", slm.dims = ["", "", "past", ""]},
    %pk1: tensor<1x2x?x8xf32> {slm.name = "past_key_values.1.key", slm.dims = ["", "", "past", ""]},
    %pv1: tensor<1x2x?x8xf32> {slm.name = "past_key_values.1.value", slm.dims = ["", "", "past", ""]})
    -> (tensor<1x?x32xf32> {slm.name = "logits"}, tensor<1x2x?x8xf32> {slm.name = "present.0.key"},
        tensor<1x2x?x8xf32> {slm.name = "present.0.value"}, tensor<1x2x?x8xf32> {slm.name = "present.1.key"},
        tensor<1x2x?x8xf32> {slm.name = "present.1.value"}, tensor<4xi64> {slm.name = "n"}) {
  %y0, %k0, %v0 = "slm.attention"(%q, %k, %v, %pk0, %pv0) {causal = 1 : i64, kv_num_heads = 2 : i64, num_heads = 4 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 0, 0>, scale = 0.353553385 : f32} : (tensor<1x?x32xf32>, tensor<1x?x16xf32>, tensor<1x?x16xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>) -> (tensor<1x?x32xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>)
  %n = "slm.Shape"(%pk1) : (tensor<1x2x?x8xf32>) -> tensor<4xi64>
  %y1, %k1, %v1 = "slm.attention"(%y0, %k, %v, %pk1, %pv1) {causal = 1 : i64, kv_num_heads = 2 : i64, num_heads = 4 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 0, 0>, scale = 0.353553385 : f32} : (tensor<1x?x32xf32>, tensor<1x?x16xf32>, tensor<1x?x16xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>) -> (tensor<1x?x32xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>)
  return %y1, %k0, %v0, %k1, %v1, %n : tensor<1x?x32xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<4xi64>
}

// -----

// Near miss: the past is also read by another op (a Concat the attention did not absorb), so
// no attention of the function converts: the signature and ops stay as they were.
// CHECK-LABEL: func @past_other_user
// CHECK-NOT: slm.kv_cache
// CHECK-NOT: kv_in_place
// CHECK: return %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} :
func.func @past_other_user(%q: tensor<1x?x32xf32>, %k: tensor<1x?x16xf32>, %v: tensor<1x?x16xf32>,
    %pk: tensor<1x2x?x8xf32> {slm.name = "past_key_values.0.key"}, %pv: tensor<1x2x?x8xf32> {slm.name = "past_key_values.0.value"})
    -> (tensor<1x?x32xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>) {
  %y, %k0, %v0 = "slm.attention"(%q, %k, %v, %pk, %pv) {causal = 1 : i64, kv_num_heads = 2 : i64, num_heads = 4 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 0, 0>, scale = 0.353553385 : f32} : (tensor<1x?x32xf32>, tensor<1x?x16xf32>, tensor<1x?x16xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>) -> (tensor<1x?x32xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>)
  %c = "slm.Concat"(%pk, %pk) {axis = 2 : i64} : (tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32>
  return %y, %k0, %v0, %c : tensor<1x?x32xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>
}

// -----

// Near miss: a present result feeds another op, not only the return.
// CHECK-LABEL: func @present_used
// CHECK-NOT: slm.kv_cache
// CHECK: "slm.Relu"
func.func @present_used(%q: tensor<1x?x32xf32>, %k: tensor<1x?x16xf32>, %v: tensor<1x?x16xf32>,
    %pk: tensor<1x2x?x8xf32>, %pv: tensor<1x2x?x8xf32>)
    -> (tensor<1x?x32xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>) {
  %y, %k0, %v0 = "slm.attention"(%q, %k, %v, %pk, %pv) {causal = 1 : i64, kv_num_heads = 2 : i64, num_heads = 4 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 0, 0>, scale = 0.353553385 : f32} : (tensor<1x?x32xf32>, tensor<1x?x16xf32>, tensor<1x?x16xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>) -> (tensor<1x?x32xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>)
  %r = "slm.Relu"(%k0) : (tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32>
  return %y, %r, %v0 : tensor<1x?x32xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>
}

// -----

// Near miss: attention without a past (a prefill-only export) has nothing to keep.
// CHECK-LABEL: func @no_past
// CHECK-NOT: slm.kv_cache
// CHECK-NOT: kv_in_place
func.func @no_past(%q: tensor<1x?x32xf32>, %k: tensor<1x?x16xf32>, %v: tensor<1x?x16xf32>) -> tensor<1x?x32xf32> {
  %y, %k0, %v0 = "slm.attention"(%q, %k, %v) {causal = 1 : i64, kv_num_heads = 2 : i64, num_heads = 4 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0>, scale = 0.353553385 : f32} : (tensor<1x?x32xf32>, tensor<1x?x16xf32>, tensor<1x?x16xf32>) -> (tensor<1x?x32xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>)
  return %y : tensor<1x?x32xf32>
}
