// RUN: kda-compile %s --emit=ptx -o %t.ptx
// RUN: FileCheck %s --check-prefix=PTX < %t.ptx
// RUN: %if ptxas %{ %ptxas -arch=sm_90a %t.ptx -o %t.cubin %}
// RUN: kda-opt %s --kda-gpu-to-ptx | FileCheck %s --check-prefix=BINARY

// The toolchain smoke kernel: D[64x16] (f32) = A[64x64] (bf16) . B[16x64]^T
// (bf16), the Q.K^T shape. Both operands arrive by TMA (128-byte swizzle,
// tensor maps passed by value as __grid_constant__ parameters) on one
// mbarrier; four wgmma.m64n16k16 read them through K-major shared-memory
// descriptors; each thread stores its 8 accumulators. test/gpu runs the PTX
// this file compiles to and checks D exactly (test_gpu_smoke.c).
//
// Descriptor (K-major, 128-byte swizzle): start address >> 4 in bits 0-13,
// leading byte offset 1 (unused for swizzled K-major) in bits 16-29, stride
// byte offset 1024 >> 4 (eight 128-byte rows) in bits 32-45, swizzle mode 1
// (128B) in bits 62-63. Each k16 step advances the start by 32 bytes (+2).

// PTX-LABEL: .entry kda_smoke_gemm(
// PTX-DAG: .param .align 64 .b8 kda_smoke_gemm_param_0[128]
// PTX-DAG: mbarrier.init.shared
// PTX-DAG: mbarrier.arrive.expect_tx
// PTX-COUNT-2: cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// PTX: mbarrier.try_wait.parity
// PTX: wgmma.fence.sync.aligned
// PTX-COUNT-4: wgmma.mma_async.sync.aligned.m64n16k16.f32.bf16.bf16
// PTX: wgmma.commit_group.sync.aligned
// PTX: wgmma.wait_group.sync.aligned 0

// BINARY: gpu.binary @kda_smoke
// BINARY-SAME: #nvvm.target<O = 3, chip = "sm_90a", features = "+ptx80">

module attributes {gpu.container_module} {
gpu.module @kda_smoke {
  llvm.mlir.global internal @operands() {addr_space = 3 : i32, alignment = 1024 : i64} : !llvm.array<10240 x i8>
  llvm.mlir.global internal @full() {addr_space = 3 : i32, alignment = 8 : i64} : i64

  llvm.func @kda_smoke_gemm(
      %map_a: !llvm.ptr {llvm.byval = !llvm.array<128 x i8>, llvm.align = 64 : i64, nvvm.grid_constant},
      %map_b: !llvm.ptr {llvm.byval = !llvm.array<128 x i8>, llvm.align = 64 : i64, nvvm.grid_constant},
      %d: !llvm.ptr<1>) attributes {nvvm.kernel, nvvm.reqntid = array<i32: 128, 1, 1>} {
    %c0 = llvm.mlir.constant(0 : i32) : i32
    %c1 = llvm.mlir.constant(1 : i32) : i32
    %c4 = llvm.mlir.constant(4 : i32) : i32
    %c8 = llvm.mlir.constant(8 : i32) : i32
    %c16 = llvm.mlir.constant(16 : i32) : i32
    %c32 = llvm.mlir.constant(32 : i32) : i32
    %bytes = llvm.mlir.constant(10240 : i32) : i32  // 64x64 + 16x64 bf16
    %ticks = llvm.mlir.constant(10000000 : i32) : i32
    %tid = nvvm.read.ptx.sreg.tid.x : i32
    %leader = llvm.icmp "eq" %tid, %c0 : i32
    %base = llvm.mlir.addressof @operands : !llvm.ptr<3>
    %bar = llvm.mlir.addressof @full : !llvm.ptr<3>
    %smem_b = llvm.getelementptr %base[8192] : (!llvm.ptr<3>) -> !llvm.ptr<3>, i8
    llvm.cond_br %leader, ^init, ^synced
  ^init:
    nvvm.mbarrier.init %bar, %c1 : !llvm.ptr<3>, i32
    nvvm.fence.mbarrier.init
    llvm.br ^synced
  ^synced:
    nvvm.barrier0
    llvm.cond_br %leader, ^load, ^wait
  ^load:
    nvvm.mbarrier.arrive.expect_tx %bar, %bytes : !llvm.ptr<3>, i32
    %dst_a = llvm.addrspacecast %base : !llvm.ptr<3> to !llvm.ptr<7>
    %dst_b = llvm.addrspacecast %smem_b : !llvm.ptr<3> to !llvm.ptr<7>
    nvvm.cp.async.bulk.tensor.shared.cluster.global %dst_a, %map_a, %bar, box[%c0, %c0] : !llvm.ptr<7>, !llvm.ptr
    nvvm.cp.async.bulk.tensor.shared.cluster.global %dst_b, %map_b, %bar, box[%c0, %c0] : !llvm.ptr<7>, !llvm.ptr
    llvm.br ^wait
  ^wait:
    nvvm.mbarrier.try_wait.parity %bar, %c0, %ticks : !llvm.ptr<3>, i32, i32

    // Shared-memory matrix descriptors.
    %addr_a = llvm.ptrtoint %base : !llvm.ptr<3> to i64
    %addr_b = llvm.ptrtoint %smem_b : !llvm.ptr<3> to i64
    %c4_64 = llvm.mlir.constant(4 : i64) : i64
    %mask14 = llvm.mlir.constant(16383 : i64) : i64
    %fixed = llvm.mlir.constant(4611686293305294848 : i64) : i64  // (1 << 62) | (64 << 32) | (1 << 16)
    %sa = llvm.lshr %addr_a, %c4_64 : i64
    %sa14 = llvm.and %sa, %mask14 : i64
    %desc_a = llvm.or %sa14, %fixed : i64
    %sb = llvm.lshr %addr_b, %c4_64 : i64
    %sb14 = llvm.and %sb, %mask14 : i64
    %desc_b = llvm.or %sb14, %fixed : i64

    %zero = llvm.mlir.constant(0.0 : f32) : f32
    %undef = llvm.mlir.undef : !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32)>
    %acc_init0 = llvm.insertvalue %zero, %undef[0] : !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32)>
    %acc_init1 = llvm.insertvalue %zero, %acc_init0[1] : !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32)>
    %acc_init2 = llvm.insertvalue %zero, %acc_init1[2] : !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32)>
    %acc_init3 = llvm.insertvalue %zero, %acc_init2[3] : !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32)>
    %acc_init4 = llvm.insertvalue %zero, %acc_init3[4] : !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32)>
    %acc_init5 = llvm.insertvalue %zero, %acc_init4[5] : !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32)>
    %acc_init6 = llvm.insertvalue %zero, %acc_init5[6] : !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32)>
    %acc_init7 = llvm.insertvalue %zero, %acc_init6[7] : !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32)>
    nvvm.wgmma.fence.aligned
    %acc0 = nvvm.wgmma.mma_async %desc_a, %desc_b, %acc_init7, <m = 64, n = 16, k = 16>, D[<f32>, <zero>, <wrapped>], A[<bf16>, <one>, <row>], B[<bf16>, <one>, <col>] : !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32)> -> !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32)>
    %step1 = llvm.mlir.constant(2 : i64) : i64
    %da1 = llvm.add %desc_a, %step1 : i64
    %db1 = llvm.add %desc_b, %step1 : i64
    %acc1 = nvvm.wgmma.mma_async %da1, %db1, %acc0, <m = 64, n = 16, k = 16>, D[<f32>, <one>, <wrapped>], A[<bf16>, <one>, <row>], B[<bf16>, <one>, <col>] : !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32)> -> !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32)>
    %step2 = llvm.mlir.constant(4 : i64) : i64
    %da2 = llvm.add %desc_a, %step2 : i64
    %db2 = llvm.add %desc_b, %step2 : i64
    %acc2 = nvvm.wgmma.mma_async %da2, %db2, %acc1, <m = 64, n = 16, k = 16>, D[<f32>, <one>, <wrapped>], A[<bf16>, <one>, <row>], B[<bf16>, <one>, <col>] : !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32)> -> !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32)>
    %step3 = llvm.mlir.constant(6 : i64) : i64
    %da3 = llvm.add %desc_a, %step3 : i64
    %db3 = llvm.add %desc_b, %step3 : i64
    %acc3 = nvvm.wgmma.mma_async %da3, %db3, %acc2, <m = 64, n = 16, k = 16>, D[<f32>, <one>, <wrapped>], A[<bf16>, <one>, <row>], B[<bf16>, <one>, <col>] : !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32)> -> !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32)>
    nvvm.wgmma.commit.group.sync.aligned
    nvvm.wgmma.wait.group.sync.aligned 0

    // Fragment layout: value 4i+j of thread (warp w, lane l) is
    // D[16w + l/4 + 8(j/2)][8i + 2(l%4) + j%2].
    %warp = llvm.udiv %tid, %c32 : i32
    %lane = llvm.urem %tid, %c32 : i32
    %w16 = llvm.mul %warp, %c16 : i32
    %l4 = llvm.udiv %lane, %c4 : i32
    %row = llvm.add %w16, %l4 : i32
    %lm = llvm.urem %lane, %c4 : i32
    %two = llvm.mlir.constant(2 : i32) : i32
    %col0 = llvm.mul %lm, %two : i32
    %ncols = llvm.mlir.constant(16 : i32) : i32
    %v0 = llvm.extractvalue %acc3[0] : !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32)>
    %r0a = llvm.add %row, %c0 : i32
    %c0x = llvm.mlir.constant(0 : i32) : i32
    %c0a = llvm.add %col0, %c0x : i32
    %o0r = llvm.mul %r0a, %ncols : i32
    %o0 = llvm.add %o0r, %c0a : i32
    %p0 = llvm.getelementptr %d[%o0] : (!llvm.ptr<1>, i32) -> !llvm.ptr<1>, f32
    llvm.store %v0, %p0 : f32, !llvm.ptr<1>
    %v1 = llvm.extractvalue %acc3[1] : !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32)>
    %r1a = llvm.add %row, %c0 : i32
    %c1x = llvm.mlir.constant(1 : i32) : i32
    %c1a = llvm.add %col0, %c1x : i32
    %o1r = llvm.mul %r1a, %ncols : i32
    %o1 = llvm.add %o1r, %c1a : i32
    %p1 = llvm.getelementptr %d[%o1] : (!llvm.ptr<1>, i32) -> !llvm.ptr<1>, f32
    llvm.store %v1, %p1 : f32, !llvm.ptr<1>
    %v2 = llvm.extractvalue %acc3[2] : !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32)>
    %r2a = llvm.add %row, %c8 : i32
    %c2x = llvm.mlir.constant(0 : i32) : i32
    %c2a = llvm.add %col0, %c2x : i32
    %o2r = llvm.mul %r2a, %ncols : i32
    %o2 = llvm.add %o2r, %c2a : i32
    %p2 = llvm.getelementptr %d[%o2] : (!llvm.ptr<1>, i32) -> !llvm.ptr<1>, f32
    llvm.store %v2, %p2 : f32, !llvm.ptr<1>
    %v3 = llvm.extractvalue %acc3[3] : !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32)>
    %r3a = llvm.add %row, %c8 : i32
    %c3x = llvm.mlir.constant(1 : i32) : i32
    %c3a = llvm.add %col0, %c3x : i32
    %o3r = llvm.mul %r3a, %ncols : i32
    %o3 = llvm.add %o3r, %c3a : i32
    %p3 = llvm.getelementptr %d[%o3] : (!llvm.ptr<1>, i32) -> !llvm.ptr<1>, f32
    llvm.store %v3, %p3 : f32, !llvm.ptr<1>
    %v4 = llvm.extractvalue %acc3[4] : !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32)>
    %r4a = llvm.add %row, %c0 : i32
    %c4x = llvm.mlir.constant(8 : i32) : i32
    %c4a = llvm.add %col0, %c4x : i32
    %o4r = llvm.mul %r4a, %ncols : i32
    %o4 = llvm.add %o4r, %c4a : i32
    %p4 = llvm.getelementptr %d[%o4] : (!llvm.ptr<1>, i32) -> !llvm.ptr<1>, f32
    llvm.store %v4, %p4 : f32, !llvm.ptr<1>
    %v5 = llvm.extractvalue %acc3[5] : !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32)>
    %r5a = llvm.add %row, %c0 : i32
    %c5x = llvm.mlir.constant(9 : i32) : i32
    %c5a = llvm.add %col0, %c5x : i32
    %o5r = llvm.mul %r5a, %ncols : i32
    %o5 = llvm.add %o5r, %c5a : i32
    %p5 = llvm.getelementptr %d[%o5] : (!llvm.ptr<1>, i32) -> !llvm.ptr<1>, f32
    llvm.store %v5, %p5 : f32, !llvm.ptr<1>
    %v6 = llvm.extractvalue %acc3[6] : !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32)>
    %r6a = llvm.add %row, %c8 : i32
    %c6x = llvm.mlir.constant(8 : i32) : i32
    %c6a = llvm.add %col0, %c6x : i32
    %o6r = llvm.mul %r6a, %ncols : i32
    %o6 = llvm.add %o6r, %c6a : i32
    %p6 = llvm.getelementptr %d[%o6] : (!llvm.ptr<1>, i32) -> !llvm.ptr<1>, f32
    llvm.store %v6, %p6 : f32, !llvm.ptr<1>
    %v7 = llvm.extractvalue %acc3[7] : !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32)>
    %r7a = llvm.add %row, %c8 : i32
    %c7x = llvm.mlir.constant(9 : i32) : i32
    %c7a = llvm.add %col0, %c7x : i32
    %o7r = llvm.mul %r7a, %ncols : i32
    %o7 = llvm.add %o7r, %c7a : i32
    %p7 = llvm.getelementptr %d[%o7] : (!llvm.ptr<1>, i32) -> !llvm.ptr<1>, f32
    llvm.store %v7, %p7 : f32, !llvm.ptr<1>
    llvm.return
  }
}
}
