// RUN: slmc-opt --split-input-file --slm-prune-heads="fraction=0.5" %s | FileCheck %s
// RUN: slmc-opt --split-input-file --slm-prune-heads="fraction=0.25" %s | FileCheck %s --check-prefix=GQA

// Two heads, two KV heads (one query head per group), head_dim 2. Head 1's output rows in Wo are
// ten times head 0's, so head 0 and its KV head go: Q/K/V keep columns 2..3, O keeps rows 2..3,
// the cache arguments and presents lose a head and the function type follows.
// CHECK: module attributes {slm.prune_report = [{bias_corrected = false, bytes_after = 128 : i64, bytes_before = 256 : i64, detail = "1 of 2 query heads: 1 whole KV groups of 2", importance = "magnitude", kind = "heads", layer = "/l0/attn", removed = 1 : i64, total = 2 : i64}]}
// CHECK-LABEL: func @mha
// CHECK-SAME: (%arg0: tensor<1x?x4xf32>, %arg1: tensor<1x1x?x2xf32>, %arg2: tensor<1x1x?x2xf32>) -> (tensor<1x?x4xf32>, tensor<1x1x?x2xf32>, tensor<1x1x?x2xf32>)
// CHECK-DAG: "slm.fused_matmul"(%arg0, %{{.*}}) {{.*}} : (tensor<1x?x4xf32>, tensor<4x2xf32>) -> tensor<1x?x2xf32>
// CHECK: "slm.attention"({{.*}}) <{causal = 1 : i64, kv_num_heads = 1 : i64, num_heads = 1 : i64, {{.*}} -> (tensor<1x?x2xf32>, tensor<1x1x?x2xf32>, tensor<1x1x?x2xf32>)
// CHECK: "slm.fused_matmul"({{.*}}) {{.*}} : (tensor<1x?x2xf32>, tensor<2x4xf32>, tensor<1x?x4xf32>) -> tensor<1x?x4xf32>
// CHECK: wo: "0x400000000000803F0000803F0000803F0000803F0000803F0000803F0000803F0000803F"
// GQA-LABEL: func @mha
// GQA: num_heads = 1 : i64
module {
func.func @mha(%x: tensor<1x?x4xf32>, %pk: tensor<1x2x?x2xf32>, %pv: tensor<1x2x?x2xf32>) -> (tensor<1x?x4xf32>, tensor<1x2x?x2xf32>, tensor<1x2x?x2xf32>) {
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
}

// -----

// Grouped KV: four query heads read one KV head. A quarter of the heads is one query head per
// group; the KV head and the cache shape stay. Head 2 has the smallest output rows, so Q keeps
// columns 0..3 and 6..7 and O the same rows.
// GQA: module attributes {slm.prune_report = [{{.*}}detail = "1 of 4 query heads: 1 per KV group, 1 KV heads kept"
// GQA-LABEL: func @gqa
// GQA-SAME: (%arg0: tensor<1x?x2xf32>, %arg1: tensor<1x1x?x2xf32>, %arg2: tensor<1x1x?x2xf32>)
// GQA: "slm.fused_matmul"(%arg0, %{{.*}}) {{.*}} -> tensor<1x?x6xf32>
// GQA: "slm.attention"({{.*}}) <{causal = 1 : i64, kv_num_heads = 1 : i64, num_heads = 3 : i64
// GQA: "slm.fused_matmul"({{.*}}) {{.*}} : (tensor<1x?x6xf32>, tensor<6x2xf32>) -> tensor<1x?x2xf32>
// Wq row 0 is 0..7: the kept columns are 0, 1, 2, 3, 6, 7.
// GQA: wq: "0x40000000000000000000803F00000040000040400000C0400000E040
module {
func.func @gqa(%x: tensor<1x?x2xf32>, %pk: tensor<1x1x?x2xf32>, %pv: tensor<1x1x?x2xf32>) -> (tensor<1x?x2xf32>, tensor<1x1x?x2xf32>, tensor<1x1x?x2xf32>) {
  %wq = slm.constant dense<[[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]]> : tensor<2x8xf32> {name = "wq"} : tensor<2x8xf32>
  %wk = slm.constant dense<1.0> : tensor<2x2xf32> {name = "wk"} : tensor<2x2xf32>
  %wv = slm.constant dense<1.0> : tensor<2x2xf32> {name = "wv"} : tensor<2x2xf32>
  %wo = slm.constant dense<[[1.0, 1.0], [1.0, 1.0], [2.0, 2.0], [2.0, 2.0], [0.5, 0.5], [0.5, 0.5], [3.0, 3.0], [3.0, 3.0]]> : tensor<8x2xf32> {name = "wo"} : tensor<8x2xf32>
  %q = "slm.fused_matmul"(%x, %wq) <{operandSegmentSizes = array<i32: 1, 1, 0, 0, 0>}> : (tensor<1x?x2xf32>, tensor<2x8xf32>) -> tensor<1x?x8xf32>
  %k = "slm.fused_matmul"(%x, %wk) <{operandSegmentSizes = array<i32: 1, 1, 0, 0, 0>}> : (tensor<1x?x2xf32>, tensor<2x2xf32>) -> tensor<1x?x2xf32>
  %v = "slm.fused_matmul"(%x, %wv) <{operandSegmentSizes = array<i32: 1, 1, 0, 0, 0>}> : (tensor<1x?x2xf32>, tensor<2x2xf32>) -> tensor<1x?x2xf32>
  %o, %k2, %v2 = "slm.attention"(%q, %k, %v, %pk, %pv) <{causal = 1 : i64, kv_num_heads = 1 : i64, num_heads = 4 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 0, 0>, scale = 0.7 : f32}> : (tensor<1x?x8xf32>, tensor<1x?x2xf32>, tensor<1x?x2xf32>, tensor<1x1x?x2xf32>, tensor<1x1x?x2xf32>) -> (tensor<1x?x8xf32>, tensor<1x1x?x2xf32>, tensor<1x1x?x2xf32>)
  %y = "slm.fused_matmul"(%o, %wo) <{operandSegmentSizes = array<i32: 1, 1, 0, 0, 0>}> : (tensor<1x?x8xf32>, tensor<8x2xf32>) -> tensor<1x?x2xf32>
  return %y, %k2, %v2 : tensor<1x?x2xf32>, tensor<1x1x?x2xf32>, tensor<1x1x?x2xf32>
}
}

// -----

// Near miss: the present key also feeds another op, so the cache shape cannot change.
// CHECK: module attributes {slm.prune_report = [{kind = "heads", layer = "wq", skipped = "present key/value has users other than the return"}]}
// CHECK-LABEL: func @present_escapes
// CHECK: num_heads = 2 : i64
// CHECK-NOT: tensor<1x1x?x2xf32>
module {
func.func @present_escapes(%x: tensor<1x?x4xf32>, %pk: tensor<1x2x?x2xf32>, %pv: tensor<1x2x?x2xf32>) -> (tensor<1x?x4xf32>, tensor<1x2x?x2xf32>, tensor<1x2x?x2xf32>) {
  %wq = slm.constant dense<1.0> : tensor<4x4xf32> {name = "wq"} : tensor<4x4xf32>
  %wk = slm.constant dense<1.0> : tensor<4x4xf32> {name = "wk"} : tensor<4x4xf32>
  %wv = slm.constant dense<1.0> : tensor<4x4xf32> {name = "wv"} : tensor<4x4xf32>
  %wo = slm.constant dense<1.0> : tensor<4x4xf32> {name = "wo"} : tensor<4x4xf32>
  %q = "slm.fused_matmul"(%x, %wq) <{operandSegmentSizes = array<i32: 1, 1, 0, 0, 0>}> : (tensor<1x?x4xf32>, tensor<4x4xf32>) -> tensor<1x?x4xf32>
  %k = "slm.fused_matmul"(%x, %wk) <{operandSegmentSizes = array<i32: 1, 1, 0, 0, 0>}> : (tensor<1x?x4xf32>, tensor<4x4xf32>) -> tensor<1x?x4xf32>
  %v = "slm.fused_matmul"(%x, %wv) <{operandSegmentSizes = array<i32: 1, 1, 0, 0, 0>}> : (tensor<1x?x4xf32>, tensor<4x4xf32>) -> tensor<1x?x4xf32>
  %o, %k2, %v2 = "slm.attention"(%q, %k, %v, %pk, %pv) <{causal = 1 : i64, kv_num_heads = 2 : i64, num_heads = 2 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 0, 0>, scale = 0.7 : f32}> : (tensor<1x?x4xf32>, tensor<1x?x4xf32>, tensor<1x?x4xf32>, tensor<1x2x?x2xf32>, tensor<1x2x?x2xf32>) -> (tensor<1x?x4xf32>, tensor<1x2x?x2xf32>, tensor<1x2x?x2xf32>)
  %y = "slm.fused_matmul"(%o, %wo) <{operandSegmentSizes = array<i32: 1, 1, 0, 0, 0>}> : (tensor<1x?x4xf32>, tensor<4x4xf32>) -> tensor<1x?x4xf32>
  %k3 = "slm.Add"(%k2, %k2) : (tensor<1x2x?x2xf32>, tensor<1x2x?x2xf32>) -> tensor<1x2x?x2xf32>
  return %y, %k3, %v2 : tensor<1x?x4xf32>, tensor<1x2x?x2xf32>, tensor<1x2x?x2xf32>
}
}

// -----

// Loss-based importance (slm.head_loss, from `--calibration-data`) outranks the weights: head 0's
// small output rows would go by magnitude, but removing it costs more, so head 1 goes; O keeps
// rows 0..1 (0.1 each) and the attribute is consumed.
// CHECK: module attributes {slm.prune_report = [{{.*}}importance = "calib-loss", kind = "heads"
// CHECK-LABEL: func @by_loss
// CHECK-NOT: slm.head_loss
// CHECK: wo: "0x40000000CDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3DCDCCCC3D"
module {
func.func @by_loss(%x: tensor<1x?x4xf32>, %pk: tensor<1x2x?x2xf32>, %pv: tensor<1x2x?x2xf32>) -> (tensor<1x?x4xf32>, tensor<1x2x?x2xf32>, tensor<1x2x?x2xf32>) {
  %wq = slm.constant dense<1.0> : tensor<4x4xf32> {name = "wq"} : tensor<4x4xf32>
  %wk = slm.constant dense<1.0> : tensor<4x4xf32> {name = "wk"} : tensor<4x4xf32>
  %wv = slm.constant dense<1.0> : tensor<4x4xf32> {name = "wv"} : tensor<4x4xf32>
  %wo = slm.constant dense<[[0.1, 0.1, 0.1, 0.1], [0.1, 0.1, 0.1, 0.1], [1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]]> : tensor<4x4xf32> {name = "wo"} : tensor<4x4xf32>
  %q = "slm.fused_matmul"(%x, %wq) <{operandSegmentSizes = array<i32: 1, 1, 0, 0, 0>}> : (tensor<1x?x4xf32>, tensor<4x4xf32>) -> tensor<1x?x4xf32>
  %k = "slm.fused_matmul"(%x, %wk) <{operandSegmentSizes = array<i32: 1, 1, 0, 0, 0>}> : (tensor<1x?x4xf32>, tensor<4x4xf32>) -> tensor<1x?x4xf32>
  %v = "slm.fused_matmul"(%x, %wv) <{operandSegmentSizes = array<i32: 1, 1, 0, 0, 0>}> : (tensor<1x?x4xf32>, tensor<4x4xf32>) -> tensor<1x?x4xf32>
  %o, %k2, %v2 = "slm.attention"(%q, %k, %v, %pk, %pv) <{causal = 1 : i64, kv_num_heads = 2 : i64, num_heads = 2 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 0, 0>, scale = 0.7 : f32}> : (tensor<1x?x4xf32>, tensor<1x?x4xf32>, tensor<1x?x4xf32>, tensor<1x2x?x2xf32>, tensor<1x2x?x2xf32>) -> (tensor<1x?x4xf32>, tensor<1x2x?x2xf32>, tensor<1x2x?x2xf32>)
  %y = "slm.fused_matmul"(%o, %wo) <{operandSegmentSizes = array<i32: 1, 1, 0, 0, 0>}> {slm.head_loss = array<f32: 5.0, 0.1>} : (tensor<1x?x4xf32>, tensor<4x4xf32>) -> tensor<1x?x4xf32>
  return %y, %k2, %v2 : tensor<1x?x4xf32>, tensor<1x2x?x2xf32>, tensor<1x2x?x2xf32>
}
}
