// RUN: slmc-opt --slm-kv-cache-state --slm-prune-heads="fraction=0.5" %s | FileCheck %s

// The KV caches as session state (--kv-cache=state): the attention reads slm.kv_cache ops instead
// of cache arguments, and head pruning shrinks them like the arguments: head 0 (the small Wo rows)
// and its KV head go, and both caches become [1, 1, P, 2].
// CHECK: kind = "heads", layer = "/l0/attn", removed = 1 : i64
// CHECK-LABEL: func @mha
// CHECK-SAME: (%arg0: tensor<1x?x4xf32>) -> tensor<1x?x4xf32>
// CHECK: %[[K:.*]] = "slm.kv_cache"() <{dims = ["", "", "past", ""], name = "past_key_values.0.key"}> : () -> tensor<1x1x?x2xf32>
// CHECK: %[[V:.*]] = "slm.kv_cache"() <{dims = ["", "", "past", ""], name = "past_key_values.0.value"}> : () -> tensor<1x1x?x2xf32>
// CHECK: "slm.attention"({{.*}}, %[[K]], %[[V]]) <{causal = 1 : i64, kv_in_place, kv_num_heads = 1 : i64, num_heads = 1 : i64
// CHECK-SAME: -> (tensor<1x?x2xf32>, tensor<1x1x?x2xf32>, tensor<1x1x?x2xf32>)
func.func @mha(%x: tensor<1x?x4xf32>,
    %pk: tensor<1x2x?x2xf32> {slm.name = "past_key_values.0.key", slm.dims = ["", "", "past", ""]},
    %pv: tensor<1x2x?x2xf32> {slm.name = "past_key_values.0.value", slm.dims = ["", "", "past", ""]})
    -> (tensor<1x?x4xf32>, tensor<1x2x?x2xf32> {slm.name = "present.0.key"}, tensor<1x2x?x2xf32> {slm.name = "present.0.value"}) {
  %wq = slm.constant dense<1.0> : tensor<4x4xf32> {name = "wq"} : tensor<4x4xf32>
  %wk = slm.constant dense<1.0> : tensor<4x4xf32> {name = "wk"} : tensor<4x4xf32>
  %wv = slm.constant dense<1.0> : tensor<4x4xf32> {name = "wv"} : tensor<4x4xf32>
  %wo = slm.constant dense<[[0.1, 0.1, 0.1, 0.1], [0.1, 0.1, 0.1, 0.1], [1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]]> : tensor<4x4xf32> {name = "wo"} : tensor<4x4xf32>
  %q = "slm.fused_matmul"(%x, %wq) <{operandSegmentSizes = array<i32: 1, 1, 0, 0, 0>}> {slm.node = "/l0/attn/q_proj/MatMul"} : (tensor<1x?x4xf32>, tensor<4x4xf32>) -> tensor<1x?x4xf32>
  %k = "slm.fused_matmul"(%x, %wk) <{operandSegmentSizes = array<i32: 1, 1, 0, 0, 0>}> {slm.node = "/l0/attn/k_proj/MatMul"} : (tensor<1x?x4xf32>, tensor<4x4xf32>) -> tensor<1x?x4xf32>
  %v = "slm.fused_matmul"(%x, %wv) <{operandSegmentSizes = array<i32: 1, 1, 0, 0, 0>}> {slm.node = "/l0/attn/v_proj/MatMul"} : (tensor<1x?x4xf32>, tensor<4x4xf32>) -> tensor<1x?x4xf32>
  %o, %k2, %v2 = "slm.attention"(%q, %k, %v, %pk, %pv) <{causal = 1 : i64, kv_num_heads = 2 : i64, num_heads = 2 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 0, 0>, scale = 0.7 : f32}> : (tensor<1x?x4xf32>, tensor<1x?x4xf32>, tensor<1x?x4xf32>, tensor<1x2x?x2xf32>, tensor<1x2x?x2xf32>) -> (tensor<1x?x4xf32>, tensor<1x2x?x2xf32>, tensor<1x2x?x2xf32>)
  %y = "slm.fused_matmul"(%o, %wo, %x) <{operandSegmentSizes = array<i32: 1, 1, 0, 0, 1>}> : (tensor<1x?x4xf32>, tensor<4x4xf32>, tensor<1x?x4xf32>) -> tensor<1x?x4xf32>
  return %y, %k2, %v2 : tensor<1x?x4xf32>, tensor<1x2x?x2xf32>, tensor<1x2x?x2xf32>
}
