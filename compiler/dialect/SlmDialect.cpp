// The slm dialect: registration, constant materialization and slm.constant's verifier and folder.
#include "SlmDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"

using namespace mlir;
using namespace slmc::slm;

#include "SlmDialect.cpp.inc"

void SlmDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "SlmOps.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "OnnxOps.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "SlmQuantOps.cpp.inc"
      >();
}

LogicalResult ConstantOp::verify() {
  if (getValue().getType() != getOutput().getType())
    return emitOpError("value type ") << getValue().getType() << " does not match result type "
                                      << getOutput().getType();
  return success();
}

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

LogicalResult MatMulWqOp::verify() {
  int64_t bits = getBits(), k = getK(), n = getN(), group = getGroupSize();
  if (bits != 4 && bits != 8) return emitOpError("bits must be 4 or 8, got ") << bits;
  if (group < 0) return emitOpError("group_size must be >= 0");
  auto w = cast<ShapedType>(getWeight().getType());
  auto s = cast<ShapedType>(getScales().getType());
  int64_t cols = bits == 8 ? n : (n + 63) / 64 * 32;
  int64_t groups = group == 0 ? 1 : (k + group - 1) / group;
  if (!w.hasStaticShape() || w.getShape() != ArrayRef<int64_t>{k, cols})
    return emitOpError("weight must be ") << k << "x" << cols << ", got " << w;
  if (!s.hasStaticShape() || s.getShape() != ArrayRef<int64_t>{groups, n})
    return emitOpError("scales must be ") << groups << "x" << n << ", got " << s;
  return success();
}

LogicalResult MatMulA8Op::verify() {
  int64_t bits = getBits(), k = getK(), kp = getKp(), n = getN(), group = getGroupSize();
  if (bits != 4 && bits != 8) return emitOpError("bits must be 4 or 8, got ") << bits;
  if (group <= 0 || group % 8 || kp < k || kp % group) return emitOpError("group_size must be a positive multiple of 8 dividing kp >= k");
  auto w = cast<ShapedType>(getWeight().getType());
  auto s = cast<ShapedType>(getScales().getType());
  int64_t strips = (n + 15) / 16, bytes = bits == 8 ? kp * 16 : kp * 8;
  if (!w.hasStaticShape() || w.getShape() != ArrayRef<int64_t>{strips, bytes})
    return emitOpError("weight must be ") << strips << "x" << bytes << ", got " << w;
  if (!s.hasStaticShape() || s.getShape() != ArrayRef<int64_t>{strips, kp / group * 16})
    return emitOpError("scales must be ") << strips << "x" << kp / group * 16 << ", got " << s;
  return success();
}

#define GET_OP_CLASSES
#include "SlmOps.cpp.inc"

#define GET_OP_CLASSES
#include "OnnxOps.cpp.inc"

#define GET_OP_CLASSES
#include "SlmQuantOps.cpp.inc"
