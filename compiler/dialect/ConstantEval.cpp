// Compile-time evaluation of slm ops on constant operands through the reference kernels.
#include "ConstantEval.h"

#include "KernelBridge.h"
#include "ref_kernel.h"

#include <cstring>
#include <memory>

using namespace mlir;

namespace slmc::slm {
namespace {

// A constant's bytes as a kernel tensor; the bytes live in `store`.
bool toTensor(ElementsAttr attr, std::vector<std::unique_ptr<std::vector<char>>> &store, ::slm::Tensor *t) {
  auto type = cast<ShapedType>(attr.getType());
  auto bytes = constantBytes(attr);
  if (!bytes || type.getRank() > ::slm::kMaxRank) return false;
  store.push_back(std::make_unique<std::vector<char>>(std::move(*bytes)));
  t->dtype = kernelDtype(type.getElementType());
  t->rank = int32_t(type.getRank());
  for (int i = 0; i < t->rank; ++i) t->dims[i] = type.getDimSize(i);
  t->data = store.back()->data();
  return true;
}

} // namespace

std::optional<SmallVector<DenseElementsAttr>> evaluateOnConstants(Operation *op) {
  KernelLayout layout = kernelLayout(op);
  const ::slm::OpKernel *kernel = ::slm::find_ref_kernel(layout.key().c_str());
  if (!kernel) return std::nullopt;
  std::vector<std::unique_ptr<std::vector<char>>> store;
  std::vector<::slm::Tensor> ins(layout.inputs.size());
  std::vector<const ::slm::Tensor *> inPtrs;
  for (size_t i = 0; i < layout.inputs.size(); ++i) {
    if (layout.inputs[i] < 0) {
      inPtrs.push_back(nullptr);
      continue;
    }
    auto c = op->getOperand(unsigned(layout.inputs[i])).getDefiningOp<ConstantOp>();
    if (!c || !toTensor(c.getValue(), store, &ins[i])) return std::nullopt;
    inPtrs.push_back(&ins[i]);
  }
  std::vector<KernelAttr> kattrs;
  if (!kernelAttrs(op, &kattrs).empty()) return std::nullopt;
  std::vector<::slm::Attr> attrs(kattrs.size());
  std::vector<std::vector<const char *>> strings;
  strings.reserve(kattrs.size());
  std::vector<std::unique_ptr<::slm::Tensor>> attrTensors;
  for (size_t i = 0; i < kattrs.size(); ++i) {
    const KernelAttr &k = kattrs[i];
    ::slm::Attr &a = attrs[i];
    a.name = k.name.c_str();
    a.kind = k.kind;
    a.i = k.i;
    a.f = k.f;
    if (k.kind == ::slm::kAttrString) a.s = k.s.data(), a.count = k.s.size();
    if (k.kind == ::slm::kAttrInts) a.ints = k.ints.data(), a.count = k.ints.size();
    if (k.kind == ::slm::kAttrFloats) a.floats = k.floats.data(), a.count = k.floats.size();
    if (k.kind == ::slm::kAttrStrings) {
      strings.emplace_back();
      for (const auto &s : k.strings) strings.back().push_back(s.c_str());
      a.strings = strings.back().data(), a.count = k.strings.size();
    }
    if (k.kind == ::slm::kAttrTensor) {
      attrTensors.push_back(std::make_unique<::slm::Tensor>());
      if (!toTensor(k.tensor, store, attrTensors.back().get())) return std::nullopt;
      a.tensor = attrTensors.back().get();
    }
  }
  ::slm::AttrList list{attrs.data(), attrs.size()};
  std::vector<::slm::Tensor> outs(layout.outputs.size());
  std::vector<::slm::Tensor *> outPtrs;
  for (size_t i = 0; i < outs.size(); ++i) outPtrs.push_back(layout.outputs[i] >= 0 ? &outs[i] : nullptr);
  char msg[256] = {0};
  ::slm::KernelContext ctx;
  ctx.attrs = &list;
  ctx.inputs = inPtrs.data();
  ctx.num_inputs = int(inPtrs.size());
  ctx.outputs = outPtrs.data();
  ctx.num_outputs = int(outPtrs.size());
  ctx.error = msg;
  ctx.error_size = sizeof msg;
  if (kernel->infer(&ctx) != ::slm::SLM_REF_OK) return std::nullopt;
  std::vector<std::vector<char>> outBytes(outs.size());
  for (size_t i = 0; i < outs.size(); ++i) {
    if (layout.outputs[i] < 0) continue;
    auto type = dyn_cast<RankedTensorType>(op->getResult(unsigned(layout.outputs[i])).getType());
    if (!type || !type.hasStaticShape() || kernelDtype(type.getElementType()) != outs[i].dtype ||
        type.getRank() != outs[i].rank)
      return std::nullopt;
    for (int d = 0; d < outs[i].rank; ++d)
      if (type.getDimSize(d) != outs[i].dims[d]) return std::nullopt;
    outBytes[i].assign(outs[i].nbytes() + 1, 0); // +1: a valid pointer for empty results
    outs[i].data = outBytes[i].data();
  }
  if (kernel->run(&ctx) != ::slm::SLM_REF_OK) return std::nullopt;
  SmallVector<DenseElementsAttr> results(op->getNumResults());
  for (size_t i = 0; i < outs.size(); ++i) {
    if (layout.outputs[i] < 0) continue;
    auto type = cast<RankedTensorType>(op->getResult(unsigned(layout.outputs[i])).getType());
    size_t n = outs[i].nbytes();
    if (type.getElementType().isInteger(1)) {
      SmallVector<bool> bits;
      for (size_t b = 0; b < n; ++b) bits.push_back(outBytes[i][b] != 0);
      results[unsigned(layout.outputs[i])] = DenseElementsAttr::get(type, bits);
    } else {
      results[unsigned(layout.outputs[i])] = DenseElementsAttr::getFromRawBuffer(type, ArrayRef<char>(outBytes[i].data(), n));
    }
  }
  for (auto r : results)
    if (!r) return std::nullopt; // a result without a kernel position
  return results;
}

} // namespace slmc::slm
