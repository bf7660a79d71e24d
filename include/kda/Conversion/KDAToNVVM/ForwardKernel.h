//===- ForwardKernel.h - The kda.forward kernel and its ABI -----*- C++ -*-===//
//
// What the runtime and the compiler must agree on for the forward kernel:
// its compile-time configuration, its parameter list, its launch shape and
// its shared-memory size. The runtime reads these from the bundle manifest
// that kda-compile writes (runtime/src/bundle.c); nothing is duplicated by
// hand.
//
//===----------------------------------------------------------------------===//

#ifndef KDA_CONVERSION_KDATONVVM_FORWARDKERNEL_H
#define KDA_CONVERSION_KDATONVVM_FORWARDKERNEL_H

#include "kda/Conversion/KDAToNVVM/KernelChoices.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"

namespace mlir::kda {

/// The compile-time shape of one forward kernel. Everything else (B, T, H,
/// HV, N, scale, lower_bound, which optional tensors are present) is a
/// run-time parameter.
/// The depth of each chunk-local warpgroup's TMA ring: the default and the
/// most accepted (each stage holds 16-20 KB of tiles at K = V = 128, twice
/// over, so at K = 128 shared memory allows 3 with bf16 g, 2 with f32).
inline constexpr int64_t kDefaultForwardStages = 2;
inline constexpr int64_t kMaxForwardStages = 4;
/// Dynamic shared memory one CTA may have on sm_90a (227 KB): deeper rings
/// than fit are refused.
inline constexpr int64_t kMaxSharedBytes = 232448;
/// The largest portable thread-block cluster (ForwardKernelConfig::clusterCtas).
inline constexpr int64_t kMaxClusterCtas = 8;

struct ForwardKernelConfig : KernelChoices {
  int64_t chunkSize = 16;
  /// Buffers of each chunk-local warpgroup's TMA ring of q, k, v, g tiles:
  /// a warpgroup's next stages - 1 chunks load while it computes one, and
  /// with 1 its next chunk loads while it finishes the current one.
  int64_t stages = kDefaultForwardStages;
  /// CTAs per (sequence, value head), each owning V / valueBlocks rows of
  /// the state (a multiple of a state warpgroup's 64); each repeats the
  /// chunk-local work unless they form a cluster. The grid's z without one.
  int64_t valueBlocks = 1;
  /// Warpgroups on the chunk-local side, of kForwardThreads / 128: warpgroup
  /// w takes the chunks c with c % chunkLocalWarpgroups == w (of the CTA's
  /// share with a cluster). The others are the state side; 3 leaves one,
  /// enough for 64 value rows per CTA.
  int64_t chunkLocalWarpgroups = 2;
  /// 0, or the CTAs per (sequence, value head) that run as one thread-block
  /// cluster and split the chunk-local work: the valueBlocks CTAs that hold
  /// the state and clusterCtas - valueBlocks helpers. CTA r computes the
  /// chunks c with c % clusterCtas == r for every value row and copies them
  /// into the state CTAs' shared memory (cp.async.bulk), so each computes
  /// 1 / clusterCtas of the chunks. The grid's z is then clusterCtas.
  int64_t clusterCtas = 0;
  /// Handoff stages per chunk-local warpgroup: with 2 a warpgroup writes
  /// its next chunk's operands while the state side has yet to read its
  /// last, instead of waiting for that read before it starts.
  int64_t handoffDepth = 1;
  /// 1: the segment scan (SegmentKernels.h): the kernel runs the segments
  /// of one sequence as its sequences at V = 2K, the schedule above
  /// describing that kernel, and the bundle adds the combining kernels.
  int64_t segmentScan = 0;
  Type initialStateType; ///< f32 or bf16 (ignored when absent at run time)
  Type finalStateType;   ///< f32 or bf16 (ignored when absent at run time)

  /// The kernel's symbol: every compile-time choice spelled out, so bundles
  /// of different configurations never collide.
  std::string kernelName() const;
};

/// Copies the schedule's knobs between the structs that carry them under
/// the same names (kda-compile's flags, kda-to-ptx's options,
/// ConvertKDAToNVVMOptions), so that each knob is passed on in one place.
/// (The pass's own options are protected members of its generated base:
/// it fills its ForwardKernelConfig field by field.)
template <typename From, typename To>
void copyForwardSchedule(const From &from, To &to) {
  // The values, not the option objects (which do not copy).
  auto value = [](const auto &knob) -> int64_t { return knob; };
  to.chunkSize = value(from.chunkSize);
  to.stages = value(from.stages);
  to.valueBlocks = value(from.valueBlocks);
  to.chunkLocalWarpgroups = value(from.chunkLocalWarpgroups);
  to.clusterCtas = value(from.clusterCtas);
  to.handoffDepth = value(from.handoffDepth);
  to.segmentScan = value(from.segmentScan);
}

/// Threads per CTA: four warpgroups, the first chunkLocalWarpgroups
/// computing the operands of their chunks ahead of the rest, the state
/// side, each of which owns 64 value rows of the state.
inline constexpr int64_t kForwardThreads = 512;

/// The kernel's parameters, in order. Tensor maps are CUtensorMap values
/// (128 bytes, __grid_constant__); pointers are global; NULL means absent
/// for A_log, dt_bias, initial_state, cu_seqlens and final_state.
enum ForwardParam : unsigned {
  kParamQMap, kParamKMap, kParamVMap, kParamGMap,
  kParamBeta, kParamALog, kParamDtBias, kParamInitialState,
  kParamCuSeqlens, ///< [N + 1], or NULL for a fixed batch
  kParamO, kParamFinalState,
  kParamCuSeqlens64, ///< i32: 1 if cu_seqlens is int64, 0 if int32
  kParamSeqLen,   ///< T (i32)
  kParamHeads,    ///< H (i32)
  kParamValueHeads, ///< HV (i32)
  kParamScale,    ///< f32
  kParamLowerBound, ///< f32
  kParamIntermediate, ///< the state entering every interval-token chunk, or NULL
  kParamIntermediateInterval, ///< i32 tokens (a multiple of the chunk size)
  kParamIntermediateBF16, ///< i32: 1 if intermediate_states is bf16, 0 if f32
  kForwardParamCount
};

/// The parameter names in order, space-separated: the manifest's `params`
/// entry, which the runtime compares with the layout it launches.
std::string forwardParamNames();

/// The manifest's launch rules: the grid's axes (z is the manifest's
/// `value_blocks`), and the four tensor maps
/// (each [dim, heads, T, B], innermost first, read in boxes of
/// [dim, 1, tensor_map_box_rows, 1], v's of [V / value_blocks, 1,
/// tensor_map_box_rows, 1]: a CTA loads its block of value columns; with
/// a cluster (cluster_ctas), of [V, 1, tensor_map_box_rows, 1]). The grid's
/// z is the manifest's `head_ctas`: value_blocks, or cluster_ctas.
inline constexpr const char *kForwardGrid = "sequences value_heads head_ctas";

/// CTAs per (sequence, value head): the grid's z.
inline int64_t forwardHeadCtas(const ForwardKernelConfig &c) {
  return c.clusterCtas ? c.clusterCtas : c.valueBlocks;
}
inline constexpr const char *kForwardTensorMaps = "q k v g";

/// Bytes of dynamic shared memory the kernel uses.
int64_t forwardSharedBytes(const ForwardKernelConfig &config);

/// The configuration the forward kernel is built from: `config` itself,
/// or for the segment scan (segmentScan) its pass, `config` at V = 2K, the
/// extra K value rows carrying each segment's transition.
ForwardKernelConfig forwardPassConfig(const ForwardKernelConfig &config);
/// Returns a message naming what is not supported yet, or "" when the
/// configuration can be compiled.
std::string checkForwardSupport(const ForwardKernelConfig &config);

/// Emits the kernel as an llvm.func at the builder's insertion point (inside
/// a gpu.module). The grid is (N, HV, forwardHeadCtas): one CTA per
/// (sequence, value head, block of value rows), or per cluster rank; which
/// (x, y) takes which pair is the kernel's choice (heads fastest, a varlen
/// batch's longest sequences first), not the launcher's.
LLVM::LLVMFuncOp buildForwardKernel(OpBuilder &builder, Location loc,
                                    const ForwardKernelConfig &config);

} // namespace mlir::kda

#endif // KDA_CONVERSION_KDATONVVM_FORWARDKERNEL_H
