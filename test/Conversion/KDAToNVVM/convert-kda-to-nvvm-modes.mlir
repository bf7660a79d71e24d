// RUN: kda-opt %s --convert-kda-to-nvvm | FileCheck %s
// RUN: kda-opt %s --convert-kda-to-nvvm | FileCheck %s --check-prefix=KV

// The unbounded softplus gate (Kimi-Linear-48B's) at head size 64: the gate
// is -exp(A_log) * softplus(g + dt_bias), computed overflow-free as
// max(x, 0) + ln(1 + exp(-|x|)) (lg2 of 1 + ex2), and the state update is a
// single m64 n64 k16 wgmma (the state is K = 64 wide).

// CHECK-LABEL: gpu.module @kda_forward_k64_v64_c16_p2_softplus_sigmoid_l2norm_kv_gf32_bf32_sf32_f32
// CHECK-SAME: gate = "softplus"
// CHECK-SAME: head_dim_k = 64 : i64, head_dim_v = 64 : i64
// CHECK: llvm.func @kda_forward_k64_v64_c16_p2_softplus_sigmoid_l2norm_kv_gf32_bf32_sf32_f32(
// CHECK: scf.for
// CHECK: nvvm.inline_ptx "ex2.approx.ftz.f32 $0, $1;"
// CHECK: nvvm.inline_ptx "lg2.approx.ftz.f32 $0, $1;"
// Whether any channel's G spans more than 128 nats in the chunk (this gate
// is unbounded), reduced over the warpgroup; then the A matrices on tensor
// cores where the spread allows: m64 n32 over the channels' two halves,
// K / 16 = 4 tf32 steps, and pairwise on CUDA cores where it does not.
// CHECK: bar.red.or.pred q, $2, 128, p;
// CHECK-COUNT-4: llvm.inline_asm has_side_effects "{{.*}}wgmma.mma_async.sync.aligned.m64n32k8.f32.tf32.tf32
// On the state side K / 16 = 4 n32 products [O | X], then V' = X Tinv
// (transpose-b), O += V' Aqk and the state's update.
// CHECK-NOT: m64n16k16
// CHECK-COUNT-4: llvm.inline_asm has_side_effects "{{.*}}wgmma.mma_async.sync.aligned.m64n32k16.f32.bf16.bf16
// CHECK: llvm.inline_asm has_side_effects "{{.*}}wgmma.mma_async.sync.aligned.m64n16k16.f32.bf16.bf16 {{.*}} p, 1, 1, 1;
// CHECK: llvm.inline_asm has_side_effects "{{.*}}wgmma.mma_async.sync.aligned.m64n16k16.f32.bf16.bf16 {{.*}} p, 1, 1, 0;
// CHECK: llvm.inline_asm has_side_effects "{{.*}}wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16
// CHECK-NOT: wgmma.mma_async

// In the kv layout a thread's state values v and v + 1 lie V apart: the
// state is read and written one value at a time (the vk layout pairs them),
// before setmaxnreg; %arg7 is initial_state.
// KV: llvm.getelementptr %arg7[
// KV-COUNT-32: llvm.load {{.*}} : !llvm.ptr<1> -> f32
// KV-NEXT: llvm.insertvalue
// KV-NEXT: scf.yield
// KV-NEXT: }
// KV-NEXT: nvvm.setmaxregister  increase 160
// KV-NOT: vector<2xf32>, !llvm.ptr<1>
// KV: scf.for
// KV-NOT: vector<2xf32>, !llvm.ptr<1>
// KV-COUNT-32: llvm.store {{.*}} : f32, !llvm.ptr<1>
// KV-NOT: vector<2xf32>, !llvm.ptr<1>
// KV: llvm.return
func.func @kimi_linear(%q: tensor<1x?x?x64xbf16>, %v: tensor<1x?x?x64xbf16>,
                       %g: tensor<1x?x?x64xf32>, %beta: tensor<1x?x?xf32>,
                       %a: tensor<?xf32>, %b: tensor<?xf32>)
    -> (tensor<1x?x?x64xbf16>, tensor<?x?x64x64xf32>) {
  %o, %s = kda.forward %q, %q, %v, %g, %beta A_log(%a) dt_bias(%b)
      {gate = #kda.gate<softplus>, qk_l2norm, beta_mode = #kda.beta<sigmoid>,
       chunk_size = 16}
      : (tensor<1x?x?x64xbf16>, tensor<1x?x?x64xbf16>, tensor<1x?x?x64xbf16>,
         tensor<1x?x?x64xf32>, tensor<1x?x?xf32>, tensor<?xf32>, tensor<?xf32>)
      -> (tensor<1x?x?x64xbf16>, tensor<?x?x64x64xf32>)
  return %o, %s : tensor<1x?x?x64xbf16>, tensor<?x?x64x64xf32>
}
