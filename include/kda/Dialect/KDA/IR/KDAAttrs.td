//===- KDAAttrs.td - Gate, beta and state-layout modes -----*- tablegen -*-===//
//
// The modes of spec §3 as dialect enum attributes, printed #kda.gate<...>,
// #kda.beta<...> and #kda.state_layout<...>.
//
//===----------------------------------------------------------------------===//

#ifndef KDA_DIALECT_KDA_IR_KDAATTRS_TD
#define KDA_DIALECT_KDA_IR_KDAATTRS_TD

include "kda/Dialect/KDA/IR/KDADialect.td"
include "mlir/IR/EnumAttr.td"

def KDA_GateMode : I32EnumAttr<"GateMode",
    "how the g operand becomes the per-step log decay", [
      I32EnumAttrCase<"Precomputed", 0, "precomputed">,
      I32EnumAttrCase<"Softplus", 1, "softplus">,
      I32EnumAttrCase<"LowerBound", 2, "lower_bound">
    ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::kda";
}
def KDA_GateModeAttr : EnumAttr<KDA_Dialect, KDA_GateMode, "gate"> {
  let assemblyFormat = "`<` $value `>`";
}

def KDA_BetaMode : I32EnumAttr<"BetaMode",
    "how the beta operand becomes the delta-rule step size", [
      I32EnumAttrCase<"Plain", 0, "plain">,
      I32EnumAttrCase<"Sigmoid", 1, "sigmoid">,
      I32EnumAttrCase<"SigmoidNegEigval", 2, "sigmoid_neg_eigval">
    ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::kda";
}
def KDA_BetaModeAttr : EnumAttr<KDA_Dialect, KDA_BetaMode, "beta"> {
  let assemblyFormat = "`<` $value `>`";
}

def KDA_StateLayout : I32EnumAttr<"StateLayout",
    "the order of the two trailing state dimensions", [
      I32EnumAttrCase<"KV", 0, "kv">,
      I32EnumAttrCase<"VK", 1, "vk">
    ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::mlir::kda";
}
def KDA_StateLayoutAttr
    : EnumAttr<KDA_Dialect, KDA_StateLayout, "state_layout"> {
  let assemblyFormat = "`<` $value `>`";
}

#endif // KDA_DIALECT_KDA_IR_KDAATTRS_TD
