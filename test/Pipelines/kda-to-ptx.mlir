// RUN: not kda-opt %s --kda-to-ptx 2>&1 | FileCheck %s --check-prefix=DEFAULT
// RUN: kda-opt %s --kda-to-ptx=chunk-size=16 | FileCheck %s
// RUN: kda-opt %s --kda-to-ptx="chunk-size=16 ptx-version=85" | FileCheck %s --check-prefix=OPTIONS
// RUN: not kda-opt %s --kda-to-ptx="chunk-size=32" 2>&1 | FileCheck %s --check-prefix=CHUNK32
// RUN: kda-opt %s --kda-to-ptx="chunk-size=32 chunk-local-warpgroups=1 handoff-depth=2 stages=1" | FileCheck %s --check-prefix=CHUNK32ONE
// RUN: kda-compile %s --chunk-size=32 --chunk-local-warpgroups=1 --handoff-depth=2 --stages=1 -o %t.c32.kdab
// RUN: FileCheck %s --check-prefix=BUNDLE32 --input-file=%t.c32.kdab
// RUN: not kda-opt %s --kda-to-ptx="chip=sm_80" 2>&1 | FileCheck %s --check-prefix=CHIP
// RUN: kda-opt %s --kda-to-ptx="chunk-size=16 stages=1" | FileCheck %s --check-prefix=STAGES
// RUN: not kda-opt %s --kda-to-ptx="chunk-size=16 stages=3" 2>&1 | FileCheck %s --check-prefix=STAGES3
// RUN: not kda-opt %s --kda-to-ptx="chunk-size=16 stages=0" 2>&1 | FileCheck %s --check-prefix=STAGES0
// RUN: kda-compile %s --chunk-size=16 -o %t.kdab
// RUN: FileCheck %s --check-prefix=BUNDLE --input-file=%t.kdab
// RUN: kda-compile %s --chunk-size=16 --stages=1 -o %t.1.kdab
// RUN: FileCheck %s --check-prefix=BUNDLE1 --input-file=%t.1.kdab
// RUN: kda-opt %s --kda-to-ptx="chunk-size=16 value-blocks=2" | FileCheck %s --check-prefix=SPLIT
// RUN: not kda-opt %s --kda-to-ptx="chunk-size=16 value-blocks=4" 2>&1 | FileCheck %s --check-prefix=SPLIT4
// RUN: kda-compile %s --chunk-size=16 --value-blocks=2 -o %t.vb2.kdab
// RUN: FileCheck %s --check-prefix=BUNDLEVB2 --input-file=%t.vb2.kdab

// kda-to-ptx: kda.forward to PTX in one pipeline. The schedule's chunk size
// is a pipeline option: 0 (the default) takes the op's chunk_size (the
// default 64 here, which the schedule does not have: an error on the op),
// 16 or 32 override it (32 with one chunk-local warpgroup at K = 128, whose
// workspace takes twice the shared memory;
// convert-kda-to-nvvm-chunk-size.mlir checks what it emits). So is the depth of the TMA rings (`stages`,
// default 2; convert-kda-to-nvvm-stages.mlir checks what it emits), and
// the split of the value rows across CTAs (`value-blocks`, default 1;
// convert-kda-to-nvvm-value-blocks.mlir).

// DEFAULT: error: 'kda.forward' op cannot be compiled yet: chunk_size = 64

// CHECK: gpu.binary @kda_forward_k128_v128_c16_p2_precomputed_plain_kv_gf32_bf32_sf32_f32
// CHECK-SAME: #nvvm.target<O = 3, chip = "sm_90a", features = "+ptx80">
// CHECK-SAME: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16

// OPTIONS: gpu.binary @kda_forward_k128_v128_c16_p2_precomputed_plain_kv_gf32_bf32_sf32_f32
// OPTIONS-SAME: features = "+ptx85"

// STAGES: gpu.binary @kda_forward_k128_v128_c16_p1_precomputed_plain_kv_gf32_bf32_sf32_f32

// Three stages of fp32 g tiles in each of the two rings do not fit.
// STAGES3: error: 'kda.forward' op cannot be compiled yet: stages = 3 with 2 chunk-local warpgroups: the kernel would take 245376 bytes of shared memory, more than the 232448 a CTA can have; take fewer stages

// STAGES0: error: 'kda.forward' op cannot be compiled yet: stages = 0: the TMA ring takes 1 to 4 stages

// CHUNK32: error: 'kda.forward' op cannot be compiled yet: chunk_size = 32, stages = 2 with 2 chunk-local warpgroups: the kernel would take 409600 bytes of shared memory, more than the 232448 a CTA can have; take fewer stages or chunk-local warpgroups (1 at K = 128)

// CHUNK32ONE: gpu.binary @kda_forward_k128_v128_c32_p1_cl1_h2_precomputed_plain_kv_gf32_bf32_sf32_f32
// CHUNK32ONE-SAME: wgmma.mma_async.sync.aligned.m64n32k8.f32.tf32.tf32
// CHUNK32ONE-SAME: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16

// BUNDLE32: chunk_local_warpgroups 1
// BUNDLE32: chunk_size 32
// BUNDLE32: handoff_depth 2
// BUNDLE32: shared_bytes 209920
// BUNDLE32: stages 1
// BUNDLE32: tensor_map_box_rows 32

// CHIP: kda-to-ptx: option 'chip' must be sm_90a (wgmma and setmaxnreg need it), got 'sm_80'

// BUNDLE: chunk_size 16
// BUNDLE: grid sequences value_heads head_ctas
// BUNDLE: stages 2
// BUNDLE: tensor_map_box_rows 16
// BUNDLE: value_blocks 1

// BUNDLE1: kernel kda_forward_k128_v128_c16_p1_precomputed_plain_kv_gf32_bf32_sf32_f32
// BUNDLE1: stages 1

// SPLIT: gpu.binary @kda_forward_k128_v128_c16_p2_vb2_precomputed_plain_kv_gf32_bf32_sf32_f32

// SPLIT4: error: 'kda.forward' op cannot be compiled yet: value_blocks = 4: V = 128 splits only into blocks of a multiple of 64 value rows (1 to 2 blocks)

// BUNDLEVB2: kernel kda_forward_k128_v128_c16_p2_vb2_precomputed_plain_kv_gf32_bf32_sf32_f32
// BUNDLEVB2: value_blocks 2
func.func @forward(%q: tensor<?x?x?x128xbf16>, %v: tensor<?x?x?x128xbf16>,
                   %g: tensor<?x?x?x128xf32>, %beta: tensor<?x?x?xf32>)
    -> tensor<?x?x?x128xbf16> {
  %o = kda.forward %q, %q, %v, %g, %beta
      : (tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>,
         tensor<?x?x?x128xf32>, tensor<?x?x?xf32>) -> tensor<?x?x?x128xbf16>
  return %o : tensor<?x?x?x128xbf16>
}
