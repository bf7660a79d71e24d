// RUN: kda-opt %s --convert-kda-to-nvvm="stages=1" | FileCheck %s --check-prefix=ONE
// RUN: kda-opt %s --convert-kda-to-nvvm | FileCheck %s --check-prefix=TWO
// RUN: kda-opt %s --convert-kda-to-nvvm="stages=3" | FileCheck %s --check-prefix=THREE
// RUN: not kda-opt %s --convert-kda-to-nvvm="stages=4" 2>&1 | FileCheck %s --check-prefix=FOUR
// RUN: not kda-opt %s --convert-kda-to-nvvm="stages=5" 2>&1 | FileCheck %s --check-prefix=FIVE

// The forward kernel's TMA rings of q, k, v, g tiles are the pass option
// `stages`: each of the two chunk-local warpgroups (which take alternate
// chunks) has a ring of `stages` buffers, one mbarrier (count 1) each,
// beside the free mbarriers (count 256, the state side's) of the two
// handoff stages (whose `ready` are named barriers). A warpgroup
// issues the loads of its first `stages` chunks before its chunk loop
// (steps of two chunks) and, in each chunk, waits for its own tiles and
// then, once they have been read, starts the load of its chunk `stages`
// later into the same buffer: after the barrier that ends the operands
// phase where the spread is bounded (the factorised A matrices read no
// tiles), after the pairwise A matrices' barrier otherwise; the state
// side's loop (which carries the
// fp32 state) loads no tiles. Each stage adds 2 x 16 KB of tiles (bf16 g)
// to the manifest's shared_bytes, and a ring that would not fit in a
// CTA's shared memory is refused.

// ONE: gpu.module @kda_forward_k128_v128_c16_p1_softplus_sigmoid_kv_gbf16_bf32_sf32_f32
// ONE-SAME: shared_bytes = 138624 : i64, stages = 1 : i64
// ONE-COUNT-2: nvvm.mbarrier.init %{{.*}}, %c1_i32
// ONE-COUNT-2: nvvm.mbarrier.init %{{.*}}, %c256_i32
// ONE-COUNT-2: nvvm.mbarrier.init %{{.*}}, %c32_i32
// ONE-NOT: nvvm.mbarrier.init
// ONE: nvvm.fence.mbarrier.init
// ONE: nvvm.setmaxregister  decrease
// ONE: nvvm.mbarrier.arrive.expect_tx
// ONE-COUNT-4: nvvm.cp.async.bulk.tensor.shared.cluster.global
// ONE-NOT: nvvm.cp.async.bulk.tensor
// ONE: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c2_i32
// ONE: nvvm.mbarrier.try_wait.parity
// ONE-NOT: nvvm.cp.async.bulk.tensor
// ONE: nvvm.barrier id
// ONE: nvvm.mbarrier.arrive.expect_tx
// ONE-COUNT-4: nvvm.cp.async.bulk.tensor.shared.cluster.global
// ONE-NOT: nvvm.cp.async.bulk.tensor
// ONE: nvvm.barrier id
// ONE: nvvm.mbarrier.arrive.expect_tx
// ONE-COUNT-4: nvvm.cp.async.bulk.tensor.shared.cluster.global
// ONE-NOT: nvvm.cp.async.bulk.tensor
// ONE: nvvm.setmaxregister  increase
// ONE: scf.for {{.*}} -> (!llvm.struct<(f32
// ONE-NOT: nvvm.cp.async.bulk.tensor
// ONE: llvm.return

// TWO: gpu.module @kda_forward_k128_v128_c16_p2_softplus_sigmoid_kv_gbf16_bf32_sf32_f32
// TWO-SAME: shared_bytes = 171392 : i64, stages = 2 : i64
// TWO-COUNT-4: nvvm.mbarrier.init %{{.*}}, %c1_i32
// TWO: nvvm.setmaxregister  decrease
// TWO: nvvm.mbarrier.arrive.expect_tx
// TWO-COUNT-4: nvvm.cp.async.bulk.tensor.shared.cluster.global
// TWO: nvvm.mbarrier.arrive.expect_tx
// TWO-COUNT-4: nvvm.cp.async.bulk.tensor.shared.cluster.global
// TWO-NOT: nvvm.cp.async.bulk.tensor
// TWO: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c2_i32
// TWO: nvvm.mbarrier.try_wait.parity
// TWO: nvvm.mbarrier.arrive.expect_tx
// TWO-COUNT-4: nvvm.cp.async.bulk.tensor.shared.cluster.global
// TWO: nvvm.mbarrier.arrive.expect_tx
// TWO-COUNT-4: nvvm.cp.async.bulk.tensor.shared.cluster.global
// TWO-NOT: nvvm.cp.async.bulk.tensor
// TWO: nvvm.setmaxregister  increase
// TWO-NOT: nvvm.cp.async.bulk.tensor
// TWO: llvm.return

// THREE: gpu.module @kda_forward_k128_v128_c16_p3_softplus_sigmoid_kv_gbf16_bf32_sf32_f32
// THREE-SAME: shared_bytes = 204160 : i64, stages = 3 : i64
// THREE-COUNT-6: nvvm.mbarrier.init %{{.*}}, %c1_i32
// THREE: nvvm.setmaxregister  decrease
// THREE: nvvm.mbarrier.arrive.expect_tx
// THREE-COUNT-4: nvvm.cp.async.bulk.tensor.shared.cluster.global
// THREE: nvvm.mbarrier.arrive.expect_tx
// THREE-COUNT-4: nvvm.cp.async.bulk.tensor.shared.cluster.global
// THREE: nvvm.mbarrier.arrive.expect_tx
// THREE-COUNT-4: nvvm.cp.async.bulk.tensor.shared.cluster.global
// THREE-NOT: nvvm.cp.async.bulk.tensor
// THREE: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c2_i32
// THREE: nvvm.mbarrier.arrive.expect_tx
// THREE-COUNT-4: nvvm.cp.async.bulk.tensor.shared.cluster.global
// THREE: nvvm.mbarrier.arrive.expect_tx
// THREE-COUNT-4: nvvm.cp.async.bulk.tensor.shared.cluster.global
// THREE-NOT: nvvm.cp.async.bulk.tensor
// THREE: nvvm.setmaxregister  increase
// THREE-NOT: nvvm.cp.async.bulk.tensor
// THREE: llvm.return

// FOUR: error: 'kda.forward' op cannot be compiled yet: stages = 4 with 2 chunk-local warpgroups: the kernel would take 236928 bytes of shared memory, more than the 232448 a CTA can have; take fewer stages
// FIVE: error: 'kda.forward' op cannot be compiled yet: stages = 5: the TMA ring takes 1 to 4 stages
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
