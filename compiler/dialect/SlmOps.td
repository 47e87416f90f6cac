// SlmOps.td — slm's own ops (hand-written); the ONNX mirrors are generated into OnnxOps.td.
#ifndef SLM_OPS
#define SLM_OPS

include "SlmBase.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"

def Slm_ConstantOp : Slm_Op<"constant", [ConstantLike, Pure]> {
  let summary = "A constant tensor (an ONNX initializer or Constant node)";
  let description = [{
    Holds weights and other constant tensors. Large initializers use dense resource
    attributes so their bytes are not copied into the context.

    ```mlir
    %w = slm.constant dense<[1.0, 2.0]> : tensor<2xf32> : tensor<2xf32>
    ```
  }];
  let arguments = (ins ElementsAttr:$value, OptionalAttr<StrAttr>:$name);
  let results = (outs AnyTensor:$output);
  let assemblyFormat = "$value attr-dict `:` type($output)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

#endif // SLM_OPS
