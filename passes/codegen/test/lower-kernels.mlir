// RUN: slmc-opt --slm-build-kernels %s | FileCheck %s --check-prefix=LINALG
// RUN: slmc-opt --slm-build-kernels --slm-lower-kernels %s | FileCheck %s --check-prefix=LLVM

// Generated kernels for the row-wise ops no hand-written microkernel covers (rms_norm, Softmax, LayerNormalization): each becomes a
// function over strided row views in module @slm_kernels (linalg on memrefs), then LLVM dialect
// with exp expanded into a polynomial, so the code object calls nothing.

// LINALG-LABEL: module @slm_kernels attributes {slm.kernels}
// LINALG: func.func @slm_gen_0_rms_norm(%{{.*}}: memref<?x?xf32, strided<[?, 1], offset: ?>>, %{{.*}}: memref<?x?xf32, strided<[?, 1], offset: ?>>, %{{.*}}: memref<?xf32, strided<[1], offset: ?>>, %{{.*}}: memref<?xf32, strided<[1], offset: ?>>) attributes {llvm.emit_c_interface}
// LINALG: scf.for
// LINALG: linalg.generic {{.*}}iterator_types = ["reduction"]
// LINALG: arith.mulf {{.*}} fastmath<reassoc,contract>
// LINALG: arith.constant 9.99999974E-6 : f32
// LINALG: math.sqrt
// LINALG: linalg.generic {{.*}}iterator_types = ["parallel"]
// LINALG: func.func @slm_gen_1_softmax
// LINALG: arith.maxnumf
// LINALG: math.exp
// LINALG: func.func @slm_gen_2_layer_norm
// LINALG-COUNT-2: iterator_types = ["reduction"]
// LINALG: arith.constant 9.99999974E-6 : f32
// LINALG: linalg.generic {{.*}}iterator_types = ["parallel"]{{.*}}ins(%{{.*}}, %{{.*}}, %{{.*}} :
// LINALG: arith.addf
// LINALG-NOT: slm_gen_3

// LLVM-LABEL: module @slm_kernels
// LLVM: llvm.func @slm_gen_0_rms_norm(
// LLVM: llvm.intr.sqrt
// LLVM: llvm.func @_mlir_ciface_slm_gen_0_rms_norm(
// LLVM: llvm.func @slm_gen_1_softmax(
// LLVM-NOT: math.exp
// LLVM-NOT: llvm.call @exp
// LLVM: llvm.func @_mlir_ciface_slm_gen_1_softmax(
// LLVM: llvm.func @_mlir_ciface_slm_gen_2_layer_norm(
func.func @main(%x: tensor<2x8xf32>, %w: tensor<8xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>) {
  %0 = "slm.rms_norm"(%x, %w) <{epsilon = 1.0e-5 : f32}> : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  %1 = "slm.Softmax"(%x) {axis = -1 : i64} : (tensor<2x8xf32>) -> tensor<2x8xf32>
  // Not over the last axis: no generated kernel.
  %2 = "slm.Softmax"(%x) {axis = 0 : i64} : (tensor<2x8xf32>) -> tensor<2x8xf32>
  %3 = "slm.LayerNormalization"(%x, %w, %w) <{axis = -1 : i64, epsilon = 1.0e-5 : f32, operandSegmentSizes = array<i32: 1, 1, 1>, resultSegmentSizes = array<i32: 1, 0, 0>}> : (tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return %0, %1, %2, %3 : tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>
}
