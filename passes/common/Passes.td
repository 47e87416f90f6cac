// Passes.td — common cleanup passes on the slm dialect.
#ifndef SLM_COMMON_PASSES
#define SLM_COMMON_PASSES

include "mlir/Pass/PassBase.td"

def DropIdentity : Pass<"slm-drop-identity", "mlir::func::FuncOp"> {
  let summary = "Forward Identity and inference-mode Dropout to their input";
  let description = [{
    Identity and Dropout (inference: no training_mode input, or a constant false one, and an
    unused mask) copy their input; their users read the input directly instead.

    Before:
    ```mlir
    %1 = "slm.Identity"(%0) : (tensor<4xf32>) -> tensor<4xf32>
    %2 = "slm.Relu"(%1) : (tensor<4xf32>) -> tensor<4xf32>
    ```
    After:
    ```mlir
    %2 = "slm.Relu"(%0) : (tensor<4xf32>) -> tensor<4xf32>
    ```
    A Dropout whose mask is used, or whose training_mode is not a constant false, is kept.
  }];
  let dependentDialects = ["::slmc::slm::SlmDialect"];
}

#endif // SLM_COMMON_PASSES
