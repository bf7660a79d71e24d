//===- KernelEmitter.h - Building blocks of generated kernels ---*- C++ -*-===//
//
// A thin layer over ImplicitLocOpBuilder for writing kernel bodies in the
// llvm + nvvm + arith + scf dialects: integer and float arithmetic on i32,
// i64 and f32, shared- and global-memory pointers, structured loops and
// conditionals, barriers and fences. Special functions (ex2, lg2, rsqrt, rcp) are
// inline PTX from one place (`ptxUnary`), since convert-gpu-to-nvvm refuses
// the LLVM intrinsics without libdevice.
//
//===----------------------------------------------------------------------===//

#ifndef KDA_LIB_CONVERSION_KDATONVVM_KERNELEMITTER_H
#define KDA_LIB_CONVERSION_KDATONVVM_KERNELEMITTER_H

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <functional>

namespace mlir::kda {

/// log2(e): exp(x) = 2^(x log2(e)), the form the MUFU computes (C++17 has
/// no <numbers>).
inline constexpr double kLog2E = 1.4426950408889634074;

/// LLVM address spaces of the NVPTX target.
enum AddressSpace : unsigned {
  kGlobalSpace = 1,
  kSharedSpace = 3,
  kSharedClusterSpace = 7,
};

/// The dynamic shared memory every kda kernel addresses (an extern
/// .shared array), and its declaration: once per gpu.module, whichever of
/// the module's kernels comes first (with `alignment` bytes).
inline constexpr StringLiteral kSharedSymbol = "kda_shared";
void declareSharedMemory(OpBuilder &builder, Location loc, int64_t alignment);

class KernelEmitter {
public:
  explicit KernelEmitter(ImplicitLocOpBuilder &b) : b(b) {}

  ImplicitLocOpBuilder &builder() { return b; }
  Type i1() { return b.getI1Type(); }
  Type i32() { return b.getI32Type(); }
  Type i64() { return b.getI64Type(); }
  Type f32() { return b.getF32Type(); }
  Type bf16() { return b.getBF16Type(); }
  Type ptr(unsigned space = 0);

  // Constants.
  Value i32(int64_t v);
  Value i64(int64_t v);
  Value f32(double v);
  Value zero(Type floatType); ///< +0 of a float type (bf16, f16, f32)

  // Integer arithmetic (operands of one type).
  Value add(Value a, Value c);
  Value sub(Value a, Value c);
  Value mul(Value a, Value c);
  Value udiv(Value a, Value c);
  Value urem(Value a, Value c);
  Value andi(Value a, Value c);
  Value ori(Value a, Value c);
  Value xori(Value a, Value c);
  Value shl(Value a, Value c);
  Value lshr(Value a, Value c);
  Value minsi(Value a, Value c);
  Value ext64(Value a);   // zero-extends i32 to i64
  Value sext64(Value a);  // sign-extends i32 to i64
  Value trunc32(Value a); // i64 to i32
  Value eq(Value a, Value c);
  Value ne(Value a, Value c);
  Value slt(Value a, Value c);
  Value sle(Value a, Value c);
  Value ult(Value a, Value c);
  Value notb(Value a); // logical not of an i1
  Value select(Value cond, Value t, Value f);

  // Float arithmetic (f32).
  Value fadd(Value a, Value c);
  Value fsub(Value a, Value c);
  Value fmul(Value a, Value c);
  Value fneg(Value a);
  Value fmax(Value a, Value c);
  Value fabs(Value a);
  Value folt(Value a, Value c); // ordered a < c: false if either is NaN
  Value toF32(Value a);   // from bf16, f16 or f32
  Value toBF16(Value a);  // f32 to bf16, round to nearest even
  /// Two f32 as a bf16 pair in an i32, `low` in bits 0-15.
  Value packBF16(Value low, Value high);

  /// exp(x), ln(1 + exp(x)), sigmoid(x), 1/sqrt(x) and friends in f32.
  Value exp(Value x);
  Value exp2(Value x);
  Value log1p(Value x); // for x >= 0, as ln(1 + x) through lg2
  /// 1 / sqrt(x) and 1 / x to a few ulp (the MUFU approximations; the
  /// IEEE-rounded forms are multi-instruction sequences with a slow path).
  Value rsqrt(Value x);
  Value reciprocal(Value x);
  Value softplus(Value x);
  Value sigmoid(Value x);
  /// Side-effecting inline PTX (LLVM's inline asm: `constraints` lists the
  /// result's, then each operand's), for what NVVM has no op for.
  Value inlinePtx(Type result, ValueRange operands, StringRef code, StringRef constraints);
  /// The same without a result.
  void inlinePtxEffect(ValueRange operands, StringRef code, StringRef constraints);
  /// One f32 -> f32 PTX instruction, e.g. "ex2.approx.f32".
  Value ptxUnary(StringRef instruction, Value x);

  // Memory. Offsets are in bytes (i32 for shared, i64 for global).
  Value gep(Value base, Value byteOffset);
  Value load(Type type, Value ptr);
  void store(Value value, Value ptr);
  /// `count` consecutive elements in one access (ld/st.v2, .v4); the
  /// pointer must be aligned to the access size.
  SmallVector<Value> loadVector(Type element, int64_t count, Value ptr);
  /// `count` (even) consecutive bf16 values in one access, as f32
  /// (widenBF16Pair on each 32-bit word).
  SmallVector<Value> loadBF16AsF32(int64_t count, Value ptr);
  /// The two bf16 halves of an i32 as f32, the low half first: a shift and
  /// a mask (two instructions a pair, where cvt.f32.bf16 on the halves
  /// takes three).
  std::pair<Value, Value> widenBF16Pair(Value word);
  void storeVector(ValueRange elements, Value ptr);
  Value isNull(Value ptr);
  Value isNotNull(Value ptr);
  /// A pointer's address as i64 (for descriptors).
  Value address(Value ptr);

  // Control flow.
  void ifThen(Value cond, const std::function<void()> &then);
  /// cond ? then() : otherwise(), each branch building its value.
  Value ifElse(Value cond, Type type, const std::function<Value()> &then,
               const std::function<Value()> &otherwise);
  /// The same with several values, of `types`.
  SmallVector<Value> ifElse(Value cond, TypeRange types,
                            const std::function<SmallVector<Value>()> &then,
                            const std::function<SmallVector<Value>()> &otherwise);
  /// A loop carrying values: body(iv, carried) returns the next ones.
  SmallVector<Value> forLoop(
      Value lower, Value upper, Value step, ValueRange init,
      const std::function<SmallVector<Value>(Value, ValueRange)> &body);

  // Thread identity.
  Value threadIdx();
  Value blockIdxX();
  Value blockIdxY();
  Value blockIdxZ();
  Value gridDimX();

  // Synchronisation.
  void syncThreads();                          // bar.sync 0
  /// barrier.cluster arrive and wait: every thread of the cluster's CTAs.
  void syncCluster();
  /// bar.red.or.pred on named barrier `barrier` of `threads` threads: whether
  /// `predicate` (i1) held in any of them.
  Value syncThreadsAny(Value predicate, Value barrier, int64_t threads);
  /// setmaxnreg: this warpgroup's registers per thread become `count`.
  void setMaxRegisters(int64_t count, bool increase);
  void namedBarrier(Value id, int64_t threads);
  /// bar.arrive: counts this warp on named barrier `id` of `threads`
  /// threads and goes on (a producer's half of a barrier a consumer
  /// waits on with namedBarrier).
  void namedBarrierArrive(Value id, int64_t threads);
  /// bar.warp.sync of the whole warp: orders its lanes' shared-memory
  /// accesses without waiting for the other warps.
  void syncWarp();
  /// An mbarrier's plain arrive, and the wait until its phase of `parity`
  /// (i32) has completed.
  void arriveOn(Value mbarrier);
  void waitParity(Value mbarrier, Value parity);
  void fenceProxyAsyncShared();                // generic -> async proxy
  /// cp.async of 4, 8 or 16 bytes global -> shared (16 bypasses L1), its
  /// group commit, and the wait until at most `pending` groups are in
  /// flight; the copies are then visible to the thread that issued them.
  void copyAsync(Value sharedDst, Value globalSrc, int64_t bytes);
  void commitAsyncCopies();
  void waitAsyncCopies(int64_t pending);
  /// `value` (i32) through a move the optimizer cannot see through: what is
  /// computed from it stays where it is used instead of being hoisted out
  /// of the chunk loop to occupy registers across it.
  Value opaque(Value value);
  /// Lane 0's value of an i32 that is equal across the warp anyway: ptxas
  /// then knows branches on it do not diverge (wgmma inside them is not
  /// serialized).
  Value warpUniform(Value value);
  /// butterfly shuffle within a warp
  Value shuffleXor(Value value, int64_t laneMask);
  /// The f32 or i32 `value` of lane `lane` (i32) of the warp.
  Value shuffleIndex(Value value, Value lane);

private:
  Value shuffle(Type type, Value value, Value lane, NVVM::ShflKind kind);

  ImplicitLocOpBuilder &b;
};

} // namespace mlir::kda

#endif // KDA_LIB_CONVERSION_KDATONVVM_KERNELEMITTER_H
