//===- KDAOps.td - kda.forward and kda.decode --------------*- tablegen -*-===//
//
// The two user-facing ops: the whole chunked forward, and one decode step
// against a state pool. Both are value-semantic (tensors in, tensors out) so
// an ML compiler can emit them before bufferization. The verifiers enforce
// every shape, dtype and mode rule of the kda spec (§1, §3) with a message
// that names the operand or attribute and what was expected.
//
//===----------------------------------------------------------------------===//

#ifndef KDA_DIALECT_KDA_IR_KDAOPS_TD
#define KDA_DIALECT_KDA_IR_KDAOPS_TD

include "kda/Dialect/KDA/IR/KDADialect.td"
include "kda/Dialect/KDA/IR/KDAAttrs.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

// Attributes shared by both ops: the gate and beta modes of spec §3, q/k l2
// normalisation, the scale and the state layout.
defvar KDA_ModeAttrs = (ins
  DefaultValuedAttr<KDA_GateModeAttr,
                    "::mlir::kda::GateMode::Precomputed">:$gate,
  OptionalAttr<F64Attr>:$lower_bound,
  UnitAttr:$qk_l2norm,
  DefaultValuedAttr<KDA_BetaModeAttr,
                    "::mlir::kda::BetaMode::Plain">:$beta_mode,
  OptionalAttr<F64Attr>:$scale,
  DefaultValuedAttr<KDA_StateLayoutAttr,
                    "::mlir::kda::StateLayout::KV">:$state_layout
);

def KDA_ForwardOp : KDA_Op<"forward", [AttrSizedOperandSegments, Pure]> {
  let summary = "Kimi Delta Attention forward over fixed or varlen batches";
  let description = [{
    Computes `o` (and, when a second result is present, the state after
    each sequence's last token) for a batch of sequences. With the
    `intermediate_states` unit attribute a last result holds the state
    entering every chunk of every sequence (fla's
    `return_intermediate_states`, for prefix caching and speculative
    decoding).

    | operand | shape | element type |
    |---|---|---|
    | `q`, `k` | `[B, T, H, K]` | bf16, f16 or f32 |
    | `v` | `[B, T, HV, V]`, `HV % H == 0` | as `q` |
    | `g` | `[B, T, HV, K]` | bf16 or f32 |
    | `beta` | `[B, T, HV]` | bf16 or f32 |
    | `A_log` (gate modes only) | `[HV]` | f32 |
    | `dt_bias` (gate modes only) | `[HV, K]` or `[HV * K]` | f32 |
    | `initial_state` | `[N, HV, K, V]` (`[N, HV, V, K]` for `vk`) | bf16 or f32 |
    | `cu_seqlens` (requires `B == 1`) | `[N + 1]` | i32 or i64 |

    Results: `o` is `[B, T, HV, V]` with `q`'s element type; the optional
    `final_state` has the state shape, f32 or bf16. `N` is `B` without
    `cu_seqlens`, else its length minus one. With `intermediate_states`,
    the last result is `[B, NT, HV, K, V]` (`[B, NT, HV, V, K]` for `vk`),
    f32 or bf16: entry `[b, i]` is the state entering tokens `i * C ..` of
    sequence `b` (`NT = ceil(T / C)`, `C` the chunk size); with
    `cu_seqlens`, `B == 1` and the sequences' chunks follow each other
    (`NT` = the sum over sequences of `ceil(T_n / C)`).

    Attributes:
    - `gate`: `precomputed` (g is the log decay), `softplus`
      (`-exp(A_log) * softplus(g + dt_bias)`, needs `A_log`) or
      `lower_bound` (`lower_bound * sigmoid(exp(A_log) * (g + dt_bias))`,
      needs the `lower_bound` attribute in `[-5, 0)`).
    - `qk_l2norm`: normalise q and k per token and head (eps 1e-6).
    - `beta_mode`: `plain`, `sigmoid`, or `sigmoid_neg_eigval` (2 * sigmoid).
    - `scale`: positive; defaults to `K^-0.5`.
    - `chunk_size`: 16, 32 or 64 tokens per chunk of the chunked form.
    - `state_layout`: `kv` (`[.., K, V]`) or `vk` (`[.., V, K]`, FlashKDA's).
    - `intermediate_states`: the last result holds the chunks' entering
      states.

    Example (FlashKDA's configuration, varlen, final state produced):

    ```mlir
    %o, %s = kda.forward %q, %k, %v, %g, %beta
        A_log(%a) dt_bias(%b) initial_state(%s0) cu_seqlens(%cu)
        {gate = #kda.gate<lower_bound>, lower_bound = -5.0 : f64, qk_l2norm,
         beta_mode = #kda.beta<sigmoid>, state_layout = #kda.state_layout<vk>}
        : (tensor<1x4096x96x128xbf16>, tensor<1x4096x96x128xbf16>,
           tensor<1x4096x96x128xbf16>, tensor<1x4096x96x128xbf16>,
           tensor<1x4096x96xbf16>, tensor<96xf32>, tensor<96x128xf32>,
           tensor<3x96x128x128xf32>, tensor<4xi64>)
        -> (tensor<1x4096x96x128xbf16>, tensor<3x96x128x128xf32>)
    ```
  }];

  let arguments = !con((ins
    AnyRankedTensor:$q,
    AnyRankedTensor:$k,
    AnyRankedTensor:$v,
    AnyRankedTensor:$g,
    AnyRankedTensor:$beta,
    Optional<AnyRankedTensor>:$A_log,
    Optional<AnyRankedTensor>:$dt_bias,
    Optional<AnyRankedTensor>:$initial_state,
    Optional<AnyRankedTensor>:$cu_seqlens,
    DefaultValuedAttr<I64Attr, "64">:$chunk_size,
    UnitAttr:$intermediate_states
  ), KDA_ModeAttrs);
  // final_state and the intermediate states are both optional: one
  // variadic list keeps the custom form unambiguous, the attribute says
  // whether its last entry is the intermediate states.
  let results = (outs AnyRankedTensor:$o, Variadic<AnyRankedTensor>:$states);
  let extraClassDeclaration = [{
    /// The state after each sequence's last token, or null.
    ::mlir::Value getFinalState() {
      size_t finalStates = getStates().size() - (getIntermediateStates() ? 1 : 0);
      return finalStates == 1 ? getStates().front() : ::mlir::Value();
    }
    /// The states entering every chunk, or null.
    ::mlir::Value getIntermediateStatesResult() {
      return getIntermediateStates() && !getStates().empty() ? getStates().back()
                                                             : ::mlir::Value();
    }
  }];

  let assemblyFormat = [{
    $q `,` $k `,` $v `,` $g `,` $beta
    (`A_log` `(` $A_log^ `)`)?
    (`dt_bias` `(` $dt_bias^ `)`)?
    (`initial_state` `(` $initial_state^ `)`)?
    (`cu_seqlens` `(` $cu_seqlens^ `)`)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def KDA_DecodeOp : KDA_Op<"decode", [AttrSizedOperandSegments, Pure]> {
  let summary = "one token per sequence against a pool of states";
  let description = [{
    One step of the recurrence for each of `N` sequences: sequence `n` reads
    and updates the state `state_pool[state_indices[n]]` (fla's
    `fused_recurrent_kda` with `ssm_state_indices`, as vLLM serves it). The
    result `new_state_pool` is the pool with those states replaced; a
    bufferized lowering updates the pool in place.

    | operand | shape | element type |
    |---|---|---|
    | `q`, `k` | `[N, H, K]` | bf16, f16 or f32 |
    | `v` | `[N, HV, V]`, `HV % H == 0` | as `q` |
    | `g` | `[N, HV, K]` | bf16 or f32 |
    | `beta` | `[N, HV]` | bf16 or f32 |
    | `A_log`, `dt_bias` | as for `kda.forward` | f32 |
    | `state_pool` | `[P, HV, K, V]` (`[P, HV, V, K]` for `vk`) | bf16 or f32 |
    | `state_indices` | `[N]`, each in `[0, P)` | i32 or i64 |

    The gate, beta, l2norm, scale and layout attributes mean what they mean
    for `kda.forward`.

    ```mlir
    %o, %pool1 = kda.decode %q, %k, %v, %g, %beta A_log(%a)
        state_pool(%pool) state_indices(%idx) {gate = #kda.gate<softplus>}
        : (tensor<256x32x128xbf16>, tensor<256x32x128xbf16>,
           tensor<256x32x128xbf16>, tensor<256x32x128xbf16>,
           tensor<256x32xbf16>, tensor<32xf32>, tensor<1024x32x128x128xf32>,
           tensor<256xi32>)
        -> (tensor<256x32x128xbf16>, tensor<1024x32x128x128xf32>)
    ```
  }];

  let arguments = !con((ins
    AnyRankedTensor:$q,
    AnyRankedTensor:$k,
    AnyRankedTensor:$v,
    AnyRankedTensor:$g,
    AnyRankedTensor:$beta,
    Optional<AnyRankedTensor>:$A_log,
    Optional<AnyRankedTensor>:$dt_bias,
    AnyRankedTensor:$state_pool,
    AnyRankedTensor:$state_indices
  ), KDA_ModeAttrs);
  let results = (outs AnyRankedTensor:$o, AnyRankedTensor:$new_state_pool);

  let assemblyFormat = [{
    $q `,` $k `,` $v `,` $g `,` $beta
    (`A_log` `(` $A_log^ `)`)?
    (`dt_bias` `(` $dt_bias^ `)`)?
    `state_pool` `(` $state_pool `)`
    `state_indices` `(` $state_indices `)`
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

#endif // KDA_DIALECT_KDA_IR_KDAOPS_TD
