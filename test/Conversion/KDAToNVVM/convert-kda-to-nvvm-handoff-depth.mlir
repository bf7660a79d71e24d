// RUN: kda-opt %s --convert-kda-to-nvvm="handoff-depth=2 stages=1" | FileCheck %s
// RUN: kda-opt %s --convert-kda-to-nvvm="handoff-depth=2 stages=2" | FileCheck %s --check-prefix=RING
// RUN: not kda-opt %s --convert-kda-to-nvvm="handoff-depth=2 stages=3" 2>&1 | FileCheck %s --check-prefix=DEEP
// RUN: not kda-opt %s --convert-kda-to-nvvm="handoff-depth=3 stages=1" 2>&1 | FileCheck %s --check-prefix=THREE

// The pass option `handoff-depth` gives each chunk-local warpgroup that
// many handoff stages: chunk c goes to stage c % (2 L) with two, so
// warpgroup w (chunks w, w + L, ...) writes its next chunk's operands while
// the state side has yet to read its last, instead of waiting for that read
// before it starts. Each stage has its `free` mbarrier (count 256, both
// state warpgroups') and its `ready` named barrier (384 threads: the
// writing warpgroup's arrive, the state warpgroups' wait): four of each
// with two chunk-local warpgroups. The loop still steps by L chunks; a
// stage's n-th use is chunk / 4's. Four stages of
// 21,504 bytes leave room for two TMA stages per ring with bf16 g at
// K = 128, where G stays in registers from the gate to the operands and
// the workspace's copy, which only the pairwise A matrices read, takes the
// factor tiles' place.

// CHECK: gpu.module @kda_forward_k128_v128_c16_p1_h2_softplus_sigmoid_kv_gbf16_bf32_sf32_f32
// CHECK-SAME: handoff_depth = 2 : i64
// CHECK-SAME: shared_bytes = 185728 : i64, stages = 1 : i64
// CHECK-COUNT-2: nvvm.mbarrier.init %{{.*}}, %c1_i32
// CHECK-COUNT-4: nvvm.mbarrier.init %{{.*}}, %c256_i32
// CHECK-COUNT-2: nvvm.mbarrier.init %{{.*}}, %c32_i32
// CHECK-NOT: nvvm.mbarrier.init
// CHECK: nvvm.fence.mbarrier.init
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c2_i32
// A chunk from the fifth on waits for its stage's previous use (chunk - 4).
// CHECK: arith.cmpi sle, %c4_i32{{.*}}, %{{.*}} : i32
// CHECK: arith.divui %{{.*}}, %c4_i32{{.*}} : i32
// CHECK: nvvm.mbarrier.try_wait.parity
// Its stage (chunk % 4) is ready on named barrier 10 + stage: the writer
// arrives, the state side waits (with the stage's 384 threads).
// CHECK: %[[STAGE:.*]] = arith.remui %arg{{[0-9]+}}, %c4_i32{{[_0-9]*}} : i32
// CHECK-NEXT: %c10_i32{{[_0-9]*}} = arith.constant 10 : i32
// CHECK-NEXT: %[[READY:.*]] = arith.addi %c10_i32{{[_0-9]*}}, %[[STAGE]] : i32
// CHECK-NEXT: %c384_i32 = arith.constant 384 : i32
// CHECK-NEXT: nvvm.barrier.arrive id = %[[READY]] number_of_threads = %c384_i32
// CHECK: nvvm.setmaxregister  increase 160
// CHECK: nvvm.barrier id = %{{.*}} number_of_threads = %c384_i32

// RING: gpu.module @kda_forward_k128_v128_c16_p2_h2_softplus_sigmoid_kv_gbf16_bf32_sf32_f32
// RING-SAME: shared_bytes = 218496 : i64, stages = 2 : i64
// RING-COUNT-4: nvvm.mbarrier.init %{{.*}}, %c1_i32

// DEEP: error: 'kda.forward' op cannot be compiled yet: stages = 3 with 2 chunk-local warpgroups and two handoff stages each: the kernel would take 251264 bytes of shared memory, more than the 232448 a CTA can have; take fewer stages

// THREE: error: 'kda.forward' op cannot be compiled yet: handoff_depth = 3: a chunk-local warpgroup has 1 or 2 handoff stages
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
