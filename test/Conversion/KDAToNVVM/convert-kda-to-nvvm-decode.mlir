// RUN: kda-opt %s --convert-kda-to-nvvm | FileCheck %s

// kda.decode becomes its own kernel: one CTA per (sequence, value head,
// block of 64 value columns), each thread copying a 64-float tile of the
// state into shared memory with 16-byte cp.async (so shared memory, not
// registers, bounds the CTAs in flight), reading it there in both passes
// and writing it back into the pool in 16-byte vectors; a negative state
// index writes a zero output row.

// CHECK: module attributes {gpu.container_module}
// CHECK-NOT: func.func
// CHECK-LABEL: gpu.module @kda_decode_k128_v128_softplus_sigmoid_l2norm_vk_gf32_bf32_sf32
// CHECK-SAME: grid = "sequences value_heads value_blocks"
// CHECK-SAME: op = "decode"
// CHECK-SAME: params = "q k v g beta A_log dt_bias state_pool state_indices o state_indices_is_int64 heads value_heads scale lower_bound"
// CHECK-SAME: pool_dtype = "f32"
// CHECK-SAME: threads = 128 : i64, value_blocks = 2 : i64
// CHECK: llvm.func @kda_decode_k128_v128_softplus_sigmoid_l2norm_vk_gf32_bf32_sf32(
// CHECK-SAME: nvvm.kernel, nvvm.minctasm = 5 : i32, nvvm.reqntid = array<i32: 128, 1, 1>
// CHECK: nvvm.read.ptx.sreg.ctaid.z
// The tile's copies are issued first (16 lines of 4 floats), before the
// gate's math, and waited for before pass 1.
// CHECK-COUNT-16: nvvm.cp.async.shared.global {{.*}}, 16, cache =  cg : !llvm.ptr<3>, !llvm.ptr<1>
// CHECK-NEXT: nvvm.cp.async.commit.group
// CHECK: nvvm.inline_ptx "lg2.approx.ftz.f32 $0, $1;"
// CHECK: nvvm.shfl.sync  bfly
// CHECK: nvvm.barrier0
// CHECK: nvvm.cp.async.wait.group 0
// CHECK-COUNT-16: llvm.load {{.*}} {alignment = 16 : i64} : !llvm.ptr<3> -> vector<4xf32>
// CHECK: nvvm.barrier0
// CHECK: nvvm.barrier0
// Pass 2 reads each line again and stores it updated.
// CHECK-COUNT-16: llvm.store {{.*}} {alignment = 16 : i64} : vector<4xf32>, !llvm.ptr<1>
// CHECK-NOT: llvm.store {{.*}} vector<4xf32>
// CHECK-NOT: nvvm.wgmma
func.func @decode(%q: tensor<?x?x128xbf16>, %v: tensor<?x?x128xbf16>,
                  %g: tensor<?x?x128xf32>, %beta: tensor<?x?xf32>, %a: tensor<?xf32>,
                  %pool: tensor<?x?x128x128xf32>, %idx: tensor<?xi64>)
    -> tensor<?x?x128xbf16> {
  %o, %pool1 = kda.decode %q, %q, %v, %g, %beta A_log(%a) state_pool(%pool)
      state_indices(%idx)
      {gate = #kda.gate<softplus>, qk_l2norm, beta_mode = #kda.beta<sigmoid>,
       state_layout = #kda.state_layout<vk>}
      : (tensor<?x?x128xbf16>, tensor<?x?x128xbf16>, tensor<?x?x128xbf16>,
         tensor<?x?x128xf32>, tensor<?x?xf32>, tensor<?xf32>,
         tensor<?x?x128x128xf32>, tensor<?xi64>)
      -> (tensor<?x?x128xbf16>, tensor<?x?x128x128xf32>)
  return %o : tensor<?x?x128xbf16>
}

// K = V = 64, kv layout, precomputed gate: one block of 64 columns, 64
// threads, each copying 16 rows of 4 columns.

// CHECK-LABEL: gpu.module @kda_decode_k64_v64_precomputed_plain_kv_gf32_bf32_sf32
// CHECK-SAME: threads = 64 : i64, value_blocks = 1 : i64
// CHECK: llvm.func @kda_decode_k64_v64_precomputed_plain_kv_gf32_bf32_sf32(
// CHECK-SAME: nvvm.minctasm = 8 : i32, nvvm.reqntid = array<i32: 64, 1, 1>
// CHECK-COUNT-16: nvvm.cp.async.shared.global
// CHECK-NOT: nvvm.shfl.sync
// CHECK-COUNT-16: llvm.store {{.*}} {alignment = 16 : i64} : vector<4xf32>, !llvm.ptr<1>
func.func @decode64(%q: tensor<?x?x64xbf16>, %g: tensor<?x?x64xf32>,
                    %beta: tensor<?x?xf32>, %pool: tensor<?x?x64x64xf32>,
                    %idx: tensor<?xi32>) -> tensor<?x?x64xbf16> {
  %o, %pool1 = kda.decode %q, %q, %q, %g, %beta state_pool(%pool) state_indices(%idx)
      : (tensor<?x?x64xbf16>, tensor<?x?x64xbf16>, tensor<?x?x64xbf16>,
         tensor<?x?x64xf32>, tensor<?x?xf32>, tensor<?x?x64x64xf32>, tensor<?xi32>)
      -> (tensor<?x?x64xbf16>, tensor<?x?x64x64xf32>)
  return %o : tensor<?x?x64xbf16>
}
