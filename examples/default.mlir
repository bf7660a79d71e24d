// The embedded default of `utils/run-example.sh`: one kda.forward in
// FlashKDA's configuration (lower_bound gate with A_log and dt_bias, q/k l2
// normalisation, sigmoid beta, fp32 states in the vk layout) on a batch of
// two 1024-token sequences with 4 heads of size 128, in 16-token chunks.
func.func @kda_default(%q: tensor<2x1024x4x128xbf16>, %k: tensor<2x1024x4x128xbf16>,
                       %v: tensor<2x1024x4x128xbf16>, %g: tensor<2x1024x4x128xbf16>,
                       %beta: tensor<2x1024x4xbf16>, %A_log: tensor<4xf32>,
                       %dt_bias: tensor<4x128xf32>, %s0: tensor<2x4x128x128xf32>)
    -> (tensor<2x1024x4x128xbf16>, tensor<2x4x128x128xf32>) {
  %o, %s = kda.forward %q, %k, %v, %g, %beta
      A_log(%A_log) dt_bias(%dt_bias) initial_state(%s0)
      {gate = #kda.gate<lower_bound>, lower_bound = -5.0 : f64, qk_l2norm,
       beta_mode = #kda.beta<sigmoid>, state_layout = #kda.state_layout<vk>,
       chunk_size = 16}
      : (tensor<2x1024x4x128xbf16>, tensor<2x1024x4x128xbf16>,
         tensor<2x1024x4x128xbf16>, tensor<2x1024x4x128xbf16>,
         tensor<2x1024x4xbf16>, tensor<4xf32>, tensor<4x128xf32>,
         tensor<2x4x128x128xf32>)
      -> (tensor<2x1024x4x128xbf16>, tensor<2x4x128x128xf32>)
  return %o, %s : tensor<2x1024x4x128xbf16>, tensor<2x4x128x128xf32>
}
