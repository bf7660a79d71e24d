// RUN: kda-opt %s --convert-kda-to-nvvm | FileCheck %s --check-prefix=C16
// RUN: kda-opt %s --convert-kda-to-nvvm="chunk-size=32 chunk-local-warpgroups=1 handoff-depth=2" | FileCheck %s --check-prefix=C32
// RUN: not kda-opt %s --convert-kda-to-nvvm="chunk-size=32" 2>&1 | FileCheck %s --check-prefix=TWO
// RUN: not kda-opt %s --convert-kda-to-nvvm="chunk-size=32 chunk-local-warpgroups=1 handoff-depth=2 stages=3" 2>&1 | FileCheck %s --check-prefix=THREE
// RUN: not kda-opt %s --convert-kda-to-nvvm="chunk-size=32 chunk-local-warpgroups=1 value-blocks=2 cluster-ctas=2" 2>&1 | FileCheck %s --check-prefix=CLUSTER
// RUN: not kda-opt %s --convert-kda-to-nvvm="chunk-size=64" 2>&1 | FileCheck %s --check-prefix=C64

// The forward kernel's chunk size is the pass option `chunk-size` (0, the
// default, takes the op's chunk_size): 16 or 32 tokens. With 32 the
// chunk-local side's tiles, A matrices and inverse are twice as tall: the
// A matrices are one tf32 m64 n32 chain whose m64 tile has no unread rows
// (Akk in warps 0-1, Aqk in warps 2-3; warp 0, which inverts Akk, waits
// for warp 1's rows on the warpgroup's barrier), the state side's
// first product is n64 ([O^T | X^T]), and V' = X Tinv and the products of
// V' take two k16 steps each, and the output leaves through two stmatrix
// per warp. The factorised A matrices take chunks spanning up to
// 160 nats of log decay (the lower_bound gate's 5 a token), against 128
// at 16 tokens. Its workspace takes twice the shared memory, so at K = 128
// one chunk-local warpgroup runs beside the two state warpgroups, and the
// idle fourth gives up its registers (setmaxnreg 24) so that the
// chunk-local one has 152 and the state ones 168 (their n64 accumulator).
// With 16 the A matrices' 2C rows would fill half of the m64 tile: they
// are m64 n32 over the channels' two halves instead (8 k8 steps), warps
// 0-1 holding Akk's rows, and warp 0 waits for warp 1's on an mbarrier of
// 32 arrivals (one per chunk-local warpgroup) halfway through the inverse.
// Either way a stage is ready on a named barrier (no cluster): the
// writer's 128 threads arrive, the two state warpgroups' 256 wait.

// C16: gpu.module @kda_forward_k128_v128_c16_p2_softplus_sigmoid_kv_gbf16_bf32_sf32_f32
// C16-SAME: chunk_local_warpgroups = 2 : i64, chunk_size = 16 : i64
// C16-SAME: tensor_map_box_rows = 16 : i64
// C16-COUNT-2: nvvm.mbarrier.init %{{.*}}, %c32_i32
// C16-NOT: nvvm.mbarrier.init
// C16: nvvm.setmaxregister  decrease 96
// C16: 1.280000e+02 : f32
// C16-COUNT-8: wgmma.mma_async.sync.aligned.m64n32k8.f32.tf32.tf32
// C16-NOT: wgmma.mma_async
// C16: nvvm.mbarrier.arrive %
// C16-NOT: wgmma.mma_async
// C16: nvvm.mbarrier.try_wait.parity
// C16-NOT: number_of_threads = %c64_i32
// C16: nvvm.barrier.arrive id = %{{.*}} number_of_threads = %c384_i32
// C16-NOT: wgmma.mma_async
// C16: nvvm.setmaxregister  increase 160
// C16: nvvm.barrier id = %{{.*}} number_of_threads = %c384_i32
// C16-COUNT-8: wgmma.mma_async.sync.aligned.m64n32k16.f32.bf16.bf16
// C16-NOT: wgmma.mma_async
// C16: nvvm.wgmma.commit.group.sync.aligned
// C16-NOT: wgmma.mma_async
// C16: wgmma.mma_async.sync.aligned.m64n16k16.f32.bf16.bf16 {{.*}} p, 1, 1, 1;
// C16-NOT: wgmma.mma_async
// C16: nvvm.wgmma.commit.group.sync.aligned
// C16-NOT: wgmma.mma_async
// C16: wgmma.mma_async.sync.aligned.m64n16k16.f32.bf16.bf16 {{.*}} p, 1, 1, 0;
// C16-NOT: wgmma.mma_async
// C16: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// C16-NOT: wgmma.mma_async
// C16: nvvm.wgmma.commit.group.sync.aligned
// C16-COUNT-1: stmatrix.sync.aligned.m8n8.x4.trans
// C16-NOT: stmatrix
// C16-NOT: nvvm.setmaxregister
// C16: llvm.return

// C32: gpu.module @kda_forward_k128_v128_c32_p2_cl1_h2_softplus_sigmoid_kv_gbf16_bf32_sf32_f32
// C32-SAME: chunk_local_warpgroups = 1 : i64, chunk_size = 32 : i64
// C32-SAME: shared_bytes = 217600 : i64, stages = 2 : i64
// C32-SAME: tensor_map_box_rows = 32 : i64
// C32-NOT: nvvm.mbarrier.init %{{.*}}, %c32_i32
// C32: nvvm.fence.mbarrier.init
// C32: nvvm.setmaxregister  increase 152
// C32: 1.600000e+02 : f32
// C32-COUNT-16: wgmma.mma_async.sync.aligned.m64n32k8.f32.tf32.tf32
// C32: nvvm.wgmma.wait.group.sync.aligned 0
// C32-NOT: number_of_threads = %c64_i32
// C32: nvvm.barrier id = {{%[0-9]+}} number_of_threads = %c128_i32
// C32-NOT: number_of_threads = %c64_i32
// C32-NOT: wgmma.mma_async
// C32: nvvm.setmaxregister  increase 168
// C32-COUNT-8: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16
// C32-NOT: wgmma.mma_async
// C32: nvvm.wgmma.commit.group.sync.aligned
// C32-NOT: wgmma.mma_async
// C32-COUNT-2: wgmma.mma_async.sync.aligned.m64n32k16.f32.bf16.bf16 {{.*}} p, 1, 1, 1;
// C32-NOT: wgmma.mma_async
// C32: nvvm.wgmma.commit.group.sync.aligned
// C32-NOT: wgmma.mma_async
// C32-COUNT-2: wgmma.mma_async.sync.aligned.m64n32k16.f32.bf16.bf16 {{.*}} p, 1, 1, 0;
// C32-NOT: wgmma.mma_async
// C32-COUNT-2: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// C32-NOT: wgmma.mma_async
// C32: nvvm.wgmma.commit.group.sync.aligned
// C32-COUNT-2: stmatrix.sync.aligned.m8n8.x4.trans
// C32-NOT: stmatrix
// C32: nvvm.setmaxregister  decrease 24
// C32: llvm.return

// TWO: error: 'kda.forward' op cannot be compiled yet: chunk_size = 32, stages = 2 with 2 chunk-local warpgroups: the kernel would take 343552 bytes of shared memory, more than the 232448 a CTA can have; take fewer stages or chunk-local warpgroups (1 at K = 128)
// THREE: error: 'kda.forward' op cannot be compiled yet: chunk_size = 32, stages = 3 with 1 chunk-local warpgroups and two handoff stages each: the kernel would take 250368 bytes of shared memory, more than the 232448 a CTA can have; take fewer stages{{$}}
// CLUSTER: error: 'kda.forward' op cannot be compiled yet: chunk_size = 32 with cluster_ctas = 2: 32-token chunks run without a cluster so far
// C64: error: 'kda.forward' op cannot be compiled yet: chunk_size = 64: the forward kernel takes 16- or 32-token chunks
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
