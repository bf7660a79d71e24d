// RUN: kda-opt %s --convert-kda-to-nvvm | FileCheck %s --check-prefix=ONE
// RUN: kda-opt %s --convert-kda-to-nvvm="value-blocks=2" | FileCheck %s --check-prefix=TWO
// RUN: not kda-opt %s --convert-kda-to-nvvm="value-blocks=3" 2>&1 | FileCheck %s --check-prefix=THREE
// RUN: not kda-opt %s --convert-kda-to-nvvm="value-blocks=0" 2>&1 | FileCheck %s --check-prefix=ZERO

// The split of the state's value rows across CTAs is the pass option
// `value-blocks`: the grid's z, a manifest entry the runtime launches with,
// part of the kernel's name. CTA z owns value rows [z V / blocks,
// (z + 1) V / blocks), a multiple of one state warpgroup's 64 rows: its
// first row is ctaid.z times the block's rows, and only the warpgroups
// with rows in the block own any (both with 128 rows, the first with 64).

// ONE: gpu.module @kda_forward_k128_v128_c16_p2_softplus_sigmoid_kv_gbf16_bf32_sf32_f32
// ONE-SAME: grid = "sequences value_heads head_ctas"
// ONE-SAME: value_blocks = 1 : i64
// ONE: %[[OWNS:.*]] = arith.cmpi ult, %{{.*}}, %c2_i32{{.*}} : i32
// ONE: %[[Z:.*]] = nvvm.read.ptx.sreg.ctaid.z : i32
// ONE-NEXT: %{{.*}} = arith.muli %[[Z]], %c128_i32{{.*}} : i32

// TWO: gpu.module @kda_forward_k128_v128_c16_p2_vb2_softplus_sigmoid_kv_gbf16_bf32_sf32_f32
// TWO-SAME: grid = "sequences value_heads head_ctas"
// TWO-SAME: value_blocks = 2 : i64
// TWO: llvm.func @kda_forward_k128_v128_c16_p2_vb2_softplus_sigmoid_kv_gbf16_bf32_sf32_f32(
// TWO: %[[OWNS:.*]] = arith.cmpi ult, %{{.*}}, %c1_i32{{.*}} : i32
// TWO: %[[Z:.*]] = nvvm.read.ptx.sreg.ctaid.z : i32
// TWO-NEXT: %{{.*}} = arith.muli %[[Z]], %c64_i32{{.*}} : i32

// THREE: error: 'kda.forward' op cannot be compiled yet: value_blocks = 3: V = 128 splits only into blocks of a multiple of 64 value rows (1 to 2 blocks)

// ZERO: error: 'kda.forward' op cannot be compiled yet: value_blocks = 0: V = 128 splits only into blocks of a multiple of 64 value rows (1 to 2 blocks)
func.func @forward(%q: tensor<?x?x?x128xbf16>, %v: tensor<?x?x?x128xbf16>,
                   %g: tensor<?x?x?x128xbf16>, %beta: tensor<?x?x?xf32>,
                   %a: tensor<?xf32>, %b: tensor<?x128xf32>)
    -> tensor<?x?x?x128xbf16> {
  %o = kda.forward %q, %q, %v, %g, %beta A_log(%a) dt_bias(%b)
      {gate = #kda.gate<softplus>, beta_mode = #kda.beta<sigmoid>, chunk_size = 16}
      : (tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>,
         tensor<?x?x?x128xbf16>, tensor<?x?x?xf32>, tensor<?xf32>, tensor<?x128xf32>)
      -> tensor<?x?x?x128xbf16>
  return %o : tensor<?x?x?x128xbf16>
}
