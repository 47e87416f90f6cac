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

def Fold : Pass<"slm-fold", "mlir::func::FuncOp"> {
  let summary = "Fold no-op Casts, implied leading Unsqueezes, Reshape chains; erase dead ops";
  let description = [{
    - `Cast` to the type its input already has is dropped.
    - `Unsqueeze(x, [0, .., k-1])` feeding a broadcasting Add/Sub/Mul/Div/Pow whose other operand
      has at least the unsqueezed rank is bypassed (numpy broadcasting adds leading 1s anyway).
    - `Reshape(Reshape(x, s1), s2)` reads x directly when s2 is a constant with no 0 entry.
    - slm ops whose results are unused are erased (the ONNX mirrors have no side effects).

    Before:
    ```mlir
    %c = "slm.Cast"(%n) {to = 7} : (tensor<i64>) -> tensor<i64>
    %u = "slm.Unsqueeze"(%pos, %zero) : (tensor<?x8xf32>, tensor<1xi64>) -> tensor<1x?x8xf32>
    %y = "slm.Add"(%x, %u) : (tensor<?x?x8xf32>, tensor<1x?x8xf32>) -> tensor<?x?x8xf32>
    ```
    After:
    ```mlir
    %y = "slm.Add"(%x, %pos) : (tensor<?x?x8xf32>, tensor<?x8xf32>) -> tensor<?x?x8xf32>
    ```
    Left alone: an Unsqueeze on a non-leading axis, or whose result has more dims than the
    other operand (the broadcast result would lose a dim).
  }];
  let dependentDialects = ["::slmc::slm::SlmDialect"];
}

#endif // SLM_COMMON_PASSES
