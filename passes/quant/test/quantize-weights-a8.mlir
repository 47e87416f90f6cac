// RUN: slmc-opt --split-input-file --slm-quantize-weights="bits=4 group-size=32 act-bits=8" %s | FileCheck %s
// RUN: slmc-opt --split-input-file --slm-quantize-weights="bits=4 group-size=32 act-bits=8 act-group-scales=false" %s | FileCheck %s --check-prefix=ROW
// RUN: slmc-opt --split-input-file --slm-quantize-weights="bits=8 group-size=0 act-bits=8" %s | FileCheck %s --check-prefix=W8
// RUN: slmc-opt --split-input-file --slm-quantize-weights="storage=bf16" %s | FileCheck %s --check-prefix=BF16
// RUN: not slmc-opt --slm-quantize-weights="bits=4 act-bits=8 symmetric=false" %s 2>&1 | FileCheck %s --check-prefix=ASYM

// Two matmuls reading one activation share one slm.quantize_rows; the epilogue of a fused matmul is kept.
// The activation scales follow the weight groups (one per row and group) unless act-group-scales=false;
// with a single group (W8 per channel) the row scale is the group scale and no group_scales is set.
// CHECK: slm.quant_report = [{{.*}}scheme = "w4a8"
// CHECK-LABEL: func @shared
// CHECK: %[[Q:[a-z0-9_]+]], %[[S:[a-z0-9_]+]], %[[SUM:[a-z0-9_]+]] = "slm.quantize_rows"(%arg0) <{group_scales = 1 : i64, group_size = 32 : i64, k = 64 : i64, kp = 64 : i64}> : (tensor<1x?x64xf32>) -> (tensor<1x?x64xi8>, tensor<1x?x2xf32>, tensor<1x?x2xi32>)
// CHECK-NOT: slm.quantize_rows
// CHECK-DAG: slm.constant {{.*}} : tensor<8x512xui8>
// CHECK-DAG: slm.constant {{.*}} : tensor<8x32xf16>
// CHECK: "slm.matmul_a8"(%[[Q]], %[[S]], %[[SUM]], %{{.*}}, %{{.*}}) <{bits = 4 : i64, group_size = 32 : i64, k = 64 : i64, kp = 64 : i64, n = 128 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 0, 0, 0>}>
// CHECK: "slm.matmul_a8"(%[[Q]], %[[S]], %[[SUM]], %{{.*}}, %{{.*}}, %{{.*}}) <{activation = "silu", bits = 4 : i64{{.*}}operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 1, 0, 0>}>
// CHECK-NOT: "slm.MatMul"(
// CHECK-NOT: "slm.fused_matmul"(
// ROW-LABEL: func @shared
// ROW: "slm.quantize_rows"(%arg0) <{group_size = 32 : i64, k = 64 : i64, kp = 64 : i64}> : (tensor<1x?x64xf32>) -> (tensor<1x?x64xi8>, tensor<1x?x1xf32>, tensor<1x?x2xi32>)
// ROW: "slm.matmul_a8"({{.*}}) <{bits = 4 : i64, group_size = 32 : i64, k = 64 : i64, kp = 64 : i64, n = 128 : i64
// W8-LABEL: func @shared
// W8: slm.constant {{.*}} : tensor<8x1024xui8>
// W8: slm.constant {{.*}} : tensor<8x16xf16>
// W8: "slm.matmul_a8"{{.*}}bits = 8 : i64, group_size = 64 : i64, k = 64 : i64, kp = 64 : i64
// ASYM: int8 activations need symmetric weights
// BF16: scheme = "bf16"
// BF16-LABEL: func @shared
// BF16: slm.constant {{.*}} : tensor<64x128xbf16>
// BF16: "slm.matmul_hw"(%arg0, %{{.*}}) <{k = 64 : i64, n = 128 : i64, operandSegmentSizes = array<i32: 1, 1, 0, 0, 0>}>
// BF16: "slm.matmul_hw"(%arg0, %{{.*}}, %arg1) <{activation = "silu", k = 64 : i64, n = 128 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 0, 0>}>
func.func @shared(%arg0: tensor<1x?x64xf32>, %b: tensor<128xf32>) -> (tensor<1x?x128xf32>, tensor<1x?x128xf32>) {
  %w = slm.constant dense<0.5> : tensor<64x128xf32> : tensor<64x128xf32>
  %w2 = slm.constant dense<0.25> : tensor<64x128xf32> : tensor<64x128xf32>
  %0 = "slm.MatMul"(%arg0, %w) {slm.node = "up_proj"} : (tensor<1x?x64xf32>, tensor<64x128xf32>) -> tensor<1x?x128xf32>
  %1 = "slm.fused_matmul"(%arg0, %w2, %b) {activation = "silu", operandSegmentSizes = array<i32: 1, 1, 1, 0, 0>}
      : (tensor<1x?x64xf32>, tensor<64x128xf32>, tensor<128xf32>) -> tensor<1x?x128xf32>
  return %0, %1 : tensor<1x?x128xf32>, tensor<1x?x128xf32>
}

// -----

// Per channel with K not a multiple of 8: K is padded to the kernel group (104), the padding reads as zero.
// CHECK-LABEL: func @odd_k
// CHECK: "slm.quantize_rows"(%arg0) <{group_scales = 1 : i64, group_size = 32 : i64, k = 100 : i64, kp = 128 : i64}> : (tensor<3x100xf32>) -> (tensor<3x128xi8>, tensor<3x4xf32>, tensor<3x4xi32>)
// W8-LABEL: func @odd_k
// W8: "slm.quantize_rows"(%arg0) <{group_size = 104 : i64, k = 100 : i64, kp = 104 : i64}> : (tensor<3x100xf32>) -> (tensor<3x104xi8>, tensor<3x1xf32>, tensor<3x1xi32>)
// W8: "slm.matmul_a8"{{.*}}group_size = 104 : i64, k = 100 : i64, kp = 104 : i64, n = 40 : i64
func.func @odd_k(%arg0: tensor<3x100xf32>) -> tensor<3x40xf32> {
  %w = slm.constant dense<0.5> : tensor<100x40xf32> : tensor<100x40xf32>
  %0 = "slm.MatMul"(%arg0, %w) : (tensor<3x100xf32>, tensor<100x40xf32>) -> tensor<3x40xf32>
  return %0 : tensor<3x40xf32>
}
