// RUN: kda-opt %s --convert-kda-to-nvvm | FileCheck %s

// Which (sequence, value head) a CTA takes: the grid's (x, y) = (N, HV)
// read as one index, linear = x + N y, with the heads fastest (hv = linear
// % HV, the sequence's rank linear / HV), so that the GPU, which starts
// CTAs in that order, starts a sequence's heads together. A varlen batch
// (cu_seqlens given) of at most 32 sequences takes them longest first:
// lane i of every warp holds sequence i's length (from cu_seqlens) and
// counts, over 32 shuffles, the sequences before it (longer, or as long
// and earlier); 32 more shuffles find the lane whose count is the rank.
// A fixed batch, or more than 32 sequences, keeps the rank as the
// sequence.

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
// CHECK-NEXT: %[[SEQ:.*]] = scf.if %[[ORDERED]] -> (i32) {
// CHECK: %[[LANE:.*]] = arith.remui %{{.*}}, %c32_i32{{.*}} : i32
// CHECK-NEXT: %[[REAL:.*]] = arith.cmpi ult, %[[LANE]], %[[N]] : i32
// CHECK-NEXT: %[[LENGTH:.*]] = scf.if %[[REAL]] -> (i32) {
// CHECK: arith.subi
// CHECK-NEXT: arith.trunci
// CHECK: } else {
// CHECK-NEXT: arith.constant -1 : i32
// CHECK-COUNT-32: nvvm.shfl.sync  idx %{{.*}}, %[[LENGTH]], %{{.*}} : i32 -> i32
// CHECK-COUNT-32: arith.cmpi eq, %{{.*}}, %[[RANK]] : i32
// CHECK: } else {
// CHECK-NEXT: scf.yield %[[RANK]] : i32
// CHECK: nvvm.shfl.sync  idx %{{.*}}, %[[SEQ]], %{{.*}} : i32 -> i32
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
