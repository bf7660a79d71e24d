// RUN: kda-opt %s --convert-kda-to-nvvm | FileCheck %s

// kda.decode becomes its own kernel: one CTA per (sequence, value head), one
// thread per value column, the state column streamed through registers and
// stored back into the pool in place; a negative state index writes a zero
// output row.

// CHECK: module attributes {gpu.container_module}
// CHECK-NOT: func.func
// CHECK-LABEL: gpu.module @kda_decode_k128_v128_softplus_sigmoid_l2norm_vk_gf32_bf32_sf32
// CHECK-SAME: op = "decode"
// CHECK-SAME: params = "q k v g beta A_log dt_bias state_pool state_indices o state_indices_is_int64 heads value_heads scale lower_bound"
// CHECK-SAME: pool_dtype = "f32"
// CHECK-SAME: threads = 128 : i64
// CHECK: llvm.func @kda_decode_k128_v128_softplus_sigmoid_l2norm_vk_gf32_bf32_sf32(
// CHECK-SAME: nvvm.kernel, nvvm.reqntid = array<i32: 128, 1, 1>
// CHECK: nvvm.inline_ptx "lg2.approx.f32 $0, $1;"
// CHECK: nvvm.shfl.sync  bfly
// CHECK-COUNT-128: llvm.store {{.*}} : f32, !llvm.ptr<1>
// CHECK-NOT: nvvm.wgmma
func.func @decode(%q: tensor<?x?x128xbf16>, %v: tensor<?x?x128xbf16>,
                  %g: tensor<?x?x128xf32>, %beta: tensor<?x?xf32>, %a: tensor<?xf32>,
                  %pool: tensor<?x?x128x128xf32>, %idx: tensor<?xi64>)
    -> tensor<?x?x128xbf16> {
  %o, %pool1 = kda.decode %q, %q, %v, %g, %beta A_log(%a) state_pool(%pool)
      state_indices(%idx)
      {gate = #kda.gate<softplus>, qk_l2norm, beta_mode = #kda.beta<sigmoid>,
       state_layout = #kda.state_layout<vk>}
      : (tensor<?x?x128xbf16>, tensor<?x?x128xbf16>, tensor<?x?x128xbf16>,
         tensor<?x?x128xf32>, tensor<?x?xf32>, tensor<?xf32>,
         tensor<?x?x128x128xf32>, tensor<?xi64>)
      -> (tensor<?x?x128xbf16>, tensor<?x?x128x128xf32>)
  return %o : tensor<?x?x128xbf16>
}
