// Lookup of the generated ONNX op layout table (OnnxOpsInfo.inc).
#include "OnnxOpInfo.h"

#include <algorithm>
#include <cstring>
#include <iterator>

namespace slmc::slm {
namespace {
const OnnxOpInfo kInfos[] = {
#define SLM_ONNX_OP(op, ins, outs) {op, ins, outs},
#include "OnnxOpsInfo.inc"
#undef SLM_ONNX_OP
};
} // namespace

const OnnxOpInfo *lookupOnnxOpInfo(llvm::StringRef op) {
  // The generator writes entries sorted by op name.
  auto *it = std::lower_bound(std::begin(kInfos), std::end(kInfos), op,
                              [](const OnnxOpInfo &a, llvm::StringRef b) { return llvm::StringRef(a.op) < b; });
  return it != std::end(kInfos) && op == it->op ? it : nullptr;
}

llvm::StringRef onnxAttrName(llvm::StringRef odsName) {
  odsName.consume_back("_attr");
  return odsName;
}

} // namespace slmc::slm
