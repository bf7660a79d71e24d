// RUN: kda-opt %s --convert-kda-to-nvvm="value-blocks=2" | FileCheck %s --check-prefix=TWO
// RUN: kda-opt %s --convert-kda-to-nvvm="value-blocks=2 chunk-local-warpgroups=3 stages=1" | FileCheck %s --check-prefix=THREE
// RUN: not kda-opt %s --convert-kda-to-nvvm="value-blocks=2 chunk-local-warpgroups=3" 2>&1 | FileCheck %s --check-prefix=DEEP
// RUN: not kda-opt %s --convert-kda-to-nvvm="chunk-local-warpgroups=3" 2>&1 | FileCheck %s --check-prefix=ROWS
// RUN: kda-opt %s --convert-kda-to-nvvm="value-blocks=2 chunk-local-warpgroups=1" | FileCheck %s --check-prefix=ONE
// RUN: not kda-opt %s --convert-kda-to-nvvm="value-blocks=2 chunk-local-warpgroups=4" 2>&1 | FileCheck %s --check-prefix=FOUR

// The number of the kernel's four warpgroups on the chunk-local side is the
// pass option `chunk-local-warpgroups`: warpgroup w of them takes the
// chunks c with c % L == w (the loop steps by L), each with its own TMA
// ring (one mbarrier of count 1 per buffer), its own handoff stage (a
// `free` mbarrier of count 128 per state warpgroup with rows, and, with no
// cluster, a named barrier as `ready`: the writer's 128 threads arrive,
// bar.arrive, and the state warpgroup's 128 wait there) and its own
// workspace. 3 leaves one
// state warpgroup, so it needs a CTA of 64 value rows (value-blocks=2 at
// V = 128); the warpgroups 0..L-1 are chunk-local. A CTA's v tile is its
// block of value columns: 16 x 64 bf16, so a chunk's TMA brings 14,336
// bytes (q, k and g 4,096 each). Three workspaces fit with one stage each.
// With 1, the loop steps by one chunk, and the state warpgroups are 1..3
// (those without rows keep their registers: no setmaxnreg for them).

// TWO: gpu.module @kda_forward_k128_v128_c16_p2_vb2_softplus_sigmoid_kv_gbf16_bf32_sf32_f32
// TWO-SAME: chunk_local_warpgroups = 2 : i64
// TWO-SAME: shared_bytes = 155008 : i64
// TWO: arith.cmpi ult, %{{.*}}, %c2_i32 : i32
// TWO-COUNT-4: nvvm.mbarrier.init %{{.*}}, %c1_i32
// TWO-COUNT-2: nvvm.mbarrier.init %{{.*}}, %c128_i32
// TWO-COUNT-2: nvvm.mbarrier.init %{{.*}}, %c32_i32
// TWO-NOT: nvvm.mbarrier.init
// TWO: nvvm.setmaxregister  decrease 96
// TWO: nvvm.mbarrier.arrive.expect_tx %{{.*}}, %c14336_i32
// TWO: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c2_i32
// TWO: nvvm.barrier.arrive id = %{{.*}} number_of_threads = %c256_i32
// TWO: nvvm.setmaxregister  increase 160
// TWO: nvvm.barrier id = %{{.*}} number_of_threads = %c256_i32

// THREE: gpu.module @kda_forward_k128_v128_c16_p1_vb2_cl3_softplus_sigmoid_kv_gbf16_bf32_sf32_f32
// THREE-SAME: chunk_local_warpgroups = 3 : i64
// THREE-SAME: shared_bytes = 189824 : i64, stages = 1 : i64
// THREE: arith.cmpi ult, %{{.*}}, %c3_i32 : i32
// THREE-COUNT-3: nvvm.mbarrier.init %{{.*}}, %c1_i32
// THREE-COUNT-3: nvvm.mbarrier.init %{{.*}}, %c128_i32
// THREE-COUNT-3: nvvm.mbarrier.init %{{.*}}, %c32_i32
// THREE-NOT: nvvm.mbarrier.init
// THREE: nvvm.fence.mbarrier.init
// THREE: nvvm.setmaxregister  decrease 96
// THREE: nvvm.mbarrier.arrive.expect_tx %{{.*}}, %c14336_i32
// THREE: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c3_i32
// THREE: nvvm.barrier.arrive id = %{{.*}} number_of_threads = %c256_i32
// THREE: nvvm.setmaxregister  increase 160
// THREE: nvvm.barrier id = %{{.*}} number_of_threads = %c256_i32

// DEEP: error: 'kda.forward' op cannot be compiled yet: stages = 2 with 3 chunk-local warpgroups: the kernel would take 232832 bytes of shared memory, more than the 232448 a CTA can have; take fewer stages

// ROWS: error: 'kda.forward' op cannot be compiled yet: chunk_local_warpgroups = 3: the kernel's 4 warpgroups take 1 or 2 on the chunk-local side, or 3 when the state side needs one (64 value rows per CTA; this configuration has 128)

// ONE: gpu.module @kda_forward_k128_v128_c16_p2_vb2_cl1_softplus_sigmoid_kv_gbf16_bf32_sf32_f32
// ONE-SAME: chunk_local_warpgroups = 1 : i64
// ONE: arith.cmpi ult, %{{.*}}, %c1_i32 : i32
// ONE-COUNT-2: nvvm.mbarrier.init %{{.*}}, %c1_i32
// ONE: nvvm.mbarrier.init %{{.*}}, %c128_i32
// ONE: nvvm.mbarrier.init %{{.*}}, %c32_i32
// ONE-NOT: nvvm.mbarrier.init
// ONE: nvvm.setmaxregister  decrease 96
// ONE: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c1_i32
// ONE: nvvm.setmaxregister  increase 160
// ONE-NOT: nvvm.setmaxregister

// FOUR: error: 'kda.forward' op cannot be compiled yet: chunk_local_warpgroups = 4: the kernel's 4 warpgroups take 1 or 2 on the chunk-local side, or 3 when the state side needs one (64 value rows per CTA; this configuration has 64)
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
