// RUN: kda-opt %s --convert-kda-to-nvvm="value-blocks=2 cluster-ctas=2 stages=1" | FileCheck %s --check-prefix=CLUSTER
// RUN: kda-opt %s --convert-kda-to-nvvm="value-blocks=2 handoff-depth=2 stages=1" | FileCheck %s --check-prefix=SPLIT
// RUN: not kda-opt %s --convert-kda-to-nvvm 2>&1 | FileCheck %s --check-prefix=WHOLE

// K = 128 with V = 256: a CTA's two state warpgroups hold 128 value rows,
// so the state is split over two CTAs (value-blocks = 2, anything else is
// refused by name). Without a cluster each CTA computes the chunk-local
// work for its own 128 rows: v's TMA box is 128 columns (a chunk brings
// 16,384 bytes with bf16 g) and U is two m64 products, as at V = 128. As a
// cluster of the two, each CTA computes every other chunk for all 256 rows:
// a box of 256 columns (20,480 bytes), four U products, and each
// chunk-local thread writes value rows d and d + 128 of V^T (two more
// 16-byte stores per thread and chunk than without the cluster). The
// counts of 16-byte bf16 stores before the U products: the operands' 16
// (both spread paths), those two, and warp 0's two of a column of Tinv
// (a row of the B operand Tinv^T, N-major: the U and W products' last
// immediate, transpose-b, is 1).

// CLUSTER: gpu.module @kda_forward_k128_v256_c16_p1_vb2_cluster2_lower_bound_sigmoid_l2norm_kv_gbf16_bbf16_sf32_f32
// CLUSTER-SAME: head_ctas = 2 : i64
// CLUSTER-SAME: head_dim_v = 256 : i64
// CLUSTER-SAME: value_blocks = 2 : i64
// CLUSTER: nvvm.mbarrier.arrive.expect_tx %{{.*}}, %c20480_i32{{.*}} : !llvm.ptr<3>, i32
// CLUSTER-COUNT-20: llvm.store {{.*}} : vector<8xbf16>, !llvm.ptr<3>
// CLUSTER-NOT: llvm.store {{.*}} : vector<8xbf16>, !llvm.ptr<3>
// CLUSTER-COUNT-4: wgmma.mma_async.sync.aligned.m64n16k16.f32.bf16.bf16 {{.*}} p, 1, 1, 0, 1;
// CLUSTER-COUNT-2: wgmma.mma_async.sync.aligned.m64n16k16.f32.bf16.bf16 {{.*}} p, -1, 1, 0, 1;

// SPLIT: gpu.module @kda_forward_k128_v256_c16_p1_vb2_h2_lower_bound_sigmoid_l2norm_kv_gbf16_bbf16_sf32_f32
// SPLIT-SAME: head_ctas = 2 : i64
// SPLIT-SAME: head_dim_v = 256 : i64
// SPLIT-SAME: value_blocks = 2 : i64
// SPLIT: nvvm.mbarrier.arrive.expect_tx %{{.*}}, %c16384_i32{{.*}} : !llvm.ptr<3>, i32
// SPLIT-COUNT-18: llvm.store {{.*}} : vector<8xbf16>, !llvm.ptr<3>
// SPLIT-NOT: llvm.store {{.*}} : vector<8xbf16>, !llvm.ptr<3>
// SPLIT-COUNT-2: wgmma.mma_async.sync.aligned.m64n16k16.f32.bf16.bf16 {{.*}} p, 1, 1, 0, 1;
// SPLIT-COUNT-2: wgmma.mma_async.sync.aligned.m64n16k16.f32.bf16.bf16 {{.*}} p, -1, 1, 0, 1;

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
