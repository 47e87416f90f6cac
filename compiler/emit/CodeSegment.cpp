// Picks the artifact ops that get generated kernels, and builds, lowers and links them into the code segment.
#include "emit/CodeSegment.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"

#include "elementwise_steps.h"

#include <cstring>
#include <map>

namespace slmc {
namespace {

const ArtifactAttr *findAttr(const ArtifactOp &op, const char *name) {
  for (const auto &a : op.attrs)
    if (a.name == name) return &a;
  return nullptr;
}

bool isF32(const ArtifactGraph &g, int t) { return t >= 0 && g.tensors[t].dtype == ::slm::kF32; }

// The ABI's parameter vectors hold one float32 per column, static like the column count.
bool isColumnVector(const ArtifactGraph &g, int t, int64_t cols) {
  const ArtifactTensor &v = g.tensors[t];
  return v.dtype == ::slm::kF32 && v.maxShape.size() == 1 && v.maxShape[0] == cols &&
         (v.dimNames.empty() || v.dimNames[0].empty());
}

// slm.elementwise with at most two constant vectors (ABI 1's p and q) and only generated steps:
// the steps and scalars are compiled in, so the symbol names a hash of them.
bool elementwiseSpec(const ArtifactGraph &g, const ArtifactOp &op, KernelSpec *spec) {
  const ArtifactTensor &x = g.tensors[op.inputs[0]];
  if (op.inputs.size() > 3 || op.outputs.size() != 1) return false;
  for (size_t i = 1; i < op.inputs.size(); ++i)
    if (op.inputs[i] < 0 || !isColumnVector(g, op.inputs[i], x.maxShape.back())) return false;
  const ArtifactAttr *steps = findAttr(op, "steps"), *args = findAttr(op, "args");
  const ArtifactAttr *scalars = findAttr(op, "scalars"), *rev = findAttr(op, "reversed");
  if (!steps || !args || !scalars || !rev) return false;
  size_t n = steps->strings.size();
  if (n == 0 || args->ints.size() != n || scalars->floats.size() != n || rev->ints.size() != n) return false;
  std::string key; // canonical text of the steps, hashed into the symbol (FNV-1a)
  spec->steps.clear();
  for (size_t i = 0; i < n; ++i) {
    ElementwiseStep s{::slm::ew_step_kind(steps->strings[i].c_str()), int(args->ints[i]), scalars->floats[i],
                      rev->ints[i] != 0};
    if (!elementwiseStepGenerated(s.kind) || s.arg < -1 || s.arg >= int(op.inputs.size())) return false;
    if (s.arg != -1) s.scalar = 0;
    uint32_t bits;
    std::memcpy(&bits, &s.scalar, 4);
    key += std::to_string(s.kind) + "," + std::to_string(s.arg) + "," + std::to_string(bits) + "," +
           (s.reversed ? "1;" : "0;");
    spec->steps.push_back(s);
  }
  uint64_t h = 1469598103934665603ull;
  for (char c : key) h = (h ^ uint8_t(c)) * 1099511628211ull;
  char name[64];
  snprintf(name, sizeof name, "slm_gen_elementwise_f32_%016llx", (unsigned long long)h);
  spec->kind = "elementwise";
  spec->symbol = name;
  return true;
}

// The kernel for `op`, or false when it has none (other dtype, axis, or a plugin claimed it).
bool specFor(const ArtifactGraph &g, const ArtifactOp &op, KernelSpec *spec) {
  if (!op.provider.empty() || !hasGeneratedKernel(op.domain, op.kind) || op.outputs.empty()) return false;
  if (op.inputs.empty() || !isF32(g, op.inputs[0]) || !isF32(g, op.outputs[0])) return false;
  const ArtifactTensor &x = g.tensors[op.inputs[0]];
  if (x.maxShape.empty()) return false;
  if (op.kind == "elementwise") return elementwiseSpec(g, op, spec);
  if (op.kind == "rms_norm") {
    if (op.inputs.size() != 2 || !isF32(g, op.inputs[1])) return false;
    if (op.outputs.size() != 1 || !isColumnVector(g, op.inputs[1], x.maxShape.back())) return false;
    const ArtifactAttr *eps = findAttr(op, "epsilon");
    spec->kind = "rms_norm";
    spec->epsilon = eps ? eps->f : 0.0f;
    uint32_t bits;
    std::memcpy(&bits, &spec->epsilon, 4);
    char name[48];
    snprintf(name, sizeof name, "slm_gen_rms_norm_f32_eps%08x", bits);
    spec->symbol = name;
    return true;
  }
  int64_t rank = int64_t(x.maxShape.size());
  if (op.kind == "LayerNormalization") {
    // Only Y (Mean and InvStdDev absent), over the last axis, with scale and bias one value per column.
    const ArtifactAttr *axis = findAttr(op, "axis");
    if (axis && !(axis->i == -1 || axis->i == rank - 1)) return false;
    for (size_t i = 1; i < op.outputs.size(); ++i)
      if (op.outputs[i] >= 0) return false;
    if (op.inputs.size() < 2 || op.inputs.size() > 3) return false;
    for (size_t i = 1; i < op.inputs.size(); ++i)
      if (op.inputs[i] >= 0 && !isColumnVector(g, op.inputs[i], x.maxShape.back())) return false;
    if (op.inputs[1] < 0) return false;
    const ArtifactAttr *eps = findAttr(op, "epsilon");
    spec->kind = "layer_norm";
    spec->epsilon = eps ? eps->f : 1e-5f; // ONNX's default
    spec->hasBias = op.inputs.size() == 3 && op.inputs[2] >= 0;
    uint32_t bits;
    std::memcpy(&bits, &spec->epsilon, 4);
    char name[64];
    snprintf(name, sizeof name, "slm_gen_layer_norm_f32_eps%08x%s", bits, spec->hasBias ? "_bias" : "");
    spec->symbol = name;
    return true;
  }
  // Softmax: over the last axis only; without an axis attribute only rank 2 (where the opset < 13
  // default 1 and the opset >= 13 default -1 agree).
  const ArtifactAttr *axis = findAttr(op, "axis");
  if (axis ? !(axis->i == -1 || axis->i == rank - 1) : rank != 2) return false;
  if (op.outputs.size() != 1) return false;
  spec->kind = "softmax";
  spec->symbol = "slm_gen_softmax_f32";
  return true;
}

} // namespace

bool generateCodeSegment(ArtifactGraph &g, const CodegenTarget &target, std::vector<std::string> &notes,
                         std::string *error, std::string *cSource) {
  std::map<std::string, KernelSpec> kernels; // by symbol: sorted, so the same graph gives the same bytes
  std::map<std::string, int> opsPerKernel;
  for (auto &op : g.ops) {
    KernelSpec spec;
    if (!specFor(g, op, &spec)) continue;
    op.provider = "gen";
    op.codeSymbol = spec.symbol;
    kernels[spec.symbol] = spec;
    ++opsPerKernel[spec.symbol];
  }
  if (kernels.empty()) {
    notes.push_back("code segment: no op has a generated kernel (they exist for float32 slm.rms_norm, "
                    "slm.elementwise with at most two constant vectors, last-axis Softmax and LayerNormalization)");
    return true;
  }
  if (cSource) {
    std::vector<KernelSpec> specs;
    for (const auto &[symbol, spec] : kernels) specs.push_back(spec);
    if (!emitKernelsAsC(specs, cSource, error)) return false;
  }
  mlir::MLIRContext ctx;
  ctx.disableMultithreading();
  mlir::OpBuilder b(&ctx);
  mlir::OwningOpRef<mlir::ModuleOp> module = mlir::ModuleOp::create(b.getUnknownLoc());
  for (const auto &[symbol, spec] : kernels) buildKernel(*module, spec);
  if (mlir::failed(lowerKernelsToLLVM(*module))) {
    *error = "lowering the generated kernels to LLVM failed";
    return false;
  }
  if (!compileKernelsToSharedObject(*module, target, &g.code, error)) {
    *error = "generating the code segment for " + target.triple + ": " + *error;
    return false;
  }
  std::string list;
  for (const auto &[symbol, n] : opsPerKernel) list += (list.empty() ? "" : ", ") + symbol + " x" + std::to_string(n);
  notes.push_back("code segment: " + std::to_string(g.code.size()) + " bytes for " + target.triple + " (cpu " +
                  target.cpu + "): " + list);
  return true;
}

} // namespace slmc
