// RUN: kda-compile %s --emit=ptx -o %t.ptx
// RUN: FileCheck %s --input-file=%t.ptx
// RUN: %if ptxas %{ %ptxas -arch=sm_90a %t.ptx -o %t.cubin %}
// RUN: kda-compile %s -o %t.kdab
// RUN: FileCheck %s --check-prefix=BUNDLE --input-file=%t.kdab

// kda.forward all the way to PTX for sm_90a: TMA tile loads on an mbarrier,
// wgmma for every matrix product, dynamic shared memory aligned for the
// 128-byte swizzle, the two sides' register budgets (setmaxnreg); and the
// bundle kda-compile writes for the runtime. ptxas lays the two sides' code
// out in either order, so the body is checked without an order.

// CHECK: .version 8.0
// CHECK: .target sm_90a
// CHECK: .extern .shared .align 1024 .b8 kda_shared[];
// CHECK-LABEL: .entry kda_forward_k128_v128_c16_p2_precomputed_plain_kv_gf32_bf32_sf32_f32(
// CHECK: .reqntid 512, 1, 1
// CHECK: .minnctapersm 1
// Two TMA stages per chunk-local warpgroup, ready and free per handoff stage.
// CHECK-COUNT-8: mbarrier.init.shared.b64
// CHECK-DAG: setmaxnreg.inc.sync.aligned.u32 160;
// CHECK-DAG: setmaxnreg.dec.sync.aligned.u32 96;
// CHECK-DAG: cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// CHECK-DAG: mbarrier.try_wait.parity.shared.b64
// CHECK-DAG: ex2.approx.ftz.f32
// CHECK-DAG: bar.red.or.pred
// CHECK-DAG: wgmma.fence.sync.aligned
// On the state side, with A from registers: 8 x [O | X] as n32 products,
// V' = X Tinv and O += V' Aqk, and the state's update (the chunk-local side
// hands over Tinv, not U and W).
// RUN: grep -c "wgmma.mma_async.sync.aligned.m64n16k16.f32.bf16.bf16" %t.ptx | FileCheck %s --check-prefix=N16
// N16: {{^}}2{{$}}
// RUN: grep -c "wgmma.mma_async.sync.aligned.m64n32k16.f32.bf16.bf16" %t.ptx | FileCheck %s --check-prefix=N32
// N32: {{^}}8{{$}}
// RUN: grep -c "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16" %t.ptx | FileCheck %s --check-prefix=N128
// N128: {{^}}1{{$}}
// The A matrices from the factors, m64 n32 over the channels' two halves:
// K / 16 tf32 steps, and none of n16.
// RUN: grep -c "wgmma.mma_async.sync.aligned.m64n32k8.f32.tf32.tf32" %t.ptx | FileCheck %s --check-prefix=TF32
// TF32: {{^}}8{{$}}
// RUN: not grep -q "m64n16k8" %t.ptx

// BUNDLE: kda-bundle 1
// BUNDLE: gate precomputed
// BUNDLE: kernel kda_forward_k128_v128_c16_p2_precomputed_plain_kv_gf32_bf32_sf32_f32
// BUNDLE: shared_bytes {{[0-9]+}}
// BUNDLE: threads 512
// BUNDLE-NEXT: value_blocks 1
// BUNDLE-NEXT: ptx {{[0-9]+}}
// BUNDLE-NEXT: //
func.func @forward(%q: tensor<?x?x?x128xbf16>, %v: tensor<?x?x?x128xbf16>,
                   %g: tensor<?x?x?x128xf32>, %beta: tensor<?x?x?xf32>)
    -> tensor<?x?x?x128xbf16> {
  %o = kda.forward %q, %q, %v, %g, %beta {chunk_size = 16}
      : (tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>,
         tensor<?x?x?x128xf32>, tensor<?x?x?xf32>) -> tensor<?x?x?x128xbf16>
  return %o : tensor<?x?x?x128xbf16>
}
