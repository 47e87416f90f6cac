// RUN: slmc-opt --split-input-file --slm-prune-magnitude="sparsity=0.5" %s | FileCheck %s
// RUN: slmc-opt --split-input-file --slm-prune-magnitude="sparsity=0.5 min-sparsity=0.8" %s | FileCheck %s --check-prefix=DENSE
// RUN: slmc-opt --split-input-file --slm-prune-magnitude="sparsity=0.5 pack=false" %s | FileCheck %s --check-prefix=ZERO

// Each column loses its smaller |w| of two: columns 0-7 keep row 1 (16.5 - c), columns 8-15 row 0
// (c + 1). Masks per k and 16-column block (one panel): k0 0xFF00, k1 0x00FF, then the value
// stream in that order; offsets [0, 16]. 96 bytes against 128 dense. The matmul feeding the
// return (an LM head) is left alone.
// CHECK: slm.prune_report = [{bias_corrected = false, bytes_after = 160 : i64, bytes_before = 192 : i64, detail = "0.500 of 2x16 zero; |removed|/|w| ~ {{.*}}", importance = "magnitude", kind = "magnitude", layer = "up", removed = 16 : i64, stored = "sparse", total = 32 : i64}
// CHECK-SAME: {kind = "magnitude", layer = "head", skipped = "its result is a model output (e.g. the LM head): left dense"}
// CHECK-LABEL: func @mlp
// CHECK: %[[Y:.*]] = "slm.matmul_sparse"(%arg0, %{{.*}}, %{{.*}}, %{{.*}}, %arg1) <{activation = "relu", k = 2 : i64, n = 16 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 0, 0>}> {slm.node = "up"} : (tensor<1x?x2xf32>, tensor<16xf32>, tensor<1x8xui16>, tensor<2xi64>, tensor<16xf32>) -> tensor<1x?x16xf32>
// CHECK: "slm.fused_matmul"(%[[Y]], %{{.*}}) {{.*}}slm.node = "head"
// CHECK: up.sparse_values: "0x4000000000001041000020410000304100004041000050410000604100007041000080410000844100007841000068410000584100004841000038410000284100001841"
// CHECK: up.sparse_masks: "0x4000000000FF000000000000FF00000000000000"
// CHECK: up.sparse_offsets: "0x4000000000000000000000001000000000000000"

// Below min-sparsity the masked form is not worth it: the zeros are written, the matmul stays dense.
// DENSE: stored = "dense: not worth it (0.50 zeros < 0.80, the least at which the masked kernel pays), zeros kept"
// DENSE-LABEL: func @mlp
// DENSE-NOT: slm.matmul_sparse
// DENSE: "slm.fused_matmul"{{.*}}slm.node = "up"

// Without pack (a quantizer follows) only the zeros are written.
// ZERO: stored = "zeroed; the quantizer stores it"
// ZERO-LABEL: func @mlp
// ZERO-NOT: slm.matmul_sparse
// ZERO: w: "0x400000000000000000000000000000000000000000000000000000000000000000000000000010410000204100003041000040410000504100006041000070410000804100008441000078410000684100005841000048410000384100002841000018410000000000000000000000000000000000000000000000000000000000000000"

module {
func.func @mlp(%x: tensor<1x?x2xf32>, %b: tensor<16xf32>) -> tensor<1x?x2xf32> {
  %w = slm.constant dense<[[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0], [16.5, 15.5, 14.5, 13.5, 12.5, 11.5, 10.5, 9.5, 8.5, 7.5, 6.5, 5.5, 4.5, 3.5, 2.5, 1.5]]> : tensor<2x16xf32> {name = "w"} : tensor<2x16xf32>
  %wh = slm.constant dense<1.0> : tensor<16x2xf32> {name = "wh"} : tensor<16x2xf32>
  %y = "slm.fused_matmul"(%x, %w, %b) <{activation = "relu", operandSegmentSizes = array<i32: 1, 1, 1, 0, 0>}> {slm.node = "up"} : (tensor<1x?x2xf32>, tensor<2x16xf32>, tensor<16xf32>) -> tensor<1x?x16xf32>
  %h = "slm.fused_matmul"(%y, %wh) <{operandSegmentSizes = array<i32: 1, 1, 0, 0, 0>}> {slm.node = "head"} : (tensor<1x?x16xf32>, tensor<16x2xf32>) -> tensor<1x?x2xf32>
  return %h : tensor<1x?x2xf32>
}
}

// -----

// A narrow matrix: per k the 16-column mask costs 8 bytes (a 64-column panel), more than the zeros
// save, so the masked form is larger than dense and the zeros stay dense.
// CHECK: stored = "dense: not worth it (masked form 84 bytes >= dense 60), zeros kept"
// CHECK-LABEL: func @narrow
// CHECK-NOT: slm.matmul_sparse
module {
func.func @narrow(%x: tensor<1x?x4xf32>, %b: tensor<3xf32>) -> tensor<1x?x3xf32> {
  %w = slm.constant dense<[[1.0, -5.0, 0.5], [-2.0, 1.0, 3.0], [3.0, 0.25, -1.0], [0.5, 2.0, 2.0]]> : tensor<4x3xf32> {name = "w"} : tensor<4x3xf32>
  %y = "slm.fused_matmul"(%x, %w, %b) <{activation = "relu", operandSegmentSizes = array<i32: 1, 1, 1, 0, 0>}> {slm.node = "n"} : (tensor<1x?x4xf32>, tensor<4x3xf32>, tensor<3xf32>) -> tensor<1x?x3xf32>
  %r = "slm.Relu"(%y) : (tensor<1x?x3xf32>) -> tensor<1x?x3xf32>
  return %r : tensor<1x?x3xf32>
}
}

// -----

// A weight already pruned with error compensation (slm.sparse_compensated, set by
// `slmc compile --calibration-data`): its zeros are kept as they are (here 8 of 16 in row 0, 4 in
// row 1, whatever the sparsity), the report names the method and the attribute is consumed.
// CHECK: importance = "calib-sparsegpt", kind = "magnitude", layer = "c", removed = 12 : i64
// CHECK-LABEL: func @compensated
// CHECK-NOT: slm.sparse_compensated
// CHECK: "slm.matmul_sparse"
// CHECK: c.sparse_masks: "0x40000000AAAA0000000000000FFF000000000000"
module {
func.func @compensated(%x: tensor<1x?x2xf32>) -> tensor<1x?x16xf32> {
  %w = slm.constant dense<[[0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0], [2.0, 2.0, 2.0, 2.0, 0.0, 0.0, 0.0, 0.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0]]> : tensor<2x16xf32> {name = "c"} : tensor<2x16xf32>
  %y = "slm.fused_matmul"(%x, %w) <{operandSegmentSizes = array<i32: 1, 1, 0, 0, 0>}> {slm.node = "c", slm.sparse_compensated} : (tensor<1x?x2xf32>, tensor<2x16xf32>) -> tensor<1x?x16xf32>
  %r = "slm.Relu"(%y) : (tensor<1x?x16xf32>) -> tensor<1x?x16xf32>
  return %r : tensor<1x?x16xf32>
}
}
