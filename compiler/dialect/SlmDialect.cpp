// The slm dialect: registration, slm.constant's verifier and folder, and the fused ops' verifiers.
#include "SlmDialect.h"

#include "elementwise_steps.h"

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

// The shapes of targets/common/sparse_s8.h; the loader checks the offsets against the masks.
LogicalResult MatMulA8SparseOp::verify() {
  int64_t bits = getBits(), k = getK(), kp = getKp(), n = getN(), group = getGroupSize();
  if (bits != 4 && bits != 8) return emitOpError("bits must be 4 or 8, got ") << bits;
  if (k <= 0 || n <= 0) return emitOpError("k and n must be positive");
  if (group <= 0 || group % 8 || kp < k || kp % group) return emitOpError("group_size must be a positive multiple of 8 dividing kp >= k");
  int64_t strips = (n + 15) / 16;
  auto v = cast<ShapedType>(getValues().getType()), m = cast<ShapedType>(getMasks().getType());
  auto o = cast<ShapedType>(getOffsets().getType()), s = cast<ShapedType>(getScales().getType());
  if (!v.hasStaticShape() || v.getRank() != 1) return emitOpError("values must be a static 1-D tensor, got ") << v;
  if (!m.hasStaticShape() || m.getShape() != ArrayRef<int64_t>{strips, kp / 4})
    return emitOpError("masks must be ") << strips << "x" << kp / 4 << ", got " << m;
  if (!o.hasStaticShape() || o.getShape() != ArrayRef<int64_t>{strips + 1})
    return emitOpError("offsets must have ") << strips + 1 << " elements, got " << o;
  if (!s.hasStaticShape() || s.getShape() != ArrayRef<int64_t>{strips, kp / group * 16})
    return emitOpError("scales must be ") << strips << "x" << kp / group * 16 << ", got " << s;
  return success();
}

LogicalResult MatMulSp24Op::verify() {
  int64_t k = getK(), n = getN();
  if (k <= 0 || n <= 0) return emitOpError("k and n must be positive");
  int64_t panels = (n + 63) / 64, groups = (k + 15) / 16 * 4;
  auto v = cast<ShapedType>(getValues().getType()), i = cast<ShapedType>(getIndices().getType());
  if (!v.hasStaticShape() || v.getShape() != ArrayRef<int64_t>{panels, groups * 128})
    return emitOpError("values must be ") << panels << "x" << groups * 128 << ", got " << v;
  if (!i.hasStaticShape() || i.getShape() != ArrayRef<int64_t>{panels, groups * 64})
    return emitOpError("indices must be ") << panels << "x" << groups * 64 << ", got " << i;
  return success();
}

LogicalResult MatMulSparseOp::verify() {
  int64_t k = getK(), n = getN();
  if (k <= 0 || n <= 0) return emitOpError("k and n must be positive");
  int64_t panels = (n + 63) / 64;
  auto v = cast<ShapedType>(getValues().getType()), m = cast<ShapedType>(getMasks().getType()),
       o = cast<ShapedType>(getOffsets().getType());
  if (!v.hasStaticShape() || v.getRank() != 1) return emitOpError("values must be a static 1-D tensor, got ") << v;
  if (!m.hasStaticShape() || m.getShape() != ArrayRef<int64_t>{panels, k * 4})
    return emitOpError("masks must be ") << panels << "x" << k * 4 << ", got " << m;
  if (!o.hasStaticShape() || o.getShape() != ArrayRef<int64_t>{panels + 1})
    return emitOpError("offsets must have ") << panels + 1 << " elements, got " << o;
  return success();
}

LogicalResult AttentionOp::verify() {
  int64_t h = getNumHeads(), kvh = getKvNumHeads();
  if (h <= 0 || kvh <= 0 || h % kvh)
    return emitOpError("num_heads (") << h << ") must be a positive multiple of kv_num_heads (" << kvh << ")";
  if (!getKvInPlace()) return success();
  for (Value past : {getPastKey(), getPastValue()})
    if (!past || !past.getDefiningOp<KvCacheOp>())
      return emitOpError("kv_in_place needs past_key and past_value from slm.kv_cache");
  if (!getPresentKey().use_empty() || !getPresentValue().use_empty())
    return emitOpError("kv_in_place: the present results are the caches themselves and must have no uses");
  return success();
}

LogicalResult KvCacheOp::verify() {
  auto t = dyn_cast<RankedTensorType>(getCache().getType());
  if (!t || t.getRank() != 4 || !t.getElementType().isF32())
    return emitOpError("the cache must be a rank-4 f32 tensor [B, kv_heads, P, D], got ") << getCache().getType();
  if (getDims().size() != 4) return emitOpError("dims must name the 4 dims, got ") << getDims().size();
  if (t.isDynamicDim(1) || t.isDynamicDim(3)) return emitOpError("kv_heads and D must be static");
  return success();
}

// Mirrors ew_decode_steps (targets/common/elementwise_steps.h), which the runtime applies at load.
LogicalResult ElementwiseOp::verify() {
  size_t n = getSteps().size();
  if (n == 0 || n > size_t(::slm::kEwMaxSteps)) return emitOpError("needs 1 to ") << ::slm::kEwMaxSteps << " steps";
  if (getArgs().size() != n || getScalars().size() != n || getReversed().size() != n)
    return emitOpError("steps, args, scalars and reversed must have the same length");
  if (getX().getType() != getOutput().getType()) return emitOpError("x and the result must have the same type");
  size_t params = getParams().size();
  if (params > 32) return emitOpError("takes at most 32 constant vectors");
  llvm::SmallVector<bool> used(params, false);
  for (size_t i = 0; i < n; ++i) {
    auto name = cast<StringAttr>(getSteps()[i]).str();
    int32_t kind = ::slm::ew_step_kind(name.c_str());
    int64_t arg = cast<IntegerAttr>(getArgs()[i]).getInt(), rev = cast<IntegerAttr>(getReversed()[i]).getInt();
    if (kind < 0) return emitOpError("step ") << i << " '" << name << "' is not a supported elementwise op";
    if (rev != 0 && rev != 1) return emitOpError("reversed[") << i << "] must be 0 or 1";
    if (!::slm::ew_is_binary(kind)) {
      if (arg != 0 || rev != 0) return emitOpError("unary step ") << i << " must have args 0 and reversed 0";
      continue;
    }
    if (arg == -1) continue;
    if (arg < 1 || size_t(arg) > params) return emitOpError("step ") << i << " uses operand " << arg << ", which does not exist";
    used[arg - 1] = true;
  }
  for (size_t k = 0; k < params; ++k)
    if (!used[k]) return emitOpError("operand ") << k + 1 << " is used by no step";
  return success();
}

#define GET_OP_CLASSES
#include "SlmOps.cpp.inc"

#define GET_OP_CLASSES
#include "OnnxOps.cpp.inc"

#define GET_OP_CLASSES
#include "SlmQuantOps.cpp.inc"
