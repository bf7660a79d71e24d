// RUN: kda-opt %s --convert-kda-to-nvvm | FileCheck %s

// Which (sequence, value head) a CTA takes: the grid's (x, y) = (N, HV)
// read as one index, linear = x + N y, with the heads fastest (hv = linear
// % HV, the sequence's rank linear / HV), so that the GPU, which starts
// CTAs in that order, starts a sequence's heads together. A varlen batch
// (cu_seqlens given) of at most 32 sequences takes them longest first:
// lane i of every warp holds sequence i's bounds (from cu_seqlens) and
// counts, over 32 shuffles of the lengths, the sequences before it
// (longer, or as long and earlier); 32 more shuffles find the lane whose
// count is the rank, and two more hand over that lane's bounds, so the
// sequence's first and end token are not loaded again. A fixed batch, or
// more than 32 sequences, keeps the rank as the sequence and loads (or
// computes) its bounds.

// CHECK: llvm.func @kda_forward_k128_v128_c16_p2_softplus_sigmoid_kv_gf32_bf32_sf32_f32(
// CHECK: %[[CU:.*]] = llvm.icmp "ne" %arg8, %{{.*}} : !llvm.ptr<1>
// CHECK: %[[N:.*]] = nvvm.read.ptx.sreg.nctaid.x : i32
// CHECK-NEXT: %[[Y:.*]] = nvvm.read.ptx.sreg.ctaid.y : i32
// CHECK-NEXT: %[[NY:.*]] = arith.muli %[[Y]], %[[N]] : i32
// CHECK-NEXT: %[[X:.*]] = nvvm.read.ptx.sreg.ctaid.x : i32
// CHECK-NEXT: %[[LINEAR:.*]] = arith.addi %[[X]], %[[NY]] : i32
// CHECK-NEXT: %[[HV:.*]] = arith.remui %[[LINEAR]], %arg14 : i32
// CHECK-NEXT: %[[RANK:.*]] = arith.divui %[[LINEAR]], %arg14 : i32
// CHECK-NEXT: %[[MAX:.*]] = arith.constant 33 : i32
// CHECK-NEXT: %[[FEW:.*]] = arith.cmpi ult, %[[N]], %[[MAX]] : i32
// CHECK-NEXT: %[[ORDERED:.*]] = arith.andi %[[CU]], %[[FEW]] : i1
// CHECK-NEXT: %[[MINE:.*]]:3 = scf.if %[[ORDERED]] -> (i32, i64, i64) {
// CHECK: %[[LANE:.*]] = arith.remui %{{.*}}, %c32_i32{{.*}} : i32
// CHECK-NEXT: %[[REAL:.*]] = arith.cmpi ult, %[[LANE]], %[[N]] : i32
// CHECK-NEXT: %[[BOUNDS:.*]]:2 = scf.if %[[REAL]] -> (i32, i32) {
// CHECK: llvm.load
// CHECK: llvm.load
// CHECK: scf.yield %{{.*}}, %{{.*}} : i32, i32
// CHECK-NEXT: } else {
// CHECK-NEXT: %[[ZERO:.*]] = arith.constant 0 : i32
// CHECK-NEXT: %[[NONE:.*]] = arith.constant -1 : i32
// CHECK-NEXT: scf.yield %[[ZERO]], %[[NONE]] : i32, i32
// CHECK: %[[LENGTH:.*]] = arith.subi %[[BOUNDS]]#1, %[[BOUNDS]]#0 : i32
// CHECK-COUNT-32: nvvm.shfl.sync  idx %{{.*}}, %[[LENGTH]], %{{.*}} : i32 -> i32
// CHECK-COUNT-32: arith.cmpi eq, %{{.*}}, %[[RANK]] : i32
// CHECK: %[[SEQ:.*]] = arith.select %{{.*}}, %{{.*}}, %{{.*}} : i32
// CHECK-NEXT: arith.constant
// CHECK-NEXT: arith.constant
// CHECK-NEXT: %[[FIRST:.*]] = nvvm.shfl.sync  idx %{{.*}}, %[[BOUNDS]]#0, %[[SEQ]], %{{.*}} : i32 -> i32
// CHECK-NEXT: %[[FIRST64:.*]] = arith.extui %[[FIRST]] : i32 to i64
// CHECK-NEXT: arith.constant
// CHECK-NEXT: arith.constant
// CHECK-NEXT: %[[END:.*]] = nvvm.shfl.sync  idx %{{.*}}, %[[BOUNDS]]#1, %[[SEQ]], %{{.*}} : i32 -> i32
// CHECK-NEXT: %[[END64:.*]] = arith.extui %[[END]] : i32 to i64
// CHECK-NEXT: scf.yield %[[SEQ]], %[[FIRST64]], %[[END64]] : i32, i64, i64
// CHECK-NEXT: } else {
// CHECK-NOT: nvvm.shfl.sync
// CHECK: scf.yield %[[RANK]], %{{.*}}, %{{.*}} : i32, i64, i64
// CHECK: nvvm.shfl.sync  idx %{{.*}}, %[[MINE]]#0, %{{.*}} : i32 -> i32
// CHECK-NEXT: %{{.*}} = arith.subi %[[MINE]]#2, %[[MINE]]#1 : i64
func.func @forward(%q: tensor<?x?x?x128xbf16>, %v: tensor<?x?x?x128xbf16>,
                   %g: tensor<?x?x?x128xf32>, %beta: tensor<?x?x?xf32>,
                   %a: tensor<?xf32>, %b: tensor<?x128xf32>)
    -> tensor<?x?x?x128xbf16> {
  %o = kda.forward %q, %q, %v, %g, %beta A_log(%a) dt_bias(%b)
      {gate = #kda.gate<softplus>, beta_mode = #kda.beta<sigmoid>, chunk_size = 16}
      : (tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>, tensor<?x?x?x128xbf16>,
         tensor<?x?x?x128xf32>, tensor<?x?x?xf32>, tensor<?xf32>, tensor<?x128xf32>)
      -> tensor<?x?x?x128xbf16>
  return %o : tensor<?x?x?x128xbf16>
}
