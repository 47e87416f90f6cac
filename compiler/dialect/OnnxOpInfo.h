// Operand/result layout of the ONNX-mirroring slm ops, generated with their ODS.
#pragma once

#include "llvm/ADT/StringRef.h"

namespace slmc::slm {

// One char per ODS operand/result: 's' single, 'o' optional, 'v' variadic.
struct OnnxOpInfo {
  const char *op;
  const char *operandKinds;
  const char *resultKinds;
};

// nullptr when `op` (an ONNX op type) has no slm mirror.
const OnnxOpInfo *lookupOnnxOpInfo(llvm::StringRef op);

// ODS name of an ONNX attribute: the same, or with an `_attr` suffix where it clashes with an
// operand name; onnxAttrName undoes it.
llvm::StringRef onnxAttrName(llvm::StringRef odsName);

} // namespace slmc::slm
