// RUN: kda-opt %s -split-input-file -verify-diagnostics

// Every diagnostic of the kda.forward and kda.decode verifiers
// (lib/Dialect/KDA/IR/KDAOps.cpp), one split each, then the parser and ODS
// errors that matter. Each case is valid except for the one rule named in
// the comment above it.

// kda.forward: rank of operand 'q' (Checker::rank).
func.func @forward_q_rank(%q: tensor<2x64x128xbf16>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x64x4x128xbf16>, %g: tensor<2x64x4x128xf32>, %beta: tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16> {
  // expected-error @below {{'kda.forward' op operand 'q' must be a rank-4 tensor [B, T, H, K], got rank 3}}
  %o = kda.forward %q, %k, %v, %g, %beta
      : (tensor<2x64x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xf32>, tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16>
  return %o : tensor<2x64x4x128xbf16>
}

// -----

// kda.forward: element type of operand 'q' (Checker::element, activation types).
func.func @forward_q_element(%q: tensor<2x64x4x128xf64>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x64x4x128xbf16>, %g: tensor<2x64x4x128xf32>, %beta: tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16> {
  // expected-error @below {{'kda.forward' op operand 'q' must have element type bf16, f16 or f32, got 'f64'}}
  %o = kda.forward %q, %k, %v, %g, %beta
      : (tensor<2x64x4x128xf64>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xf32>, tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16>
  return %o : tensor<2x64x4x128xbf16>
}

// -----

// kda.forward: shape of operand 'k' (Checker::shape).
func.func @forward_k_shape(%q: tensor<2x64x4x128xbf16>, %k: tensor<2x64x4x64xbf16>, %v: tensor<2x64x4x128xbf16>, %g: tensor<2x64x4x128xf32>, %beta: tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16> {
  // expected-error @below {{'kda.forward' op operand 'k' must have shape [B, T, H, K] = [2, 64, 4, 128], got [2, 64, 4, 64]}}
  %o = kda.forward %q, %k, %v, %g, %beta
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x64xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xf32>, tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16>
  return %o : tensor<2x64x4x128xbf16>
}

// -----

// kda.forward: element type of operand 'k' matches 'q' (Checker::sameElement).
func.func @forward_k_element(%q: tensor<2x64x4x128xbf16>, %k: tensor<2x64x4x128xf16>, %v: tensor<2x64x4x128xbf16>, %g: tensor<2x64x4x128xf32>, %beta: tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16> {
  // expected-error @below {{'kda.forward' op operand 'k' must have the element type of 'q' ('bf16'), got 'f16'}}
  %o = kda.forward %q, %k, %v, %g, %beta
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xf32>, tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16>
  return %o : tensor<2x64x4x128xbf16>
}

// -----

// kda.forward: rank of operand 'v' (Checker::rank).
func.func @forward_v_rank(%q: tensor<2x64x4x128xbf16>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x64x512xbf16>, %g: tensor<2x64x4x128xf32>, %beta: tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16> {
  // expected-error @below {{'kda.forward' op operand 'v' must be a rank-4 tensor [B, T, HV, V], got rank 3}}
  %o = kda.forward %q, %k, %v, %g, %beta
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x512xbf16>, tensor<2x64x4x128xf32>, tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16>
  return %o : tensor<2x64x4x128xbf16>
}

// -----

// kda.forward: shape of operand 'v': B and T from 'q' (Checker::shape).
func.func @forward_v_shape(%q: tensor<2x64x4x128xbf16>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x32x4x128xbf16>, %g: tensor<2x64x4x128xf32>, %beta: tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16> {
  // expected-error @below {{'kda.forward' op operand 'v' must have shape [B, T, HV, V] = [2, 64, 4, 128], got [2, 32, 4, 128]}}
  %o = kda.forward %q, %k, %v, %g, %beta
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x32x4x128xbf16>, tensor<2x64x4x128xf32>, tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16>
  return %o : tensor<2x64x4x128xbf16>
}

// -----

// kda.forward: element type of operand 'v' matches 'q' (Checker::sameElement).
func.func @forward_v_element(%q: tensor<2x64x4x128xbf16>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x64x4x128xf32>, %g: tensor<2x64x4x128xf32>, %beta: tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16> {
  // expected-error @below {{'kda.forward' op operand 'v' must have the element type of 'q' ('bf16'), got 'f32'}}
  %o = kda.forward %q, %k, %v, %g, %beta
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xf32>, tensor<2x64x4x128xf32>, tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16>
  return %o : tensor<2x64x4x128xbf16>
}

// -----

// kda.forward: head size K in [1, 256] (verifyHeadDims).
func.func @forward_head_k_range(%q: tensor<2x64x4x257xbf16>, %k: tensor<2x64x4x257xbf16>, %v: tensor<2x64x4x128xbf16>, %g: tensor<2x64x4x257xf32>, %beta: tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16> {
  // expected-error @below {{'kda.forward' op head size K (last dimension of 'q') must be in [1, 256], got 257}}
  %o = kda.forward %q, %k, %v, %g, %beta
      : (tensor<2x64x4x257xbf16>, tensor<2x64x4x257xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x257xf32>, tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16>
  return %o : tensor<2x64x4x128xbf16>
}

// -----

// kda.forward: head size V in [1, 256] (verifyHeadDims).
func.func @forward_head_v_range(%q: tensor<2x64x4x128xbf16>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x64x4x0xbf16>, %g: tensor<2x64x4x128xf32>, %beta: tensor<2x64x4xbf16>) -> tensor<2x64x4x0xbf16> {
  // expected-error @below {{'kda.forward' op head size V (last dimension of 'v') must be in [1, 256], got 0}}
  %o = kda.forward %q, %k, %v, %g, %beta
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x0xbf16>, tensor<2x64x4x128xf32>, tensor<2x64x4xbf16>) -> tensor<2x64x4x0xbf16>
  return %o : tensor<2x64x4x0xbf16>
}

// -----

// kda.forward: HV must be positive, not zero (verifyHeadDims).
func.func @forward_hv_zero(%q: tensor<2x64x4x128xbf16>, %v: tensor<2x64x0x128xbf16>, %g: tensor<2x64x0x128xf32>, %beta: tensor<2x64x0xbf16>) -> tensor<2x64x0x128xbf16> {
  // expected-error @below {{'kda.forward' op operand 'v' has HV = 0 value heads, which must be a positive multiple of H = 4 (the heads of 'q')}}
  %o = kda.forward %q, %q, %v, %g, %beta
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x0x128xbf16>, tensor<2x64x0x128xf32>, tensor<2x64x0xbf16>) -> tensor<2x64x0x128xbf16>
  return %o : tensor<2x64x0x128xbf16>
}

// -----

// kda.forward: HV a positive multiple of H (verifyHeadDims).
func.func @forward_hv_multiple_of_h(%q: tensor<2x64x4x128xbf16>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x64x6x128xbf16>, %g: tensor<2x64x6x128xf32>, %beta: tensor<2x64x6xbf16>) -> tensor<2x64x6x128xbf16> {
  // expected-error @below {{'kda.forward' op operand 'v' has HV = 6 value heads, which must be a positive multiple of H = 4 (the heads of 'q')}}
  %o = kda.forward %q, %k, %v, %g, %beta
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x6x128xbf16>, tensor<2x64x6x128xf32>, tensor<2x64x6xbf16>) -> tensor<2x64x6x128xbf16>
  return %o : tensor<2x64x6x128xbf16>
}

// -----

// kda.forward: shape of operand 'g' (Checker::shape).
func.func @forward_g_shape(%q: tensor<2x64x4x128xbf16>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x64x4x128xbf16>, %g: tensor<2x64x4x64xf32>, %beta: tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16> {
  // expected-error @below {{'kda.forward' op operand 'g' must have shape [B, T, HV, K] = [2, 64, 4, 128], got [2, 64, 4, 64]}}
  %o = kda.forward %q, %k, %v, %g, %beta
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x64xf32>, tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16>
  return %o : tensor<2x64x4x128xbf16>
}

// -----

// kda.forward: element type of operand 'g' (Checker::element, bf16 or f32).
func.func @forward_g_element(%q: tensor<2x64x4x128xbf16>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x64x4x128xbf16>, %g: tensor<2x64x4x128xf16>, %beta: tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16> {
  // expected-error @below {{'kda.forward' op operand 'g' must have element type bf16 or f32, got 'f16'}}
  %o = kda.forward %q, %k, %v, %g, %beta
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xf16>, tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16>
  return %o : tensor<2x64x4x128xbf16>
}

// -----

// kda.forward: shape of operand 'beta' (Checker::shape).
func.func @forward_beta_shape(%q: tensor<2x64x4x128xbf16>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x64x4x128xbf16>, %g: tensor<2x64x4x128xf32>, %beta: tensor<2x64x8xbf16>) -> tensor<2x64x4x128xbf16> {
  // expected-error @below {{'kda.forward' op operand 'beta' must have shape [B, T, HV] = [2, 64, 4], got [2, 64, 8]}}
  %o = kda.forward %q, %k, %v, %g, %beta
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xf32>, tensor<2x64x8xbf16>) -> tensor<2x64x4x128xbf16>
  return %o : tensor<2x64x4x128xbf16>
}

// -----

// kda.forward: element type of operand 'beta' (Checker::element, bf16 or f32).
func.func @forward_beta_element(%q: tensor<2x64x4x128xbf16>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x64x4x128xbf16>, %g: tensor<2x64x4x128xf32>, %beta: tensor<2x64x4xf16>) -> tensor<2x64x4x128xbf16> {
  // expected-error @below {{'kda.forward' op operand 'beta' must have element type bf16 or f32, got 'f16'}}
  %o = kda.forward %q, %k, %v, %g, %beta
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xf32>, tensor<2x64x4xf16>) -> tensor<2x64x4x128xbf16>
  return %o : tensor<2x64x4x128xbf16>
}

// -----

// kda.forward: gate lower_bound requires attribute 'lower_bound' (verifyModes).
func.func @forward_lower_bound_required(%q: tensor<2x64x4x128xbf16>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x64x4x128xbf16>, %g: tensor<2x64x4x128xf32>, %beta: tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16> {
  // expected-error @below {{'kda.forward' op attribute 'lower_bound' is required by gate lower_bound}}
  %o = kda.forward %q, %k, %v, %g, %beta {gate = #kda.gate<lower_bound>}
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xf32>, tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16>
  return %o : tensor<2x64x4x128xbf16>
}

// -----

// kda.forward: attribute 'lower_bound' only with gate lower_bound (verifyModes).
func.func @forward_lower_bound_unused(%q: tensor<2x64x4x128xbf16>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x64x4x128xbf16>, %g: tensor<2x64x4x128xf32>, %beta: tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16> {
  // expected-error @below {{'kda.forward' op attribute 'lower_bound' is only used by gate lower_bound, but gate is precomputed}}
  %o = kda.forward %q, %k, %v, %g, %beta {lower_bound = -1.0 : f64}
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xf32>, tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16>
  return %o : tensor<2x64x4x128xbf16>
}

// -----

// kda.forward: attribute 'lower_bound' in [-5, 0) (verifyModes).
func.func @forward_lower_bound_range(%q: tensor<2x64x4x128xbf16>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x64x4x128xbf16>, %g: tensor<2x64x4x128xf32>, %beta: tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16> {
  // expected-error @below {{'kda.forward' op attribute 'lower_bound' must be in [-5, 0), got -6}}
  %o = kda.forward %q, %k, %v, %g, %beta {gate = #kda.gate<lower_bound>, lower_bound = -6.0 : f64}
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xf32>, tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16>
  return %o : tensor<2x64x4x128xbf16>
}

// -----

// kda.forward: attribute 'scale' positive and finite (verifyModes).
func.func @forward_scale_positive(%q: tensor<2x64x4x128xbf16>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x64x4x128xbf16>, %g: tensor<2x64x4x128xf32>, %beta: tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16> {
  // expected-error @below {{'kda.forward' op attribute 'scale' must be a positive finite number, got 0}}
  %o = kda.forward %q, %k, %v, %g, %beta {scale = 0.0 : f64}
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xf32>, tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16>
  return %o : tensor<2x64x4x128xbf16>
}

// -----

// kda.forward: operand 'A_log' only with the softplus and lower_bound gates (verifyModes).
func.func @forward_a_log_unused(%q: tensor<2x64x4x128xbf16>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x64x4x128xbf16>, %g: tensor<2x64x4x128xf32>, %beta: tensor<2x64x4xbf16>, %a_log: tensor<4xf32>) -> tensor<2x64x4x128xbf16> {
  // expected-error @below {{'kda.forward' op operand 'A_log' is only used by the softplus and lower_bound gates, but gate is precomputed}}
  %o = kda.forward %q, %k, %v, %g, %beta A_log(%a_log)
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xf32>, tensor<2x64x4xbf16>, tensor<4xf32>) -> tensor<2x64x4x128xbf16>
  return %o : tensor<2x64x4x128xbf16>
}

// -----

// kda.forward: operand 'dt_bias' only with the softplus and lower_bound gates (verifyModes).
func.func @forward_dt_bias_unused(%q: tensor<2x64x4x128xbf16>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x64x4x128xbf16>, %g: tensor<2x64x4x128xf32>, %beta: tensor<2x64x4xbf16>, %dt_bias: tensor<4x128xf32>) -> tensor<2x64x4x128xbf16> {
  // expected-error @below {{'kda.forward' op operand 'dt_bias' is only used by the softplus and lower_bound gates, but gate is precomputed}}
  %o = kda.forward %q, %k, %v, %g, %beta dt_bias(%dt_bias)
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xf32>, tensor<2x64x4xbf16>, tensor<4x128xf32>) -> tensor<2x64x4x128xbf16>
  return %o : tensor<2x64x4x128xbf16>
}

// -----

// kda.forward: gate softplus requires operand 'A_log' (verifyModes).
func.func @forward_softplus_requires_a_log(%q: tensor<2x64x4x128xbf16>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x64x4x128xbf16>, %g: tensor<2x64x4x128xf32>, %beta: tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16> {
  // expected-error @below {{'kda.forward' op gate softplus requires operand 'A_log'}}
  %o = kda.forward %q, %k, %v, %g, %beta {gate = #kda.gate<softplus>}
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xf32>, tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16>
  return %o : tensor<2x64x4x128xbf16>
}

// -----

// kda.forward: shape of operand 'A_log' (verifyModes, Checker::shape).
func.func @forward_a_log_shape(%q: tensor<2x64x4x128xbf16>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x64x4x128xbf16>, %g: tensor<2x64x4x128xf32>, %beta: tensor<2x64x4xbf16>, %a_log: tensor<8xf32>) -> tensor<2x64x4x128xbf16> {
  // expected-error @below {{'kda.forward' op operand 'A_log' must have shape [HV] = [4], got [8]}}
  %o = kda.forward %q, %k, %v, %g, %beta A_log(%a_log) {gate = #kda.gate<softplus>}
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xf32>, tensor<2x64x4xbf16>, tensor<8xf32>) -> tensor<2x64x4x128xbf16>
  return %o : tensor<2x64x4x128xbf16>
}

// -----

// kda.forward: element type of operand 'A_log' (verifyModes, Checker::element, f32).
func.func @forward_a_log_element(%q: tensor<2x64x4x128xbf16>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x64x4x128xbf16>, %g: tensor<2x64x4x128xf32>, %beta: tensor<2x64x4xbf16>, %a_log: tensor<4xbf16>) -> tensor<2x64x4x128xbf16> {
  // expected-error @below {{'kda.forward' op operand 'A_log' must have element type f32, got 'bf16'}}
  %o = kda.forward %q, %k, %v, %g, %beta A_log(%a_log) {gate = #kda.gate<softplus>}
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xf32>, tensor<2x64x4xbf16>, tensor<4xbf16>) -> tensor<2x64x4x128xbf16>
  return %o : tensor<2x64x4x128xbf16>
}

// -----

// kda.forward: shape of a rank-1 operand 'dt_bias' (verifyModes, Checker::shape [HV * K]).
func.func @forward_dt_bias_flat_shape(%q: tensor<2x64x4x128xbf16>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x64x4x128xbf16>, %g: tensor<2x64x4x128xf32>, %beta: tensor<2x64x4xbf16>, %a_log: tensor<4xf32>, %dt_bias: tensor<128xf32>) -> tensor<2x64x4x128xbf16> {
  // expected-error @below {{'kda.forward' op operand 'dt_bias' must have shape [HV * K] = [512], got [128]}}
  %o = kda.forward %q, %k, %v, %g, %beta A_log(%a_log) dt_bias(%dt_bias) {gate = #kda.gate<softplus>}
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xf32>, tensor<2x64x4xbf16>, tensor<4xf32>, tensor<128xf32>) -> tensor<2x64x4x128xbf16>
  return %o : tensor<2x64x4x128xbf16>
}

// -----

// kda.forward: shape of a rank-2 operand 'dt_bias' (verifyModes, Checker::shape [HV, K]).
func.func @forward_dt_bias_2d_shape(%q: tensor<2x64x4x128xbf16>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x64x4x128xbf16>, %g: tensor<2x64x4x128xf32>, %beta: tensor<2x64x4xbf16>, %a_log: tensor<4xf32>, %dt_bias: tensor<4x64xf32>) -> tensor<2x64x4x128xbf16> {
  // expected-error @below {{'kda.forward' op operand 'dt_bias' must have shape [HV, K] = [4, 128], got [4, 64]}}
  %o = kda.forward %q, %k, %v, %g, %beta A_log(%a_log) dt_bias(%dt_bias) {gate = #kda.gate<lower_bound>, lower_bound = -5.0 : f64}
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xf32>, tensor<2x64x4xbf16>, tensor<4xf32>, tensor<4x64xf32>) -> tensor<2x64x4x128xbf16>
  return %o : tensor<2x64x4x128xbf16>
}

// -----

// kda.forward: element type of operand 'dt_bias' (verifyModes, Checker::element, f32).
func.func @forward_dt_bias_element(%q: tensor<2x64x4x128xbf16>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x64x4x128xbf16>, %g: tensor<2x64x4x128xf32>, %beta: tensor<2x64x4xbf16>, %a_log: tensor<4xf32>, %dt_bias: tensor<4x128xbf16>) -> tensor<2x64x4x128xbf16> {
  // expected-error @below {{'kda.forward' op operand 'dt_bias' must have element type f32, got 'bf16'}}
  %o = kda.forward %q, %k, %v, %g, %beta A_log(%a_log) dt_bias(%dt_bias) {gate = #kda.gate<softplus>}
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xf32>, tensor<2x64x4xbf16>, tensor<4xf32>, tensor<4x128xbf16>) -> tensor<2x64x4x128xbf16>
  return %o : tensor<2x64x4x128xbf16>
}

// -----

// kda.forward: attribute 'chunk_size' one of 16, 32, 64.
func.func @forward_chunk_size(%q: tensor<2x64x4x128xbf16>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x64x4x128xbf16>, %g: tensor<2x64x4x128xf32>, %beta: tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16> {
  // expected-error @below {{'kda.forward' op attribute 'chunk_size' must be 16, 32 or 64, got 128}}
  %o = kda.forward %q, %k, %v, %g, %beta {chunk_size = 128 : i64}
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xf32>, tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16>
  return %o : tensor<2x64x4x128xbf16>
}

// -----

// kda.forward: rank of operand 'cu_seqlens' (Checker::rank).
func.func @forward_cu_seqlens_rank(%q: tensor<1x64x4x128xbf16>, %k: tensor<1x64x4x128xbf16>, %v: tensor<1x64x4x128xbf16>, %g: tensor<1x64x4x128xf32>, %beta: tensor<1x64x4xbf16>, %cu: tensor<1x5xi32>) -> tensor<1x64x4x128xbf16> {
  // expected-error @below {{'kda.forward' op operand 'cu_seqlens' must be a rank-1 tensor [N + 1], got rank 2}}
  %o = kda.forward %q, %k, %v, %g, %beta cu_seqlens(%cu)
      : (tensor<1x64x4x128xbf16>, tensor<1x64x4x128xbf16>, tensor<1x64x4x128xbf16>, tensor<1x64x4x128xf32>, tensor<1x64x4xbf16>, tensor<1x5xi32>) -> tensor<1x64x4x128xbf16>
  return %o : tensor<1x64x4x128xbf16>
}

// -----

// kda.forward: element type of operand 'cu_seqlens' (Checker::element, i32 or i64).
func.func @forward_cu_seqlens_element(%q: tensor<1x64x4x128xbf16>, %k: tensor<1x64x4x128xbf16>, %v: tensor<1x64x4x128xbf16>, %g: tensor<1x64x4x128xf32>, %beta: tensor<1x64x4xbf16>, %cu: tensor<5xindex>) -> tensor<1x64x4x128xbf16> {
  // expected-error @below {{'kda.forward' op operand 'cu_seqlens' must have element type i32 or i64, got 'index'}}
  %o = kda.forward %q, %k, %v, %g, %beta cu_seqlens(%cu)
      : (tensor<1x64x4x128xbf16>, tensor<1x64x4x128xbf16>, tensor<1x64x4x128xbf16>, tensor<1x64x4x128xf32>, tensor<1x64x4xbf16>, tensor<5xindex>) -> tensor<1x64x4x128xbf16>
  return %o : tensor<1x64x4x128xbf16>
}

// -----

// kda.forward: operand 'cu_seqlens' requires B == 1.
func.func @forward_cu_seqlens_batch(%q: tensor<2x64x4x128xbf16>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x64x4x128xbf16>, %g: tensor<2x64x4x128xf32>, %beta: tensor<2x64x4xbf16>, %cu: tensor<5xi32>) -> tensor<2x64x4x128xbf16> {
  // expected-error @below {{'kda.forward' op operand 'cu_seqlens' requires B == 1 (packed sequences), got B = 2}}
  %o = kda.forward %q, %k, %v, %g, %beta cu_seqlens(%cu)
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xf32>, tensor<2x64x4xbf16>, tensor<5xi32>) -> tensor<2x64x4x128xbf16>
  return %o : tensor<2x64x4x128xbf16>
}

// -----

// kda.forward: operand 'cu_seqlens' has at least two entries.
func.func @forward_cu_seqlens_length(%q: tensor<1x64x4x128xbf16>, %k: tensor<1x64x4x128xbf16>, %v: tensor<1x64x4x128xbf16>, %g: tensor<1x64x4x128xf32>, %beta: tensor<1x64x4xbf16>, %cu: tensor<1xi32>) -> tensor<1x64x4x128xbf16> {
  // expected-error @below {{'kda.forward' op operand 'cu_seqlens' must have N + 1 >= 2 entries (at least one sequence), got 1}}
  %o = kda.forward %q, %k, %v, %g, %beta cu_seqlens(%cu)
      : (tensor<1x64x4x128xbf16>, tensor<1x64x4x128xbf16>, tensor<1x64x4x128xbf16>, tensor<1x64x4x128xf32>, tensor<1x64x4xbf16>, tensor<1xi32>) -> tensor<1x64x4x128xbf16>
  return %o : tensor<1x64x4x128xbf16>
}

// -----

// kda.forward: shape of operand 'initial_state', here in the vk layout (Checker::shape).
func.func @forward_initial_state_shape(%q: tensor<2x64x4x64xbf16>, %k: tensor<2x64x4x64xbf16>, %v: tensor<2x64x4x128xbf16>, %g: tensor<2x64x4x64xf32>, %beta: tensor<2x64x4xbf16>, %s0: tensor<2x4x64x128xf32>) -> tensor<2x64x4x128xbf16> {
  // expected-error @below {{'kda.forward' op operand 'initial_state' must have shape [N, HV, V, K] = [2, 4, 128, 64], got [2, 4, 64, 128]}}
  %o = kda.forward %q, %k, %v, %g, %beta initial_state(%s0) {state_layout = #kda.state_layout<vk>}
      : (tensor<2x64x4x64xbf16>, tensor<2x64x4x64xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x64xf32>, tensor<2x64x4xbf16>, tensor<2x4x64x128xf32>) -> tensor<2x64x4x128xbf16>
  return %o : tensor<2x64x4x128xbf16>
}

// -----

// kda.forward: element type of operand 'initial_state' (Checker::element, bf16 or f32).
func.func @forward_initial_state_element(%q: tensor<2x64x4x128xbf16>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x64x4x128xbf16>, %g: tensor<2x64x4x128xf32>, %beta: tensor<2x64x4xbf16>, %s0: tensor<2x4x128x128xf16>) -> tensor<2x64x4x128xbf16> {
  // expected-error @below {{'kda.forward' op operand 'initial_state' must have element type bf16 or f32, got 'f16'}}
  %o = kda.forward %q, %k, %v, %g, %beta initial_state(%s0)
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xf32>, tensor<2x64x4xbf16>, tensor<2x4x128x128xf16>) -> tensor<2x64x4x128xbf16>
  return %o : tensor<2x64x4x128xbf16>
}

// -----

// kda.forward: shape of result 'o' (Checker::shape).
func.func @forward_o_shape(%q: tensor<2x64x4x128xbf16>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x64x4x128xbf16>, %g: tensor<2x64x4x128xf32>, %beta: tensor<2x64x4xbf16>) -> tensor<2x64x4x64xbf16> {
  // expected-error @below {{'kda.forward' op result 'o' must have shape [B, T, HV, V] = [2, 64, 4, 128], got [2, 64, 4, 64]}}
  %o = kda.forward %q, %k, %v, %g, %beta
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xf32>, tensor<2x64x4xbf16>) -> tensor<2x64x4x64xbf16>
  return %o : tensor<2x64x4x64xbf16>
}

// -----

// kda.forward: element type of result 'o' matches 'q' (Checker::sameElement).
func.func @forward_o_element(%q: tensor<2x64x4x128xbf16>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x64x4x128xbf16>, %g: tensor<2x64x4x128xf32>, %beta: tensor<2x64x4xbf16>) -> tensor<2x64x4x128xf32> {
  // expected-error @below {{'kda.forward' op result 'o' must have the element type of 'q' ('bf16'), got 'f32'}}
  %o = kda.forward %q, %k, %v, %g, %beta
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xf32>, tensor<2x64x4xbf16>) -> tensor<2x64x4x128xf32>
  return %o : tensor<2x64x4x128xf32>
}

// -----

// kda.forward: shape of result 'final_state', N from cu_seqlens (Checker::shape).
func.func @forward_final_state_shape(%q: tensor<1x64x4x128xbf16>, %k: tensor<1x64x4x128xbf16>, %v: tensor<1x64x4x128xbf16>, %g: tensor<1x64x4x128xf32>, %beta: tensor<1x64x4xbf16>, %cu: tensor<4xi64>) -> (tensor<1x64x4x128xbf16>, tensor<1x4x128x128xf32>) {
  // expected-error @below {{'kda.forward' op result 'final_state' must have shape [N, HV, K, V] = [3, 4, 128, 128], got [1, 4, 128, 128]}}
  %o, %s = kda.forward %q, %k, %v, %g, %beta cu_seqlens(%cu)
      : (tensor<1x64x4x128xbf16>, tensor<1x64x4x128xbf16>, tensor<1x64x4x128xbf16>, tensor<1x64x4x128xf32>, tensor<1x64x4xbf16>, tensor<4xi64>) -> (tensor<1x64x4x128xbf16>, tensor<1x4x128x128xf32>)
  return %o, %s : tensor<1x64x4x128xbf16>, tensor<1x4x128x128xf32>
}

// -----

// kda.forward: element type of result 'final_state' (Checker::element, bf16 or f32).
func.func @forward_final_state_element(%q: tensor<2x64x4x128xbf16>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x64x4x128xbf16>, %g: tensor<2x64x4x128xf32>, %beta: tensor<2x64x4xbf16>) -> (tensor<2x64x4x128xbf16>, tensor<2x4x128x128xf16>) {
  // expected-error @below {{'kda.forward' op result 'final_state' must have element type bf16 or f32, got 'f16'}}
  %o, %s = kda.forward %q, %k, %v, %g, %beta
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xf32>, tensor<2x64x4xbf16>) -> (tensor<2x64x4x128xbf16>, tensor<2x4x128x128xf16>)
  return %o, %s : tensor<2x64x4x128xbf16>, tensor<2x4x128x128xf16>
}

// -----

// kda.decode: rank of operand 'q' (Checker::rank).
func.func @decode_q_rank(%q: tensor<1x8x4x128xbf16>, %k: tensor<8x4x128xbf16>, %v: tensor<8x4x128xbf16>, %g: tensor<8x4x128xf32>, %beta: tensor<8x4xbf16>, %pool: tensor<16x4x128x128xf32>, %idx: tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>) {
  // expected-error @below {{'kda.decode' op operand 'q' must be a rank-3 tensor [N, H, K], got rank 4}}
  %o, %pool1 = kda.decode %q, %k, %v, %g, %beta state_pool(%pool) state_indices(%idx)
      : (tensor<1x8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xf32>, tensor<8x4xbf16>, tensor<16x4x128x128xf32>, tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>)
  return %o, %pool1 : tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>
}

// -----

// kda.decode: element type of operand 'q' (Checker::element, activation types).
func.func @decode_q_element(%q: tensor<8x4x128xi16>, %k: tensor<8x4x128xbf16>, %v: tensor<8x4x128xbf16>, %g: tensor<8x4x128xf32>, %beta: tensor<8x4xbf16>, %pool: tensor<16x4x128x128xf32>, %idx: tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>) {
  // expected-error @below {{'kda.decode' op operand 'q' must have element type bf16, f16 or f32, got 'i16'}}
  %o, %pool1 = kda.decode %q, %k, %v, %g, %beta state_pool(%pool) state_indices(%idx)
      : (tensor<8x4x128xi16>, tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xf32>, tensor<8x4xbf16>, tensor<16x4x128x128xf32>, tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>)
  return %o, %pool1 : tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>
}

// -----

// kda.decode: shape of operand 'k' (Checker::shape).
func.func @decode_k_shape(%q: tensor<8x4x128xbf16>, %k: tensor<8x2x128xbf16>, %v: tensor<8x4x128xbf16>, %g: tensor<8x4x128xf32>, %beta: tensor<8x4xbf16>, %pool: tensor<16x4x128x128xf32>, %idx: tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>) {
  // expected-error @below {{'kda.decode' op operand 'k' must have shape [N, H, K] = [8, 4, 128], got [8, 2, 128]}}
  %o, %pool1 = kda.decode %q, %k, %v, %g, %beta state_pool(%pool) state_indices(%idx)
      : (tensor<8x4x128xbf16>, tensor<8x2x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xf32>, tensor<8x4xbf16>, tensor<16x4x128x128xf32>, tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>)
  return %o, %pool1 : tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>
}

// -----

// kda.decode: element type of operand 'k' matches 'q' (Checker::sameElement).
func.func @decode_k_element(%q: tensor<8x4x128xbf16>, %k: tensor<8x4x128xf32>, %v: tensor<8x4x128xbf16>, %g: tensor<8x4x128xf32>, %beta: tensor<8x4xbf16>, %pool: tensor<16x4x128x128xf32>, %idx: tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>) {
  // expected-error @below {{'kda.decode' op operand 'k' must have the element type of 'q' ('bf16'), got 'f32'}}
  %o, %pool1 = kda.decode %q, %k, %v, %g, %beta state_pool(%pool) state_indices(%idx)
      : (tensor<8x4x128xbf16>, tensor<8x4x128xf32>, tensor<8x4x128xbf16>, tensor<8x4x128xf32>, tensor<8x4xbf16>, tensor<16x4x128x128xf32>, tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>)
  return %o, %pool1 : tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>
}

// -----

// kda.decode: rank of operand 'v' (Checker::rank).
func.func @decode_v_rank(%q: tensor<8x4x128xbf16>, %k: tensor<8x4x128xbf16>, %v: tensor<8x512xbf16>, %g: tensor<8x4x128xf32>, %beta: tensor<8x4xbf16>, %pool: tensor<16x4x128x128xf32>, %idx: tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>) {
  // expected-error @below {{'kda.decode' op operand 'v' must be a rank-3 tensor [N, HV, V], got rank 2}}
  %o, %pool1 = kda.decode %q, %k, %v, %g, %beta state_pool(%pool) state_indices(%idx)
      : (tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x512xbf16>, tensor<8x4x128xf32>, tensor<8x4xbf16>, tensor<16x4x128x128xf32>, tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>)
  return %o, %pool1 : tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>
}

// -----

// kda.decode: shape of operand 'v': N from 'q' (Checker::shape).
func.func @decode_v_shape(%q: tensor<8x4x128xbf16>, %k: tensor<8x4x128xbf16>, %v: tensor<4x4x128xbf16>, %g: tensor<8x4x128xf32>, %beta: tensor<8x4xbf16>, %pool: tensor<16x4x128x128xf32>, %idx: tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>) {
  // expected-error @below {{'kda.decode' op operand 'v' must have shape [N, HV, V] = [8, 4, 128], got [4, 4, 128]}}
  %o, %pool1 = kda.decode %q, %k, %v, %g, %beta state_pool(%pool) state_indices(%idx)
      : (tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<4x4x128xbf16>, tensor<8x4x128xf32>, tensor<8x4xbf16>, tensor<16x4x128x128xf32>, tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>)
  return %o, %pool1 : tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>
}

// -----

// kda.decode: element type of operand 'v' matches 'q' (Checker::sameElement).
func.func @decode_v_element(%q: tensor<8x4x128xbf16>, %k: tensor<8x4x128xbf16>, %v: tensor<8x4x128xf16>, %g: tensor<8x4x128xf32>, %beta: tensor<8x4xbf16>, %pool: tensor<16x4x128x128xf32>, %idx: tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>) {
  // expected-error @below {{'kda.decode' op operand 'v' must have the element type of 'q' ('bf16'), got 'f16'}}
  %o, %pool1 = kda.decode %q, %k, %v, %g, %beta state_pool(%pool) state_indices(%idx)
      : (tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xf16>, tensor<8x4x128xf32>, tensor<8x4xbf16>, tensor<16x4x128x128xf32>, tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>)
  return %o, %pool1 : tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>
}

// -----

// kda.decode: head size K in [1, 256] (verifyHeadDims).
func.func @decode_head_k_range(%q: tensor<8x4x0xbf16>, %k: tensor<8x4x0xbf16>, %v: tensor<8x4x128xbf16>, %g: tensor<8x4x0xf32>, %beta: tensor<8x4xbf16>, %pool: tensor<16x4x0x128xf32>, %idx: tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x0x128xf32>) {
  // expected-error @below {{'kda.decode' op head size K (last dimension of 'q') must be in [1, 256], got 0}}
  %o, %pool1 = kda.decode %q, %k, %v, %g, %beta state_pool(%pool) state_indices(%idx)
      : (tensor<8x4x0xbf16>, tensor<8x4x0xbf16>, tensor<8x4x128xbf16>, tensor<8x4x0xf32>, tensor<8x4xbf16>, tensor<16x4x0x128xf32>, tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x0x128xf32>)
  return %o, %pool1 : tensor<8x4x128xbf16>, tensor<16x4x0x128xf32>
}

// -----

// kda.decode: head size V in [1, 256] (verifyHeadDims).
func.func @decode_head_v_range(%q: tensor<8x4x128xbf16>, %k: tensor<8x4x128xbf16>, %v: tensor<8x4x257xbf16>, %g: tensor<8x4x128xf32>, %beta: tensor<8x4xbf16>, %pool: tensor<16x4x128x257xf32>, %idx: tensor<8xi32>) -> (tensor<8x4x257xbf16>, tensor<16x4x128x257xf32>) {
  // expected-error @below {{'kda.decode' op head size V (last dimension of 'v') must be in [1, 256], got 257}}
  %o, %pool1 = kda.decode %q, %k, %v, %g, %beta state_pool(%pool) state_indices(%idx)
      : (tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x257xbf16>, tensor<8x4x128xf32>, tensor<8x4xbf16>, tensor<16x4x128x257xf32>, tensor<8xi32>) -> (tensor<8x4x257xbf16>, tensor<16x4x128x257xf32>)
  return %o, %pool1 : tensor<8x4x257xbf16>, tensor<16x4x128x257xf32>
}

// -----

// kda.decode: HV a positive multiple of H (verifyHeadDims).
func.func @decode_hv_multiple_of_h(%q: tensor<8x4x128xbf16>, %k: tensor<8x4x128xbf16>, %v: tensor<8x2x128xbf16>, %g: tensor<8x2x128xf32>, %beta: tensor<8x2xbf16>, %pool: tensor<16x2x128x128xf32>, %idx: tensor<8xi32>) -> (tensor<8x2x128xbf16>, tensor<16x2x128x128xf32>) {
  // expected-error @below {{'kda.decode' op operand 'v' has HV = 2 value heads, which must be a positive multiple of H = 4 (the heads of 'q')}}
  %o, %pool1 = kda.decode %q, %k, %v, %g, %beta state_pool(%pool) state_indices(%idx)
      : (tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x2x128xbf16>, tensor<8x2x128xf32>, tensor<8x2xbf16>, tensor<16x2x128x128xf32>, tensor<8xi32>) -> (tensor<8x2x128xbf16>, tensor<16x2x128x128xf32>)
  return %o, %pool1 : tensor<8x2x128xbf16>, tensor<16x2x128x128xf32>
}

// -----

// kda.decode: shape of operand 'g' (Checker::shape).
func.func @decode_g_shape(%q: tensor<8x4x128xbf16>, %k: tensor<8x4x128xbf16>, %v: tensor<8x4x128xbf16>, %g: tensor<8x4x64xf32>, %beta: tensor<8x4xbf16>, %pool: tensor<16x4x128x128xf32>, %idx: tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>) {
  // expected-error @below {{'kda.decode' op operand 'g' must have shape [N, HV, K] = [8, 4, 128], got [8, 4, 64]}}
  %o, %pool1 = kda.decode %q, %k, %v, %g, %beta state_pool(%pool) state_indices(%idx)
      : (tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x64xf32>, tensor<8x4xbf16>, tensor<16x4x128x128xf32>, tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>)
  return %o, %pool1 : tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>
}

// -----

// kda.decode: element type of operand 'g' (Checker::element, bf16 or f32).
func.func @decode_g_element(%q: tensor<8x4x128xbf16>, %k: tensor<8x4x128xbf16>, %v: tensor<8x4x128xbf16>, %g: tensor<8x4x128xf16>, %beta: tensor<8x4xbf16>, %pool: tensor<16x4x128x128xf32>, %idx: tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>) {
  // expected-error @below {{'kda.decode' op operand 'g' must have element type bf16 or f32, got 'f16'}}
  %o, %pool1 = kda.decode %q, %k, %v, %g, %beta state_pool(%pool) state_indices(%idx)
      : (tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xf16>, tensor<8x4xbf16>, tensor<16x4x128x128xf32>, tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>)
  return %o, %pool1 : tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>
}

// -----

// kda.decode: shape of operand 'beta' (Checker::shape).
func.func @decode_beta_shape(%q: tensor<8x4x128xbf16>, %k: tensor<8x4x128xbf16>, %v: tensor<8x4x128xbf16>, %g: tensor<8x4x128xf32>, %beta: tensor<8xbf16>, %pool: tensor<16x4x128x128xf32>, %idx: tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>) {
  // expected-error @below {{'kda.decode' op operand 'beta' must have shape [N, HV] = [8, 4], got [8]}}
  %o, %pool1 = kda.decode %q, %k, %v, %g, %beta state_pool(%pool) state_indices(%idx)
      : (tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xf32>, tensor<8xbf16>, tensor<16x4x128x128xf32>, tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>)
  return %o, %pool1 : tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>
}

// -----

// kda.decode: element type of operand 'beta' (Checker::element, bf16 or f32).
func.func @decode_beta_element(%q: tensor<8x4x128xbf16>, %k: tensor<8x4x128xbf16>, %v: tensor<8x4x128xbf16>, %g: tensor<8x4x128xf32>, %beta: tensor<8x4xf16>, %pool: tensor<16x4x128x128xf32>, %idx: tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>) {
  // expected-error @below {{'kda.decode' op operand 'beta' must have element type bf16 or f32, got 'f16'}}
  %o, %pool1 = kda.decode %q, %k, %v, %g, %beta state_pool(%pool) state_indices(%idx)
      : (tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xf32>, tensor<8x4xf16>, tensor<16x4x128x128xf32>, tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>)
  return %o, %pool1 : tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>
}

// -----

// kda.decode: gate lower_bound requires attribute 'lower_bound' (verifyModes).
func.func @decode_lower_bound_required(%q: tensor<8x4x128xbf16>, %k: tensor<8x4x128xbf16>, %v: tensor<8x4x128xbf16>, %g: tensor<8x4x128xf32>, %beta: tensor<8x4xbf16>, %pool: tensor<16x4x128x128xf32>, %idx: tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>) {
  // expected-error @below {{'kda.decode' op attribute 'lower_bound' is required by gate lower_bound}}
  %o, %pool1 = kda.decode %q, %k, %v, %g, %beta state_pool(%pool) state_indices(%idx) {gate = #kda.gate<lower_bound>}
      : (tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xf32>, tensor<8x4xbf16>, tensor<16x4x128x128xf32>, tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>)
  return %o, %pool1 : tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>
}

// -----

// kda.decode: attribute 'lower_bound' only with gate lower_bound (verifyModes).
func.func @decode_lower_bound_unused(%q: tensor<8x4x128xbf16>, %k: tensor<8x4x128xbf16>, %v: tensor<8x4x128xbf16>, %g: tensor<8x4x128xf32>, %beta: tensor<8x4xbf16>, %pool: tensor<16x4x128x128xf32>, %idx: tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>) {
  // expected-error @below {{'kda.decode' op attribute 'lower_bound' is only used by gate lower_bound, but gate is precomputed}}
  %o, %pool1 = kda.decode %q, %k, %v, %g, %beta state_pool(%pool) state_indices(%idx) {lower_bound = -1.0 : f64}
      : (tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xf32>, tensor<8x4xbf16>, tensor<16x4x128x128xf32>, tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>)
  return %o, %pool1 : tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>
}

// -----

// kda.decode: attribute 'lower_bound' in [-5, 0) (verifyModes).
func.func @decode_lower_bound_range(%q: tensor<8x4x128xbf16>, %k: tensor<8x4x128xbf16>, %v: tensor<8x4x128xbf16>, %g: tensor<8x4x128xf32>, %beta: tensor<8x4xbf16>, %pool: tensor<16x4x128x128xf32>, %idx: tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>) {
  // expected-error @below {{'kda.decode' op attribute 'lower_bound' must be in [-5, 0), got -6}}
  %o, %pool1 = kda.decode %q, %k, %v, %g, %beta state_pool(%pool) state_indices(%idx) {gate = #kda.gate<lower_bound>, lower_bound = -6.0 : f64}
      : (tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xf32>, tensor<8x4xbf16>, tensor<16x4x128x128xf32>, tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>)
  return %o, %pool1 : tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>
}

// -----

// kda.decode: attribute 'scale' positive and finite (verifyModes).
func.func @decode_scale_positive(%q: tensor<8x4x128xbf16>, %k: tensor<8x4x128xbf16>, %v: tensor<8x4x128xbf16>, %g: tensor<8x4x128xf32>, %beta: tensor<8x4xbf16>, %pool: tensor<16x4x128x128xf32>, %idx: tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>) {
  // expected-error @below {{'kda.decode' op attribute 'scale' must be a positive finite number, got 0}}
  %o, %pool1 = kda.decode %q, %k, %v, %g, %beta state_pool(%pool) state_indices(%idx) {scale = 0.0 : f64}
      : (tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xf32>, tensor<8x4xbf16>, tensor<16x4x128x128xf32>, tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>)
  return %o, %pool1 : tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>
}

// -----

// kda.decode: operand 'A_log' only with the softplus and lower_bound gates (verifyModes).
func.func @decode_a_log_unused(%q: tensor<8x4x128xbf16>, %k: tensor<8x4x128xbf16>, %v: tensor<8x4x128xbf16>, %g: tensor<8x4x128xf32>, %beta: tensor<8x4xbf16>, %a_log: tensor<4xf32>, %pool: tensor<16x4x128x128xf32>, %idx: tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>) {
  // expected-error @below {{'kda.decode' op operand 'A_log' is only used by the softplus and lower_bound gates, but gate is precomputed}}
  %o, %pool1 = kda.decode %q, %k, %v, %g, %beta A_log(%a_log) state_pool(%pool) state_indices(%idx)
      : (tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xf32>, tensor<8x4xbf16>, tensor<4xf32>, tensor<16x4x128x128xf32>, tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>)
  return %o, %pool1 : tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>
}

// -----

// kda.decode: operand 'dt_bias' only with the softplus and lower_bound gates (verifyModes).
func.func @decode_dt_bias_unused(%q: tensor<8x4x128xbf16>, %k: tensor<8x4x128xbf16>, %v: tensor<8x4x128xbf16>, %g: tensor<8x4x128xf32>, %beta: tensor<8x4xbf16>, %dt_bias: tensor<4x128xf32>, %pool: tensor<16x4x128x128xf32>, %idx: tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>) {
  // expected-error @below {{'kda.decode' op operand 'dt_bias' is only used by the softplus and lower_bound gates, but gate is precomputed}}
  %o, %pool1 = kda.decode %q, %k, %v, %g, %beta dt_bias(%dt_bias) state_pool(%pool) state_indices(%idx)
      : (tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xf32>, tensor<8x4xbf16>, tensor<4x128xf32>, tensor<16x4x128x128xf32>, tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>)
  return %o, %pool1 : tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>
}

// -----

// kda.decode: gate softplus requires operand 'A_log' (verifyModes).
func.func @decode_softplus_requires_a_log(%q: tensor<8x4x128xbf16>, %k: tensor<8x4x128xbf16>, %v: tensor<8x4x128xbf16>, %g: tensor<8x4x128xf32>, %beta: tensor<8x4xbf16>, %pool: tensor<16x4x128x128xf32>, %idx: tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>) {
  // expected-error @below {{'kda.decode' op gate softplus requires operand 'A_log'}}
  %o, %pool1 = kda.decode %q, %k, %v, %g, %beta state_pool(%pool) state_indices(%idx) {gate = #kda.gate<softplus>}
      : (tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xf32>, tensor<8x4xbf16>, tensor<16x4x128x128xf32>, tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>)
  return %o, %pool1 : tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>
}

// -----

// kda.decode: shape of operand 'A_log' (verifyModes, Checker::shape).
func.func @decode_a_log_shape(%q: tensor<8x4x128xbf16>, %k: tensor<8x4x128xbf16>, %v: tensor<8x4x128xbf16>, %g: tensor<8x4x128xf32>, %beta: tensor<8x4xbf16>, %a_log: tensor<8xf32>, %pool: tensor<16x4x128x128xf32>, %idx: tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>) {
  // expected-error @below {{'kda.decode' op operand 'A_log' must have shape [HV] = [4], got [8]}}
  %o, %pool1 = kda.decode %q, %k, %v, %g, %beta A_log(%a_log) state_pool(%pool) state_indices(%idx) {gate = #kda.gate<softplus>}
      : (tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xf32>, tensor<8x4xbf16>, tensor<8xf32>, tensor<16x4x128x128xf32>, tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>)
  return %o, %pool1 : tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>
}

// -----

// kda.decode: element type of operand 'A_log' (verifyModes, Checker::element, f32).
func.func @decode_a_log_element(%q: tensor<8x4x128xbf16>, %k: tensor<8x4x128xbf16>, %v: tensor<8x4x128xbf16>, %g: tensor<8x4x128xf32>, %beta: tensor<8x4xbf16>, %a_log: tensor<4xbf16>, %pool: tensor<16x4x128x128xf32>, %idx: tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>) {
  // expected-error @below {{'kda.decode' op operand 'A_log' must have element type f32, got 'bf16'}}
  %o, %pool1 = kda.decode %q, %k, %v, %g, %beta A_log(%a_log) state_pool(%pool) state_indices(%idx) {gate = #kda.gate<softplus>}
      : (tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xf32>, tensor<8x4xbf16>, tensor<4xbf16>, tensor<16x4x128x128xf32>, tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>)
  return %o, %pool1 : tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>
}

// -----

// kda.decode: shape of a rank-1 operand 'dt_bias' (verifyModes, Checker::shape [HV * K]).
func.func @decode_dt_bias_flat_shape(%q: tensor<8x4x128xbf16>, %k: tensor<8x4x128xbf16>, %v: tensor<8x4x128xbf16>, %g: tensor<8x4x128xf32>, %beta: tensor<8x4xbf16>, %a_log: tensor<4xf32>, %dt_bias: tensor<128xf32>, %pool: tensor<16x4x128x128xf32>, %idx: tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>) {
  // expected-error @below {{'kda.decode' op operand 'dt_bias' must have shape [HV * K] = [512], got [128]}}
  %o, %pool1 = kda.decode %q, %k, %v, %g, %beta A_log(%a_log) dt_bias(%dt_bias) state_pool(%pool) state_indices(%idx) {gate = #kda.gate<softplus>}
      : (tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xf32>, tensor<8x4xbf16>, tensor<4xf32>, tensor<128xf32>, tensor<16x4x128x128xf32>, tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>)
  return %o, %pool1 : tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>
}

// -----

// kda.decode: shape of a rank-2 operand 'dt_bias' (verifyModes, Checker::shape [HV, K]).
func.func @decode_dt_bias_2d_shape(%q: tensor<8x4x128xbf16>, %k: tensor<8x4x128xbf16>, %v: tensor<8x4x128xbf16>, %g: tensor<8x4x128xf32>, %beta: tensor<8x4xbf16>, %a_log: tensor<4xf32>, %dt_bias: tensor<4x64xf32>, %pool: tensor<16x4x128x128xf32>, %idx: tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>) {
  // expected-error @below {{'kda.decode' op operand 'dt_bias' must have shape [HV, K] = [4, 128], got [4, 64]}}
  %o, %pool1 = kda.decode %q, %k, %v, %g, %beta A_log(%a_log) dt_bias(%dt_bias) state_pool(%pool) state_indices(%idx) {gate = #kda.gate<lower_bound>, lower_bound = -5.0 : f64}
      : (tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xf32>, tensor<8x4xbf16>, tensor<4xf32>, tensor<4x64xf32>, tensor<16x4x128x128xf32>, tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>)
  return %o, %pool1 : tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>
}

// -----

// kda.decode: element type of operand 'dt_bias' (verifyModes, Checker::element, f32).
func.func @decode_dt_bias_element(%q: tensor<8x4x128xbf16>, %k: tensor<8x4x128xbf16>, %v: tensor<8x4x128xbf16>, %g: tensor<8x4x128xf32>, %beta: tensor<8x4xbf16>, %a_log: tensor<4xf32>, %dt_bias: tensor<4x128xbf16>, %pool: tensor<16x4x128x128xf32>, %idx: tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>) {
  // expected-error @below {{'kda.decode' op operand 'dt_bias' must have element type f32, got 'bf16'}}
  %o, %pool1 = kda.decode %q, %k, %v, %g, %beta A_log(%a_log) dt_bias(%dt_bias) state_pool(%pool) state_indices(%idx) {gate = #kda.gate<softplus>}
      : (tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xf32>, tensor<8x4xbf16>, tensor<4xf32>, tensor<4x128xbf16>, tensor<16x4x128x128xf32>, tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>)
  return %o, %pool1 : tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>
}

// -----

// kda.decode: rank of operand 'state_pool' (Checker::rank).
func.func @decode_state_pool_rank(%q: tensor<8x4x128xbf16>, %k: tensor<8x4x128xbf16>, %v: tensor<8x4x128xbf16>, %g: tensor<8x4x128xf32>, %beta: tensor<8x4xbf16>, %pool: tensor<16x4x128xf32>, %idx: tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128xf32>) {
  // expected-error @below {{'kda.decode' op operand 'state_pool' must be a rank-4 tensor [P, HV, K, V], got rank 3}}
  %o, %pool1 = kda.decode %q, %k, %v, %g, %beta state_pool(%pool) state_indices(%idx)
      : (tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xf32>, tensor<8x4xbf16>, tensor<16x4x128xf32>, tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128xf32>)
  return %o, %pool1 : tensor<8x4x128xbf16>, tensor<16x4x128xf32>
}

// -----

// kda.decode: shape of operand 'state_pool', here in the vk layout (Checker::shape).
func.func @decode_state_pool_shape(%q: tensor<8x4x64xbf16>, %k: tensor<8x4x64xbf16>, %v: tensor<8x4x128xbf16>, %g: tensor<8x4x64xf32>, %beta: tensor<8x4xbf16>, %pool: tensor<16x4x64x128xf32>, %idx: tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x64x128xf32>) {
  // expected-error @below {{'kda.decode' op operand 'state_pool' must have shape [P, HV, V, K] = [16, 4, 128, 64], got [16, 4, 64, 128]}}
  %o, %pool1 = kda.decode %q, %k, %v, %g, %beta state_pool(%pool) state_indices(%idx) {state_layout = #kda.state_layout<vk>}
      : (tensor<8x4x64xbf16>, tensor<8x4x64xbf16>, tensor<8x4x128xbf16>, tensor<8x4x64xf32>, tensor<8x4xbf16>, tensor<16x4x64x128xf32>, tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x64x128xf32>)
  return %o, %pool1 : tensor<8x4x128xbf16>, tensor<16x4x64x128xf32>
}

// -----

// kda.decode: element type of operand 'state_pool' (Checker::element, bf16 or f32).
func.func @decode_state_pool_element(%q: tensor<8x4x128xbf16>, %k: tensor<8x4x128xbf16>, %v: tensor<8x4x128xbf16>, %g: tensor<8x4x128xf32>, %beta: tensor<8x4xbf16>, %pool: tensor<16x4x128x128xf16>, %idx: tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf16>) {
  // expected-error @below {{'kda.decode' op operand 'state_pool' must have element type bf16 or f32, got 'f16'}}
  %o, %pool1 = kda.decode %q, %k, %v, %g, %beta state_pool(%pool) state_indices(%idx)
      : (tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xf32>, tensor<8x4xbf16>, tensor<16x4x128x128xf16>, tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf16>)
  return %o, %pool1 : tensor<8x4x128xbf16>, tensor<16x4x128x128xf16>
}

// -----

// kda.decode: shape of operand 'state_indices' (Checker::shape).
func.func @decode_state_indices_shape(%q: tensor<8x4x128xbf16>, %k: tensor<8x4x128xbf16>, %v: tensor<8x4x128xbf16>, %g: tensor<8x4x128xf32>, %beta: tensor<8x4xbf16>, %pool: tensor<16x4x128x128xf32>, %idx: tensor<4xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>) {
  // expected-error @below {{'kda.decode' op operand 'state_indices' must have shape [N] = [8], got [4]}}
  %o, %pool1 = kda.decode %q, %k, %v, %g, %beta state_pool(%pool) state_indices(%idx)
      : (tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xf32>, tensor<8x4xbf16>, tensor<16x4x128x128xf32>, tensor<4xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>)
  return %o, %pool1 : tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>
}

// -----

// kda.decode: element type of operand 'state_indices' (Checker::element, i32 or i64).
func.func @decode_state_indices_element(%q: tensor<8x4x128xbf16>, %k: tensor<8x4x128xbf16>, %v: tensor<8x4x128xbf16>, %g: tensor<8x4x128xf32>, %beta: tensor<8x4xbf16>, %pool: tensor<16x4x128x128xf32>, %idx: tensor<8xi16>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>) {
  // expected-error @below {{'kda.decode' op operand 'state_indices' must have element type i32 or i64, got 'i16'}}
  %o, %pool1 = kda.decode %q, %k, %v, %g, %beta state_pool(%pool) state_indices(%idx)
      : (tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xf32>, tensor<8x4xbf16>, tensor<16x4x128x128xf32>, tensor<8xi16>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>)
  return %o, %pool1 : tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>
}

// -----

// kda.decode: shape of result 'o' (Checker::shape).
func.func @decode_o_shape(%q: tensor<8x4x128xbf16>, %k: tensor<8x4x128xbf16>, %v: tensor<8x4x128xbf16>, %g: tensor<8x4x128xf32>, %beta: tensor<8x4xbf16>, %pool: tensor<16x4x128x128xf32>, %idx: tensor<8xi32>) -> (tensor<8x4x64xbf16>, tensor<16x4x128x128xf32>) {
  // expected-error @below {{'kda.decode' op result 'o' must have shape [N, HV, V] = [8, 4, 128], got [8, 4, 64]}}
  %o, %pool1 = kda.decode %q, %k, %v, %g, %beta state_pool(%pool) state_indices(%idx)
      : (tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xf32>, tensor<8x4xbf16>, tensor<16x4x128x128xf32>, tensor<8xi32>) -> (tensor<8x4x64xbf16>, tensor<16x4x128x128xf32>)
  return %o, %pool1 : tensor<8x4x64xbf16>, tensor<16x4x128x128xf32>
}

// -----

// kda.decode: element type of result 'o' matches 'q' (Checker::sameElement).
func.func @decode_o_element(%q: tensor<8x4x128xbf16>, %k: tensor<8x4x128xbf16>, %v: tensor<8x4x128xbf16>, %g: tensor<8x4x128xf32>, %beta: tensor<8x4xbf16>, %pool: tensor<16x4x128x128xf32>, %idx: tensor<8xi32>) -> (tensor<8x4x128xf32>, tensor<16x4x128x128xf32>) {
  // expected-error @below {{'kda.decode' op result 'o' must have the element type of 'q' ('bf16'), got 'f32'}}
  %o, %pool1 = kda.decode %q, %k, %v, %g, %beta state_pool(%pool) state_indices(%idx)
      : (tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xf32>, tensor<8x4xbf16>, tensor<16x4x128x128xf32>, tensor<8xi32>) -> (tensor<8x4x128xf32>, tensor<16x4x128x128xf32>)
  return %o, %pool1 : tensor<8x4x128xf32>, tensor<16x4x128x128xf32>
}

// -----

// kda.decode: result 'new_state_pool' has the type of operand 'state_pool'.
func.func @decode_new_state_pool_type(%q: tensor<8x4x128xbf16>, %k: tensor<8x4x128xbf16>, %v: tensor<8x4x128xbf16>, %g: tensor<8x4x128xf32>, %beta: tensor<8x4xbf16>, %pool: tensor<16x4x128x128xf32>, %idx: tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xbf16>) {
  // expected-error @below {{'kda.decode' op result 'new_state_pool' must have the type of operand 'state_pool' ('tensor<16x4x128x128xf32>'), got 'tensor<16x4x128x128xbf16>'}}
  %o, %pool1 = kda.decode %q, %k, %v, %g, %beta state_pool(%pool) state_indices(%idx)
      : (tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xf32>, tensor<8x4xbf16>, tensor<16x4x128x128xf32>, tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xbf16>)
  return %o, %pool1 : tensor<8x4x128xbf16>, tensor<16x4x128x128xbf16>
}

// -----

// parser: unknown mode in #kda.gate<...>.
func.func @forward_unknown_gate_mode(%q: tensor<2x64x4x128xbf16>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x64x4x128xbf16>, %g: tensor<2x64x4x128xf32>, %beta: tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16> {
  // expected-error @below {{expected ::mlir::kda::GateMode to be one of: precomputed, softplus, lower_bound}}
  // expected-error @below {{failed to parse KDA_GateModeAttr parameter 'value'}}
  %o = kda.forward %q, %k, %v, %g, %beta {gate = #kda.gate<sigmoid>}
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xf32>, tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16>
  return %o : tensor<2x64x4x128xbf16>
}

// -----

// parser: unknown mode in #kda.beta<...>.
func.func @forward_unknown_beta_mode(%q: tensor<2x64x4x128xbf16>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x64x4x128xbf16>, %g: tensor<2x64x4x128xf32>, %beta: tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16> {
  // expected-error @below {{expected ::mlir::kda::BetaMode to be one of: plain, sigmoid, sigmoid_neg_eigval}}
  // expected-error @below {{failed to parse KDA_BetaModeAttr parameter 'value'}}
  %o = kda.forward %q, %k, %v, %g, %beta {beta_mode = #kda.beta<tanh>}
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xf32>, tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16>
  return %o : tensor<2x64x4x128xbf16>
}

// -----

// parser: unknown layout in #kda.state_layout<...>.
func.func @decode_unknown_state_layout(%q: tensor<8x4x128xbf16>, %k: tensor<8x4x128xbf16>, %v: tensor<8x4x128xbf16>, %g: tensor<8x4x128xf32>, %beta: tensor<8x4xbf16>, %pool: tensor<16x4x128x128xf32>, %idx: tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>) {
  // expected-error @below {{expected ::mlir::kda::StateLayout to be one of: kv, vk}}
  // expected-error @below {{failed to parse KDA_StateLayoutAttr parameter 'value'}}
  %o, %pool1 = kda.decode %q, %k, %v, %g, %beta state_pool(%pool) state_indices(%idx) {state_layout = #kda.state_layout<kk>}
      : (tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xf32>, tensor<8x4xbf16>, tensor<16x4x128x128xf32>, tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>)
  return %o, %pool1 : tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>
}

// -----

// ODS: attribute 'gate' must be a #kda.gate, not another enum.
func.func @forward_gate_wrong_attr_kind(%q: tensor<2x64x4x128xbf16>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x64x4x128xbf16>, %g: tensor<2x64x4x128xf32>, %beta: tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16> {
  // expected-error @below {{'kda.forward' op attribute 'gate' failed to satisfy constraint: how the g operand becomes the per-step log decay}}
  %o = kda.forward %q, %k, %v, %g, %beta {gate = #kda.beta<plain>}
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xf32>, tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16>
  return %o : tensor<2x64x4x128xbf16>
}

// -----

// ODS: attribute 'scale' must be an f64 attribute.
func.func @forward_scale_not_f64(%q: tensor<2x64x4x128xbf16>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x64x4x128xbf16>, %g: tensor<2x64x4x128xf32>, %beta: tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16> {
  // expected-error @below {{'kda.forward' op attribute 'scale' failed to satisfy constraint: 64-bit float attribute}}
  %o = kda.forward %q, %k, %v, %g, %beta {scale = 0.5 : f32}
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xf32>, tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16>
  return %o : tensor<2x64x4x128xbf16>
}

// -----

// ODS: attribute 'lower_bound' must be an f64 attribute.
func.func @decode_lower_bound_not_f64(%q: tensor<8x4x128xbf16>, %k: tensor<8x4x128xbf16>, %v: tensor<8x4x128xbf16>, %g: tensor<8x4x128xf32>, %beta: tensor<8x4xbf16>, %pool: tensor<16x4x128x128xf32>, %idx: tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>) {
  // expected-error @below {{'kda.decode' op attribute 'lower_bound' failed to satisfy constraint: 64-bit float attribute}}
  %o, %pool1 = kda.decode %q, %k, %v, %g, %beta state_pool(%pool) state_indices(%idx) {gate = #kda.gate<lower_bound>, lower_bound = -1 : i64}
      : (tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xf32>, tensor<8x4xbf16>, tensor<16x4x128x128xf32>, tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>)
  return %o, %pool1 : tensor<8x4x128xbf16>, tensor<16x4x128x128xf32>
}

// -----

// ODS: attribute 'chunk_size' must be an i64 attribute.
func.func @forward_chunk_size_not_i64(%q: tensor<2x64x4x128xbf16>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x64x4x128xbf16>, %g: tensor<2x64x4x128xf32>, %beta: tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16> {
  // expected-error @below {{'kda.forward' op attribute 'chunk_size' failed to satisfy constraint: 64-bit signless integer attribute}}
  %o = kda.forward %q, %k, %v, %g, %beta {chunk_size = 32 : i32}
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xf32>, tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16>
  return %o : tensor<2x64x4x128xbf16>
}

// -----

// ODS: attribute 'qk_l2norm' must be a unit attribute.
func.func @forward_qk_l2norm_not_unit(%q: tensor<2x64x4x128xbf16>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x64x4x128xbf16>, %g: tensor<2x64x4x128xf32>, %beta: tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16> {
  // expected-error @below {{'kda.forward' op attribute 'qk_l2norm' failed to satisfy constraint: unit attribute}}
  %o = kda.forward %q, %k, %v, %g, %beta {qk_l2norm = true}
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xf32>, tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16>
  return %o : tensor<2x64x4x128xbf16>
}

// -----

// ODS: operands must be ranked tensors.
func.func @forward_unranked_operand(%q: tensor<*xbf16>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x64x4x128xbf16>, %g: tensor<2x64x4x128xf32>, %beta: tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16> {
  // expected-error @below {{'kda.forward' op operand #0 must be ranked tensor of any type values, but got 'tensor<*xbf16>'}}
  %o = kda.forward %q, %k, %v, %g, %beta
      : (tensor<*xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xf32>, tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16>
  return %o : tensor<2x64x4x128xbf16>
}

// -----

// kda.forward: result count without the attribute (ForwardOp::verify).
func.func @forward_states_count(%q: tensor<2x100x4x128xbf16>, %g: tensor<2x100x4x128xf32>, %beta: tensor<2x100x4xbf16>) {
  // expected-error @below {{'kda.forward' op expects at most 2 results (o, final_state), got 3}}
  %o, %s, %h = kda.forward %q, %q, %q, %g, %beta
      : (tensor<2x100x4x128xbf16>, tensor<2x100x4x128xbf16>, tensor<2x100x4x128xbf16>, tensor<2x100x4x128xf32>, tensor<2x100x4xbf16>) -> (tensor<2x100x4x128xbf16>, tensor<2x4x128x128xf32>, tensor<2x2x4x128x128xf32>)
  return
}

// -----

// kda.forward: attribute 'intermediate_states' without its result (ForwardOp::verify).
func.func @forward_intermediate_missing(%q: tensor<2x100x4x128xbf16>, %g: tensor<2x100x4x128xf32>, %beta: tensor<2x100x4xbf16>) {
  // expected-error @below {{'kda.forward' op attribute 'intermediate_states' requires a last result for the intermediate states}}
  %o = kda.forward %q, %q, %q, %g, %beta {intermediate_states}
      : (tensor<2x100x4x128xbf16>, tensor<2x100x4x128xbf16>, tensor<2x100x4x128xbf16>, tensor<2x100x4x128xf32>, tensor<2x100x4xbf16>) -> tensor<2x100x4x128xbf16>
  return
}

// -----

// kda.forward: shape of result 'intermediate_states', NT = ceil(T / C) (Checker::shape).
func.func @forward_intermediate_shape(%q: tensor<2x100x4x128xbf16>, %g: tensor<2x100x4x128xf32>, %beta: tensor<2x100x4xbf16>) {
  // expected-error @below {{'kda.forward' op result 'intermediate_states' must have shape [B, NT, HV, K, V] = [2, 2, 4, 128, 128], got [2, 1, 4, 128, 128]}}
  %o, %h = kda.forward %q, %q, %q, %g, %beta {intermediate_states}
      : (tensor<2x100x4x128xbf16>, tensor<2x100x4x128xbf16>, tensor<2x100x4x128xbf16>, tensor<2x100x4x128xf32>, tensor<2x100x4xbf16>) -> (tensor<2x100x4x128xbf16>, tensor<2x1x4x128x128xf32>)
  return
}

// -----

// kda.forward: element type of result 'intermediate_states' (Checker::element, bf16 or f32).
func.func @forward_intermediate_element(%q: tensor<2x100x4x128xbf16>, %g: tensor<2x100x4x128xf32>, %beta: tensor<2x100x4xbf16>) {
  // expected-error @below {{'kda.forward' op result 'intermediate_states' must have element type}}
  %o, %s, %h = kda.forward %q, %q, %q, %g, %beta {intermediate_states}
      : (tensor<2x100x4x128xbf16>, tensor<2x100x4x128xbf16>, tensor<2x100x4x128xbf16>, tensor<2x100x4x128xf32>, tensor<2x100x4xbf16>) -> (tensor<2x100x4x128xbf16>, tensor<2x4x128x128xf32>, tensor<2x2x4x128x128xf16>)
  return
}
