// ONNX protobuf → slm dialect: one func.func @main per model, one slm op per ONNX node.
#pragma once

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <string>

namespace slmc {

// Attribute names on @main's arguments and results.
inline constexpr const char *kArgNameAttr = "slm.name";   // ONNX input/output name
inline constexpr const char *kArgDimsAttr = "slm.dims";   // symbolic name per dim ("" when static)

struct ImportResult {
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::string error;      // set on failure: names the file, node, op (domain, opset) or tensor
  int opset = 0;          // default-domain opset of the model
  size_t nodeCount = 0;   // ONNX nodes in the main graph
};

// Parses and imports the model at `path`. External data is read from files in the
// model's folder only. The module verifies on success.
ImportResult importOnnxFile(mlir::MLIRContext &context, const std::string &path);

// Imports a model already in memory (the fuzzer's entry point). `path` names the model in
// messages and its folder confines external data, as for importOnnxFile.
ImportResult importOnnxBuffer(mlir::MLIRContext &context, llvm::StringRef bytes, const std::string &path);

} // namespace slmc
