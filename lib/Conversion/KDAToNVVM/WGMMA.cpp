//===- WGMMA.cpp - Warpgroup matrix products -------------------*- C++ -*-===//

#include "WGMMA.h"

using namespace mlir;
using namespace mlir::kda;

Value kda::swizzledOffset(KernelEmitter &e, Value row, Value col, Swizzle swizzle,
                          int64_t elementBytes) {
  int64_t span = static_cast<int64_t>(swizzle);
  Value linear = e.add(e.mul(row, e.i32(span)), e.mul(col, e.i32(elementBytes)));
  // Swizzle<B,4,3>: XOR the 16-byte chunk index with address bits 7..7+B.
  Value phase = e.andi(e.lshr(linear, e.i32(7)), e.i32(span / 16 - 1));
  return e.xori(linear, e.shl(phase, e.i32(4)));
}

Value kda::descriptorBase(KernelEmitter &e, Value address) {
  // Bits 0-13: start address >> 4 (shared addresses are below 2^18, so
  // offsets added later never carry out of the field); 16-29: leading byte
  // offset (unused for swizzled K-major layouts, 1 by convention).
  Value start = e.trunc32(e.lshr(e.andi(address, e.i64(0x3FFFF)), e.i64(4)));
  return e.ori(start, e.i32(1 << 16));
}

Value kda::matrixDescriptor(KernelEmitter &e, Value base, int64_t byteOffset, Swizzle swizzle) {
  // High word: bits 32-45 the stride byte offset >> 4 (the distance
  // between 8-row groups), 62-63 the swizzle mode.
  assert(byteOffset % 16 == 0 && "descriptor offsets are in 16-byte units");
  int64_t span = static_cast<int64_t>(swizzle);
  int64_t mode = swizzle == Swizzle::B128 ? 1 : 3;
  int64_t strideBytes = 8 * span;
  int64_t high = ((strideBytes >> 4) << 32) |
                 static_cast<int64_t>(static_cast<uint64_t>(mode) << 62);
  Value low = byteOffset ? e.add(base, e.i32(byteOffset >> 4)) : base;
  return e.ori(e.ext64(low), e.i64(high));
}

Value kda::matrixDescriptor(KernelEmitter &e, Value base, int64_t byteOffset, Swizzle swizzle,
                           int64_t atomBytes) {
  // The base's leading byte offset field (1) becomes atomBytes >> 4 by the
  // same add that moves its start.
  assert(atomBytes % 16 == 0 && atomBytes > 0 && "descriptor fields are in 16-byte units");
  return matrixDescriptor(e, base, byteOffset + (((atomBytes >> 4) - 1) << 20), swizzle);
}

Value kda::interleavedDescriptor(KernelEmitter &e, Value base, int64_t byteOffset,
                                int64_t leadingBytes, int64_t strideBytes) {
  // Swizzle mode 0; the base's leading byte offset field (1) becomes
  // leadingBytes >> 4 by the same add that moves its start.
  assert(byteOffset % 16 == 0 && leadingBytes % 16 == 0 && strideBytes % 16 == 0 &&
         "descriptor fields are in 16-byte units");
  int64_t low = (byteOffset >> 4) + (((leadingBytes >> 4) - 1) << 16);
  int64_t high = (strideBytes >> 4) << 32;
  return e.ori(e.ext64(e.add(base, e.i32(low))), e.i64(high));
}

Type kda::accumulatorType(KernelEmitter &e, int64_t n) {
  SmallVector<Type> fields(n / 2, e.f32());
  return LLVM::LLVMStructType::getLiteral(e.builder().getContext(), fields);
}

Value kda::zeroAccumulator(KernelEmitter &e, int64_t n) {
  Value acc = LLVM::UndefOp::create(e.builder(), accumulatorType(e, n));
  Value zero = e.f32(0.0);
  for (int64_t i = 0; i < n / 2; ++i)
    acc = insert(e, acc, zero, i);
  return acc;
}

Value kda::undefAccumulator(KernelEmitter &e, int64_t n) {
  return LLVM::UndefOp::create(e.builder(), accumulatorType(e, n));
}

/// wgmma.mma_async as inline PTX: `shapeAndTypes` follows the opcode,
/// `operandText` the accumulator list, with $A.. standing for `inputs` in
/// order. An accumulating wgmma ties the accumulator in and out; one that
/// does not only writes it: uninitialised inputs would be registers ptxas
/// may share with another wgmma's accumulator, and it then serializes them.
static Value inlineWgmma(KernelEmitter &e, Value acc, int64_t n, StringRef shapeAndTypes,
                         StringRef operandText, ArrayRef<Value> inputs,
                         StringRef inputConstraints, bool accumulate) {
  int64_t values = n / 2;
  std::string d, constraints;
  for (int64_t i = 0; i < values; ++i) {
    d += (i ? ", $" : "$") + std::to_string(i);
    constraints += "=f,";
  }
  std::string operandsPtx = operandText.str();
  for (size_t i = inputs.size(); i-- > 0;) {
    std::string placeholder = "$" + std::string(1, char('A' + i));
    std::string actual = "$" + std::to_string(values + i);
    for (size_t at = operandsPtx.find(placeholder); at != std::string::npos;
         at = operandsPtx.find(placeholder))
      operandsPtx.replace(at, placeholder.size(), actual);
  }
  std::string code = "{\n.reg .pred p;\nsetp.ne.b32 p, " + std::string(accumulate ? "1" : "0") +
                     ", 0;\nwgmma.mma_async.sync.aligned." + shapeAndTypes.str() + " {" + d +
                     "}, " + operandsPtx + ";\n}";
  constraints += inputConstraints.str();
  SmallVector<Value> operands(inputs.begin(), inputs.end());
  for (int64_t i = 0; accumulate && i < values; ++i) {
    operands.push_back(extract(e, acc, i));
    constraints += "," + std::to_string(i);
  }
  return e.inlinePtx(accumulatorType(e, n), operands, code, constraints);
}

Value kda::wgmma(KernelEmitter &e, Value acc, Value descA, Value descB, int64_t n,
                 bool accumulate, bool negateA, bool transposeB) {
  // A K-major (no transpose); B K-major or N-major.
  return inlineWgmma(e, acc, n, "m64n" + std::to_string(n) + "k16.f32.bf16.bf16",
                     std::string("$A, $B, p, ") + (negateA ? "-1" : "1") + ", 1, 0, " +
                         (transposeB ? "1" : "0"),
                     {descA, descB}, "l,l", accumulate);
}

Value kda::wgmmaTF32(KernelEmitter &e, Value acc, Value descA, Value descB, int64_t n,
                     bool accumulate) {
  return inlineWgmma(e, acc, n, "m64n" + std::to_string(n) + "k8.f32.tf32.tf32",
                     "$A, $B, p, 1, 1", {descA, descB}, "l,l", accumulate);
}

SmallVector<Value, 4> kda::registerOperand(KernelEmitter &e, Value acc, int64_t step) {
  // Pairs (8s, 8s+1), (8s+2, 8s+3), ...: the lower column in the low half.
  SmallVector<Value, 4> packed;
  for (int64_t pair = 0; pair < 4; ++pair)
    packed.push_back(e.packBF16(extract(e, acc, 8 * step + 2 * pair),
                                extract(e, acc, 8 * step + 2 * pair + 1)));
  return packed;
}

Value kda::wgmmaRegisterA(KernelEmitter &e, Value acc, ArrayRef<Value> a, Value descB,
                          int64_t n, bool accumulate, bool negateA, bool transposeB) {
  // NVVM's wgmma op takes A only as a descriptor: this one is inline PTX.
  SmallVector<Value> inputs(a.begin(), a.end());
  inputs.push_back(descB);
  return inlineWgmma(e, acc, n, "m64n" + std::to_string(n) + "k16.f32.bf16.bf16",
                     std::string("{$A, $B, $C, $D}, $E, p, ") + (negateA ? "-1" : "1") +
                         ", 1, " + (transposeB ? "1" : "0"),
                     inputs, "r,r,r,r,l", accumulate);
}

void kda::wgmmaFence(KernelEmitter &e) { NVVM::WgmmaFenceAlignedOp::create(e.builder()); }

void kda::wgmmaCommitAndWait(KernelEmitter &e) {
  wgmmaCommit(e);
  wgmmaWait(e);
}

void kda::wgmmaCommit(KernelEmitter &e) { NVVM::WgmmaGroupSyncAlignedOp::create(e.builder()); }

void kda::wgmmaWait(KernelEmitter &e) {
  NVVM::WgmmaWaitGroupSyncOp::create(e.builder(), e.builder().getI64IntegerAttr(0));
}

FragmentLayout kda::fragmentLayout(KernelEmitter &e, Value thread) {
  Value warp = e.udiv(thread, e.i32(32)), lane = e.urem(thread, e.i32(32));
  return {e.add(e.mul(warp, e.i32(16)), e.udiv(lane, e.i32(4))),
          e.mul(e.urem(lane, e.i32(4)), e.i32(2))};
}

Value kda::extract(KernelEmitter &e, Value acc, int64_t index) {
  return LLVM::ExtractValueOp::create(e.builder(), acc, index);
}

Value kda::insert(KernelEmitter &e, Value acc, Value value, int64_t index) {
  return LLVM::InsertValueOp::create(e.builder(), acc, value, index);
}
