// RUN: kda-opt %s --convert-kda-to-nvvm | FileCheck %s

// Varlen offsets of either width and the intermediate states are launch
// arguments of the one forward kernel, not kernel variants: the op with i32
// cu_seqlens and intermediate states lowers to the kernel every forward of
// these choices uses, which reads each offset as i64 or i32 (the
// cu_seqlens_is_int64 argument), counts the entries of the sequences before
// its own (a loop over their offsets) and stores the state entering each
// chunk as bf16 or f32 (intermediate_is_bf16) when the pointer is not null.

// CHECK-LABEL: gpu.module @kda_forward_k128_v128_c16_p2_precomputed_plain_kv_gf32_bf32_sf32_f32
// CHECK-SAME: params = "q_map k_map v_map g_map beta A_log dt_bias initial_state cu_seqlens o final_state cu_seqlens_is_int64 seq_len heads value_heads scale lower_bound intermediate_states intermediate_interval intermediate_is_bf16"
// CHECK: llvm.func @kda_forward_k128_v128_c16_p2_precomputed_plain_kv_gf32_bf32_sf32_f32(
// The sequence's first and last offsets, each as i64 or i32.
// CHECK: llvm.load {{.*}} : !llvm.ptr<1> -> i64
// CHECK: llvm.load {{.*}} : !llvm.ptr<1> -> i32
// CHECK: llvm.load {{.*}} : !llvm.ptr<1> -> i64
// CHECK: llvm.load {{.*}} : !llvm.ptr<1> -> i32
// The first intermediate entry: ceil(len / interval) summed over the
// sequences before this one.
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (i64)
// CHECK: arith.divui {{.*}} : i64
// The chunk loop stores the entering state, 64 columns a thread, in both
// widths.
// CHECK: scf.for
// CHECK-COUNT-64: llvm.store {{.*}} : bf16, !llvm.ptr<1>
// CHECK: llvm.store {{.*}} : f32, !llvm.ptr<1>
func.func @forward(%q: tensor<1x?x4x128xbf16>, %g: tensor<1x?x4x128xf32>,
                   %beta: tensor<1x?x4xf32>, %cu: tensor<?xi32>)
    -> (tensor<1x?x4x128xbf16>, tensor<1x?x4x128x128xbf16>) {
  %o, %h = kda.forward %q, %q, %q, %g, %beta cu_seqlens(%cu)
      {intermediate_states, chunk_size = 16}
      : (tensor<1x?x4x128xbf16>, tensor<1x?x4x128xbf16>, tensor<1x?x4x128xbf16>,
         tensor<1x?x4x128xf32>, tensor<1x?x4xf32>, tensor<?xi32>)
      -> (tensor<1x?x4x128xbf16>, tensor<1x?x4x128x128xbf16>)
  return %o, %h : tensor<1x?x4x128xbf16>, tensor<1x?x4x128x128xbf16>
}
