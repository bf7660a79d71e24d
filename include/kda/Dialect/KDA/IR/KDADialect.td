//===- KDADialect.td - The kda dialect ---------------------*- tablegen -*-===//
//
// The kda dialect expresses Kimi Delta Attention (chunked delta-rule linear
// attention with per-channel gates) at the level an ML compiler emits it.
//
//===----------------------------------------------------------------------===//

#ifndef KDA_DIALECT_KDA_IR_KDADIALECT_TD
#define KDA_DIALECT_KDA_IR_KDADIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def KDA_Dialect : Dialect {
  let name = "kda";
  let cppNamespace = "::mlir::kda";
  let summary = "Kimi Delta Attention: gated delta-rule linear attention";
  let description = [{
    Ops of this dialect compute Kimi Delta Attention (KDA), the linear
    attention of Moonshot's Kimi Linear models. Per (sequence, value head) a
    state `S` of shape `K x V` evolves token by token:

    ```
    S   <- Diag(exp(g_t)) S
    S   <- S + beta_t * k_t (v_t - S^T k_t)^T
    o_t  = S^T (scale * q_t)
    ```

    with optional l2 normalisation of q and k, three gate modes (the log
    decay `g` given directly, `-exp(A_log) * softplus(g + dt_bias)`, or
    `lower_bound * sigmoid(exp(A_log) * (g + dt_bias))`) and three beta modes
    (as given, `sigmoid(beta)`, `2 * sigmoid(beta)`). Tensors use the
    token-major layout of flash-linear-attention: `[B, T, H, K]`.

    `kda.forward` is the whole forward over fixed or variable-length
    (`cu_seqlens`) batches; `kda.decode` is one serving step: one token per
    sequence against a pool of states.
  }];
  let useDefaultAttributePrinterParser = 1;
}

class KDA_Op<string mnemonic, list<Trait> traits = []>
    : Op<KDA_Dialect, mnemonic, traits>;

#endif // KDA_DIALECT_KDA_IR_KDADIALECT_TD
