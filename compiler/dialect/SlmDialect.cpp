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
}

LogicalResult ConstantOp::verify() {
  if (getValue().getType() != getOutput().getType())
    return emitOpError("value type ") << getValue().getType() << " does not match result type "
                                      << getOutput().getType();
  return success();
}

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

#define GET_OP_CLASSES
#include "SlmOps.cpp.inc"

#define GET_OP_CLASSES
#include "OnnxOps.cpp.inc"
