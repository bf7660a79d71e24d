//===- SegmentKernels.h - The segment scan and its ABI ----------*- C++ -*-===//
//
// A forward over one long sequence (B = 1) as S segments that run side by
// side. The state after token t is linear in the state entering t's
// segment: S_t = A_t S_in + B_t, with A_t the product of the segment's
// transitions so far and B_t the state reached from a zero start. So:
//
// 1. The pass: the forward kernel at V = 2K (ForwardKernelConfig::
//    segmentScan) runs segment s as its sequence s. Its K extra value rows
//    start at the identity and see v = 0 (so their U is 0, which the
//    chunk-local side does not compute), and they carry A_t. The value
//    rows' output O0_t (from a zero start, or from the caller's initial
//    state in segment 0) goes to the caller's o; the transition rows',
//    X_t = A_t^T q_t (scaled), to X in the workspace. Its final state of
//    segment s is [B_s^T ; A_s^T] (vk: rows 0..V-1 the value rows, rows
//    V..V+K-1 the transition rows).
// 2. Compose: E_s, the state at segment s's end (vk, fp32), is
//    E_0 = B_0^T and E_s = E_{s-1} A_s^T + B_s^T: each value row on its
//    own, so a CTA takes a block of rows through all segments. It writes
//    E_0 .. E_{S-2} in bf16 (the entering states of segments 1 .. S-1)
//    and E_{S-1} as the caller's final state.
// 3. Correct: o_t = O0_t + E_{s-1} X_t for t in segment s >= 1, in place
//    (bf16 tensor-core products, fp32 sums); segment 0's O0 is its output.
//
// The workspace: the pass's final states [S, HV, V + K, K] f32 (the pass
// kernel's final_state), X [T, HV, K] bf16 right after them (the pass
// kernel finds it there: S is its grid's x), then the entering states,
// 256-byte aligned.
//
// Segment s holds tokens [s L, min((s + 1) L, T)), L a multiple of
// kSegmentTokenTile (segmentTokens), so a tile of the correcting kernel
// never straddles two segments. Pass and combining kernels live in one
// bundle; the runtime (runtime/src/forward_gpu.c) launches the three in
// order and reads their shapes from the manifest.
//
//===----------------------------------------------------------------------===//

#ifndef KDA_CONVERSION_KDATONVVM_SEGMENTKERNELS_H
#define KDA_CONVERSION_KDATONVVM_SEGMENTKERNELS_H

#include "kda/Conversion/KDAToNVVM/ForwardKernel.h"

namespace mlir::kda {

/// Tokens per CTA of the correcting kernel (a warp per 16), and the
/// multiple every segment's length is of.
inline constexpr int64_t kSegmentTokenTile = 128;
/// Value rows per CTA of the composing kernel (its threads take one key
/// column each).
inline constexpr int64_t kComposeRows = 16;
inline constexpr int64_t kComposeThreads = 128;
inline constexpr int64_t kCorrectThreads = 256;

/// The composing kernel's parameters. Grid: (V / kComposeRows, HV).
enum SegmentComposeParam : unsigned {
  kComposeEnds,       ///< f32 [S, HV, V + K, K]: the pass's final states
  kComposeEntering,   ///< bf16 [S - 1, HV, V, K]: E_0 .. E_{S-2}
  kComposeFinalState, ///< f32 [1, HV, V, K] (vk), or NULL
  kComposeSegments,   ///< i32 S
  kComposeValueHeads, ///< i32 HV
  kComposeParamCount
};

/// The correcting kernel's parameters. Grid: (ceil((T - L) / kSegmentTokenTile),
/// HV): the tokens after segment 0.
enum SegmentCorrectParam : unsigned {
  kCorrectX,          ///< bf16 [T, HV, K]: the transition rows' outputs
  kCorrectEntering,   ///< bf16 [S - 1, HV, V, K]
  kCorrectO,          ///< bf16 [T, HV, V]: the caller's output, holding O0
  kCorrectSeqLen,     ///< i32 T
  kCorrectValueHeads, ///< i32 HV
  kCorrectSegments,   ///< i32 S
  kCorrectParamCount
};

/// Space-separated parameter names: the manifest's `compose_params` and
/// `correct_params`.
std::string segmentComposeParamNames();
std::string segmentCorrectParamNames();
/// Bytes of dynamic shared memory of each.
int64_t segmentComposeSharedBytes(const ForwardKernelConfig &config);
int64_t segmentCorrectSharedBytes(const ForwardKernelConfig &config);
/// The kernels' symbols (one pair per configuration's bundle).
std::string segmentComposeKernelName(const ForwardKernelConfig &config);
std::string segmentCorrectKernelName(const ForwardKernelConfig &config);

/// Emit each kernel as an llvm.func at the builder's insertion point
/// (inside the gpu.module of the pass kernel).
LLVM::LLVMFuncOp buildSegmentComposeKernel(OpBuilder &builder, Location loc,
                                           const ForwardKernelConfig &config);
LLVM::LLVMFuncOp buildSegmentCorrectKernel(OpBuilder &builder, Location loc,
                                           const ForwardKernelConfig &config);

} // namespace mlir::kda

#endif // KDA_CONVERSION_KDATONVVM_SEGMENTKERNELS_H
