//===- WGMMA.h - Warpgroup matrix products ---------------------*- C++ -*-===//
//
// Everything kda's kernels need to run wgmma.mma_async on bf16 (or tf32)
// operands kept K-major in shared memory (or B N-major, read with
// transpose-b), or with A in registers: the
// swizzled layout those operands are written in, the 64-bit matrix
// descriptors, the instruction itself (inline PTX: NVVM's op takes A only
// from shared memory), and where each accumulator value of a thread sits in
// the result tile.
//
// Layout (K-major, one row = one swizzle span of 32 or 128 bytes): element
// (row, col) of a bf16 tile lives at byte `row * span + 2 * col`, with the
// 16-byte chunk index XORed with address bits 7.. (Swizzle<B,4,3> in
// CUTLASS's terms), the layout TMA writes with the same swizzle mode. A
// matrix wider than one span is stored as consecutive span-wide column
// blocks.
//
//===----------------------------------------------------------------------===//

#ifndef KDA_LIB_CONVERSION_KDATONVVM_WGMMA_H
#define KDA_LIB_CONVERSION_KDATONVVM_WGMMA_H

#include "KernelEmitter.h"

namespace mlir::kda {

/// Swizzle span of a K-major operand tile, in bytes per row.
enum class Swizzle : int64_t { B32 = 32, B128 = 128 };

/// Byte offset of element (row, col) in a K-major tile of bf16 (or, with
/// elementBytes 4, fp32/tf32) elements (i32 values).
Value swizzledOffset(KernelEmitter &e, Value row, Value col, Swizzle swizzle,
                     int64_t elementBytes = 2);

/// The low word of the wgmma shared-memory descriptors of K-major tiles at
/// or after shared address `address` (i64; tiles aligned to 8 rows of the
/// span): the start field and the leading byte offset.
Value descriptorBase(KernelEmitter &e, Value address);
/// The descriptor of the tile `byteOffset` bytes (a multiple of 16) past
/// `base`'s address: one 32-bit add, so a chain of tiles costs an add each.
Value matrixDescriptor(KernelEmitter &e, Value base, int64_t byteOffset, Swizzle swizzle);
/// The same for an N-major (transposed) B operand wider than one swizzle
/// span: its N columns lie in span-wide tiles `atomBytes` apart (the
/// leading byte offset of N-major layouts), each of the layout above.
Value matrixDescriptor(KernelEmitter &e, Value base, int64_t byteOffset, Swizzle swizzle,
                       int64_t atomBytes);

/// The descriptor of a K-major tile without swizzle, `byteOffset` bytes
/// past `base`'s address (descriptorBase): core matrices of 8 rows x 16
/// bytes (128 contiguous bytes), `leadingBytes` apart along K and
/// `strideBytes` apart per 8 rows: element (row, col) of such a tile, n
/// elements of b bytes per 16, lies at (row / 8) strideBytes + (col / n)
/// leadingBytes + (row % 8) 16 + (col % n) b, so a thread that keeps one
/// column writes its rows at constant offsets from one address.
Value interleavedDescriptor(KernelEmitter &e, Value base, int64_t byteOffset,
                            int64_t leadingBytes, int64_t strideBytes);

/// A zero accumulator of a m64 x n tile: n / 2 f32 per thread.
Value zeroAccumulator(KernelEmitter &e, int64_t n);
/// An accumulator without values: one to be filled by `insert`, or the
/// unread input of a wgmma that does not accumulate.
Value undefAccumulator(KernelEmitter &e, int64_t n);
Type accumulatorType(KernelEmitter &e, int64_t n);

/// acc (+)= op(A) * B^T for a m64 x n x k16 step, both operands bf16 and
/// K-major: A is 64 x 16, B is n x 16. `accumulate` false ignores `acc`'s
/// values; `negateA` computes acc - A * B^T; `transposeB` takes B N-major
/// (as wgmmaRegisterA does).
Value wgmma(KernelEmitter &e, Value acc, Value descA, Value descB, int64_t n,
            bool accumulate, bool negateA = false, bool transposeB = false);

/// acc (+)= A * B^T for a m64 x n x k8 step on tf32 operands (fp32 values
/// in shared memory, their low 13 mantissa bits ignored), both K-major.
Value wgmmaTF32(KernelEmitter &e, Value acc, Value descA, Value descB, int64_t n,
                bool accumulate);

/// The A operand of a m64 x k16 step held in registers: accumulator values
/// 8 * step .. 8 * step + 7 of a m64 x n tile (its columns 16 * step ..
/// 16 * step + 15) as four bf16 pairs. The accumulator's fragment layout is
/// the A fragment's, so one product's result feeds the next without a trip
/// through shared memory.
SmallVector<Value, 4> registerOperand(KernelEmitter &e, Value acc, int64_t step);

/// wgmma with A from registers (registerOperand) and B a K-major n x 16
/// tile in shared memory: acc (+)= op(A) * B^T. The registers of `a` must
/// not change until the wgmma has been waited for. `transposeB` takes B
/// N-major instead: a 16 x n tile whose rows (the k16 step's 16 values of
/// K) hold n contiguous values of N, in the same swizzled layout.
Value wgmmaRegisterA(KernelEmitter &e, Value acc, ArrayRef<Value> a, Value descB,
                     int64_t n, bool accumulate, bool negateA = false,
                     bool transposeB = false);

/// Issues the fence that must precede wgmma when accumulator registers were
/// written by other instructions, and the commit/wait that completes a batch.
void wgmmaFence(KernelEmitter &e);
void wgmmaCommitAndWait(KernelEmitter &e);
/// The two halves of wgmmaCommitAndWait, for work between them.
void wgmmaCommit(KernelEmitter &e);
void wgmmaWait(KernelEmitter &e);

/// Where the accumulator values of the calling thread sit in the m64 x n
/// tile: value v is at (rowBase + rowOffset(v), colBase + colOffset(v)).
struct FragmentLayout {
  Value rowBase; // 16 * warp + lane / 4, warp within the warpgroup
  Value colBase; // 2 * (lane % 4)
  static int64_t rowOffset(int64_t v) { return 8 * ((v % 4) / 2); }
  static int64_t colOffset(int64_t v) { return 8 * (v / 4) + (v % 2); }
};
FragmentLayout fragmentLayout(KernelEmitter &e, Value threadInWarpgroup);

Value extract(KernelEmitter &e, Value acc, int64_t index);
Value insert(KernelEmitter &e, Value acc, Value value, int64_t index);

} // namespace mlir::kda

#endif // KDA_LIB_CONVERSION_KDATONVVM_WGMMA_H
