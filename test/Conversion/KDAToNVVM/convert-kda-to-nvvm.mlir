// RUN: kda-opt %s --convert-kda-to-nvvm | FileCheck %s

// FlashKDA's configuration (lower_bound gate, l2norm, sigmoid beta, vk
// states) becomes one gpu.module with the kernel and its launch manifest;
// the host function is gone (kda's runtime is the host side).

// CHECK: module attributes {gpu.container_module}
// CHECK-NOT: func.func
// CHECK-LABEL: gpu.module @kda_forward_k128_v128_c16_p2_lower_bound_sigmoid_l2norm_vk_gbf16_bbf16_sf32_f32
// CHECK-SAME: kda.manifest = {beta_dtype = "bf16", beta_mode = "sigmoid", chunk_local_warpgroups = 2 : i64, chunk_size = 16 : i64,
// CHECK-SAME: final_state_dtype = "f32", g_dtype = "bf16", gate = "lower_bound",
// CHECK-SAME: grid = "sequences value_heads head_ctas", handoff_depth = 1 : i64, head_ctas = 1 : i64, head_dim_k = 128 : i64,
// CHECK-SAME: head_dim_v = 128 : i64, initial_state_dtype = "f32",
// CHECK-SAME: kernel = "kda_forward_k128_v128_c16_p2_lower_bound_sigmoid_l2norm_vk_gbf16_bbf16_sf32_f32",
// CHECK-SAME: op = "forward", params = "q_map k_map v_map g_map beta A_log dt_bias initial_state cu_seqlens o final_state cu_seqlens_is_int64 seq_len heads value_heads scale lower_bound intermediate_states intermediate_interval intermediate_is_bf16",
// CHECK-SAME: qk_l2norm = 1 : i64, qkv_dtype = "bf16", segment_scan = 0 : i64, shared_bytes = 171392 : i64, stages = 2 : i64, state_layout = "vk",
// CHECK-SAME: tensor_map_box_rows = 16 : i64, tensor_map_swizzle = 0 : i64, tensor_maps = "q k v g", threads = 512 : i64, value_blocks = 1 : i64}
// CHECK: llvm.mlir.global external @kda_shared() {addr_space = 3 : i32, alignment = 1024 : i64} : !llvm.array<0 x i8>
// CHECK: llvm.func @kda_forward_k128_v128_c16_p2_lower_bound_sigmoid_l2norm_vk_gbf16_bbf16_sf32_f32(
// CHECK-SAME: %{{.*}}: !llvm.ptr {llvm.align = 64 : i64, llvm.byval = !llvm.array<128 x i8>, nvvm.grid_constant}
// CHECK-SAME: nvvm.kernel, nvvm.minctasm = 1 : i32, nvvm.reqntid = array<i32: 512, 1, 1>
// Four warpgroups in two roles, picked on a warp-uniform (shuffled) index:
// threads 0-255 compute each chunk's operands, threads 256-511 carry the
// state. Chunk-local warpgroup w takes chunks w, w + 2, ... in its own
// workspace, so two chunks are in flight: its loop steps by two chunks,
// waits for its tiles and for its handoff stage to be free, does the
// elementwise work, syncs its 128 threads on its own named barrier, starts
// the load of its chunk `stages` later once the tiles have been read, and
// ends with U and W (two m64 tiles each) and the stage marked ready. The
// loads are the last warp's first thread's (96), warp 0 inverts.
// CHECK: %[[WARPGROUP:.*]] = nvvm.shfl.sync  idx
// CHECK: %[[LOCAL:.*]] = arith.cmpi ult, %[[WARPGROUP]], %{{.*}} : i32
// CHECK: nvvm.mbarrier.init
// CHECK: scf.if %[[LOCAL]] {
// CHECK-NEXT: nvvm.setmaxregister  decrease 96
// CHECK-COUNT-8: nvvm.cp.async.bulk.tensor.shared.cluster.global
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c2_i32
// CHECK-NOT: nvvm.cp.async.bulk.tensor
// CHECK: nvvm.mbarrier.try_wait.parity
// CHECK: nvvm.mbarrier.try_wait.parity
// CHECK: nvvm.inline_ptx "ex2.approx.ftz.f32 $0, $1;"
// The gate's prefix sums over a thread's 16 rows: a full chunk's without
// checks; only a sequence's last chunk (fewer rows, a uniform branch) sets
// the log decays past its end to 0.
// CHECK: %[[FULL:.*]] = arith.cmpi eq, %{{.*}}, %c16_i32{{.*}} : i32
// CHECK-NEXT: %{{.*}}:16 = scf.if %[[FULL]] -> (f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32) {
// CHECK-NOT: arith.select
// CHECK: scf.yield
// CHECK-NEXT: } else {
// CHECK-COUNT-16: arith.select
// CHECK: scf.yield
// The lower_bound gate's G spans less than 5 nats a token, 80 over a
// chunk, within the factors' 128: no spread check (the other gates reduce
// it with bar.red.or, convert-kda-to-nvvm-modes.mlir) and no pairwise A
// matrices, only the warpgroup's barrier before the operands (4 + w, a
// register operand) and one after them.
// CHECK-NOT: bar.red.or
// CHECK: nvvm.barrier id = %{{.*}} number_of_threads = %c128_i32
// A chunk spans at most 80 nats, so the A matrices' factors are e^G and
// e^-G themselves (no reference row M): G, kept in log2 units, takes one
// ex2 per element and its reciprocal one rcp; q e^G and k e^G (k's row
// scale negated) are both factors and bf16 operands as they stand, and
// only (K e^(G_C - G))^T takes a multiply, of the right factor.
// CHECK: %[[E:.*]] = nvvm.inline_ptx "ex2.approx.ftz.f32 $0, $1;" ro(%{{[0-9]+}}#0 : f32) -> f32
// CHECK-NEXT: %[[KLEFT:.*]] = arith.mulf %{{.*}}, %[[E]] fastmath<contract> : f32
// CHECK-NEXT: %[[QLEFT:.*]] = arith.mulf %{{.*}}, %[[E]] fastmath<contract> : f32
// CHECK-NEXT: %[[R:.*]] = nvvm.inline_ptx "rcp.approx.ftz.f32 $0, $1;" ro(%[[E]] : f32) -> f32
// CHECK-NEXT: %[[KR:.*]] = arith.mulf %{{.*}}, %[[R]] fastmath<contract> : f32
// CHECK-NEXT: %[[RIGHT:.*]] = arith.mulf %[[KR]], %{{.*}} fastmath<contract> : f32
// CHECK: llvm.store %[[KLEFT]]
// CHECK: llvm.store %[[QLEFT]]
// CHECK: llvm.store %[[RIGHT]]
// CHECK-NEXT: %[[TOEND:.*]] = arith.mulf %[[RIGHT]], %{{.*}} fastmath<contract> : f32
// CHECK-NEXT: arith.truncf %[[KLEFT]] : f32 to bf16
// CHECK-NEXT: arith.truncf %[[TOEND]] : f32 to bf16
// CHECK-NEXT: arith.truncf %[[QLEFT]] : f32 to bf16
// CHECK-NOT: bar.red.or
// CHECK: nvvm.barrier id = %{{.*}} number_of_threads = %c128_i32
// The warpgroup runs K / 16 = 8 tf32 wgmma m64 n32 over its factor tiles,
// each 8-row group followed by its rows' second half of the channels (two
// accumulators, alternate k-steps, fp32 sums), no exponent taken; the next
// loads start while they are in flight, and no barrier of the warpgroup
// follows (warps 0-1 store Akk's rows, warp 1 arrives on an mbarrier that
// warp 0 waits on halfway through its inverse).
// The factor tiles are K-major without swizzle: 8-row groups of half the
// channels 2,304 bytes apart (144 << 32, swizzle mode 0), core matrices
// 144 apart along K (the leading-offset field 9: the base's 1 plus 8 << 16).
// CHECK: %[[GROUPS:.*]] = arith.constant 618475290624 : i64
// CHECK: %[[LEFT:.*]] = arith.addi %{{.*}}, %c{{[0-9]+}}_i32
// CHECK: %[[LEFT64:.*]] = arith.extui %[[LEFT]] : i32 to i64
// CHECK: arith.ori %[[LEFT64]], %[[GROUPS]] : i64
// CHECK: nvvm.wgmma.fence.aligned
// CHECK-NOT: ex2.approx
// CHECK-COUNT-8: llvm.inline_asm has_side_effects "{{.*}}wgmma.mma_async.sync.aligned.m64n32k8.f32.tf32.tf32 {$0, {{.*}}, $15}, $16, $17, p, 1, 1;
// CHECK-NOT: ex2.approx
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK-NOT: nvvm.wgmma.wait.group
// CHECK: arith.cmpi eq, %{{.*}}, %c96_i32
// CHECK: nvvm.mbarrier.arrive.expect_tx
// CHECK-COUNT-4: nvvm.cp.async.bulk.tensor.shared.cluster.global
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK-NOT: nvvm.barrier
// CHECK-NOT: nvvm.cp.async.bulk.tensor
// Warp 0 inverts (behind a warp sync only) and stores its lane's column
// of Tinv as a row of the N-major B operand Tinv^T into the stage: two
// 16-byte stores. No barrier and no product follow: every thread fences
// its stores and its warp arrives (bar.arrive) on the stage's `ready`, a
// named barrier of the writer's 128 threads and the state warpgroups' 256
// (the state side forms U and W's share of V' with Tinv^T).
// CHECK: nvvm.bar.warp.sync
// CHECK-NOT: nvvm.barrier
// CHECK-COUNT-2: llvm.store {{.*}} : vector<8xbf16>, !llvm.ptr<3>
// CHECK-NOT: llvm.store
// CHECK-NOT: nvvm.barrier
// CHECK-NOT: wgmma.mma_async
// CHECK: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// CHECK-NOT: nvvm.barrier id
// CHECK: nvvm.barrier.arrive id = %{{.*}} number_of_threads = %c384_i32
// The state side's loop carries S^T (64 fp32 per thread), waits on the
// stage's named `ready`, and runs 11 wgmma per warpgroup (8 x [O | X] = [0 | V^T]
// + S^T [(Q e^G)^T | -(K e^G)^T]; V' = X Tinv; O += V' Aqk; S), each taking
// its A operand from registers (inline PTX, four bf16 pairs): neither S^T,
// X nor V' goes through shared memory. (Q e^G)^T and -(K e^G)^T are the
// two N-major swizzle atoms of one n32 B operand (the last immediate,
// transpose-b, 1), 4096 bytes apart: its descriptor's leading byte offset,
// 256 units where the base has 1 (+ 255 << 16). The chunk-local side writes
// them a vector at a time. O^T goes to o transposed through shared memory: stmatrix
// .trans into the stage at the chunk's end; while the next chunk's first
// products are in flight, a barrier of the warpgroup's own 128 threads,
// one 16-byte load and one predicated 16-byte store per thread, and then
// the previous chunk's stage is freed (an arrival predicated off before
// the first chunk); after the loop, the same for the last chunk. It never
// waits for the other state warpgroup, only for the handoff. In the vk
// layout a thread's state values v and v + 1 are adjacent key channels of
// one row: the initial state comes in 32 8-byte loads per thread, issued
// before setmaxnreg (which waits for the chunk-local side's registers), the
// final state goes out in 32 8-byte stores.
// CHECK-COUNT-32: llvm.load {{.*}} {alignment = 8 : i64} : !llvm.ptr<1> -> vector<2xf32>
// CHECK-NOT: llvm.load {{.*}} : !llvm.ptr<1> -> f32
// CHECK: scf.yield {{.*}} : !llvm.struct<(f32
// CHECK-NEXT: }
// CHECK-NEXT: nvvm.setmaxregister  increase 160
// CHECK: scf.for {{.*}} -> (!llvm.struct<(f32
// CHECK: nvvm.barrier id = %{{.*}} number_of_threads = %c384_i32
// CHECK-NOT: nvvm.barrier
// CHECK: nvvm.wgmma.fence.aligned
// CHECK-NEXT: arith.constant 16711680 : i32
// CHECK-COUNT-8: llvm.inline_asm has_side_effects "{{.*}}wgmma.mma_async.sync.aligned.m64n32k16.f32.bf16.bf16 {$0, {{.*}}, $15}, {$16, $17, $18, $19}, $20, p, 1, 1, 1;
// CHECK-NOT: wgmma.mma_async.sync.aligned.m64n32k16
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK-NOT: nvvm.wgmma.wait.group
// CHECK: nvvm.barrier id = %{{.*}} number_of_threads = %c128_i32
// CHECK: llvm.load {{.*}} : !llvm.ptr<3> -> vector<4xi32>
// CHECK: llvm.inline_asm has_side_effects "{{.*}}@p st.global.v4.b32
// CHECK-NOT: nvvm.barrier
// CHECK: llvm.inline_asm has_side_effects "{{.*}}@p mbarrier.arrive.shared::cta.b64 _, [$0];
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK: nvvm.wgmma.fence.aligned
// CHECK: llvm.inline_asm has_side_effects "{{.*}}wgmma.mma_async.sync.aligned.m64n16k16.f32.bf16.bf16 {{.*}}, {$8, $9, $10, $11}, $12, p, 1, 1, 1;
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK: nvvm.wgmma.fence.aligned
// Aqk arrives negated (k's row scale), so O += V' Aqk negates V' (-1):
// CHECK: llvm.inline_asm has_side_effects "{{.*}}wgmma.mma_async.sync.aligned.m64n16k16.f32.bf16.bf16 {{.*}}, {$8, $9, $10, $11}, $12, p, -1, 1, 0;
// CHECK: llvm.inline_asm has_side_effects "{{.*}}wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {$0, {{.*}}, $63}, {$64, $65, $66, $67}, $68, p, 1, 1, 0;
// CHECK-NOT: nvvm.barrier
// CHECK: llvm.inline_asm has_side_effects "stmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// CHECK-NOT: nvvm.barrier
// CHECK: scf.yield
// CHECK: nvvm.barrier id = %{{.*}} number_of_threads = %c128_i32
// CHECK: llvm.load {{.*}} : !llvm.ptr<3> -> vector<4xi32>
// CHECK: llvm.inline_asm has_side_effects "{{.*}}@p st.global.v4.b32
// CHECK: llvm.inline_asm has_side_effects "{{.*}}@p mbarrier.arrive.shared::cta.b64 _, [$0];
// CHECK-NOT: wgmma.mma_async
// CHECK-COUNT-32: llvm.store {{.*}} {alignment = 8 : i64} : vector<2xf32>, !llvm.ptr<1>
// CHECK-NOT: llvm.store {{.*}} : f32, !llvm.ptr<1>
// CHECK: llvm.return
func.func @forward(%q: tensor<1x?x?x128xbf16>, %k: tensor<1x?x?x128xbf16>,
                   %v: tensor<1x?x?x128xbf16>, %g: tensor<1x?x?x128xbf16>,
                   %beta: tensor<1x?x?xbf16>, %a: tensor<?xf32>,
                   %b: tensor<?x128xf32>, %s0: tensor<?x?x128x128xf32>,
                   %cu: tensor<?xi64>)
    -> (tensor<1x?x?x128xbf16>, tensor<?x?x128x128xf32>) {
  %o, %s = kda.forward %q, %k, %v, %g, %beta A_log(%a) dt_bias(%b)
      initial_state(%s0) cu_seqlens(%cu)
      {gate = #kda.gate<lower_bound>, lower_bound = -5.0 : f64, qk_l2norm,
       beta_mode = #kda.beta<sigmoid>, state_layout = #kda.state_layout<vk>,
       chunk_size = 16}
      : (tensor<1x?x?x128xbf16>, tensor<1x?x?x128xbf16>, tensor<1x?x?x128xbf16>,
         tensor<1x?x?x128xbf16>, tensor<1x?x?xbf16>, tensor<?xf32>,
         tensor<?x128xf32>, tensor<?x?x128x128xf32>, tensor<?xi64>)
      -> (tensor<1x?x?x128xbf16>, tensor<?x?x128x128xf32>)
  return %o, %s : tensor<1x?x?x128xbf16>, tensor<?x?x128x128xf32>
}
