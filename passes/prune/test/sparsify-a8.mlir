// RUN: slmc-opt --split-input-file --slm-sparsify-a8 %s | FileCheck %s
// RUN: slmc-opt --split-input-file --slm-sparsify-a8="max-ratio=0.2" %s | FileCheck %s --check-prefix=TIGHT

// int8, three codes that are not the zero code (128) in an 8x16 weight: tile 0 has u[0, 0] = 129
// (bit 0) and u[1, 1] = 120 (bit 4*1 + 1 = 5), tile 1 has u[7, 15] = 200 (bit 4*15 + 3 = 63).
// 3 + 16 + 16 = 35 bytes against 128 dense: converted, with the activations, scales, epilogue and
// attributes kept. The blobs start with their alignment (64) as a little-endian uint32.
// CHECK: slm.prune_report = [{bias_corrected = false, bytes_after = 35 : i64, bytes_before = 128 : i64, detail = "97.7% of the int8 codes of 8x16 are zero; mask + nonzeros", importance = "zero codes", kind = "sparse-a8", layer = "up", removed = 125 : i64, total = 128 : i64}]
// CHECK-LABEL: func @converted
// CHECK-DAG: %[[V:.*]] = slm.constant dense_resource<up.sparse_values> {{.*}} : tensor<3xui8>
// CHECK-DAG: %[[M:.*]] = slm.constant dense_resource<up.sparse_masks> {{.*}} : tensor<1x2xui64>
// CHECK-DAG: %[[O:.*]] = slm.constant dense_resource<up.sparse_offsets> {{.*}} : tensor<2xi64>
// CHECK: "slm.matmul_a8_sparse"(%arg0, %arg1, %arg2, %[[V]], %[[M]], %[[O]], %arg3, %arg4) <{activation = "silu", bits = 8 : i64, group_size = 8 : i64, k = 8 : i64, kp = 8 : i64, n = 16 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 1, 1, 1, 0, 0>}> {slm.node = "up"}
// CHECK-NOT: "slm.matmul_a8"(
// CHECK: up.sparse_values: "0x400000008178C8"
// CHECK-NEXT: up.sparse_masks: "0x4000000021000000000000000000000000000080"
// CHECK-NEXT: up.sparse_offsets: "0x4000000000000000000000000300000000000000"
// With max-ratio=0.2 (25.6 bytes) it stays dense.
// TIGHT: skipped = "97.7% zero codes: the sparse form would be 35 bytes, more than 0.20x the dense 128"
// TIGHT-LABEL: func @converted
// TIGHT: "slm.matmul_a8"(
func.func @converted(%q: tensor<1x8xi8>, %s: tensor<1x1xf32>, %sum: tensor<1x1xi32>, %ws: tensor<1x16xf16>, %b: tensor<16xf32>) -> tensor<1x16xf32> {
  %w = slm.constant dense<[[129, 128, 128, 128, 128, 120, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 200]]> : tensor<1x128xui8> : tensor<1x128xui8>
  %y = "slm.matmul_a8"(%q, %s, %sum, %w, %ws, %b) {activation = "silu", bits = 8 : i64, group_size = 8 : i64, k = 8 : i64, kp = 8 : i64, n = 16 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 1, 0, 0>, slm.node = "up"}
      : (tensor<1x8xi8>, tensor<1x1xf32>, tensor<1x1xi32>, tensor<1x128xui8>, tensor<1x16xf16>, tensor<16xf32>) -> tensor<1x16xf32>
  return %y : tensor<1x16xf32>
}

// -----

// No zero code at all: the sparse form would be larger; left dense and reported.
// CHECK: slm.prune_report = [{kind = "sparse-a8", layer = "dense", skipped = "0.0% zero codes: the sparse form would be 160 bytes, more than 0.80x the dense 128"}]
// CHECK-LABEL: func @dense
// CHECK: "slm.matmul_a8"(
func.func @dense(%q: tensor<1x8xi8>, %s: tensor<1x1xf32>, %sum: tensor<1x1xi32>, %ws: tensor<1x16xf16>) -> tensor<1x16xf32> {
  %w = slm.constant dense<1> : tensor<1x128xui8> : tensor<1x128xui8>
  %y = "slm.matmul_a8"(%q, %s, %sum, %w, %ws) {bits = 8 : i64, group_size = 8 : i64, k = 8 : i64, kp = 8 : i64, n = 16 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 0, 0, 0>, slm.node = "dense"}
      : (tensor<1x8xi8>, tensor<1x1xf32>, tensor<1x1xi32>, tensor<1x128xui8>, tensor<1x16xf16>) -> tensor<1x16xf32>
  return %y : tensor<1x16xf32>
}

// -----

// int4, an 8x16 weight in one octet tile: byte 4*c + j holds u[j, c] low and u[4 + j, c] high, 8
// the zero code. Byte 0 = 0x83: u[0, 0] = 3 (quad 0, bit 0); byte 7 = 0xF8: u[7, 1] = 15 (quad 1,
// bit 4*1 + 3 = 7); byte 63 = 0x81: u[3, 15] = 1 (quad 0, bit 63). Each code takes a byte in the
// sparse form: 3 + 16 + 16 = 35 bytes against 64 dense.
// CHECK: slm.prune_report = [{{.*}}bytes_after = 35 : i64, bytes_before = 64 : i64, detail = "97.7% of the int4 codes of 8x16 are zero; mask + nonzeros"
// CHECK-LABEL: func @nibbles
// CHECK: "slm.matmul_a8_sparse"({{.*}}) <{bits = 4 : i64
// CHECK: nib4.sparse_values: "0x4000000003010F"
// CHECK-NEXT: nib4.sparse_masks: "0x4000000001000000000000808000000000000000"
// CHECK-NEXT: nib4.sparse_offsets: "0x4000000000000000000000000300000000000000"
func.func @nibbles(%q: tensor<1x8xi8>, %s: tensor<1x1xf32>, %sum: tensor<1x1xi32>, %ws: tensor<1x16xf16>) -> tensor<1x16xf32> {
  %w = slm.constant dense<[[131, 136, 136, 136, 136, 136, 136, 248, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 136, 129]]> : tensor<1x64xui8> : tensor<1x64xui8>
  %y = "slm.matmul_a8"(%q, %s, %sum, %w, %ws) {bits = 4 : i64, group_size = 8 : i64, k = 8 : i64, kp = 8 : i64, n = 16 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 0, 0, 0>, slm.node = "nib4"}
      : (tensor<1x8xi8>, tensor<1x1xf32>, tensor<1x1xi32>, tensor<1x64xui8>, tensor<1x16xf16>) -> tensor<1x16xf32>
  return %y : tensor<1x16xf32>
}

// -----

// int4, every nibble the zero code (0x88): no values at all, 16 bytes of masks + 16 of offsets.
// CHECK-LABEL: func @zero4
// CHECK: slm.constant dense_resource<zero4.sparse_values> {{.*}} : tensor<0xui8>
// CHECK: "slm.matmul_a8_sparse"
func.func @zero4(%q: tensor<1x8xi8>, %s: tensor<1x1xf32>, %sum: tensor<1x1xi32>, %ws: tensor<1x16xf16>) -> tensor<1x16xf32> {
  %w = slm.constant dense<136> : tensor<1x64xui8> : tensor<1x64xui8>
  %y = "slm.matmul_a8"(%q, %s, %sum, %w, %ws) {bits = 4 : i64, group_size = 8 : i64, k = 8 : i64, kp = 8 : i64, n = 16 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 0, 0, 0>, slm.node = "zero4"}
      : (tensor<1x8xi8>, tensor<1x1xf32>, tensor<1x1xi32>, tensor<1x64xui8>, tensor<1x16xf16>) -> tensor<1x16xf32>
  return %y : tensor<1x16xf32>
}

// -----

// int4 at 50% zeros (0x18: low nibble 8, high nibble 1): 64 + 32 bytes against 64 dense; int4 needs
// about 72% zeros at max-ratio 0.8. Left dense and reported.
// CHECK: skipped = "50.0% zero codes: the sparse form would be 96 bytes, more than 0.80x the dense 64 (int4 needs about 72% zeros)"
// CHECK-LABEL: func @half4
// CHECK: "slm.matmul_a8"(
func.func @half4(%q: tensor<1x8xi8>, %s: tensor<1x1xf32>, %sum: tensor<1x1xi32>, %ws: tensor<1x16xf16>) -> tensor<1x16xf32> {
  %w = slm.constant dense<24> : tensor<1x64xui8> : tensor<1x64xui8>
  %y = "slm.matmul_a8"(%q, %s, %sum, %w, %ws) {bits = 4 : i64, group_size = 8 : i64, k = 8 : i64, kp = 8 : i64, n = 16 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 0, 0, 0>, slm.node = "half4"}
      : (tensor<1x8xi8>, tensor<1x1xf32>, tensor<1x1xi32>, tensor<1x64xui8>, tensor<1x16xf16>) -> tensor<1x16xf32>
  return %y : tensor<1x16xf32>
}

// -----

// A weight that is not a constant: left alone and reported.
// CHECK: skipped = "weight is not a constant"
// CHECK-LABEL: func @argument
// CHECK: "slm.matmul_a8"(
func.func @argument(%q: tensor<1x8xi8>, %s: tensor<1x1xf32>, %sum: tensor<1x1xi32>, %w: tensor<1x128xui8>, %ws: tensor<1x16xf16>) -> tensor<1x16xf32> {
  %y = "slm.matmul_a8"(%q, %s, %sum, %w, %ws) {bits = 8 : i64, group_size = 8 : i64, k = 8 : i64, kp = 8 : i64, n = 16 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 0, 0, 0>}
      : (tensor<1x8xi8>, tensor<1x1xf32>, tensor<1x1xi32>, tensor<1x128xui8>, tensor<1x16xf16>) -> tensor<1x16xf32>
  return %y : tensor<1x16xf32>
}
