// How an slm op meets the reference kernels' calling convention: key, positions, attributes, bytes.
#include "KernelBridge.h"

#include "OnnxOpInfo.h"
#include "ref_kernel.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <algorithm>
#include <cstring>

using namespace mlir;

namespace slmc::slm {

int32_t kernelDtype(Type t) {
  if (t.isF32()) return ::slm::kF32;
  if (t.isF64()) return ::slm::kF64;
  if (t.isF16()) return ::slm::kF16;
  if (t.isBF16()) return ::slm::kBF16;
  if (t.isInteger(1)) return ::slm::kBool;
  if (auto it = dyn_cast<IntegerType>(t)) {
    bool u = it.isUnsigned();
    switch (it.getWidth()) {
    case 8: return u ? ::slm::kU8 : ::slm::kI8;
    case 16: return u ? ::slm::kU16 : ::slm::kI16;
    case 32: return u ? ::slm::kU32 : ::slm::kI32;
    case 64: return u ? ::slm::kU64 : ::slm::kI64;
    }
  }
  return ::slm::kUndefined;
}

namespace {

// ODS operand/result groups → kernel positions; `kinds` has one char per group ('s' single,
// 'o' optional, 'v' variadic), `segments` the group sizes when the op records them.
std::vector<int> positions(const std::string &kinds, ArrayRef<int32_t> segments, size_t values) {
  std::vector<int> out;
  size_t v = 0, singles = std::count(kinds.begin(), kinds.end(), 's');
  for (size_t k = 0; k < kinds.size(); ++k) {
    size_t count = 1;
    if (!segments.empty()) count = size_t(segments[k]);
    else if (kinds[k] != 's') count = values - singles; // the one flexible group
    if (count == 0) out.push_back(-1);
    for (size_t c = 0; c < count && v < values; ++c, ++v) out.push_back(int(v));
  }
  while (!out.empty() && out.back() == -1) out.pop_back();
  return out;
}

} // namespace

KernelLayout kernelLayout(Operation *op) {
  KernelLayout l;
  l.kind = op->getName().stripDialect().str();
  ArrayRef<int32_t> inSeg, outSeg;
  if (auto s = op->getAttrOfType<DenseI32ArrayAttr>("operandSegmentSizes")) inSeg = s.asArrayRef();
  if (auto s = op->getAttrOfType<DenseI32ArrayAttr>("resultSegmentSizes")) outSeg = s.asArrayRef();
  std::string inKinds, outKinds;
  const OnnxOpInfo *info = lookupOnnxOpInfo(l.kind);
  if (info && l.kind[0] >= 'A' && l.kind[0] <= 'Z') { // an ONNX mirror: the generated layout table
    inKinds = info->operandKinds;
    outKinds = info->resultKinds;
  } else { // slm's own ops: each operand segment is an optional position
    l.domain = "slm";
    inKinds.assign(inSeg.empty() ? op->getNumOperands() : inSeg.size(), inSeg.empty() ? 's' : 'o');
    outKinds.assign(outSeg.empty() ? op->getNumResults() : outSeg.size(), outSeg.empty() ? 's' : 'o');
  }
  l.inputs = positions(inKinds, inSeg, op->getNumOperands());
  l.outputs = positions(outKinds, outSeg, op->getNumResults());
  return l;
}

std::string kernelAttrs(Operation *op, std::vector<KernelAttr> *out) {
  out->clear();
  for (NamedAttribute na : op->getAttrs()) {
    StringRef n = na.getName().getValue();
    if (n == "operandSegmentSizes" || n == "resultSegmentSizes" || n == kNodeNameAttr || n == kOutputNamesAttr) continue;
    KernelAttr k;
    Attribute a = na.getValue();
    if (n == kOpsetAttr) {
      k.name = "__opset";
      k.kind = ::slm::kAttrInt;
      k.i = cast<IntegerAttr>(a).getInt();
      out->push_back(std::move(k));
      continue;
    }
    k.name = onnxAttrName(n).str();
    if (isa<UnitAttr>(a)) {
      k.kind = ::slm::kAttrInt, k.i = 1;
    } else if (auto i = dyn_cast<IntegerAttr>(a)) {
      k.kind = ::slm::kAttrInt, k.i = i.getInt();
    } else if (auto f = dyn_cast<FloatAttr>(a)) {
      k.kind = ::slm::kAttrFloat, k.f = float(f.getValueAsDouble());
    } else if (auto s = dyn_cast<StringAttr>(a)) {
      k.kind = ::slm::kAttrString, k.s = s.str();
    } else if (auto e = dyn_cast<ElementsAttr>(a)) {
      k.kind = ::slm::kAttrTensor, k.tensor = e;
    } else if (auto arr = dyn_cast<ArrayAttr>(a)) {
      k.kind = ::slm::kAttrInts;
      for (Attribute el : arr) {
        if (auto i = dyn_cast<IntegerAttr>(el)) k.ints.push_back(i.getInt());
        else if (auto f = dyn_cast<FloatAttr>(el)) k.kind = ::slm::kAttrFloats, k.floats.push_back(float(f.getValueAsDouble()));
        else if (auto s = dyn_cast<StringAttr>(el)) k.kind = ::slm::kAttrStrings, k.strings.push_back(s.str());
        else return "attribute '" + k.name + "' holds an unsupported array element";
      }
    } else {
      return "attribute '" + k.name + "' has an unsupported kind";
    }
    out->push_back(std::move(k));
  }
  std::sort(out->begin(), out->end(), [](const KernelAttr &x, const KernelAttr &y) { return x.name < y.name; });
  return "";
}

std::optional<std::vector<char>> constantBytes(ElementsAttr attr) {
  auto type = cast<ShapedType>(attr.getType());
  size_t elem = ::slm::dtype_size(kernelDtype(type.getElementType()));
  if (!elem) return std::nullopt;
  size_t bytes = size_t(type.getNumElements()) * elem;
  std::vector<char> out;
  if (auto r = dyn_cast<DenseResourceElementsAttr>(attr)) {
    AsmResourceBlob *blob = r.getRawHandle().getBlob();
    if (!blob || blob->getData().size() != bytes) return std::nullopt;
    out.assign(blob->getData().begin(), blob->getData().end());
  } else if (auto d = dyn_cast<DenseElementsAttr>(attr)) {
    if (type.getElementType().isInteger(1)) {
      for (bool b : d.getValues<bool>()) out.push_back(char(b));
    } else {
      ArrayRef<char> raw = d.getRawData();
      if (d.isSplat())
        for (int64_t i = 0; i < type.getNumElements(); ++i) out.insert(out.end(), raw.begin(), raw.end());
      else
        out.assign(raw.begin(), raw.end());
    }
  } else {
    return std::nullopt;
  }
  if (out.size() != bytes) return std::nullopt;
  return out;
}

} // namespace slmc::slm
