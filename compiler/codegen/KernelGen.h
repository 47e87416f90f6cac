// Generated kernels: builds row-wise kernels (rms_norm, softmax) in linalg, lowers them to LLVM and links a code object.
#pragma once

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LogicalResult.h"

#include <string>
#include <vector>

namespace slmc {

// One kernel to generate. Every kernel has the ABI of runtime/schema/slm_kernel_abi.h:
//   void SYMBOL(slm_kabi_view2d_f32_t *y, slm_kabi_view2d_f32_t *x, slm_kabi_view1d_f32_t *p,
//               slm_kabi_view1d_f32_t *q)
// (MLIR's C interface of func(y, x, p, q) on strided memrefs: the exported symbol is
// "_mlir_ciface_" + symbol).
// One step of an "elementwise" kernel (slm.elementwise, targets/common/elementwise_steps.h).
struct ElementwiseStep {
  int kind = 0;        // slm::EwStepKind
  int arg = 0;         // 0 unary; -1 binary with `scalar`; 1 binary with p, 2 binary with q
  float scalar = 0;    // baked into the code
  bool reversed = false; // the constant is the left operand
};

struct KernelSpec {
  std::string kind;   // over the last axis: "rms_norm" (p: scale), "layer_norm" (p: scale, q: bias
                      // when hasBias), "softmax" (no parameters) or "elementwise" (steps; p, q:
                      // the op's first and second constant vector, when it has them)
  std::string symbol; // function name in the code object, unique per artifact
  float epsilon = 0;  // rms_norm, layer_norm: baked into the code (compile-time specialization)
  bool hasBias = false; // layer_norm: adds q
  std::vector<ElementwiseStep> steps = {}; // elementwise
};

// Whether step kind `kind` (slm::EwStepKind) has generated code: every kind whose math MLIR
// expands into a polynomial or LLVM lowers to an instruction, so the code object imports nothing.
bool elementwiseStepGenerated(int kind);

// The op kinds that have a generated kernel: "slm.rms_norm", "slm.elementwise", ONNX Softmax and
// LayerNormalization (over the last axis; the caller checks axis, dtypes, shapes and steps).
bool hasGeneratedKernel(const std::string &domain, const std::string &kind);

// Appends the kernel's func.func (linalg on memrefs, math ops not yet expanded) to `module`.
void buildKernel(mlir::ModuleOp module, const KernelSpec &spec);

// linalg -> loops -> LLVM dialect, with math functions expanded into polynomials (the code imports
// nothing). `module` must hold only kernels (buildKernel output).
mlir::LogicalResult lowerKernelsToLLVM(mlir::ModuleOp module);

// The target a code object is compiled for.
struct CodegenTarget {
  std::string triple;   // LLVM triple
  std::string cpu;      // LLVM CPU name
  std::string features; // "+a,-b"
};

// Lowered module -> LLVM IR -> O3 for the target -> object file -> ld.lld shared object with no
// undefined symbols (ld.lld-19 as a subprocess; SLMC_LLD overrides the path). Returns false with
// *error set (LLVM or linker message).
bool compileKernelsToSharedObject(mlir::ModuleOp module, const CodegenTarget &target, std::string *soBytes,
                                  std::string *error);

// The same kernels as C source (MLIR EmitC, CEmitter.cpp): a row loop per kernel and the
// `_mlir_ciface_<symbol>` ABI entry point of slm_kernel_abi.h, for vendor toolchains. Returns false
// with *error set.
bool emitKernelsAsC(const std::vector<KernelSpec> &specs, std::string *source, std::string *error);

// Registers the slm-build-kernels / slm-lower-kernels test passes with slmc-opt.
void registerCodegenPasses();

} // namespace slmc
