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

def FoldConstants : Pass<"slm-fold-constants", "mlir::func::FuncOp"> {
  let summary = "Evaluate ops on constants with the reference kernels; fold static Shapes";
  let description = [{
    - An op whose operands are all `slm.constant` is evaluated at compile time by the reference
      kernel the runtime would run and replaced by constants (shape arithmetic, weight
      transposes, Casts of constants, ...). A result above 65536 elements is folded only when
      the constant operands that die with the op free as many bytes, so folding never grows the
      weights.
    - `Shape` of a statically shaped tensor becomes a constant, so its Gather/Concat/Reshape
      arithmetic folds too.
    Runs after the fusion passes, whose matchers read the exporters' own patterns.

    Before:
    ```mlir
    %s = "slm.Shape"(%x) : (tensor<2x8xf32>) -> tensor<2xi64>
    %d = "slm.Gather"(%s, %one) {axis = 0} : (tensor<2xi64>, tensor<i64>) -> tensor<i64>
    %t = "slm.Transpose"(%w) {perm = [1, 0]} : (tensor<4x8xf32>) -> tensor<8x4xf32>
    ```
    After:
    ```mlir
    %d = slm.constant dense<8> : tensor<i64> : tensor<i64>
    %t = slm.constant dense<...> : tensor<8x4xf32> : tensor<8x4xf32>
    ```
    Left alone: an op with a non-constant operand, a Shape of a dynamically shaped tensor, an
    Expand of a small constant to a large result.
  }];
  let dependentDialects = ["::slmc::slm::SlmDialect"];
}

#endif // SLM_COMMON_PASSES
