// RUN: kda-opt %s --convert-kda-to-nvvm="value-blocks=2 cluster-ctas=2 stages=1" | FileCheck %s
// RUN: kda-opt %s --convert-kda-to-nvvm="value-blocks=2 cluster-ctas=8 chunk-local-warpgroups=1 stages=1" | FileCheck %s --check-prefix=EIGHT
// RUN: not kda-opt %s --convert-kda-to-nvvm="value-blocks=2 cluster-ctas=2 stages=3" 2>&1 | FileCheck %s --check-prefix=DEEP
// RUN: not kda-opt %s --convert-kda-to-nvvm="value-blocks=2 cluster-ctas=1 stages=1" 2>&1 | FileCheck %s --check-prefix=ONE
// RUN: not kda-opt %s --convert-kda-to-nvvm="value-blocks=2 cluster-ctas=9 chunk-local-warpgroups=1 stages=1" 2>&1 | FileCheck %s --check-prefix=NINE

// With the pass option `cluster-ctas` = G, the CTAs of a (sequence, value
// head) are one thread-block cluster of G along the grid's z, fixed in the
// kernel (.reqnctapercluster 1, 1, G; the manifest's head_ctas is the
// grid's z): the value-blocks CTAs that hold the state and G - value-blocks
// helpers. They split the chunk-local work: CTA r computes the chunks c
// with c % G == r, for every value row (v's whole 16 x 128 tile: a chunk's
// TMA brings 16,384 bytes with bf16 g), and its warpgroup w those with
// (c / G) % L == w, so the chunk-local loop starts at r + G w and steps by
// G L. Each chunk has its handoff stage (c % G L) in every CTA: the writing
// CTA's `ready` counts its 128 threads and its `free` its own state
// warpgroup's 128 threads (none in a helper) plus one lane per warp (4) of
// every other state CTA's: 132 in a state CTA, 8 in a helper at
// value-blocks = 2. The other CTAs' `ready` for that stage counts one
// arrival with the copy's bytes expected, and their `free` goes unused
// (count 1). The counts are selected on the rank at run time. A stage holds
// the operands with Tinv^T and V^T for every value row (18,944 bytes), then
// the state warpgroups' output tiles. Thread 0 of the writing warpgroup
// copies into each state CTA but its own (one PTX block, predicated per
// target) the stage up to the output tiles, and a state warpgroup arrives on
// the writer's `free` through a mapa address (also predicated, not
// branched: a branch there made ptxas serialize the wgmma). The barriers
// are initialised before a cluster barrier, and the kernel ends on one, so
// no CTA leaves while another may still copy into it.

// CHECK: gpu.module @kda_forward_k128_v128_c16_p1_vb2_cluster2_softplus_sigmoid_kv_gbf16_bf32_sf32_f32
// CHECK-SAME: cluster_ctas = 2 : i64
// CHECK-SAME: head_ctas = 2 : i64
// CHECK-SAME: shared_bytes = 177536 : i64, stages = 1 : i64
// CHECK-SAME: value_blocks = 2 : i64
// CHECK: llvm.func @kda_forward_k128_v128_c16_p1_vb2_cluster2_softplus_sigmoid_kv_gbf16_bf32_sf32_f32(
// CHECK-SAME: nvvm.cluster_dim = array<i32: 1, 1, 2>
// CHECK-COUNT-2: nvvm.mbarrier.init %{{.*}}, %c1_i32
// CHECK: arith.select %{{.*}}, %c132_i32, %c8_i32{{.*}} : i32
// CHECK-COUNT-4: arith.select %{{.*}}, %c128_i32{{.*}}, %c1_i32{{.*}} : i32
// CHECK: nvvm.fence.mbarrier.init
// CHECK-NEXT: }
// CHECK-NEXT: nvvm.cluster.arrive {aligned}
// CHECK-NEXT: nvvm.cluster.wait {aligned}
// CHECK: nvvm.mbarrier.arrive.expect_tx %{{.*}}, %c16384_i32
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c4_i32
// CHECK: nvvm.fence.proxy
// CHECK: nvvm.mbarrier.arrive
// CHECK: nvvm.barrier id
// CHECK: llvm.inline_asm has_side_effects "{{.*}}setp.ne.u32 p, $0, 0;{{.*}}mapa.shared::cluster.u32 bar, $2, 0;{{.*}}mapa.shared::cluster.u32 dst, $3, 0;{{.*}}@p mbarrier.arrive.expect_tx.shared::cluster.b64 _, [bar], 18944;{{.*}}@p cp.async.bulk.shared::cluster.shared::cta.mbarrier::complete_tx::bytes [dst], [$3], 18944, [bar];{{.*}}setp.ne.u32 p, $1, 0;{{.*}}mapa.shared::cluster.u32 bar, $2, 1;{{.*}}@p cp.async.bulk.shared::cluster.shared::cta.mbarrier::complete_tx::bytes [dst], [$3], 18944, [bar];
// CHECK: nvvm.setmaxregister  increase 160
// CHECK: scf.for {{.*}} -> (!llvm.struct<(f32
// CHECK: llvm.inline_asm has_side_effects "{{.*}}@p mbarrier.arrive.shared::cta.b64 st, [$0];{{.*}}@q mbarrier.arrive.shared::cluster.b64 _, [far];
// CHECK: nvvm.cluster.arrive {aligned}
// CHECK-NEXT: nvvm.cluster.wait {aligned}
// CHECK-NEXT: llvm.return

// Eight: two state CTAs and six helpers, one chunk-local warpgroup each (a
// stage per CTA leaves room for one workspace), eight handoff stages; a
// state warpgroup holds rows only in ranks 0 and 1 (a warp-uniform test).
// EIGHT: gpu.module @kda_forward_k128_v128_c16_p1_vb2_cl1_cluster8_softplus_sigmoid_kv_gbf16_bf32_sf32_f32
// EIGHT-SAME: cluster_ctas = 8 : i64
// EIGHT-SAME: head_ctas = 8 : i64
// EIGHT-SAME: shared_bytes = 217600 : i64
// EIGHT: llvm.func
// EIGHT-SAME: nvvm.cluster_dim = array<i32: 1, 1, 8>
// EIGHT: nvvm.read.ptx.sreg.ctaid.z : i32
// EIGHT-NEXT: arith.muli %{{.*}}, %c64_i32 : i32
// EIGHT-NEXT: %[[RANK:.*]] = nvvm.read.ptx.sreg.ctaid.z : i32
// EIGHT-NEXT: %[[TWO:.*]] = arith.constant 2 : i32
// EIGHT-NEXT: arith.cmpi ult, %[[RANK]], %[[TWO]] : i32
// EIGHT: nvvm.mbarrier.init %{{.*}}, %c1_i32
// EIGHT: arith.select %{{.*}}, %c132_i32, %c8_i32{{.*}} : i32
// EIGHT-COUNT-8: arith.select %{{.*}}, %c128_i32{{.*}}, %c1_i32{{.*}} : i32
// EIGHT: nvvm.cluster.arrive {aligned}
// EIGHT: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c8_i32

// DEEP: error: 'kda.forward' op cannot be compiled yet: stages = 3 with 2 chunk-local warpgroups and a handoff stage for each of the cluster's: the kernel would take 243072 bytes of shared memory, more than the 232448 a CTA can have; take fewer stages

// ONE: error: 'kda.forward' op cannot be compiled yet: cluster_ctas = 1: a cluster takes the value_blocks = 2 CTAs of a (sequence, value head) and helpers, 2 to 8 CTAs in all (0: no cluster)

// NINE: error: 'kda.forward' op cannot be compiled yet: cluster_ctas = 9: a cluster takes the value_blocks = 2 CTAs of a (sequence, value head) and helpers, 2 to 8 CTAs in all (0: no cluster)
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
