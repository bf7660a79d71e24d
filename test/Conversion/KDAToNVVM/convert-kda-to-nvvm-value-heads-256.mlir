// RUN: kda-opt %s --convert-kda-to-nvvm="value-blocks=2 cluster-ctas=2 stages=1" | FileCheck %s --check-prefix=CLUSTER
// RUN: kda-opt %s --convert-kda-to-nvvm="value-blocks=2 handoff-depth=2 stages=1" | FileCheck %s --check-prefix=SPLIT
// RUN: not kda-opt %s --convert-kda-to-nvvm 2>&1 | FileCheck %s --check-prefix=WHOLE

// K = 128 with V = 256: a CTA's two state warpgroups hold 128 value rows,
// so the state is split over two CTAs (value-blocks = 2, anything else is
// refused by name). Without a cluster each CTA computes the chunk-local
// work for its own 128 rows: v's TMA box is 128 columns (a chunk brings
// 16,384 bytes with bf16 g), as at V = 128. As a cluster of the two, each
// CTA computes every other chunk for all 256 rows: a box of 256 columns
// (20,480 bytes), and each chunk-local thread writes value rows d and
// d + 128 of V^T (two more 16-byte stores per thread and chunk than without
// the cluster). The counts of 16-byte bf16 stores: the operands' 8 (the
// lower_bound gate's spread is bounded: one path), those two, and warp 0's
// two of a column of Tinv (a row of the B operand Tinv^T, N-major). The chunk-local side issues no product
// but the A matrices' tf32 ones; each state warpgroup takes V' = X Tinv
// (A from registers, transpose-b: the last immediate is 1) after its
// eight n32 products.

// CLUSTER: gpu.module @kda_forward_k128_v256_c16_p1_vb2_cluster2_lower_bound_sigmoid_l2norm_kv_gbf16_bbf16_sf32_f32
// CLUSTER-SAME: head_ctas = 2 : i64
// CLUSTER-SAME: head_dim_v = 256 : i64
// CLUSTER-SAME: value_blocks = 2 : i64
// CLUSTER: nvvm.mbarrier.arrive.expect_tx %{{.*}}, %c20480_i32{{.*}} : !llvm.ptr<3>, i32
// CLUSTER-COUNT-12: llvm.store {{.*}} : vector<8xbf16>, !llvm.ptr<3>
// CLUSTER-NOT: llvm.store {{.*}} : vector<8xbf16>, !llvm.ptr<3>
// CLUSTER-NOT: m64n16k16
// CLUSTER: nvvm.setmaxregister  increase 160
// CLUSTER-COUNT-8: wgmma.mma_async.sync.aligned.m64n32k16.f32.bf16.bf16 {{.*}} p, 1, 1, 1;
// CLUSTER: wgmma.mma_async.sync.aligned.m64n16k16.f32.bf16.bf16 {{.*}} p, 1, 1, 1;

// SPLIT: gpu.module @kda_forward_k128_v256_c16_p1_vb2_h2_lower_bound_sigmoid_l2norm_kv_gbf16_bbf16_sf32_f32
// SPLIT-SAME: head_ctas = 2 : i64
// SPLIT-SAME: head_dim_v = 256 : i64
// SPLIT-SAME: value_blocks = 2 : i64
// SPLIT: nvvm.mbarrier.arrive.expect_tx %{{.*}}, %c16384_i32{{.*}} : !llvm.ptr<3>, i32
// SPLIT-COUNT-10: llvm.store {{.*}} : vector<8xbf16>, !llvm.ptr<3>
// SPLIT-NOT: llvm.store {{.*}} : vector<8xbf16>, !llvm.ptr<3>
// SPLIT-NOT: m64n16k16
// SPLIT: nvvm.setmaxregister  increase 160
// SPLIT-COUNT-8: wgmma.mma_async.sync.aligned.m64n32k16.f32.bf16.bf16 {{.*}} p, 1, 1, 1;
// SPLIT: wgmma.mma_async.sync.aligned.m64n16k16.f32.bf16.bf16 {{.*}} p, 1, 1, 1;

// WHOLE: error: 'kda.forward' op cannot be compiled yet: value_blocks = 1: V = 256 takes its state's rows in two CTAs of 128 (value_blocks = 2)
func.func @forward(%q: tensor<?x?x?x128xbf16>, %v: tensor<?x?x?x256xbf16>,
                   %g: tensor<?x?x?x128xbf16>, %beta: tensor<?x?x?xbf16>)
    -> tensor<?x?x?x256xbf16> {
  %o = kda.forward %q, %q, %v, %g, %beta
      {gate = #kda.gate<lower_bound>, lower_bound = -5.0 : f64, qk_l2norm,
       beta_mode = #kda.beta<sigmoid>, chunk_size = 16}
      : (tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>, tensor<?x?x?x256xbf16>,
         tensor<?x?x?x128xbf16>, tensor<?x?x?xbf16>) -> tensor<?x?x?x256xbf16>
  return %o : tensor<?x?x?x256xbf16>
}
