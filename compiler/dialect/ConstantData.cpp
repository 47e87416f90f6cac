// Reading the data of slm.constant ops (resource blobs or dense attributes).
#include "ConstantData.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <cstring>

using namespace mlir;

std::vector<float> slmc::slm::constantFloats(ConstantOp c) {
  std::vector<float> out;
  auto type = cast<ShapedType>(c.getValue().getType());
  if (!type.getElementType().isF32()) return out;
  if (auto r = dyn_cast<DenseResourceElementsAttr>(c.getValue())) {
    if (AsmResourceBlob *blob = r.getRawHandle().getBlob()) {
      ArrayRef<char> d = blob->getData();
      out.resize(d.size() / 4);
      std::memcpy(out.data(), d.data(), out.size() * 4);
    }
  } else if (auto d = dyn_cast<DenseElementsAttr>(c.getValue())) {
    for (float v : d.getValues<float>()) out.push_back(v);
  }
  return out;
}

std::vector<uint8_t> slmc::slm::constantBytes8(ConstantOp c) {
  std::vector<uint8_t> out;
  auto type = cast<ShapedType>(c.getValue().getType());
  if (!type.getElementType().isInteger(8) || !type.hasStaticShape()) return out;
  if (auto r = dyn_cast<DenseResourceElementsAttr>(c.getValue())) {
    if (AsmResourceBlob *blob = r.getRawHandle().getBlob()) out.assign(blob->getData().begin(), blob->getData().end());
  } else if (auto d = dyn_cast<DenseElementsAttr>(c.getValue())) {
    ArrayRef<char> raw = d.getRawData();
    if (d.isSplat()) out.assign(size_t(type.getNumElements()), uint8_t(raw.empty() ? 0 : raw[0]));
    else out.assign(raw.begin(), raw.end());
  }
  if (out.size() != size_t(type.getNumElements())) out.clear();
  return out;
}

slmc::slm::ConstantOp slmc::slm::makeResourceConstant(OpBuilder &b, Location loc, llvm::ArrayRef<int64_t> shape,
                                                      Type elementType, const void *bytes, size_t size,
                                                      const std::string &name) {
  auto type = RankedTensorType::get(shape, elementType);
  auto blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(ArrayRef<char>(static_cast<const char *>(bytes), size), 64);
  auto attr = DenseResourceElementsAttr::get(type, name, std::move(blob));
  return b.create<ConstantOp>(loc, type, attr, b.getStringAttr(name));
}
