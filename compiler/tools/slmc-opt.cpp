// slmc-opt: mlir-opt with the slm dialect and passes registered, for lit tests and debugging.
#include "SlmDialect.h"
#include "codegen/KernelGen.h"
#include "passes/common/Passes.h"
#include "passes/fusion/Passes.h"
#include "passes/quant/Passes.h"
#include "passes/prune/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  registry.insert<slmc::slm::SlmDialect, mlir::func::FuncDialect>();
  slmc::registerSlmCommonPasses();
  slmc::registerSlmFusionPasses();
  slmc::registerSlmQuantPasses();
  slmc::registerSlmPrunePasses();
  slmc::registerCodegenPasses();
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  return mlir::asMainReturnCode(mlir::MlirOptMain(argc, argv, "slm optimizer driver\n", registry));
}
