// RUN: kda-opt %s --convert-kda-to-nvvm="segment-scan=1 value-blocks=2 cluster-ctas=2 stages=1" | FileCheck %s
// RUN: not kda-opt %s --convert-kda-to-nvvm="segment-scan=1 value-blocks=2 stages=1" 2>&1 | FileCheck %s --check-prefix=NOCLUSTER
// RUN: not kda-opt %s --convert-kda-to-nvvm="segment-scan=2 value-blocks=2 cluster-ctas=2 stages=1" 2>&1 | FileCheck %s --check-prefix=TWO

// The pass option `segment-scan` compiles a kda.forward as the segment
// scan (include/kda/Conversion/KDAToNVVM/SegmentKernels.h): the forward
// kernel at V = 2K over the segments, the value rows in one CTA of a
// cluster of two and the transition rows in the other. The transition
// rows' v is zero, so the chunk-local side hands over V^T for the value
// rows alone: v's TMA box is their 128 columns (16,384 bytes of tiles per
// chunk with bf16 g), and the transition CTA's copy of a stage stops
// before V^T (14,848 bytes, against 18,944 to the value CTA). In the same gpu.module, the composing kernel (its
// transitions copied in 16-byte pieces, the next segment's while this
// one's multiplies) and the correcting one (X's fragments by eight
// ldmatrix, then 16 n8 tiles x 8 k16 steps of mma.sync per warp). The manifest keeps the op's V = 128 and names the
// combining kernels. A split other than the cluster of two is refused by
// name (the other refusals: convert-kda-to-nvvm-segment-scan-refusals.mlir).

// CHECK: gpu.module @kda_forward_k128_v128_c16_p1_vb2_cluster2_segments_lower_bound_sigmoid_l2norm_vk_gbf16_bbf16_sf32_f32
// CHECK-SAME: compose_kernel = "kda_segment_compose_k128_v128"
// CHECK-SAME: compose_params = "ends entering final_state segments value_heads", compose_rows = 16 : i64, compose_shared_bytes = 139264 : i64, compose_threads = 128 : i64
// CHECK-SAME: correct_kernel = "kda_segment_correct_k128_v128", correct_params = "x entering o seq_len value_heads segments", correct_shared_bytes = 104448 : i64, correct_threads = 256 : i64
// CHECK-SAME: head_ctas = 2 : i64, head_dim_k = 128 : i64, head_dim_v = 128 : i64
// CHECK-SAME: segment_scan = 1 : i64, segment_tokens = 128 : i64, shared_bytes = 185728 : i64
// CHECK: llvm.func @kda_forward_k128_v128_c16_p1_vb2_cluster2_segments_
// CHECK: nvvm.mbarrier.arrive.expect_tx %{{.*}}, %c16384_i32{{.*}} : !llvm.ptr<3>, i32
// CHECK: expect_tx.shared::cluster.b64 _, [bar], 18944;\0A@p {{.*}} [dst], [$3], 18944, [bar];\0Asetp{{.*}}expect_tx.shared::cluster.b64 _, [bar], 14848;\0A@p {{.*}} [dst], [$3], 14848, [bar];\0A}
// CHECK-LABEL: llvm.func @kda_segment_compose_k128_v128(
// CHECK-SAME: nvvm.reqntid = array<i32: 128, 1, 1>
// CHECK-COUNT-32: nvvm.cp.async.shared.global {{.*}}, 16, cache = cg
// CHECK: scf.for
// CHECK-COUNT-32: nvvm.cp.async.shared.global {{.*}}, 16, cache = cg
// CHECK-NOT: nvvm.cp.async.shared.global
// CHECK-LABEL: llvm.func @kda_segment_correct_k128_v128(
// CHECK-SAME: nvvm.reqntid = array<i32: 256, 1, 1>
// CHECK-COUNT-8: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// CHECK-COUNT-128: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// CHECK-NOT: mma.sync
// NOCLUSTER: error: 'kda.forward' op cannot be compiled yet: segment_scan with value_blocks = 2, cluster_ctas = 0: the segment pass holds the value rows in one CTA and the transition rows in the other of a cluster of two (value_blocks = 2, cluster_ctas = 2)
// TWO: error: 'kda.forward' op cannot be compiled yet: segment_scan = 2: 0 (the chain alone) or 1 (the segment scan)
func.func @forward(%q: tensor<1x?x?x128xbf16>, %v: tensor<1x?x?x128xbf16>,
                   %g: tensor<1x?x?x128xbf16>, %beta: tensor<1x?x?xbf16>,
                   %s0: tensor<1x?x128x128xf32>)
    -> (tensor<1x?x?x128xbf16>, tensor<1x?x128x128xf32>) {
  %o, %s = kda.forward %q, %q, %v, %g, %beta initial_state(%s0)
      {gate = #kda.gate<lower_bound>, lower_bound = -5.0 : f64, qk_l2norm,
       beta_mode = #kda.beta<sigmoid>, state_layout = #kda.state_layout<vk>, chunk_size = 16}
      : (tensor<1x?x?x128xbf16>, tensor<1x?x?x128xbf16>, tensor<1x?x?x128xbf16>,
         tensor<1x?x?x128xbf16>, tensor<1x?x?xbf16>, tensor<1x?x128x128xf32>)
      -> (tensor<1x?x?x128xbf16>, tensor<1x?x128x128xf32>)
  return %o, %s : tensor<1x?x?x128xbf16>, tensor<1x?x128x128xf32>
}
