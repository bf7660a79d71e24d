// RUN: kda-opt %s --convert-kda-to-nvvm="value-blocks=2 cluster-value-blocks=1 stages=1" | FileCheck %s
// RUN: not kda-opt %s --convert-kda-to-nvvm="value-blocks=2 cluster-value-blocks=1" 2>&1 | FileCheck %s --check-prefix=DEEP
// RUN: not kda-opt %s --convert-kda-to-nvvm="cluster-value-blocks=1 stages=1" 2>&1 | FileCheck %s --check-prefix=ONE

// With the pass option `cluster-value-blocks`, the two CTAs of a (sequence,
// value head) are one thread-block cluster, fixed in the kernel
// (.reqnctapercluster 1, 1, 2), and split the chunk-local work: CTA r
// (the grid's z) computes the chunks c with c % 2 == r, for every value row
// (v's whole 16 x 128 tile: a chunk's TMA brings 16,384 bytes with bf16 g),
// and its warpgroup w those with (c / 2) % 2 == w, so the chunk-local loop
// starts at r + 2w and steps by 4. Each chunk has its handoff stage
// (c % 4) in both CTAs: the writing CTA's `ready` counts its 128 threads
// and its `free` the 128 threads of its own state warpgroup plus one lane
// per warp (4) of the other's; the other CTA's `ready` for that stage
// counts one arrival with the copy's bytes expected, and its `free` goes
// unused (count 1). The counts are selected on the rank at run time. The
// barriers are initialised before a cluster barrier, and the kernel ends
// on one, so no CTA leaves while the other may still copy into it.

// CHECK: gpu.module @kda_forward_k128_v128_c16_p1_vb2_cluster_softplus_sigmoid_kv_gbf16_bf32_sf32_f32
// CHECK-SAME: cluster_value_blocks = 1 : i64
// CHECK-SAME: shared_bytes = 206976 : i64, stages = 1 : i64
// CHECK: llvm.func @kda_forward_k128_v128_c16_p1_vb2_cluster_softplus_sigmoid_kv_gbf16_bf32_sf32_f32(
// CHECK-SAME: nvvm.cluster_dim = array<i32: 1, 1, 2>
// CHECK: %[[RANK:.*]] = nvvm.read.ptx.sreg.ctaid.z : i32
// CHECK-COUNT-2: nvvm.mbarrier.init %{{.*}}, %c1_i32
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
// CHECK: llvm.inline_asm has_side_effects "{{.*}}mapa.shared::cluster.u32 bar, $1, $4;{{.*}}@p mbarrier.arrive.expect_tx.release.cluster.shared::cluster.b64 _, [bar], $3;{{.*}}@p cp.async.bulk.shared::cluster.shared::cta.mbarrier::complete_tx::bytes [dst], [$2], $3, [bar];
// CHECK: nvvm.setmaxregister  increase 160
// CHECK: scf.for {{.*}} -> (!llvm.struct<(f32
// CHECK: llvm.inline_asm has_side_effects "{{.*}}@p mbarrier.arrive.shared::cta.b64 st, [$0];{{.*}}@q mbarrier.arrive.release.cluster.shared::cluster.b64 _, [far];
// CHECK: nvvm.cluster.arrive {aligned}
// CHECK-NEXT: nvvm.cluster.wait {aligned}
// CHECK-NEXT: llvm.return

// DEEP: error: 'kda.forward' op cannot be compiled yet: stages = 2 with 2 chunk-local warpgroups and a handoff stage for each of the cluster's: the kernel would take 239744 bytes of shared memory, more than the 232448 a CTA can have; take fewer stages

// ONE: error: 'kda.forward' op cannot be compiled yet: cluster_value_blocks with value_blocks = 1: the chunk-local work is split across clusters of two CTAs (value_blocks = 2)
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
