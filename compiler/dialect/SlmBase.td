// SlmBase.td — the slm dialect and its op base class.
#ifndef SLM_BASE
#define SLM_BASE

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Slm_Dialect : Dialect {
  let name = "slm";
  let summary = "Graph-level ops for small language models and the networks beside them";
  let description = [{
    Ops named after ONNX op types (`slm.MatMul`) mirror ONNX one to one: same operands in the
    same positions, same attributes, same semantics; the ONNX opset a node came from is kept in
    the discardable `slm.opset` attribute. Ops with lower-case names (`slm.constant`, later
    `slm.fused_matmul`, `slm.attention`) are slm's own and are created by import and passes.
  }];
  let cppNamespace = "::slmc::slm";
}

class Slm_Op<string mnemonic, list<Trait> traits = []> : Op<Slm_Dialect, mnemonic, traits>;

#endif // SLM_BASE
