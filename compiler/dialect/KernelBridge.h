// How an slm op meets the reference kernels' calling convention (targets/common/ref_kernel.h):
// kernel key, operand/result positions, attributes, dtypes and constant bytes. Shared by the
// emitter (which writes them into the artifact) and constant folding (which runs the kernel).
#pragma once

#include "SlmDialect.h"

#include <optional>
#include <string>
#include <vector>

namespace slmc::slm {

// The reference kernels' dtype code (ONNX TensorProto numbering) of an element type; 0 if none.
int32_t kernelDtype(mlir::Type elementType);

// Kernel key and positions of an op: `kind` "Add" (an ONNX mirror) or "fused_matmul" with `domain`
// "slm" (key "slm.fused_matmul"); `inputs`/`outputs` hold, per kernel position, the index of the
// op's operand/result there, -1 for an absent optional (trailing absent ones dropped).
struct KernelLayout {
  std::string kind, domain;
  std::vector<int> inputs, outputs;
  std::string key() const { return domain.empty() ? kind : domain + "." + kind; }
};
KernelLayout kernelLayout(mlir::Operation *op);

// An attribute as the kernels take it, owning its values; `tensor` for kind kAttrTensor.
struct KernelAttr {
  std::string name;
  int kind = 0; // slm::AttrKind
  int64_t i = 0;
  float f = 0;
  std::string s;
  std::vector<int64_t> ints;
  std::vector<float> floats;
  std::vector<std::string> strings;
  mlir::ElementsAttr tensor;
};

// The op's kernel attributes sorted by name: ONNX names (onnxAttrName), unit attributes as int 1,
// the opset as "__opset"; structural ones (operand segments, node and output names) left out.
// Returns "" or what cannot be converted.
std::string kernelAttrs(mlir::Operation *op, std::vector<KernelAttr> *out);

// The bytes of a constant's elements as the kernels read them (booleans one byte each, splats
// expanded); nullopt for an unsupported attribute kind or element type.
std::optional<std::vector<char>> constantBytes(mlir::ElementsAttr attr);

} // namespace slmc::slm
