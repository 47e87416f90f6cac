// RUN: slmc-opt --slm-build-kernels %s | FileCheck %s --check-prefix=LINALG
// RUN: slmc-opt --slm-build-kernels --slm-lower-kernels %s | FileCheck %s --check-prefix=LLVM

// slm.elementwise: one linalg.generic over the row whose body applies every step; x, p and q are
// its inputs when steps use them, scalars are constants in the body. Lowered, every math op is a
// polynomial (no math op and no libm intrinsic left, so the code object imports nothing); only
// sqrt and fabs stay intrinsics, which are instructions on x86-64, AArch64 and RV64GC.

// LINALG-LABEL: module @slm_kernels attributes {slm.kernels}
// LINALG: func.func @slm_gen_0_elementwise(
// LINALG: scf.for
// LINALG: linalg.generic {{.*}}iterator_types = ["parallel"]{{.*}}ins(%{{.*}}, %{{.*}}, %{{.*}} :
// LINALG: arith.mulf
// LINALG: arith.constant 5.000000e-01 : f32
// LINALG: arith.addf
// LINALG: arith.cmpf ogt
// LINALG: arith.select
// LINALG: math.exp
// LINALG: math.tanh
// LINALG: math.exp
// LINALG: arith.negf
// LINALG: math.absf
// LINALG: math.sqrt
// LINALG: math.cos
// LINALG: math.sin
// LINALG: math.erf
// LINALG: arith.subf
// LINALG: arith.divf
// LINALG: func.func @slm_gen_1_elementwise(
// LINALG: linalg.generic {{.*}}ins(%{{.*}} : memref
// LINALG: math.cos
// LINALG-NOT: slm_gen_2

// LLVM-LABEL: module @slm_kernels
// LLVM: llvm.func @slm_gen_0_elementwise(
// LLVM-NOT: math.
// LLVM-NOT: llvm.intr.{{(cos|sin|exp|tanh|log|pow)}}
// LLVM-NOT: llvm.call @{{[a-z]+f?}}(
// LLVM: llvm.func @_mlir_ciface_slm_gen_0_elementwise(
// LLVM: llvm.func @_mlir_ciface_slm_gen_1_elementwise(
func.func @main(%x: tensor<2x8xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>) {
  %p = slm.constant dense<0.5> : tensor<8xf32> : tensor<8xf32>
  %q = slm.constant dense<2.0> : tensor<8xf32> : tensor<8xf32>
  %0 = "slm.elementwise"(%x, %p, %q) <{steps = ["Mul", "Add", "Relu", "Sigmoid", "Tanh", "Exp", "Neg", "Abs", "Sqrt", "Cos", "Sin", "Erf", "Sub", "Div"],
      args = [1, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, -1],
      scalars = [0.0 : f32, 0.5 : f32, 0.0 : f32, 0.0 : f32, 0.0 : f32, 0.0 : f32, 0.0 : f32, 0.0 : f32, 0.0 : f32, 0.0 : f32, 0.0 : f32, 0.0 : f32, 0.0 : f32, 3.0 : f32],
      reversed = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]}> : (tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  %1 = "slm.elementwise"(%x) <{steps = ["Cos"], args = [0], scalars = [0.0 : f32], reversed = [0]}> : (tensor<2x8xf32>) -> tensor<2x8xf32>
  return %0, %1 : tensor<2x8xf32>, tensor<2x8xf32>
}
