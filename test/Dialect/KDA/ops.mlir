// RUN: kda-opt %s | kda-opt | FileCheck %s
// RUN: kda-opt %s --mlir-print-op-generic | kda-opt | FileCheck %s

// Round trip of kda.forward and kda.decode through the custom and the generic
// form. Default-valued attributes (gate = precomputed, beta_mode = plain,
// chunk_size = 64, state_layout = kv) are elided when printed.

// kda.forward: precomputed gate, no optional operands, every attribute at its
// default, so the printed op carries no attribute dictionary.
// CHECK-LABEL: func.func @forward_minimal(
// CHECK:         %{{.*}} = kda.forward %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}
// CHECK-NOT:     {{chunk_size|gate|beta_mode|state_layout|lower_bound|qk_l2norm|scale}}
// CHECK-NOT:     {
// CHECK-SAME:    : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xf32>, tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16>
func.func @forward_minimal(%q: tensor<2x64x4x128xbf16>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x64x4x128xbf16>, %g: tensor<2x64x4x128xf32>, %beta: tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16> {
  %o = kda.forward %q, %k, %v, %g, %beta
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xf32>, tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16>
  return %o : tensor<2x64x4x128xbf16>
}

// Default-valued attributes written out explicitly are elided when printed.
// CHECK-LABEL: func.func @forward_explicit_defaults(
// CHECK:         %{{.*}} = kda.forward %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}
// CHECK-NOT:     {{chunk_size|gate|beta_mode|state_layout|lower_bound|qk_l2norm|scale}}
// CHECK-NOT:     {
// CHECK-SAME:    : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xf32>, tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16>
func.func @forward_explicit_defaults(%q: tensor<2x64x4x128xbf16>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x64x4x128xbf16>, %g: tensor<2x64x4x128xf32>, %beta: tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16> {
  %o = kda.forward %q, %k, %v, %g, %beta
      {gate = #kda.gate<precomputed>, beta_mode = #kda.beta<plain>, chunk_size = 64 : i64, state_layout = #kda.state_layout<kv>}
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xf32>, tensor<2x64x4xbf16>) -> tensor<2x64x4x128xbf16>
  return %o : tensor<2x64x4x128xbf16>
}

// Every optional operand and attribute, and the final_state result
// (FlashKDA's configuration: lower_bound gate, vk state layout, varlen).
// CHECK-LABEL: func.func @forward_all_options(
// CHECK:         %{{.*}}, %{{.*}} = kda.forward %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}} A_log(%{{[a-z0-9_]+}}) dt_bias(%{{[a-z0-9_]+}}) initial_state(%{{[a-z0-9_]+}}) cu_seqlens(%{{[a-z0-9_]+}})
// CHECK-SAME:    {beta_mode = #kda.beta<sigmoid>, chunk_size = 16 : i64, gate = #kda.gate<lower_bound>, lower_bound = -5.000000e+00 : f64, qk_l2norm, scale = 1.250000e-01 : f64, state_layout = #kda.state_layout<vk>}
// CHECK-SAME:    : (tensor<1x64x4x128xbf16>, tensor<1x64x4x128xbf16>, tensor<1x64x4x128xbf16>, tensor<1x64x4x128xbf16>, tensor<1x64x4xbf16>, tensor<4xf32>, tensor<4x128xf32>, tensor<3x4x128x128xf32>, tensor<4xi64>) -> (tensor<1x64x4x128xbf16>, tensor<3x4x128x128xf32>)
func.func @forward_all_options(%q: tensor<1x64x4x128xbf16>, %k: tensor<1x64x4x128xbf16>, %v: tensor<1x64x4x128xbf16>, %g: tensor<1x64x4x128xbf16>, %beta: tensor<1x64x4xbf16>, %a: tensor<4xf32>, %b: tensor<4x128xf32>, %s0: tensor<3x4x128x128xf32>, %cu: tensor<4xi64>) -> (tensor<1x64x4x128xbf16>, tensor<3x4x128x128xf32>) {
  %o, %s = kda.forward %q, %k, %v, %g, %beta A_log(%a) dt_bias(%b) initial_state(%s0) cu_seqlens(%cu)
      {gate = #kda.gate<lower_bound>, lower_bound = -5.0 : f64, qk_l2norm, beta_mode = #kda.beta<sigmoid>, scale = 0.125 : f64, chunk_size = 16 : i64, state_layout = #kda.state_layout<vk>}
      : (tensor<1x64x4x128xbf16>, tensor<1x64x4x128xbf16>, tensor<1x64x4x128xbf16>, tensor<1x64x4x128xbf16>, tensor<1x64x4xbf16>, tensor<4xf32>, tensor<4x128xf32>, tensor<3x4x128x128xf32>, tensor<4xi64>) -> (tensor<1x64x4x128xbf16>, tensor<3x4x128x128xf32>)
  return %o, %s : tensor<1x64x4x128xbf16>, tensor<3x4x128x128xf32>
}

// lower_bound gate with only the bound (no A_log, no dt_bias), chunk_size 32,
// kv-layout final state without an initial state.
// CHECK-LABEL: func.func @forward_lower_bound_no_gate_operands(
// CHECK:         %{{.*}}, %{{.*}} = kda.forward %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}
// CHECK-SAME:    {chunk_size = 32 : i64, gate = #kda.gate<lower_bound>, lower_bound = -5.000000e-01 : f64}
// CHECK-SAME:    : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xf32>, tensor<2x64x4xf32>) -> (tensor<2x64x4x128xbf16>, tensor<2x4x128x128xf32>)
func.func @forward_lower_bound_no_gate_operands(%q: tensor<2x64x4x128xbf16>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x64x4x128xbf16>, %g: tensor<2x64x4x128xf32>, %beta: tensor<2x64x4xf32>) -> (tensor<2x64x4x128xbf16>, tensor<2x4x128x128xf32>) {
  %o, %s = kda.forward %q, %k, %v, %g, %beta {gate = #kda.gate<lower_bound>, lower_bound = -0.5 : f64, chunk_size = 32 : i64}
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xf32>, tensor<2x64x4xf32>) -> (tensor<2x64x4x128xbf16>, tensor<2x4x128x128xf32>)
  return %o, %s : tensor<2x64x4x128xbf16>, tensor<2x4x128x128xf32>
}

// softplus gate with A_log only (dt_bias is optional).
// CHECK-LABEL: func.func @forward_softplus_a_log_only(
// CHECK:         %{{.*}} = kda.forward %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}} A_log(%{{[a-z0-9_]+}})
// CHECK-SAME:    {gate = #kda.gate<softplus>}
// CHECK-SAME:    : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4xbf16>, tensor<4xf32>) -> tensor<2x64x4x128xbf16>
func.func @forward_softplus_a_log_only(%q: tensor<2x64x4x128xbf16>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x64x4x128xbf16>, %g: tensor<2x64x4x128xbf16>, %beta: tensor<2x64x4xbf16>, %a: tensor<4xf32>) -> tensor<2x64x4x128xbf16> {
  %o = kda.forward %q, %k, %v, %g, %beta A_log(%a) {gate = #kda.gate<softplus>}
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4xbf16>, tensor<4xf32>) -> tensor<2x64x4x128xbf16>
  return %o : tensor<2x64x4x128xbf16>
}

// dt_bias flattened as [HV * K] (fla's spelling): 4 * 128 = 512.
// CHECK-LABEL: func.func @forward_dt_bias_flat(
// CHECK:         %{{.*}} = kda.forward %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}} A_log(%{{[a-z0-9_]+}}) dt_bias(%{{[a-z0-9_]+}})
// CHECK-SAME:    {gate = #kda.gate<softplus>}
// CHECK-SAME:    : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4xbf16>, tensor<4xf32>, tensor<512xf32>) -> tensor<2x64x4x128xbf16>
func.func @forward_dt_bias_flat(%q: tensor<2x64x4x128xbf16>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x64x4x128xbf16>, %g: tensor<2x64x4x128xbf16>, %beta: tensor<2x64x4xbf16>, %a: tensor<4xf32>, %b: tensor<512xf32>) -> tensor<2x64x4x128xbf16> {
  %o = kda.forward %q, %k, %v, %g, %beta A_log(%a) dt_bias(%b) {gate = #kda.gate<softplus>}
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4xbf16>, tensor<4xf32>, tensor<512xf32>) -> tensor<2x64x4x128xbf16>
  return %o : tensor<2x64x4x128xbf16>
}

// dt_bias as [HV, K].
// CHECK-LABEL: func.func @forward_dt_bias_2d(
// CHECK:         %{{.*}} = kda.forward %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}} A_log(%{{[a-z0-9_]+}}) dt_bias(%{{[a-z0-9_]+}})
// CHECK-SAME:    {gate = #kda.gate<softplus>}
// CHECK-SAME:    : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4xbf16>, tensor<4xf32>, tensor<4x128xf32>) -> tensor<2x64x4x128xbf16>
func.func @forward_dt_bias_2d(%q: tensor<2x64x4x128xbf16>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x64x4x128xbf16>, %g: tensor<2x64x4x128xbf16>, %beta: tensor<2x64x4xbf16>, %a: tensor<4xf32>, %b: tensor<4x128xf32>) -> tensor<2x64x4x128xbf16> {
  %o = kda.forward %q, %k, %v, %g, %beta A_log(%a) dt_bias(%b) {gate = #kda.gate<softplus>}
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4xbf16>, tensor<4xf32>, tensor<4x128xf32>) -> tensor<2x64x4x128xbf16>
  return %o : tensor<2x64x4x128xbf16>
}

// Grouped value heads: H = 4 query/key heads, HV = 8 value heads; g, beta,
// A_log, dt_bias, the states and o follow HV.
// CHECK-LABEL: func.func @forward_grouped_value_heads(
// CHECK:         %{{.*}}, %{{.*}} = kda.forward %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}} A_log(%{{[a-z0-9_]+}}) dt_bias(%{{[a-z0-9_]+}}) initial_state(%{{[a-z0-9_]+}})
// CHECK-SAME:    {gate = #kda.gate<softplus>}
// CHECK-SAME:    : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x8x128xbf16>, tensor<2x64x8x128xbf16>, tensor<2x64x8xbf16>, tensor<8xf32>, tensor<1024xf32>, tensor<2x8x128x128xf32>) -> (tensor<2x64x8x128xbf16>, tensor<2x8x128x128xf32>)
func.func @forward_grouped_value_heads(%q: tensor<2x64x4x128xbf16>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x64x8x128xbf16>, %g: tensor<2x64x8x128xbf16>, %beta: tensor<2x64x8xbf16>, %a: tensor<8xf32>, %b: tensor<1024xf32>, %s0: tensor<2x8x128x128xf32>) -> (tensor<2x64x8x128xbf16>, tensor<2x8x128x128xf32>) {
  %o, %s = kda.forward %q, %k, %v, %g, %beta A_log(%a) dt_bias(%b) initial_state(%s0) {gate = #kda.gate<softplus>}
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x8x128xbf16>, tensor<2x64x8x128xbf16>, tensor<2x64x8xbf16>, tensor<8xf32>, tensor<1024xf32>, tensor<2x8x128x128xf32>) -> (tensor<2x64x8x128xbf16>, tensor<2x8x128x128xf32>)
  return %o, %s : tensor<2x64x8x128xbf16>, tensor<2x8x128x128xf32>
}

// Varlen with i32 cu_seqlens: B = 1, N = 5 - 1 = 4 sequences.
// CHECK-LABEL: func.func @forward_varlen_i32(
// CHECK:         %{{.*}}, %{{.*}} = kda.forward %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}} initial_state(%{{[a-z0-9_]+}}) cu_seqlens(%{{[a-z0-9_]+}})
// CHECK-NOT:     {
// CHECK-SAME:    : (tensor<1x256x4x128xbf16>, tensor<1x256x4x128xbf16>, tensor<1x256x4x128xbf16>, tensor<1x256x4x128xf32>, tensor<1x256x4xbf16>, tensor<4x4x128x128xf32>, tensor<5xi32>) -> (tensor<1x256x4x128xbf16>, tensor<4x4x128x128xf32>)
func.func @forward_varlen_i32(%q: tensor<1x256x4x128xbf16>, %k: tensor<1x256x4x128xbf16>, %v: tensor<1x256x4x128xbf16>, %g: tensor<1x256x4x128xf32>, %beta: tensor<1x256x4xbf16>, %s0: tensor<4x4x128x128xf32>, %cu: tensor<5xi32>) -> (tensor<1x256x4x128xbf16>, tensor<4x4x128x128xf32>) {
  %o, %s = kda.forward %q, %k, %v, %g, %beta initial_state(%s0) cu_seqlens(%cu)
      : (tensor<1x256x4x128xbf16>, tensor<1x256x4x128xbf16>, tensor<1x256x4x128xbf16>, tensor<1x256x4x128xf32>, tensor<1x256x4xbf16>, tensor<4x4x128x128xf32>, tensor<5xi32>) -> (tensor<1x256x4x128xbf16>, tensor<4x4x128x128xf32>)
  return %o, %s : tensor<1x256x4x128xbf16>, tensor<4x4x128x128xf32>
}

// Varlen with i64 cu_seqlens and a single sequence (N + 1 = 2).
// CHECK-LABEL: func.func @forward_varlen_i64(
// CHECK:         %{{.*}}, %{{.*}} = kda.forward %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}} cu_seqlens(%{{[a-z0-9_]+}})
// CHECK-NOT:     {
// CHECK-SAME:    : (tensor<1x256x4x128xbf16>, tensor<1x256x4x128xbf16>, tensor<1x256x4x128xbf16>, tensor<1x256x4x128xf32>, tensor<1x256x4xbf16>, tensor<2xi64>) -> (tensor<1x256x4x128xbf16>, tensor<1x4x128x128xf32>)
func.func @forward_varlen_i64(%q: tensor<1x256x4x128xbf16>, %k: tensor<1x256x4x128xbf16>, %v: tensor<1x256x4x128xbf16>, %g: tensor<1x256x4x128xf32>, %beta: tensor<1x256x4xbf16>, %cu: tensor<2xi64>) -> (tensor<1x256x4x128xbf16>, tensor<1x4x128x128xf32>) {
  %o, %s = kda.forward %q, %k, %v, %g, %beta cu_seqlens(%cu)
      : (tensor<1x256x4x128xbf16>, tensor<1x256x4x128xbf16>, tensor<1x256x4x128xbf16>, tensor<1x256x4x128xf32>, tensor<1x256x4xbf16>, tensor<2xi64>) -> (tensor<1x256x4x128xbf16>, tensor<1x4x128x128xf32>)
  return %o, %s : tensor<1x256x4x128xbf16>, tensor<1x4x128x128xf32>
}

// Dynamic batch and sequence length.
// CHECK-LABEL: func.func @forward_dynamic_batch_time(
// CHECK:         %{{.*}}, %{{.*}} = kda.forward %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}} initial_state(%{{[a-z0-9_]+}})
// CHECK-NOT:     {
// CHECK-SAME:    : (tensor<?x?x4x128xbf16>, tensor<?x?x4x128xbf16>, tensor<?x?x4x128xbf16>, tensor<?x?x4x128xf32>, tensor<?x?x4xbf16>, tensor<?x4x128x128xf32>) -> (tensor<?x?x4x128xbf16>, tensor<?x4x128x128xf32>)
func.func @forward_dynamic_batch_time(%q: tensor<?x?x4x128xbf16>, %k: tensor<?x?x4x128xbf16>, %v: tensor<?x?x4x128xbf16>, %g: tensor<?x?x4x128xf32>, %beta: tensor<?x?x4xbf16>, %s0: tensor<?x4x128x128xf32>) -> (tensor<?x?x4x128xbf16>, tensor<?x4x128x128xf32>) {
  %o, %s = kda.forward %q, %k, %v, %g, %beta initial_state(%s0)
      : (tensor<?x?x4x128xbf16>, tensor<?x?x4x128xbf16>, tensor<?x?x4x128xbf16>, tensor<?x?x4x128xf32>, tensor<?x?x4xbf16>, tensor<?x4x128x128xf32>) -> (tensor<?x?x4x128xbf16>, tensor<?x4x128x128xf32>)
  return %o, %s : tensor<?x?x4x128xbf16>, tensor<?x4x128x128xf32>
}

// Dynamic everything: heads and head sizes unknown, varlen with a dynamic
// number of sequences, dynamic gate operands.
// CHECK-LABEL: func.func @forward_dynamic_all(
// CHECK:         %{{.*}}, %{{.*}} = kda.forward %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}} A_log(%{{[a-z0-9_]+}}) dt_bias(%{{[a-z0-9_]+}}) initial_state(%{{[a-z0-9_]+}}) cu_seqlens(%{{[a-z0-9_]+}})
// CHECK-SAME:    {gate = #kda.gate<softplus>}
// CHECK-SAME:    : (tensor<?x?x?x?xbf16>, tensor<?x?x?x?xbf16>, tensor<?x?x?x?xbf16>, tensor<?x?x?x?xf32>, tensor<?x?x?xbf16>, tensor<?xf32>, tensor<?xf32>, tensor<?x?x?x?xf32>, tensor<?xi32>) -> (tensor<?x?x?x?xbf16>, tensor<?x?x?x?xf32>)
func.func @forward_dynamic_all(%q: tensor<?x?x?x?xbf16>, %k: tensor<?x?x?x?xbf16>, %v: tensor<?x?x?x?xbf16>, %g: tensor<?x?x?x?xf32>, %beta: tensor<?x?x?xbf16>, %a: tensor<?xf32>, %b: tensor<?xf32>, %s0: tensor<?x?x?x?xf32>, %cu: tensor<?xi32>) -> (tensor<?x?x?x?xbf16>, tensor<?x?x?x?xf32>) {
  %o, %s = kda.forward %q, %k, %v, %g, %beta A_log(%a) dt_bias(%b) initial_state(%s0) cu_seqlens(%cu) {gate = #kda.gate<softplus>}
      : (tensor<?x?x?x?xbf16>, tensor<?x?x?x?xbf16>, tensor<?x?x?x?xbf16>, tensor<?x?x?x?xf32>, tensor<?x?x?xbf16>, tensor<?xf32>, tensor<?xf32>, tensor<?x?x?x?xf32>, tensor<?xi32>) -> (tensor<?x?x?x?xbf16>, tensor<?x?x?x?xf32>)
  return %o, %s : tensor<?x?x?x?xbf16>, tensor<?x?x?x?xf32>
}

// f16 activations (g and beta stay bf16/f32; o follows q).
// CHECK-LABEL: func.func @forward_f16(
// CHECK:         %{{.*}} = kda.forward %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}
// CHECK-NOT:     {
// CHECK-SAME:    : (tensor<2x64x4x128xf16>, tensor<2x64x4x128xf16>, tensor<2x64x4x128xf16>, tensor<2x64x4x128xf32>, tensor<2x64x4xbf16>) -> tensor<2x64x4x128xf16>
func.func @forward_f16(%q: tensor<2x64x4x128xf16>, %k: tensor<2x64x4x128xf16>, %v: tensor<2x64x4x128xf16>, %g: tensor<2x64x4x128xf32>, %beta: tensor<2x64x4xbf16>) -> tensor<2x64x4x128xf16> {
  %o = kda.forward %q, %k, %v, %g, %beta
      : (tensor<2x64x4x128xf16>, tensor<2x64x4x128xf16>, tensor<2x64x4x128xf16>, tensor<2x64x4x128xf32>, tensor<2x64x4xbf16>) -> tensor<2x64x4x128xf16>
  return %o : tensor<2x64x4x128xf16>
}

// f32 everywhere.
// CHECK-LABEL: func.func @forward_f32(
// CHECK:         %{{.*}}, %{{.*}} = kda.forward %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}} initial_state(%{{[a-z0-9_]+}})
// CHECK-NOT:     {
// CHECK-SAME:    : (tensor<2x64x4x128xf32>, tensor<2x64x4x128xf32>, tensor<2x64x4x128xf32>, tensor<2x64x4x128xf32>, tensor<2x64x4xf32>, tensor<2x4x128x128xf32>) -> (tensor<2x64x4x128xf32>, tensor<2x4x128x128xf32>)
func.func @forward_f32(%q: tensor<2x64x4x128xf32>, %k: tensor<2x64x4x128xf32>, %v: tensor<2x64x4x128xf32>, %g: tensor<2x64x4x128xf32>, %beta: tensor<2x64x4xf32>, %s0: tensor<2x4x128x128xf32>) -> (tensor<2x64x4x128xf32>, tensor<2x4x128x128xf32>) {
  %o, %s = kda.forward %q, %k, %v, %g, %beta initial_state(%s0)
      : (tensor<2x64x4x128xf32>, tensor<2x64x4x128xf32>, tensor<2x64x4x128xf32>, tensor<2x64x4x128xf32>, tensor<2x64x4xf32>, tensor<2x4x128x128xf32>) -> (tensor<2x64x4x128xf32>, tensor<2x4x128x128xf32>)
  return %o, %s : tensor<2x64x4x128xf32>, tensor<2x4x128x128xf32>
}

// bf16 initial and final states.
// CHECK-LABEL: func.func @forward_bf16_states(
// CHECK:         %{{.*}}, %{{.*}} = kda.forward %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}} initial_state(%{{[a-z0-9_]+}})
// CHECK-NOT:     {
// CHECK-SAME:    : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4xbf16>, tensor<2x4x128x128xbf16>) -> (tensor<2x64x4x128xbf16>, tensor<2x4x128x128xbf16>)
func.func @forward_bf16_states(%q: tensor<2x64x4x128xbf16>, %k: tensor<2x64x4x128xbf16>, %v: tensor<2x64x4x128xbf16>, %g: tensor<2x64x4x128xbf16>, %beta: tensor<2x64x4xbf16>, %s0: tensor<2x4x128x128xbf16>) -> (tensor<2x64x4x128xbf16>, tensor<2x4x128x128xbf16>) {
  %o, %s = kda.forward %q, %k, %v, %g, %beta initial_state(%s0)
      : (tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4xbf16>, tensor<2x4x128x128xbf16>) -> (tensor<2x64x4x128xbf16>, tensor<2x4x128x128xbf16>)
  return %o, %s : tensor<2x64x4x128xbf16>, tensor<2x4x128x128xbf16>
}

// Head sizes K = V = 64.
// CHECK-LABEL: func.func @forward_head_64(
// CHECK:         %{{.*}}, %{{.*}} = kda.forward %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}} initial_state(%{{[a-z0-9_]+}})
// CHECK-NOT:     {
// CHECK-SAME:    : (tensor<2x64x4x64xbf16>, tensor<2x64x4x64xbf16>, tensor<2x64x4x64xbf16>, tensor<2x64x4x64xf32>, tensor<2x64x4xbf16>, tensor<2x4x64x64xf32>) -> (tensor<2x64x4x64xbf16>, tensor<2x4x64x64xf32>)
func.func @forward_head_64(%q: tensor<2x64x4x64xbf16>, %k: tensor<2x64x4x64xbf16>, %v: tensor<2x64x4x64xbf16>, %g: tensor<2x64x4x64xf32>, %beta: tensor<2x64x4xbf16>, %s0: tensor<2x4x64x64xf32>) -> (tensor<2x64x4x64xbf16>, tensor<2x4x64x64xf32>) {
  %o, %s = kda.forward %q, %k, %v, %g, %beta initial_state(%s0)
      : (tensor<2x64x4x64xbf16>, tensor<2x64x4x64xbf16>, tensor<2x64x4x64xbf16>, tensor<2x64x4x64xf32>, tensor<2x64x4xbf16>, tensor<2x4x64x64xf32>) -> (tensor<2x64x4x64xbf16>, tensor<2x4x64x64xf32>)
  return %o, %s : tensor<2x64x4x64xbf16>, tensor<2x4x64x64xf32>
}

// Head sizes K = V = 256, the largest the spec allows.
// CHECK-LABEL: func.func @forward_head_256(
// CHECK:         %{{.*}}, %{{.*}} = kda.forward %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}} initial_state(%{{[a-z0-9_]+}})
// CHECK-NOT:     {
// CHECK-SAME:    : (tensor<2x64x4x256xbf16>, tensor<2x64x4x256xbf16>, tensor<2x64x4x256xbf16>, tensor<2x64x4x256xf32>, tensor<2x64x4xbf16>, tensor<2x4x256x256xf32>) -> (tensor<2x64x4x256xbf16>, tensor<2x4x256x256xf32>)
func.func @forward_head_256(%q: tensor<2x64x4x256xbf16>, %k: tensor<2x64x4x256xbf16>, %v: tensor<2x64x4x256xbf16>, %g: tensor<2x64x4x256xf32>, %beta: tensor<2x64x4xbf16>, %s0: tensor<2x4x256x256xf32>) -> (tensor<2x64x4x256xbf16>, tensor<2x4x256x256xf32>) {
  %o, %s = kda.forward %q, %k, %v, %g, %beta initial_state(%s0)
      : (tensor<2x64x4x256xbf16>, tensor<2x64x4x256xbf16>, tensor<2x64x4x256xbf16>, tensor<2x64x4x256xf32>, tensor<2x64x4xbf16>, tensor<2x4x256x256xf32>) -> (tensor<2x64x4x256xbf16>, tensor<2x4x256x256xf32>)
  return %o, %s : tensor<2x64x4x256xbf16>, tensor<2x4x256x256xf32>
}

// K != V with the vk layout: the state is [N, HV, V, K].
// CHECK-LABEL: func.func @forward_vk_k_ne_v(
// CHECK:         %{{.*}}, %{{.*}} = kda.forward %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}} initial_state(%{{[a-z0-9_]+}})
// CHECK-SAME:    {state_layout = #kda.state_layout<vk>}
// CHECK-SAME:    : (tensor<2x64x4x64xbf16>, tensor<2x64x4x64xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x64xf32>, tensor<2x64x4xbf16>, tensor<2x4x128x64xf32>) -> (tensor<2x64x4x128xbf16>, tensor<2x4x128x64xf32>)
func.func @forward_vk_k_ne_v(%q: tensor<2x64x4x64xbf16>, %k: tensor<2x64x4x64xbf16>, %v: tensor<2x64x4x128xbf16>, %g: tensor<2x64x4x64xf32>, %beta: tensor<2x64x4xbf16>, %s0: tensor<2x4x128x64xf32>) -> (tensor<2x64x4x128xbf16>, tensor<2x4x128x64xf32>) {
  %o, %s = kda.forward %q, %k, %v, %g, %beta initial_state(%s0) {state_layout = #kda.state_layout<vk>}
      : (tensor<2x64x4x64xbf16>, tensor<2x64x4x64xbf16>, tensor<2x64x4x128xbf16>, tensor<2x64x4x64xf32>, tensor<2x64x4xbf16>, tensor<2x4x128x64xf32>) -> (tensor<2x64x4x128xbf16>, tensor<2x4x128x64xf32>)
  return %o, %s : tensor<2x64x4x128xbf16>, tensor<2x4x128x64xf32>
}

// kda.decode: precomputed gate, defaults, i32 indices, kv pool of P = 64.
// CHECK-LABEL: func.func @decode_minimal(
// CHECK:         %{{.*}}, %{{.*}} = kda.decode %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}} state_pool(%{{[a-z0-9_]+}}) state_indices(%{{[a-z0-9_]+}})
// CHECK-NOT:     {
// CHECK-SAME:    : (tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xf32>, tensor<8x4xbf16>, tensor<64x4x128x128xf32>, tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<64x4x128x128xf32>)
func.func @decode_minimal(%q: tensor<8x4x128xbf16>, %k: tensor<8x4x128xbf16>, %v: tensor<8x4x128xbf16>, %g: tensor<8x4x128xf32>, %beta: tensor<8x4xbf16>, %pool: tensor<64x4x128x128xf32>, %idx: tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<64x4x128x128xf32>) {
  %o, %p = kda.decode %q, %k, %v, %g, %beta state_pool(%pool) state_indices(%idx)
      : (tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x4x128xf32>, tensor<8x4xbf16>, tensor<64x4x128x128xf32>, tensor<8xi32>) -> (tensor<8x4x128xbf16>, tensor<64x4x128x128xf32>)
  return %o, %p : tensor<8x4x128xbf16>, tensor<64x4x128x128xf32>
}

// kda.decode: softplus gate with A_log and flattened dt_bias, grouped value
// heads, vk pool, i64 indices, sigmoid_neg_eigval beta.
// CHECK-LABEL: func.func @decode_softplus_vk(
// CHECK:         %{{.*}}, %{{.*}} = kda.decode %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}} A_log(%{{[a-z0-9_]+}}) dt_bias(%{{[a-z0-9_]+}}) state_pool(%{{[a-z0-9_]+}}) state_indices(%{{[a-z0-9_]+}})
// CHECK-SAME:    {beta_mode = #kda.beta<sigmoid_neg_eigval>, gate = #kda.gate<softplus>, state_layout = #kda.state_layout<vk>}
// CHECK-SAME:    : (tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x8x128xbf16>, tensor<8x8x128xbf16>, tensor<8x8xbf16>, tensor<8xf32>, tensor<1024xf32>, tensor<16x8x128x128xf32>, tensor<8xi64>) -> (tensor<8x8x128xbf16>, tensor<16x8x128x128xf32>)
func.func @decode_softplus_vk(%q: tensor<8x4x128xbf16>, %k: tensor<8x4x128xbf16>, %v: tensor<8x8x128xbf16>, %g: tensor<8x8x128xbf16>, %beta: tensor<8x8xbf16>, %a: tensor<8xf32>, %b: tensor<1024xf32>, %pool: tensor<16x8x128x128xf32>, %idx: tensor<8xi64>) -> (tensor<8x8x128xbf16>, tensor<16x8x128x128xf32>) {
  %o, %p = kda.decode %q, %k, %v, %g, %beta A_log(%a) dt_bias(%b) state_pool(%pool) state_indices(%idx)
      {gate = #kda.gate<softplus>, beta_mode = #kda.beta<sigmoid_neg_eigval>, state_layout = #kda.state_layout<vk>}
      : (tensor<8x4x128xbf16>, tensor<8x4x128xbf16>, tensor<8x8x128xbf16>, tensor<8x8x128xbf16>, tensor<8x8xbf16>, tensor<8xf32>, tensor<1024xf32>, tensor<16x8x128x128xf32>, tensor<8xi64>) -> (tensor<8x8x128xbf16>, tensor<16x8x128x128xf32>)
  return %o, %p : tensor<8x8x128xbf16>, tensor<16x8x128x128xf32>
}

// kda.decode: lower_bound gate with [HV, K] dt_bias, qk_l2norm, sigmoid beta,
// scale, bf16 pool, f16 activations.
// CHECK-LABEL: func.func @decode_lower_bound(
// CHECK:         %{{.*}}, %{{.*}} = kda.decode %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}} A_log(%{{[a-z0-9_]+}}) dt_bias(%{{[a-z0-9_]+}}) state_pool(%{{[a-z0-9_]+}}) state_indices(%{{[a-z0-9_]+}})
// CHECK-SAME:    {beta_mode = #kda.beta<sigmoid>, gate = #kda.gate<lower_bound>, lower_bound = -1.000000e+00 : f64, qk_l2norm, scale = 1.250000e-01 : f64}
// CHECK-SAME:    : (tensor<8x4x64xf16>, tensor<8x4x64xf16>, tensor<8x4x64xf16>, tensor<8x4x64xf32>, tensor<8x4xf32>, tensor<4xf32>, tensor<4x64xf32>, tensor<32x4x64x64xbf16>, tensor<8xi32>) -> (tensor<8x4x64xf16>, tensor<32x4x64x64xbf16>)
func.func @decode_lower_bound(%q: tensor<8x4x64xf16>, %k: tensor<8x4x64xf16>, %v: tensor<8x4x64xf16>, %g: tensor<8x4x64xf32>, %beta: tensor<8x4xf32>, %a: tensor<4xf32>, %b: tensor<4x64xf32>, %pool: tensor<32x4x64x64xbf16>, %idx: tensor<8xi32>) -> (tensor<8x4x64xf16>, tensor<32x4x64x64xbf16>) {
  %o, %p = kda.decode %q, %k, %v, %g, %beta A_log(%a) dt_bias(%b) state_pool(%pool) state_indices(%idx)
      {gate = #kda.gate<lower_bound>, lower_bound = -1.0 : f64, qk_l2norm, beta_mode = #kda.beta<sigmoid>, scale = 0.125 : f64}
      : (tensor<8x4x64xf16>, tensor<8x4x64xf16>, tensor<8x4x64xf16>, tensor<8x4x64xf32>, tensor<8x4xf32>, tensor<4xf32>, tensor<4x64xf32>, tensor<32x4x64x64xbf16>, tensor<8xi32>) -> (tensor<8x4x64xf16>, tensor<32x4x64x64xbf16>)
  return %o, %p : tensor<8x4x64xf16>, tensor<32x4x64x64xbf16>
}

// kda.decode with dynamic N and P.
// CHECK-LABEL: func.func @decode_dynamic(
// CHECK:         %{{.*}}, %{{.*}} = kda.decode %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}} state_pool(%{{[a-z0-9_]+}}) state_indices(%{{[a-z0-9_]+}})
// CHECK-NOT:     {
// CHECK-SAME:    : (tensor<?x4x128xf32>, tensor<?x4x128xf32>, tensor<?x4x128xf32>, tensor<?x4x128xf32>, tensor<?x4xf32>, tensor<?x4x128x128xf32>, tensor<?xi64>) -> (tensor<?x4x128xf32>, tensor<?x4x128x128xf32>)
func.func @decode_dynamic(%q: tensor<?x4x128xf32>, %k: tensor<?x4x128xf32>, %v: tensor<?x4x128xf32>, %g: tensor<?x4x128xf32>, %beta: tensor<?x4xf32>, %pool: tensor<?x4x128x128xf32>, %idx: tensor<?xi64>) -> (tensor<?x4x128xf32>, tensor<?x4x128x128xf32>) {
  %o, %p = kda.decode %q, %k, %v, %g, %beta state_pool(%pool) state_indices(%idx)
      : (tensor<?x4x128xf32>, tensor<?x4x128xf32>, tensor<?x4x128xf32>, tensor<?x4x128xf32>, tensor<?x4xf32>, tensor<?x4x128x128xf32>, tensor<?xi64>) -> (tensor<?x4x128xf32>, tensor<?x4x128x128xf32>)
  return %o, %p : tensor<?x4x128xf32>, tensor<?x4x128x128xf32>
}

// Intermediate states (the state entering every chunk) with the final
// state: fixed lengths, T = 100, chunk 64 -> NT = 2.
// CHECK-LABEL: func.func @forward_intermediate_states(
// CHECK:         %{{.*}}, %{{.*}}:2 = kda.forward %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}} {intermediate_states}
// CHECK-SAME:    -> (tensor<2x100x4x128xbf16>, tensor<2x4x128x128xf32>, tensor<2x2x4x128x128xbf16>)
func.func @forward_intermediate_states(%q: tensor<2x100x4x128xbf16>, %g: tensor<2x100x4x128xf32>, %beta: tensor<2x100x4xbf16>) -> (tensor<2x100x4x128xbf16>, tensor<2x4x128x128xf32>, tensor<2x2x4x128x128xbf16>) {
  %o, %s, %h = kda.forward %q, %q, %q, %g, %beta {intermediate_states}
      : (tensor<2x100x4x128xbf16>, tensor<2x100x4x128xbf16>, tensor<2x100x4x128xbf16>, tensor<2x100x4x128xf32>, tensor<2x100x4xbf16>) -> (tensor<2x100x4x128xbf16>, tensor<2x4x128x128xf32>, tensor<2x2x4x128x128xbf16>)
  return %o, %s, %h : tensor<2x100x4x128xbf16>, tensor<2x4x128x128xf32>, tensor<2x2x4x128x128xbf16>
}

// Intermediate states without the final state, varlen with i32 offsets
// and the vk layout: NT is the sum of the sequences' chunk counts.
// CHECK-LABEL: func.func @forward_intermediate_states_varlen(
// CHECK:         %{{.*}}, %{{.*}} = kda.forward %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}} cu_seqlens(%{{[a-z0-9_]+}}) {chunk_size = 16 : i64, intermediate_states, state_layout = #kda.state_layout<vk>}
// CHECK-SAME:    -> (tensor<1x256x4x128xbf16>, tensor<1x?x4x128x128xf32>)
func.func @forward_intermediate_states_varlen(%q: tensor<1x256x4x128xbf16>, %g: tensor<1x256x4x128xf32>, %beta: tensor<1x256x4xbf16>, %cu: tensor<5xi32>) -> (tensor<1x256x4x128xbf16>, tensor<1x?x4x128x128xf32>) {
  %o, %h = kda.forward %q, %q, %q, %g, %beta cu_seqlens(%cu)
      {chunk_size = 16, intermediate_states, state_layout = #kda.state_layout<vk>}
      : (tensor<1x256x4x128xbf16>, tensor<1x256x4x128xbf16>, tensor<1x256x4x128xbf16>, tensor<1x256x4x128xf32>, tensor<1x256x4xbf16>, tensor<5xi32>) -> (tensor<1x256x4x128xbf16>, tensor<1x?x4x128x128xf32>)
  return %o, %h : tensor<1x256x4x128xbf16>, tensor<1x?x4x128x128xf32>
}
