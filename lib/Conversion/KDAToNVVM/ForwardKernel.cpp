//===- ForwardKernel.cpp - The kda.forward kernel ---------------*- C++ -*-===//
//
// One CTA per (sequence, value head, block of value rows) walks the
// sequence in chunks of C = 16 or 32 tokens, the chunked form of the kda spec (§4)
// with the state kept transposed, S^T [V x K], in fp32 registers across
// chunks. Its four warpgroups take two roles (docs/design/forward-kernel.md):
//
//   chunk-local side, warpgroups 0..L-1 (L = chunk-local-warpgroups, 1 to
//   3), warpgroup w on the chunks c with c % L == w in its own workspace,
//   ahead of the state side:
//     TMA      q, k, v, g tiles -> shared memory, a ring of `stages`
//              buffers per warpgroup on one mbarrier each
//     scales   of q's and k's rows: q's scale, l2 norms (optional); 0 past
//              the sequence
//     gate     G = cumsum of the log decay, per key channel; whether any
//              channel spans more than maxFactorisedSpread (bar.red.or)
//     operands V^T, (K e^G)^T, (beta K e^(G_C - G))^T, Q e^G, bf16; the
//              tf32 factors k e^(G - M), q e^(G - M), beta k e^(M - G),
//              M = G_C / 2, where the spread is bounded (M = 0 where it
//              is at most 80 nats: factorsUncentred)
//     A        Akk_ij = sum_d k_id k_jd exp(G_id - G_jd) beta_j, j < i
//              Aqk_ij = sum_d q_id k_jd exp(G_id - G_jd) beta_j, j <= i
//              tf32 wgmma over the factors where the spread is
//              bounded, else every exponent pairwise on CUDA cores (j <= i,
//              so <= 0: any gate, unbounded softplus included, stays finite)
//     Tinv     (I + Akk)^-1 by forward substitution in fp32, stored as
//              Tinv^T (an N-major B operand)
//     -> a handoff stage (handoff-depth per chunk-local warpgroup, on
//        ready / free barriers): the operands, V^T and Tinv^T, so that
//        no chunk-local warp waits for the inverse
//   state side, warpgroups L..3, each for its 64 value rows:
//     X^T  = V^T - S^T (K e^G)^T        V'^T = X^T Tinv^T (= U^T - S^T W^T)
//     O^T  = S^T (Q e^G)^T + V'^T Aqk^T
//     S^T  = S^T Diag(e^G_C) + V'^T (beta K e^(G_C - G))
//
// beta is on the A matrices' columns (Akk = A0 Diag(beta), where the
// chunked form has Diag(beta) A0), which keeps Tinv's diagonal 1 and V's
// tile as it came: the chunked form's U, W and V' are Diag(beta) times
// these, and the state side takes that beta through Aqk's columns and
// K e^(G_C - G)'s rows (docs/design/forward-kernel.md, "beta on the
// columns").
//
// With a cluster (cluster-ctas = G), the G CTAs of a (sequence, value head)
// split the chunk-local work: CTA r computes the chunks c with c % G == r
// for every value row and copies each handoff stage into the other CTAs
// that hold state (cp.async.bulk into shared::cluster).
//
// Every matrix product is a wgmma (WGMMA.h); S^T, X^T and V'^T are A
// operands straight from their accumulators, rounded to bf16 only as operands, and
// the state accumulates in fp32. Rows past the end of a sequence get
// beta = 0, k = 0 and a zero log decay, so they change nothing, and are
// never stored.
//
//===----------------------------------------------------------------------===//

#include "kda/Conversion/KDAToNVVM/ForwardKernel.h"

#include "KernelEmitter.h"
#include "SegmentScan.h"
#include "WGMMA.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mlir::kda;

//===----------------------------------------------------------------------===//
// Configuration
//===----------------------------------------------------------------------===//

static StringRef typeName(Type t) {
  if (!t)
    return "none";
  return t.isBF16() ? "bf16" : t.isF16() ? "f16" : "f32";
}

std::string ForwardKernelConfig::kernelName() const {
  // The value split, when there is one, after the stages.
  std::string split = valueBlocks > 1 ? llvm::formatv("_vb{0}", valueBlocks).str() : "";
  if (chunkLocalWarpgroups != 2)
    split += llvm::formatv("_cl{0}", chunkLocalWarpgroups).str();
  if (clusterCtas)
    split += llvm::formatv("_cluster{0}", clusterCtas).str();
  if (handoffDepth != 1)
    split += llvm::formatv("_h{0}", handoffDepth).str();
  if (segmentScan)
    split += "_segments";
  return llvm::formatv("kda_forward_k{0}_v{1}_c{2}_p{11}{12}_{3}_{4}{5}_{6}_g{7}_b{8}_s{9}_{10}",
                       headDimK, headDimV, chunkSize, stringifyGateMode(gate),
                       stringifyBetaMode(betaMode), qkL2Norm ? "_l2norm" : "",
                       stringifyStateLayout(stateLayout), typeName(gType),
                       typeName(betaType), typeName(initialStateType),
                       typeName(finalStateType), stages, split)
      .str();
}

/// State warpgroups with rows: one per 64 of the CTA's V / valueBlocks.
static int64_t stateWarpgroupCount(const ForwardKernelConfig &c) {
  return c.headDimV / c.valueBlocks / 64;
}

ForwardKernelConfig kda::forwardPassConfig(const ForwardKernelConfig &c) {
  ForwardKernelConfig pass = c;
  if (c.segmentScan)
    pass.headDimV = 2 * c.headDimK;
  return pass;
}

/// What the segment scan needs beyond its pass kernel's own rules.
static std::string checkSegmentScanSupport(const ForwardKernelConfig &c) {
  if (c.headDimK != 128 || c.headDimV != 128)
    return llvm::formatv("segment_scan with K = {0}, V = {1}: the segment scan runs "
                         "K = V = 128 so far (its pass kernel takes V = 2K)",
                         c.headDimK, c.headDimV);
  if (c.stateLayout != StateLayout::VK || !c.initialStateType.isF32() ||
      !c.finalStateType.isF32())
    return "segment_scan with a kv or bf16 state: the segment scan's combining "
           "kernels take f32 states in the vk layout so far";
  if (c.valueBlocks != 2 || c.clusterCtas != 2)
    return llvm::formatv("segment_scan with value_blocks = {0}, cluster_ctas = {1}: "
                         "the segment pass holds the value rows in one CTA and the "
                         "transition rows in the other of a cluster of two "
                         "(value_blocks = 2, cluster_ctas = 2)",
                         c.valueBlocks, c.clusterCtas);
  return "";
}

std::string kda::checkForwardSupport(const ForwardKernelConfig &config) {
  if (config.segmentScan < 0 || config.segmentScan > 1)
    return llvm::formatv("segment_scan = {0}: 0 (the chain alone) or 1 (the segment scan)",
                         config.segmentScan);
  if (config.segmentScan) {
    if (std::string unsupported = checkSegmentScanSupport(config); !unsupported.empty())
      return unsupported;
  }
  // The segment scan's pass is the kernel at V = 2K: its rules are that
  // kernel's.
  const ForwardKernelConfig c = forwardPassConfig(config);
  bool square = c.headDimK == c.headDimV && (c.headDimK == 64 || c.headDimK == 128);
  if (!square && !(c.headDimK == 128 && c.headDimV == 256))
    return llvm::formatv("head sizes K = {0}, V = {1}: the forward kernel "
                         "supports K = V = 64 or 128, and K = 128 with V = 256, so far",
                         c.headDimK, c.headDimV);
  if (c.chunkSize != 16 && c.chunkSize != 32)
    return llvm::formatv("chunk_size = {0}: the forward kernel takes 16- or 32-token "
                         "chunks",
                         c.chunkSize);
  if (c.chunkSize == 32 && c.clusterCtas)
    return llvm::formatv("chunk_size = 32 with cluster_ctas = {0}{1}: 32-token chunks "
                         "run without a cluster so far",
                         c.clusterCtas, c.segmentScan ? " (the segment scan)" : "");
  if (c.handoffDepth < 1 || c.handoffDepth > 2)
    return llvm::formatv("handoff_depth = {0}: a chunk-local warpgroup has 1 or 2 handoff "
                         "stages",
                         c.handoffDepth);
  if (c.stages < 1 || c.stages > kMaxForwardStages)
    return llvm::formatv("stages = {0}: the TMA ring takes 1 to {1} stages",
                         c.stages, kMaxForwardStages);
  if (c.valueBlocks < 1 || c.headDimV % c.valueBlocks != 0 ||
      (c.headDimV / c.valueBlocks) % 64 != 0)
    return llvm::formatv("value_blocks = {0}: V = {1} splits only into blocks of a "
                         "multiple of 64 value rows (1 to {2} blocks)",
                         c.valueBlocks, c.headDimV, c.headDimV / 64);
  // A CTA's two state warpgroups hold 128 value rows.
  if (c.headDimV == 2 * c.headDimK && c.valueBlocks != 2)
    return llvm::formatv("value_blocks = {0}: V = {1} takes its state's rows in two "
                         "CTAs of {2} (value_blocks = 2)",
                         c.valueBlocks, c.headDimV, c.headDimK);
  if (c.chunkLocalWarpgroups < 1 || c.chunkLocalWarpgroups + stateWarpgroupCount(c) > 4)
    return llvm::formatv("chunk_local_warpgroups = {0}: the kernel's 4 warpgroups take 1 "
                         "or 2 on the chunk-local side, or 3 when the state side needs "
                         "one (64 value rows per CTA; this configuration has {1})",
                         c.chunkLocalWarpgroups, c.headDimV / c.valueBlocks);
  if (c.clusterCtas != 0 &&
      (c.clusterCtas < 2 || c.clusterCtas > kMaxClusterCtas || c.clusterCtas < c.valueBlocks))
    return llvm::formatv("cluster_ctas = {0}: a cluster takes the value_blocks = {1} CTAs "
                         "of a (sequence, value head) and helpers, 2 to {2} CTAs in all "
                         "(0: no cluster)",
                         c.clusterCtas, c.valueBlocks, kMaxClusterCtas);
  if (int64_t bytes = forwardSharedBytes(c); bytes > kMaxSharedBytes)
    return llvm::formatv("{6}stages = {0} with {1} chunk-local warpgroups{2}{3}: the kernel "
                         "would take {4} bytes of shared memory, more than the {5} a CTA "
                         "can have; take fewer stages{7}",
                         c.stages, c.chunkLocalWarpgroups,
                         c.clusterCtas ? " and a handoff stage for each of the "
                                         "cluster's"
                                       : "",
                         c.handoffDepth > 1 ? " and two handoff stages each" : "", bytes,
                         kMaxSharedBytes, c.chunkSize == 16 ? "" : "chunk_size = 32, ",
                         c.chunkSize > 16 && c.chunkLocalWarpgroups > 1
                             ? " or chunk-local warpgroups (1 at K = 128)"
                             : "");
  return "";
}

//===----------------------------------------------------------------------===//
// Shared memory: the one description of every buffer's place
//===----------------------------------------------------------------------===//

namespace {

/// Varlen batches of at most this many sequences start their longest
/// sequences first (ForwardKernelBuilder::longestFirst: one warp's lanes).
constexpr int64_t kMaxOrderedSequences = 32;

/// The most chunk-local warpgroups (ForwardKernelConfig): each has its own
/// workspace, TMA ring, handoff stage and named barriers.
constexpr int64_t kMaxChunkLocalWarpgroups = 3;

/// CTAs whose chunk-local warpgroups compute the chunks of one CTA's state:
/// the cluster's (clusterCtas) or the CTA alone.
int64_t producerCtas(const ForwardKernelConfig &c) {
  return c.clusterCtas ? c.clusterCtas : 1;
}

/// Value rows a chunk-local warpgroup works for (and columns of its v
/// tiles): every row when it computes for the whole cluster, else the
/// CTA's block.
int64_t producedValueRows(const ForwardKernelConfig &c) {
  return c.clusterCtas ? c.headDimV : c.headDimV / c.valueBlocks;
}

/// Of those, the rows whose V^T is handed over (and the columns of the v
/// tiles): all, except in the segment scan's pass, whose transition rows
/// see v = 0: there the chunk-local side hands over the value rows' V^T
/// alone, and the transition CTA's state side takes V = 0.
int64_t computedValueRows(const ForwardKernelConfig &c) {
  return c.segmentScan ? c.headDimV / 2 : producedValueRows(c);
}

/// The chunk-local warpgroups computing one CTA's chunks, the cluster's
/// included: chunk c is the (c / P)-th of warpgroup (c / R) % L of CTA
/// c % R (R producing CTAs, P = R L).
int64_t producerCount(const ForwardKernelConfig &c) {
  return producerCtas(c) * c.chunkLocalWarpgroups;
}

/// Handoff stages: handoffDepth per producing warpgroup, chunk c in stage
/// c % (P handoffDepth), so a warpgroup writes its next chunk while the
/// state side has yet to read its last handoffDepth - 1.
int64_t handoffStageCount(const ForwardKernelConfig &c) {
  return producerCount(c) * c.handoffDepth;
}

/// Whether a chunk-local thread keeps G of its channel's every row in
/// registers from the gate to the operands (computeGate): one thread per
/// channel (K = 128) and bf16 g tiles (with f32 ones, ptxas spilled 20-40
/// bytes around the kept rows). The workspace's G then serves only the
/// pairwise A matrices, which leave the factor tiles unused.
bool keepsGateInRegisters(const ForwardKernelConfig &c) {
  return c.headDimK == 128 && c.gType.isBF16();
}

/// Distance along K between the factor tiles' core matrices (SharedLayout):
/// 128 + 16 bytes, so that a warp's stores of one row (32 channels, eight
/// core matrices) fall in 32 distinct banks, not 4.
constexpr int64_t kFactorCoreBytes = 144;

/// Tokens per swizzle atom of the tiles whose rows run along a chunk's
/// tokens (SharedLayout: [R x C] bf16, 32-byte rows of 16 tokens): at
/// C = 32 such a tile is two atoms [R x 16], R * 32 bytes apart, so that a
/// K-major operand's k16 step is one atom and an N-major one's atoms are
/// its leading byte offset apart.
constexpr int64_t kTokensPerAtom = 16;

struct SharedLayout {
  // Handed over per chunk, one copy per handoff stage (handoffStageCount;
  // stage h's copy of a field is at its offset + h * handoffBytes): later
  // chunks' are written while chunk c's are read. wgmma operands are bf16,
  // K-major, swizzled, 1024-byte aligned; the [R x C] ones are C / 16 atoms
  // of [R x 16] (kTokensPerAtom).
  /// (Q e^G)^T [K x C], 32B swizzle: N-major, so that a thread writes its
  /// channel's eight rows as one vector.
  int64_t qgT;
  /// -(K e^G)^T [K x C], 32B swizzle. With qgT, the two N-major swizzle
  /// atoms of one B operand [K x 2C] (stateProducts): kgT lies after qgT.
  int64_t kgT;
  int64_t kdT;       ///< (K e^(G_C - G))^T [K x C], 32B swizzle
  int64_t aqk;       ///< Aqk [C x C], 32B swizzle
  /// Tinv^T [C x C] (row c is Tinv's column c: the state side's V' product's
  /// B operand, N-major), 32B swizzle; at C = 16 a spare copy's room (warp
  /// 0's lanes past C, which solve nothing, store there).
  int64_t tinv;
  int64_t stateDecay; ///< e^(G_C) per key channel [K]
  /// V^T [the value rows U is computed for x C] (computedValueRows: with a
  /// cluster every CTA's, else this CTA's block), bf16, 32B swizzle: the
  /// state side's accumulator starts from its rows.
  int64_t vT;
  /// Each state warpgroup's output tile, C tokens x 64 bf16 values
  /// (stageOutput), written and read by the state side alone: last, so
  /// that a cluster's copy of a stage is its first `out` bytes.
  int64_t out;
  int64_t outTileBytes;
  int64_t handoffBytes;
  // Each chunk-local warpgroup's workspace: warpgroup w's copy of a field
  // is at its offset + w * workspaceBytes.
  /// The A matrices' factors about M = G_C / 2 per channel, tf32 tiles for
  /// one wgmma chain, K-major without swizzle (interleavedDescriptor: a
  /// thread writes its channel's rows at constant offsets, no swizzle per
  /// store): core matrices of 8 rows x 4 channels, kFactorCoreBytes apart
  /// along K, factorGroupBytes apart per 8 rows. factorsLeft [2C x K] holds
  /// k e^(G - M) in rows 0..C-1 and q e^(G - M) in rows C..2C-1,
  /// factorsRight [C x K], right after it, beta k e^(M - G). Where 2C rows
  /// would fill half of the chain's m64 tile (C = 16), the channels are
  /// split in two halves (factorHalves = 2), each 8-row group of factorsLeft
  /// followed by the same rows' second half, and factorsRight holds its C
  /// rows' first halves, then their second: the product is m64 n2C over
  /// K / 2, and each thread holds a row's two half sums (its fragment's
  /// rows r and r + 8), so no warp waits for another to add them.
  int64_t factorsLeft, factorsRight, factorGroupBytes, factorHalves;
  // fp32 scratch, row-major.
  int64_t akk;       ///< [C x C], column-major (the inverse reads columns)
  /// Chunk-local cumulative log decay G [C x K]; in factorsLeft's place
  /// where only the pairwise A matrices read it (keepsGateInRegisters).
  int64_t g;
  /// Per row, q's scale (times its l2 norm's reciprocal) and k's [2C]:
  /// the operands read q and k from their tiles and scale them there.
  int64_t rowScale;
  int64_t beta;      ///< [C]
  /// Floats per row of g: K + 4, so that the 16 rows a warp reads at one
  /// column fall in different banks (with K floats they all hit one bank,
  /// a 16-way conflict).
  int64_t scratchStride;
  int64_t workspaceBytes;
  // TMA destinations, row-major, unswizzled, `stages` sets per chunk-local
  // warpgroup: stage s of warpgroup w holds a tile at its offset +
  // (w * stages + s) * stageBytes. v's tile holds the value columns the
  // CTA hands V^T over for (computedValueRows).
  int64_t qTile, kTile, vTile, gTile, stageBytes;
  /// mbarriers, 8 bytes each: one per TMA stage (L x stages), then per
  /// handoff stage one that completes when its operands are written
  /// (`ready`) and one when the state warpgroups have read them (`free`).
  int64_t barriers;
  int64_t total;

  explicit SharedLayout(const ForwardKernelConfig &c) {
    int64_t C = c.chunkSize, K = c.headDimK, V = c.headDimV, at = 0;
    int64_t warpgroups = c.chunkLocalWarpgroups;
    auto take = [&](int64_t bytes, int64_t align) {
      at = (at + align - 1) / align * align;
      int64_t offset = at;
      at += bytes;
      return offset;
    };
    scratchStride = K + 4;
    int64_t stateRows = V / c.valueBlocks;
    outTileBytes = 64 * C * 2;
    qgT = take(K * C * 2, 1024);
    kgT = take(K * C * 2, 1024);
    kdT = take(K * C * 2, 1024);
    aqk = take(C * C * 2, 1024);
    tinv = take(32 / C * C * C * 2, 1024);
    stateDecay = take(K * 4, 16);
    vT = take(computedValueRows(c) * C * 2, 128);
    out = take(stateRows / 64 * outTileBytes, 128);
    handoffBytes = (at + 1023) / 1024 * 1024;
    at = handoffStageCount(c) * handoffBytes;
    int64_t workspace = at;
    factorHalves = 2 * C < 64 ? 2 : 1;
    factorGroupBytes = K / factorHalves / 4 * kFactorCoreBytes;
    factorsLeft = take(2 * C / 8 * factorHalves * factorGroupBytes, 1024);
    factorsRight = take(C / 8 * factorHalves * factorGroupBytes, 16);
    akk = take(C * C * 4, 16);
    g = keepsGateInRegisters(c) ? factorsLeft : take(C * scratchStride * 4, 16);
    rowScale = take(2 * C * 4, 16);
    beta = take(C * 4, 16);
    int64_t workspaceUsed = at - workspace;
    workspaceBytes = (workspaceUsed + 1023) / 1024 * 1024;
    // The last workspace needs no padding to the next's alignment.
    at = workspace + (warpgroups - 1) * workspaceBytes + workspaceUsed;
    qTile = take(C * K * 2, 128);
    kTile = take(C * K * 2, 128);
    vTile = take(C * computedValueRows(c) * 2, 128);
    gTile = take(C * K * c.gType.getIntOrFloatBitWidth() / 8, 128);
    stageBytes = (at - qTile + 127) / 128 * 128;
    at = qTile + warpgroups * c.stages * stageBytes;
    barriers = take(8 * (warpgroups * c.stages + 2 * handoffStageCount(c) +
                         (factorHalves > 1 ? warpgroups : 0)),
                    8);
    // The last workspace's m64 factor tile reads 64 rows from factorsLeft:
    // the layout reaches at least that far (what follows it always does
    // so far; this keeps it so).
    at = std::max(at, factorsLeft + (warpgroups - 1) * workspaceBytes + 8 * factorGroupBytes);
    total = (at + 127) / 128 * 128;
  }
};

/// Named-barrier ids: 0 is the whole CTA (bar.sync 0, the prologue only);
/// chunk-local warpgroup w syncs its 128 threads on kChunkLocalBarrier + w
/// and takes the bar.red.or of the spread check on kSpreadBarrier + w (a
/// plain barrier where the spread is bounded: spreadIsBounded);
/// state warpgroup w syncs its own on kOutputBarrier + w (the output
/// tile), at most three of them (all but one chunk-local warpgroup). The
/// state warpgroups never wait for each other. Without a cluster, handoff
/// stage h is ready on kReadyBarrier + h (readyOnNamedBarrier).
enum NamedBarrier : int64_t {
  kCtaBarrier = 0,
  kChunkLocalBarrier = 1,
  kSpreadBarrier = kChunkLocalBarrier + kMaxChunkLocalWarpgroups,
  kOutputBarrier = kSpreadBarrier + kMaxChunkLocalWarpgroups,
  kReadyBarrier = kOutputBarrier + kMaxChunkLocalWarpgroups
};
/// A CTA has 16 named barriers: every handoff stage of a CTA without a
/// cluster (at most two per chunk-local warpgroup) must get one.
static_assert(kReadyBarrier + 2 * kMaxChunkLocalWarpgroups <= 16);

/// Registers per thread after setmaxnreg: the state warpgroups with rows
/// hold S^T (K / 2 fp32), its bf16 copy as an operand (K / 4) and two
/// accumulators, the first [O^T | V'^T] of m64 n2C (at C = 32, 160 spilled
/// 100 bytes; 168 none); the chunk-local ones give theirs up, idle ones
/// keep the 128 they start with (65,536 / 512).
int64_t stateRegisters(const ForwardKernelConfig &c) { return c.chunkSize == 16 ? 160 : 168; }
constexpr int64_t kChunkLocalRegisters = 96;
constexpr int64_t kEntryRegisters = 128;
/// setmaxnreg's least and most.
constexpr int64_t kLeastRegisters = 24;
constexpr int64_t kMostRegisters = 256;

struct RegisterSplit {
  int64_t chunkLocal, idle;
};

/// The chunk-local and idle warpgroups' registers per thread: with 16-token
/// chunks 96 and 128 (every such split fits the SM's 65,536 beside the
/// state warpgroups). With 32-token chunks a chunk-local thread holds
/// twice the rows (at 96, the l2 norms spilled at K = 64), and one
/// chunk-local warpgroup beside two state warpgroups and an idle one
/// (K = V = 128) would not fit at all (setmaxnreg would wait forever):
/// there the idle warpgroups keep the least and the chunk-local ones share
/// the rest.
RegisterSplit registerSplit(const ForwardKernelConfig &c) {
  int64_t chunkLocal = c.chunkLocalWarpgroups, state = stateWarpgroupCount(c);
  int64_t idle = 4 - chunkLocal - state;
  int64_t perThread = 4 * kEntryRegisters;
  if (c.chunkSize == 16 &&
      chunkLocal * kChunkLocalRegisters + state * stateRegisters(c) + idle * kEntryRegisters <=
          perThread)
    return {kChunkLocalRegisters, kEntryRegisters};
  int64_t rest = perThread - state * stateRegisters(c) - idle * kLeastRegisters;
  return {std::min(rest / chunkLocal / 8 * 8, kMostRegisters), kLeastRegisters};
}

/// The first thread of a chunk-local warpgroup's last warp, which issues
/// its TMA loads and reads beta: warp 0 inverts the triangular matrix and
/// warps 0 and 1 store the A matrices, so the chunk's single-thread work
/// goes where it delays no one.
constexpr int64_t kUtilityThread = 96;

/// Channels of the A matrices' dot products per loop step, as bytes of fp32.
constexpr int64_t kAttentionStepBytes = 64;

/// 1 + 2^-11: tf32 keeps 10 mantissa bits and wgmma truncates the rest, so
/// a factor scaled by this first is within 2^-11 of its value either way.
constexpr double kTF32HalfUlp = 1.0 + 1.0 / 2048;
/// The workspace's beta is beta times kTF32HalfUlp^2 (exact in fp32): the
/// right factor's share of that scale, so that the factor is the left
/// one's reciprocal times beta, one multiply fewer per element (the
/// pairwise A matrices and operands take it off again).
constexpr double kStoredBetaScale = kTF32HalfUlp * kTF32HalfUlp;

/// The widest spread of G over a chunk (per channel, in nats) for which the
/// A matrices are taken as products of the factors e^(+-(G - M)): at
/// C = 16 those stay within e^64 of 1, far from fp32's overflow and
/// subnormal range; at C = 32 within e^80 (e^8 inside that range either
/// way), since the lower_bound gate spans up to 5 nats a token, which is
/// 160 over 32 tokens (with 128, two thirds of the benchmark's chunks took
/// the pairwise path). Wider chunks (an unbounded gate) take the pairwise
/// exponents instead.
double maxFactorisedSpread(const ForwardKernelConfig &c) {
  return c.chunkSize == 16 ? 128.0 : 160.0;
}

/// The lower_bound gate's log decay lies in (lower_bound, 0) with
/// lower_bound in [kMinLowerBound, 0) (the op's verifier and the runtime
/// hold it there), so a chunk spans less than -kMinLowerBound C nats, within
/// maxFactorisedSpread at C = 16 and 32: no chunk needs the pairwise A
/// matrices, and the spread check's bar.red.or is a plain barrier (4 %
/// faster at T = 8192 H = 96, step 15).
bool spreadIsBounded(const ForwardKernelConfig &c) {
  return c.gate == GateMode::LowerBound &&
         -kMinLowerBound * c.chunkSize <= maxFactorisedSpread(c);
}

/// Where every chunk spans at most 80 nats (the lower_bound gate at
/// C = 16), the A matrices' factors are e^G and e^-G themselves (M = 0):
/// within e^80 of 1, inside fp32's normal range (e^-87.3 .. e^88.7). Then
/// q e^G is its own bf16 operand and G is kept in log2 units, so each
/// element saves two multiplies and an fma (3 % at T = 8192 H = 96,
/// session 19). k's row scale is negated there: -(K e^G) is then its
/// factor too, Akk's two factors' signs cancel, and Aqk's come out
/// negated, which the state side's product with it takes back.
constexpr double kMaxUncentredSpread = 80.0;
bool factorsUncentred(const ForwardKernelConfig &c) {
  return spreadIsBounded(c) && -kMinLowerBound * c.chunkSize <= kMaxUncentredSpread;
}

class ForwardKernelBuilder {
public:
  ForwardKernelBuilder(KernelEmitter &e, const ForwardKernelConfig &c,
                       LLVM::LLVMFuncOp func)
      : e(e), c(c), layout(c), func(func) {}

  void build();

private:
  Value param(ForwardParam p) { return func.getArgument(p); }
  Value shared(int64_t offset) { return e.gep(smem, e.i32(offset)); }
  /// A shared::cta address as 32 bits (shared addresses are below 2^18).
  Value sharedAddress(int64_t offset) { return e.trunc32(e.address(shared(offset))); }
  Value shared(int64_t offset, Value byteOffset) {
    return e.gep(smem, e.add(e.i32(offset), byteOffset));
  }
  /// Byte offset of (row, col) in an fp32 scratch matrix of scratchStride.
  Value scratchOffset(Value row, Value col) {
    return e.mul(e.add(e.mul(row, e.i32(layout.scratchStride)), col), e.i32(4));
  }
  /// Byte offset of (row, token) in an [rows x C] tile along the chunk's
  /// tokens (32B swizzle, C / 16 atoms: kTokensPerAtom).
  Value tokenTileOffset(Value row, Value token, int64_t rows) {
    if (c.chunkSize == kTokensPerAtom)
      return swizzledOffset(e, row, token, Swizzle::B32);
    Value atom = e.udiv(token, e.i32(kTokensPerAtom));
    return e.add(e.mul(atom, e.i32(atomBytes(rows))),
                 swizzledOffset(e, row, e.urem(token, e.i32(kTokensPerAtom)), Swizzle::B32));
  }
  /// Bytes between the atoms of an [rows x C] tile.
  static int64_t atomBytes(int64_t rows) { return rows * 32; }
  /// Byte offset of Akk's entry (i, j) (column-major).
  Value akkOffset(Value i, Value j) {
    return e.mul(e.add(e.mul(j, e.i32(c.chunkSize)), i), e.i32(4));
  }
  /// Pointer into this chunk-local warpgroup's workspace.
  Value mine(int64_t offset, Value byteOffset) {
    return shared(offset, e.add(workspaceBase, byteOffset));
  }
  /// Pointer to a TMA tile of the current chunk's pipeline stage.
  Value tile(int64_t offset, Value byteOffset) {
    return shared(offset, e.add(stageBase, byteOffset));
  }
  /// Pointer into, and descriptor of, a field of the current chunk's
  /// handoff stage.
  Value handoff(int64_t offset, Value byteOffset) {
    return shared(offset, e.add(handoffBase, byteOffset));
  }
  Value handoffDescriptor(int64_t offset, Swizzle swizzle) {
    return matrixDescriptor(e, handoffDescriptors, offset, swizzle);
  }
  /// Row and column of accumulator value v of this thread, the row within
  /// the CTA's block of V (state warpgroup w's 64 rows start at 64 w).
  Value fragmentRow(int64_t v) {
    return e.add(stateRow0(), e.add(frag.rowBase, e.i32(FragmentLayout::rowOffset(v))));
  }
  /// State warpgroup w's first row within the CTA's block of V: 64 w.
  Value stateRow0() { return e.mul(warpgroup, e.i32(64)); }
  Value fragmentCol(int64_t v) {
    return e.add(frag.colBase, e.i32(FragmentLayout::colOffset(v)));
  }
  /// The value row (of all V) of a state or output fragment value: this
  /// CTA's block of rows starts at valueRow0.
  Value valueRow(int64_t v) { return e.add(valueRow0, fragmentRow(v)); }
  /// Byte offset of state warpgroup `tile`'s output tile in a stage.
  Value outTileOffset(Value tile) {
    return e.add(e.i32(layout.out), e.mul(tile, e.i32(layout.outTileBytes)));
  }

  void prologue();
  /// The sequence of the `rank`-th longest among `sequences` (at most
  /// kMaxOrderedSequences; ties in order), from every lane of the warp,
  /// and its first and end token (i64).
  SmallVector<Value> longestFirst(Value rank, Value sequences,
                                  const std::function<Value(Value)> &cuEntry);
  /// Where state value v of this thread lives in a [N, HV, ...] state tensor.
  Value statePointer(Value tensor, Type type, int64_t v, Value slot);
  /// State values a thread reads or writes at once: in the vk layout its
  /// values v and v + 1 (v even) are adjacent key channels of one row, so
  /// one access of both halves the instructions and fills each 32-byte
  /// sector a warp touches (the runtime checks the state tensors' alignment
  /// for it); in the kv layout they lie V apart.
  int64_t statePairWidth() const { return c.stateLayout == StateLayout::VK ? 2 : 1; }
  SmallVector<Value> loadStatePair(Type type, Value p) {
    if (statePairWidth() == 1)
      return {e.load(type, p)};
    return e.loadVector(type, statePairWidth(), p);
  }
  void storeStatePair(ValueRange values, Value p) {
    if (values.size() == 1)
      e.store(values.front(), p);
    else
      e.storeVector(values, p);
  }
  void storeIntermediateState(Value sAcc, Value row0);
  Value loadInitialState();
  /// Segment `rank` of the segment scan's `segments`: (rank, its first
  /// token, its end), as the prologue takes a sequence's.
  SmallVector<Value> segmentBounds(Value rank, Value segments) {
    Value seqLen = e.sext64(param(kParamSeqLen));
    Value length = e.ext64(segmentLength(e, param(kParamSeqLen), segments));
    auto atMostT = [&](Value token) { return e.select(e.slt(token, seqLen), token, seqLen); };
    Value first = atMostT(e.mul(e.ext64(rank), length));
    return {rank, first, atMostT(e.add(first, length))};
  }
  /// The segment scan's initial state: [h0 | I] for the first segment,
  /// [0 | I] for the others (value rows | transition rows).
  Value loadSegmentStart();
  /// Where the segment scan's pass writes X: right after the segments'
  /// final states in the workspace (SegmentKernels.h).
  Value transitionOutput() {
    Value states = e.mul(e.ext64(e.mul(e.gridDimX(), numValueHeads)),
                         e.i64(c.headDimV * c.headDimK * 4));
    return e.gep(param(kParamFinalState), states);
  }
  /// The TMA stage of `chunk`: the chunk-local warpgroup w = (chunk / R) %
  /// L of CTA chunk % R (R producing CTAs) loads its n-th chunk (n = chunk
  /// / RL) into stage n % stages of its ring.
  Value stageOf(Value chunk) {
    Value ring = e.urem(e.udiv(chunk, e.i32(producerCtas(c))), e.i32(c.chunkLocalWarpgroups));
    Value n = e.udiv(chunk, e.i32(producerCount(c)));
    Value stage = e.add(e.mul(ring, e.i32(c.stages)), e.urem(n, e.i32(c.stages)));
    // A single buffer's index is 0, but through an opaque move: folded to a
    // constant, it lets ptxas see a divergent path around the wgmma of a
    // cluster's kernel and serialize them (C7520).
    return c.chunkLocalWarpgroups * c.stages == 1 ? e.opaque(stage) : stage;
  }
  /// The phase of its ring's mbarrier that `chunk` waits for: a stage's
  /// n-th use (n = chunk / depth) completes phase n.
  Value useParity(Value chunk, int64_t depth) {
    return e.andi(e.udiv(chunk, e.i32(depth)), e.i32(1));
  }
  /// Tokens of the chunk starting at row0 that lie in the sequence.
  Value rowsFrom(Value row0) { return e.minsi(e.i32(c.chunkSize), e.sub(len, row0)); }
  /// mbarriers of the TMA rings: one per buffer of each warpgroup's ring.
  int64_t tmaBarrierCount() const { return c.chunkLocalWarpgroups * c.stages; }
  /// Handoff stages: handoffDepth per chunk-local warpgroup of the
  /// producing CTAs.
  int64_t handoffStages() const { return handoffStageCount(c); }
  Value barrierOf(Value stage) {
    return shared(layout.barriers, e.mul(stage, e.i32(8)));
  }
  /// Without a cluster a stage's `ready` is a named barrier
  /// (kReadyBarrier + stage): the writing warpgroup's warps arrive
  /// (bar.arrive) and the state warpgroups wait in bar.sync, where an
  /// mbarrier's try_wait woke them some 35 times a chunk, each wake-up
  /// issue slots the chunk-local warps of the same schedulers wanted. A
  /// cluster's stages are completed from other CTAs: mbarriers there.
  bool readyOnNamedBarrier() const { return !c.clusterCtas; }
  /// The threads that meet on a stage's named `ready`: its writer's and
  /// every state warpgroup's with rows.
  int64_t readyThreads() const { return 128 * (1 + stateWarpgroups()); }
  Value readyBarrier(Value handoffStage) {
    return barrierOf(e.add(e.i32(tmaBarrierCount()), handoffStage));
  }
  /// Warp 1 of chunk-local warpgroup `w` has stored its rows of Akk
  /// (factorHalves = 2): 32 arrivals a chunk.
  Value akkRowsBarrier(Value w) {
    return barrierOf(e.add(e.i32(tmaBarrierCount() + 2 * handoffStages()), w));
  }
  /// Warp 1's arrival there once its rows are stored (either form).
  void announceAkkRows(Value warp) {
    e.ifThen(e.eq(warp, e.i32(1)), [&] { e.arriveOn(akkRowsBarrier(warpgroup)); });
  }
  /// The warp of this thread in its warpgroup, as a warp-uniform value.
  Value warpOfThread() { return e.warpUniform(e.udiv(threadInWarpgroup, e.i32(32))); }
  Value freeBarrier(Value handoffStage) {
    return barrierOf(e.add(e.i32(tmaBarrierCount() + handoffStages()), handoffStage));
  }
  /// Byte offset of a stage's tiles from the first stage's.
  Value stageOffset(Value stage) { return e.mul(stage, e.i32(layout.stageBytes)); }
  void issueTiles(Value chunk, Value chunks);
  void waitTiles(Value chunk);
  /// The handoff ring: the chunk-local side waits until the stage of
  /// `chunk` is free and marks it ready; the state side waits until it is
  /// ready and marks it free. Each sets handoffBase.
  Value handoffStageOf(Value chunk) { return e.urem(chunk, e.i32(handoffStages())); }
  void waitHandoffFree(Value chunk);
  void markHandoffReady(Value chunk);
  void waitHandoffReady(Value chunk);
  /// `enabled`: an i32, nonzero where the arrival is to happen.
  void markHandoffFree(Value chunk, Value enabled);
  /// The barrier of this chunk-local warpgroup's 128 threads.
  void chunkLocalSync() { e.namedBarrier(e.add(e.i32(kChunkLocalBarrier), warpgroup), 128); }
  void runChunkLocal(Value chunks);
  void runStateChain(Value chunks, Value initialState);
  void scaleRows(Value rows);
  /// Returns whether this thread's channel is wider than
  /// maxFactorisedSpread in this chunk (false on threads without one).
  /// Where one thread holds a channel's every row (keepsGateInRegisters),
  /// G stays in its registers (`kept`) for writeOperands, which takes the
  /// same channel and rows; otherwise it goes to the workspace.
  Value computeGate(Value rows, SmallVectorImpl<Value> &kept);
  Value prefetchBeta(Value chunk);
  void storeBeta(Value raw, Value rows);
  /// beta as the pairwise path takes it: the workspace's without the tf32
  /// factors' scale (kStoredBetaScale).
  Value unscaledBeta(Value stored) { return e.fmul(stored, e.f32(1.0 / kStoredBetaScale)); }
  void attentionPairwise();
  /// `meanwhile` runs while the products are in flight.
  void attentionOnTensorCores(const std::function<void()> &meanwhile);
  void storeAttention(Value i, Value j, Value kk, Value qk);
  /// `factorised`: an i1 choosing the factorised or the pairwise form per
  /// chunk, or null where the spread is bounded (the factorised alone).
  void writeOperands(Value factorised, ArrayRef<Value> keptGate);
  /// `onFactorised` alone where `factorised` is null (a bounded spread),
  /// else each form under its branch.
  void byForm(Value factorised, const std::function<void()> &onFactorised,
              const std::function<void()> &onPairwise) {
    if (!factorised)
      return onFactorised();
    e.ifThen(factorised, onFactorised);
    e.ifThen(e.notb(factorised), onPairwise);
  }
  /// `chunkParity`: the warpgroup's n-th chunk's n & 1, the phase of its
  /// Akk-rows barrier (factorHalves = 2) that chunk waits for.
  void invertTriangular(Value chunkParity);
  /// V', O and the state's update (state side): returns the new state and
  /// O^T; `meanwhile` runs while the first products are in flight.
  SmallVector<Value> stateProducts(Value sAcc, const std::function<void()> &meanwhile);
  void storeFinalState(Value sAcc);
  /// O^T into this state warpgroup's output tile of the current stage;
  /// returns the tile's byte offset, for flushOutput.
  Value stageOutput(Value accO);
  /// The staged tile to o: a barrier of the warpgroup, one 16-byte store
  /// per thread and 16 tokens of the tile's first `rows` tokens.
  void flushOutput(Value tileOffset, Value rows, Value firstToken);
  /// One thread's 16 bytes of token `myToken` (values 8 myPiece..) to o
  /// (or the segment scan's X), if the token is one of the chunk's `rows`.
  void storeOutputPiece(ArrayRef<Value> values, Value myToken, Value myPiece, Value rows,
                        Value firstToken);
  /// Where 16-byte piece `piece` of token row `token` of a staged output
  /// tile lies.
  Value outputPiece(Value tileOffset, Value token, Value piece);

  KernelEmitter &e;
  const ForwardKernelConfig &c;
  SharedLayout layout;
  LLVM::LLVMFuncOp func;

  Value smem;
  Value stageBase; ///< i32: byte offset of the current chunk's stage of tiles
  Value handoffBase; ///< i32: byte offset of the current chunk's handoff stage
  /// The descriptor base (descriptorBase) of the current handoff stage.
  Value handoffDescriptors;
  /// The warpgroup's index on its side: chunk-local warpgroup w takes the
  /// chunks c with c % L == w, state warpgroup w value rows [64w, 64w + 64)
  /// of the CTA's block.
  Value tid, warpgroup, threadInWarpgroup;
  /// Whether this state warpgroup has rows of the state in this CTA's value
  /// block (not the second one when the block is 64 rows and two
  /// warpgroups are chunk-local): one without has nothing to do.
  Value ownsValueRows;
  /// State warpgroups with rows: the `free` barriers' arrival count / 128.
  int64_t stateWarpgroups() const { return stateWarpgroupCount(c); }
  Value valueRow0; ///< i32: this CTA's first value row
  /// With a cluster, this CTA's rank in it (the grid's z).
  Value clusterRank;
  /// The first chunk of this chunk-local warpgroup: w, or with a cluster of
  /// G CTAs its rank (the grid's z) + G w.
  Value firstChunk;
  /// The cluster rank that computes `chunk`.
  Value producerOf(Value chunk) { return e.urem(chunk, e.i32(producerCtas(c))); }
  /// i32: byte offset of this chunk-local warpgroup's workspace copy.
  Value workspaceBase;
  Value chunkLocal; ///< i1: this thread is on the chunk-local side
  FragmentLayout frag;
  Value hv, seq, h, numValueHeads;
  Value bos;           ///< i64: first token of the sequence in [B*T]
  Value len;           ///< i32: tokens in the sequence
  Value tmaRow0, tmaBatch; ///< i32 TMA coordinates of the first token
  Value firstEntry;        ///< i64: this sequence's first intermediate state
  Value gateCoefficient, gateBias; ///< of this thread's key channel (gate modes)
  /// The lower_bound gate's exponent raw s + t: s = -a log2(e), t = s b.
  Value sigmoidScale, sigmoidShift;
  /// 1 / lower_bound (the runtime takes lower_bound in [-5, 0)).
  Value reciprocalLowerBound;
};

} // namespace

std::string kda::forwardParamNames() {
  static const char *const names[kForwardParamCount] = {
      "q_map", "k_map", "v_map", "g_map", "beta", "A_log", "dt_bias",
      "initial_state", "cu_seqlens", "o", "final_state", "cu_seqlens_is_int64",
      "seq_len", "heads", "value_heads", "scale", "lower_bound",
      "intermediate_states", "intermediate_interval", "intermediate_is_bf16"};
  std::string joined;
  for (unsigned p = 0; p < kForwardParamCount; ++p)
    joined += (p ? " " : "") + std::string(names[p]);
  return joined;
}

int64_t kda::forwardSharedBytes(const ForwardKernelConfig &config) {
  return SharedLayout(forwardPassConfig(config)).total;
}

//===----------------------------------------------------------------------===//
// Prologue: who am I, which tokens are mine
//===----------------------------------------------------------------------===//

SmallVector<Value> ForwardKernelBuilder::longestFirst(
    Value rank, Value sequences, const std::function<Value(Value)> &cuEntry) {
  // Lane i holds sequence i's bounds (length -1 past the last), counts the
  // sequences before it in the order (longer, or as long and earlier), and
  // the lane whose count is `rank` names the sequence and hands over its
  // bounds: shuffles only, and one round of loads.
  // Token indices fit 32 bits (the runtime refuses B T > INT32_MAX), and
  // shuffles move 32.
  Value lane = e.urem(e.threadIdx(), e.i32(32));
  SmallVector<Value> bounds = e.ifElse(
      e.ult(lane, sequences), TypeRange{e.i32(), e.i32()},
      [&] {
        Value i = e.ext64(lane);
        return SmallVector<Value>{e.trunc32(cuEntry(i)), e.trunc32(cuEntry(e.add(i, e.i64(1))))};
      },
      [&] { return SmallVector<Value>{e.i32(0), e.i32(-1)}; });
  Value length = e.sub(bounds[1], bounds[0]);
  Value before = e.i32(0);
  for (int64_t j = 0; j < 32; ++j) {
    Value other = e.shuffleIndex(length, e.i32(j));
    Value earlier = e.andi(e.eq(other, length), e.ult(e.i32(j), lane));
    before = e.add(before, e.select(e.ori(e.slt(length, other), earlier), e.i32(1), e.i32(0)));
  }
  Value sequence = e.i32(0);
  for (int64_t j = 0; j < 32; ++j)
    sequence = e.select(e.eq(e.shuffleIndex(before, e.i32(j)), rank),
                        e.i32(j), sequence);
  return {sequence, e.ext64(e.shuffleIndex(bounds[0], sequence)),
          e.ext64(e.shuffleIndex(bounds[1], sequence))};
}

void ForwardKernelBuilder::prologue() {
  auto &b = e.builder();
  smem = LLVM::AddressOfOp::create(b, e.ptr(kSharedSpace), kSharedSymbol);

  tid = e.threadIdx();
  Value warpgroupOfCta = e.warpUniform(e.udiv(tid, e.i32(128)));
  chunkLocal = e.ult(warpgroupOfCta, e.i32(c.chunkLocalWarpgroups));
  // Either side's index: the state warpgroups L..3 are 0..3-L.
  warpgroup = e.warpUniform(e.sub(
      warpgroupOfCta, e.select(chunkLocal, e.i32(0), e.i32(c.chunkLocalWarpgroups))));
  threadInWarpgroup = e.urem(tid, e.i32(128));
  frag = fragmentLayout(e, threadInWarpgroup);
  // State warpgroup w owns rows [64w, 64w + 64) of this CTA's block of V.
  int64_t blockRows = c.headDimV / c.valueBlocks;
  ownsValueRows = e.ult(warpgroup, e.i32(stateWarpgroups()));
  valueRow0 = e.mul(e.blockIdxZ(), e.i32(blockRows));
  firstChunk = warpgroup;
  // The CTA's rank in its cluster, if any: ranks below valueBlocks hold
  // the state, the rest help.
  if (c.clusterCtas) {
    // The cluster spans the grid's z: CTA z computes the chunks c with
    // c % G == z, its warpgroup w those with (c / G) % L == w; only the
    // first valueBlocks CTAs hold state rows.
    clusterRank = e.blockIdxZ();
    if (c.clusterCtas > c.valueBlocks) {
      Value holdsState = e.andi(ownsValueRows, e.ult(clusterRank, e.i32(c.valueBlocks)));
      ownsValueRows = e.ne(e.warpUniform(e.select(holdsState, e.i32(1), e.i32(0))), e.i32(0));
    }
    firstChunk = e.add(clusterRank, e.mul(warpgroup, e.i32(producerCtas(c))));
  }
  workspaceBase = e.mul(warpgroup, e.i32(layout.workspaceBytes));

  numValueHeads = param(kParamValueHeads);
  Value cu = param(kParamCuSeqlens);
  Value varlen = e.isNotNull(cu);
  Value seqLen = e.sext64(param(kParamSeqLen));
  Value cu64 = e.ne(param(kParamCuSeqlens64), e.i32(0));
  auto cuEntry = [&](Value index) {
    return e.ifElse(cu64, e.i64(),
                    [&] { return e.load(e.i64(), e.gep(cu, e.mul(index, e.i64(8)))); },
                    [&] {
                      return e.sext64(e.load(e.i32(), e.gep(cu, e.mul(index, e.i64(4)))));
                    });
  };
  // The grid's (x, y) read as one index with the heads fastest: the GPU
  // starts CTAs in that order, so when they take several waves, a
  // sequence's heads start together, and with at most 32 sequences of
  // varying length, the longest first (the last wave then holds short
  // sequences, not the tail of a long one).
  Value sequences = e.gridDimX();
  Value linear = e.add(e.blockIdxX(), e.mul(e.blockIdxY(), sequences));
  hv = e.urem(linear, numValueHeads);
  Value rank = e.udiv(linear, numValueHeads);
  Value ordered = e.andi(varlen, e.ult(sequences, e.i32(kMaxOrderedSequences + 1)));
  // The segment scan's sequences are the segments of the one sequence
  // (the runtime passes no cu_seqlens).
  SmallVector<Value> mine = c.segmentScan ? segmentBounds(rank, sequences) : e.ifElse(
      ordered, TypeRange{e.i32(), e.i64(), e.i64()},
      [&] { return longestFirst(rank, sequences, cuEntry); },
      [&] {
        Value rank64 = e.ext64(rank);
        Value first = e.ifElse(varlen, e.i64(), [&] { return cuEntry(rank64); },
                               [&] { return e.mul(rank64, seqLen); });
        Value end = e.ifElse(varlen, e.i64(),
                             [&] { return cuEntry(e.add(rank64, e.i64(1))); },
                             [&] { return e.add(first, seqLen); });
        return SmallVector<Value>{rank, first, end};
      });
  seq = e.warpUniform(mine[0]);
  bos = mine[1];
  len = e.trunc32(e.sub(mine[2], bos));
  h = e.udiv(hv, e.udiv(numValueHeads, param(kParamHeads)));
  Value seq64 = e.ext64(seq);

  // The first intermediate state of this sequence: the sequences before it
  // own ceil(len / interval) entries each.
  Value interval = param(kParamIntermediateInterval);
  firstEntry = e.ifElse(
      e.isNull(param(kParamIntermediate)), e.i64(), [&] { return e.i64(0); },
      [&] {
        Value interval64 = e.sext64(interval);
        auto entries = [&](Value tokens) {
          return e.udiv(e.add(tokens, e.sub(interval64, e.i64(1))), interval64);
        };
        return e.ifElse(varlen, e.i64(),
                        [&] {
                          return e.forLoop(e.i64(0), seq64, e.i64(1), ValueRange{e.i64(0)},
                                           [&](Value m, ValueRange sum) -> SmallVector<Value> {
                                             Value tokens = e.sub(cuEntry(e.add(m, e.i64(1))),
                                                                  cuEntry(m));
                                             return {e.add(sum[0], entries(tokens))};
                                           })[0];
                        },
                        [&] { return e.mul(seq64, entries(seqLen)); });
      });
  // A varlen batch's tokens, and the segment scan's, are rows of one [T]
  // (batch 0).
  tmaRow0 = c.segmentScan ? e.trunc32(bos) : e.select(varlen, e.trunc32(bos), e.i32(0));
  tmaBatch = c.segmentScan ? e.i32(0) : e.select(varlen, e.i32(0), seq);

  // The gate's per-channel parameters, read once: thread t of a chunk-local
  // warpgroup has channel t / (128 / K) (computeGate).
  gateCoefficient = e.f32(1.0);
  gateBias = e.f32(0.0);
  if (c.gate != GateMode::Precomputed) {
    Value aLog = param(kParamALog), dtBias = param(kParamDtBias);
    Value d = e.udiv(threadInWarpgroup, e.i32(128 / c.headDimK));
    gateCoefficient = e.ifElse(e.isNull(aLog), e.f32(), [&] { return e.f32(1.0); },
                               [&] {
                                 Value a = e.load(e.f32(), e.gep(aLog, e.mul(e.ext64(hv), e.i64(4))));
                                 return e.exp(a);
                               });
    gateBias = e.ifElse(e.isNull(dtBias), e.f32(), [&] { return e.f32(0.0); },
                        [&] {
                          Value index = e.add(e.mul(e.ext64(hv), e.i64(c.headDimK)), e.ext64(d));
                          return e.load(e.f32(), e.gep(dtBias, e.mul(index, e.i64(4))));
                        });
  }
  sigmoidScale = e.fmul(gateCoefficient, e.f32(-kLog2E));
  sigmoidShift = e.fmul(sigmoidScale, gateBias);
  if (c.gate == GateMode::LowerBound)
    reciprocalLowerBound = e.reciprocal(param(kParamLowerBound));
  // Uncentred factors take G in log2 units: log2(e) on the log decay's
  // reciprocal, once.
  if (c.gate == GateMode::LowerBound && factorsUncentred(c))
    reciprocalLowerBound = e.fmul(reciprocalLowerBound, e.f32(1.0 / kLog2E));

  e.ifThen(e.eq(tid, e.i32(0)), [&] {
    for (int64_t s = 0; s < tmaBarrierCount(); ++s)
      NVVM::MBarrierInitOp::create(b, barrierOf(e.i32(s)), e.i32(1), Value());
    // Every thread of a state warpgroup with rows arrives on `free`. With a
    // cluster, `ready` is an mbarrier too (readyOnNamedBarrier): every
    // thread of the stage's chunk-local warpgroup arrives on it, and a
    // stage another CTA writes completes on its copy (one arrive with the
    // bytes expected); a stage this CTA writes is free once
    // its own state warpgroups' threads (none in a helper) and one lane per
    // warp of every other state CTA's have arrived.
    int64_t readers = 128 * stateWarpgroups(), warpReaders = 4 * stateWarpgroups();
    Value free0 = e.i32(readers);
    if (c.clusterCtas)
      free0 = e.select(e.ult(clusterRank, e.i32(c.valueBlocks)),
                       e.i32(readers + warpReaders * (c.valueBlocks - 1)),
                       e.i32(warpReaders * c.valueBlocks));
    for (int64_t h = 0; h < handoffStages(); ++h) {
      Value free = free0;
      if (c.clusterCtas) {
        Value mine = e.eq(e.i32(h % producerCtas(c)), clusterRank);
        Value ready = e.select(mine, e.i32(128), e.i32(1));
        free = e.select(mine, free, e.i32(1));
        NVVM::MBarrierInitOp::create(b, readyBarrier(e.i32(h)), ready, Value());
      }
      NVVM::MBarrierInitOp::create(b, freeBarrier(e.i32(h)), free, Value());
    }
    if (layout.factorHalves > 1)
      for (int64_t w = 0; w < c.chunkLocalWarpgroups; ++w)
        NVVM::MBarrierInitOp::create(b, akkRowsBarrier(e.i32(w)), e.i32(32), Value());
    NVVM::FenceMbarrierInitOp::create(b);
  });
  // With a cluster the other CTA's barriers must be initialised before
  // this one's copies and arrivals reach them.
  if (c.clusterCtas)
    e.syncCluster();
  else
    e.syncThreads();
}

//===----------------------------------------------------------------------===//
// The state: fp32 fragments of S^T in registers, a bf16 copy as operand
//===----------------------------------------------------------------------===//

Value ForwardKernelBuilder::statePointer(Value tensor, Type type, int64_t v,
                                         Value slot) {
  // slot: the sequence (initial and final states) or the entry of the
  // intermediate states, i64. Element (row, col) of S^T is at row * K + col
  // (layout vk) or col * V + row (kv); the thread's part of that offset is
  // computed once, v's part is a constant, so the 64 addresses of a state
  // share one base register instead of 64 hoisted ones.
  int64_t K = c.headDimK, V = c.headDimV;
  int64_t rowOffset = FragmentLayout::rowOffset(v), colOffset = FragmentLayout::colOffset(v);
  int64_t constant = c.stateLayout == StateLayout::VK ? rowOffset * K + colOffset
                                                      : colOffset * V + rowOffset;
  Value row = valueRow(0), col = frag.colBase;
  Value thread = c.stateLayout == StateLayout::VK ? e.add(e.mul(row, e.i32(K)), col)
                                                  : e.add(e.mul(col, e.i32(V)), row);
  Value base = e.mul(e.add(e.mul(slot, e.ext64(numValueHeads)), e.ext64(hv)), e.i64(K * V));
  Value index = e.add(e.add(base, e.ext64(thread)), e.i64(constant));
  return e.gep(tensor, e.mul(index, e.i64(type.getIntOrFloatBitWidth() / 8)));
}

Value ForwardKernelBuilder::loadSegmentStart() {
  // CTA 0 of the cluster holds the value rows: the caller's initial state
  // for the first segment (a [1, HV, K, K] tensor, vk), zero for the
  // others, whose entering state the combining kernels add. CTA 1 holds
  // the transition rows: the identity.
  const int64_t K = c.headDimK;
  Type accType = accumulatorType(e, K);
  Value initial = param(kParamInitialState);
  Value transitionRows = e.ne(e.blockIdxZ(), e.i32(0));
  Value loads = e.andi(e.notb(transitionRows),
                       e.andi(e.eq(seq, e.i32(0)), e.isNotNull(initial)));
  return e.ifElse(
      loads, accType,
      [&] {
        Value acc = LLVM::UndefOp::create(e.builder(), accType);
        Value thread = e.add(e.mul(e.add(e.mul(e.ext64(hv), e.i64(K)), e.ext64(valueRow(0))),
                                   e.i64(K)),
                             e.ext64(frag.colBase));
        for (int64_t v = 0; v < K / 2; v += 2) {
          int64_t constant = FragmentLayout::rowOffset(v) * K + FragmentLayout::colOffset(v);
          Value p = e.gep(initial, e.mul(e.add(thread, e.i64(constant)), e.i64(4)));
          for (auto [x, value] : llvm::enumerate(e.loadVector(e.f32(), 2, p)))
            acc = insert(e, acc, value, v + x);
        }
        return acc;
      },
      [&] {
        // Row r of the transition rows is column r - K of the identity;
        // the value rows (for segments after the first) start at zero.
        Value acc = LLVM::UndefOp::create(e.builder(), accType);
        Value diagonal = e.sub(e.sub(valueRow(0), e.i32(K)), frag.colBase);
        for (int64_t v = 0; v < K / 2; ++v) {
          int64_t offset = FragmentLayout::colOffset(v) - FragmentLayout::rowOffset(v);
          Value one = e.andi(transitionRows, e.eq(diagonal, e.i32(offset)));
          acc = insert(e, acc, e.select(one, e.f32(1.0), e.f32(0.0)), v);
        }
        return acc;
      });
}

Value ForwardKernelBuilder::loadInitialState() {
  if (c.segmentScan)
    return loadSegmentStart();
  Value initial = param(kParamInitialState);
  Type accType = accumulatorType(e, c.headDimK);
  return e.ifElse(e.isNull(initial), accType,
                  [&] { return zeroAccumulator(e, c.headDimK); },
                  [&] {
                    Value acc = LLVM::UndefOp::create(e.builder(), accType);
                    for (int64_t v = 0; v < c.headDimK / 2; v += statePairWidth()) {
                      Value p = statePointer(initial, c.initialStateType, v,
                                             e.ext64(seq));
                      SmallVector<Value> values = loadStatePair(c.initialStateType, p);
                      for (auto [x, value] : llvm::enumerate(values))
                        acc = insert(e, acc, e.toF32(value), v + x);
                    }
                    return acc;
                  });
}

void ForwardKernelBuilder::storeFinalState(Value sAcc) {
  Value out = param(kParamFinalState);
  e.ifThen(e.isNotNull(out), [&] {
    for (int64_t v = 0; v < c.headDimK / 2; v += statePairWidth()) {
      SmallVector<Value> values;
      for (int64_t x = 0; x < statePairWidth(); ++x) {
        Value value = extract(e, sAcc, v + x);
        values.push_back(c.finalStateType.isBF16() ? e.toBF16(value) : value);
      }
      storeStatePair(values, statePointer(out, c.finalStateType, v, e.ext64(seq)));
    }
  });
}

void ForwardKernelBuilder::storeIntermediateState(Value sAcc, Value row0) {
  Value out = param(kParamIntermediate);
  Value interval = param(kParamIntermediateInterval);
  e.ifThen(e.isNotNull(out), [&] {
    e.ifThen(e.eq(e.urem(row0, interval), e.i32(0)), [&] {
      Value entry = e.add(firstEntry, e.ext64(e.udiv(row0, interval)));
      Value bf16 = e.ne(param(kParamIntermediateBF16), e.i32(0));
      // One value at a time, in either layout: the pairs' bf16 packing is
      // the chain's operand copy, which LLVM then shares with this
      // conditional store, and the state loop scheduled that way ran
      // T = 8192 H = 96 2 % slower.
      auto storeAs = [&](Type type) {
        for (int64_t v = 0; v < c.headDimK / 2; ++v) {
          Value value = extract(e, sAcc, v);
          if (type.isBF16())
            value = e.toBF16(value);
          e.store(value, statePointer(out, type, v, entry));
        }
      };
      e.ifThen(bf16, [&] { storeAs(e.bf16()); });
      e.ifThen(e.notb(bf16), [&] { storeAs(e.f32()); });
    });
  });
}

//===----------------------------------------------------------------------===//
// Per chunk: TMA, then the elementwise work of all threads
//===----------------------------------------------------------------------===//

void ForwardKernelBuilder::issueTiles(Value chunk, Value chunks) {
  // The utility thread of the chunk-local warpgroup (kUtilityThread)
  // starts the TMA loads of its `chunk` into the chunk's stage of its
  // ring. The stage was last read by the warpgroup's chunk `stages` before
  // (or never); the barrier after that chunk's last read orders those
  // generic-proxy reads before these async-proxy writes.
  auto &b = e.builder();
  int64_t C = c.chunkSize;
  int64_t gBytes = C * c.headDimK * c.gType.getIntOrFloatBitWidth() / 8;
  int64_t bytes = 2 * C * c.headDimK * 2 + C * computedValueRows(c) * 2 + gBytes;
  e.ifThen(e.andi(e.eq(threadInWarpgroup, e.i32(kUtilityThread)), e.slt(chunk, chunks)), [&] {
    Value stage = stageOf(chunk);
    Value barrier = barrierOf(stage);
    Value base = stageOffset(stage);
    Value tokenRow = e.add(tmaRow0, e.mul(chunk, e.i32(C)));
    e.fenceProxyAsyncShared();
    NVVM::MBarrierArriveExpectTxOp::create(b, Type(), barrier, e.i32(bytes),
                                           NVVM::MemScopeKindAttr(), BoolAttr(),
                                           Value());
    // v's box is the value columns this CTA hands V^T over for
    // (runtime/src/forward_gpu.c): its block, or all with a cluster (the
    // segment scan's: the value rows').
    auto load = [&](ForwardParam map, int64_t tileOffset, Value head, Value column) {
      Value dst = LLVM::AddrSpaceCastOp::create(b, e.ptr(kSharedClusterSpace),
                                                shared(tileOffset, base));
      NVVM::CpAsyncBulkTensorGlobalToSharedClusterOp::create(
          b, dst, param(map), ValueRange{column, head, tokenRow, tmaBatch},
          barrier, ValueRange{}, Value(), Value(),
          NVVM::TMALoadModeAttr::get(b.getContext(), NVVM::TMALoadMode::TILE),
          b.getBoolAttr(false), NVVM::CTAGroupKindAttr(), Value());
    };
    load(kParamQMap, layout.qTile, h, e.i32(0));
    load(kParamKMap, layout.kTile, h, e.i32(0));
    bool allColumns = producedValueRows(c) == c.headDimV;
    load(kParamVMap, layout.vTile, hv, allColumns ? e.i32(0) : valueRow0);
    load(kParamGMap, layout.gTile, hv, e.i32(0));
  });
}

void ForwardKernelBuilder::waitTiles(Value chunk) {
  Value parity = useParity(e.udiv(chunk, e.i32(producerCount(c))), c.stages);
  Value stage = stageOf(chunk);
  e.waitParity(barrierOf(stage), parity);
  stageBase = stageOffset(stage);
}

void ForwardKernelBuilder::scaleRows(Value rows) {
  // The factor each row of q and k is scaled by: q's scale (times the
  // reciprocal of the row's l2 norm), k's norm's reciprocal; 0 past the
  // sequence. The 2C rows, q's then k's, go four at a time (a pass) to
  // warps 1-3 in turn; warp 0, which inverts Akk at the end of the chunk
  // before, reached the chunk's first barrier last, 800-1,200 cycles after
  // warps 1 and 2, when it took two passes like the others (clock stamps at
  // T = 8192 H = 96, session 17). Eight lanes share a row, lane p holding
  // its 16-byte pieces at columns 64 j + 8 p (the eight read 128 contiguous
  // bytes), so three shuffles reduce a sum of squares.
  int64_t K = c.headDimK, C = c.chunkSize;
  int64_t passes = 2 * C / 4, pieces = K / 64, helpers = 3;
  int64_t slots = (passes + helpers - 1) / helpers;
  Value warp = warpOfThread();
  Value lane = e.urem(threadInWarpgroup, e.i32(32));
  Value rowInPass = e.udiv(lane, e.i32(8)), part = e.urem(lane, e.i32(8));
  e.ifThen(e.ne(warp, e.i32(0)), [&] {
    // Slot s of warp w is pass 3 s + w - 1; a slot every helper has runs
    // unconditionally, the last ones under a branch on the warp.
    auto passOf = [&](int64_t slot) { return e.add(e.i32(helpers * slot - 1), warp); };
    auto everyHelper = [&](int64_t slot) { return helpers * slot + helpers - 1 < passes; };
    auto rowOf = [&](int64_t slot) { return e.add(e.mul(passOf(slot), e.i32(4)), rowInPass); };
    auto isQ = [&](int64_t slot) { return e.ult(passOf(slot), e.i32(C / 4)); };
    auto hasPass = [&](int64_t slot) { return e.ult(passOf(slot), e.i32(passes)); };
    auto onMine = [&](int64_t slot, const std::function<void()> &body) {
      if (everyHelper(slot))
        return body();
      e.ifThen(hasPass(slot), body);
    };
    SmallVector<Value> factors(slots);
    if (c.qkL2Norm) {
      // Every load before the first store: the compiler cannot move a
      // shared load above a shared store it may alias.
      SmallVector<SmallVector<Value>> x(slots);
      for (int64_t slot = 0; slot < slots; ++slot) {
        Value q = isQ(slot), row = rowOf(slot);
        Value tileRow = e.select(q, row, e.sub(row, e.i32(C)));
        Value tileOffset = e.add(e.select(q, e.i32(layout.qTile), e.i32(layout.kTile)), stageBase);
        auto load = [&] {
          SmallVector<Value> values;
          for (int64_t j = 0; j < pieces; ++j) {
            Value column = e.add(e.i32(64 * j), e.mul(part, e.i32(8)));
            Value offset = e.mul(e.add(e.mul(tileRow, e.i32(K)), column), e.i32(2));
            for (Value value : e.loadBF16AsF32(8, e.gep(smem, e.add(tileOffset, offset))))
              values.push_back(value);
          }
          return values;
        };
        if (everyHelper(slot)) {
          x[slot] = load();
        } else {
          SmallVector<Type> types(8 * pieces, e.f32());
          x[slot] = e.ifElse(hasPass(slot), types, load, [&] {
            return SmallVector<Value>(8 * pieces, e.f32(0.0));
          });
        }
      }
      for (int64_t slot = 0; slot < slots; ++slot) {
        Value sum = e.f32(0.0);
        for (Value value : x[slot])
          sum = e.fadd(sum, e.fmul(value, value));
        for (int64_t m = 4; m >= 1; m /= 2)
          sum = e.fadd(sum, e.shuffleXor(sum, m));
        factors[slot] = e.rsqrt(e.fadd(sum, e.f32(1e-6)));
      }
    } else {
      factors.assign(slots, e.f32(1.0));
    }
    // The eight lanes of a row store the same factor: a branch on the lane
    // here would make ptxas serialize the loop's wgmma.
    for (int64_t slot = 0; slot < slots; ++slot)
      onMine(slot, [&] {
        Value q = isQ(slot), row = rowOf(slot);
        Value tileRow = e.select(q, row, e.sub(row, e.i32(C)));
        // k's scale is negated where the factors are uncentred.
        Value factor = e.fmul(
            e.select(q, param(kParamScale), e.f32(factorsUncentred(c) ? -1.0 : 1.0)),
            factors[slot]);
        factor = e.select(e.slt(tileRow, rows), factor, e.f32(0.0));
        e.store(factor, mine(layout.rowScale, e.mul(row, e.i32(4))));
      });
  });
}

Value ForwardKernelBuilder::computeGate(Value rows, SmallVectorImpl<Value> &kept) {
  // A group of n = 128 / K adjacent lanes shares a key channel (n = 1 at
  // K = 128), lane g of the group taking rows [g C / n, (g + 1) C / n) of
  // the cumulative sum; shuffles add the rows before them.
  int64_t K = c.headDimK, C = c.chunkSize;
  int64_t group = 128 / K, rowsPerLane = C / group;
  Value d = e.udiv(threadInWarpgroup, e.i32(group));
  Value lane = e.urem(threadInWarpgroup, e.i32(32));
  Value inGroup = e.urem(threadInWarpgroup, e.i32(group));
  Value firstLane = e.sub(lane, inGroup);
  Value row0 = e.mul(inGroup, e.i32(rowsPerLane));
  // All loads first, all stores last (see scaleRows).
  int64_t gBytes = c.gType.getIntOrFloatBitWidth() / 8;
  SmallVector<Value> raws, cumulatives;
  for (int64_t r = 0; r < rowsPerLane; ++r) {
    Value offset = e.mul(e.add(e.mul(e.add(row0, e.i32(r)), e.i32(K)), d), e.i32(gBytes));
    raws.push_back(e.toF32(e.load(c.gType, tile(layout.gTile, offset))));
  }
  SmallVector<Value> logDecays;
  for (Value raw : raws) {
    Value logDecay = raw;
    switch (c.gate) {
    case GateMode::Precomputed:
      break;
    case GateMode::Softplus:
      logDecay = e.fneg(e.fmul(gateCoefficient, e.softplus(e.fadd(raw, gateBias))));
      break;
    case GateMode::LowerBound:
      // lower_bound sigmoid(a (raw + b)) = 1 / ((1 + 2^(raw s + t)) / lower_bound):
      // the division by lower_bound is one fma with the sum.
      logDecay = e.reciprocal(
          e.fadd(e.fmul(e.exp2(e.fadd(e.fmul(raw, sigmoidScale), sigmoidShift)),
                        reciprocalLowerBound),
                 reciprocalLowerBound));
      break;
    }
    logDecays.push_back(logDecay);
  }
  // Rows past the sequence's end take log decay 0. Only its last chunk has
  // any: a uniform branch keeps the other chunks free of the row checks.
  auto prefixSums = [&](bool checkRows) {
    SmallVector<Value> sums;
    Value sum = e.f32(0.0);
    for (int64_t r = 0; r < rowsPerLane; ++r) {
      Value logDecay = logDecays[r];
      if (checkRows)
        logDecay = e.select(e.slt(e.add(row0, e.i32(r)), rows), logDecay, e.f32(0.0));
      sum = e.fadd(sum, logDecay);
      sums.push_back(sum);
    }
    return sums;
  };
  SmallVector<Type> sumTypes(rowsPerLane, e.f32());
  cumulatives = e.ifElse(
      e.eq(e.warpUniform(rows), e.i32(C)), sumTypes, [&] { return prefixSums(false); },
      [&] { return prefixSums(true); });
  Value cumulative = cumulatives.back();
  // The sums of the group's lanes before this one (offset) and of all (G_C).
  Value offset = e.f32(0.0), total = cumulative;
  if (group > 1) {
    total = e.f32(0.0);
    for (int64_t g = 0; g < group; ++g) {
      Value part = e.shuffleIndex(cumulative, e.add(firstLane, e.i32(g)));
      offset = e.fadd(offset, e.select(e.ult(e.i32(g), inGroup), part, e.f32(0.0)));
      total = e.fadd(total, part);
    }
  }
  if (keepsGateInRegisters(c))
    kept.assign(cumulatives.begin(), cumulatives.end());
  else
    for (int64_t r = 0; r < rowsPerLane; ++r)
      e.store(e.fadd(cumulatives[r], offset),
              mine(layout.g, scratchOffset(e.add(row0, e.i32(r)), d)));
  // Every lane of a group stores the same e^(G_C) (no branch on the lane).
  Value decayAddress = handoff(layout.stateDecay, e.mul(d, e.i32(4)));
  e.store(factorsUncentred(c) ? e.exp2(total) : e.exp(total), decayAddress);
  // G runs from 0 down to G_C: its spread is -G_C (NaN counts as wide).
  return e.notb(e.folt(e.fneg(total), e.f32(maxFactorisedSpread(c))));
}

Value ForwardKernelBuilder::prefetchBeta(Value chunk) {
  // C threads of the last warp, from kUtilityThread: one row's raw beta
  // each (0 past the sequence), read a chunk ahead of its use so that the
  // global load's latency is hidden. It stays in beta's own type until
  // storeBeta: widened here, the load's latency was waited out at once, on
  // the last warp's way to the chunk's first barrier (700-1,600 cycles a
  // chunk at T = 8192 H = 96, session 17's clock stamps).
  int64_t C = c.chunkSize;
  Value i = e.sub(threadInWarpgroup, e.i32(kUtilityThread));
  Value row = e.add(e.mul(chunk, e.i32(C)), i);
  Value valid = e.andi(e.ult(i, e.i32(C)), e.slt(row, len));
  return e.ifElse(valid, c.betaType,
                  [&] {
                    Value token = e.add(bos, e.ext64(row));
                    Value index = e.add(e.mul(token, e.ext64(numValueHeads)), e.ext64(hv));
                    int64_t bytes = c.betaType.getIntOrFloatBitWidth() / 8;
                    return e.load(c.betaType,
                                  e.gep(param(kParamBeta), e.mul(index, e.i64(bytes))));
                  },
                  [&] { return e.zero(c.betaType); });
}

void ForwardKernelBuilder::storeBeta(Value raw, Value rows) {
  // The beta mode applied (by prefetchBeta's threads); rows past the
  // sequence get 0.
  Value i = e.sub(threadInWarpgroup, e.i32(kUtilityThread));
  e.ifThen(e.ult(i, e.i32(c.chunkSize)), [&] {
    Value beta = e.toF32(raw);
    switch (c.betaMode) {
    case BetaMode::Plain:
      break;
    case BetaMode::Sigmoid:
      beta = e.sigmoid(beta);
      break;
    case BetaMode::SigmoidNegEigval:
      beta = e.fmul(e.f32(2.0), e.sigmoid(beta));
      break;
    }
    beta = e.select(e.slt(i, rows), e.fmul(beta, e.f32(kStoredBetaScale)), e.f32(0.0));
    e.store(beta, mine(layout.beta, e.mul(i, e.i32(4))));
  });
}

void ForwardKernelBuilder::storeAttention(Value i, Value j, Value kk, Value qk) {
  // Both take beta_j on their columns. Entries above the diagonal (and
  // Akk's diagonal) are 0; they were computed too and may have overflowed,
  // so they are replaced, not scaled.
  Value betaJ = unscaledBeta(e.load(e.f32(), mine(layout.beta, e.mul(j, e.i32(4)))));
  Value akk = e.select(e.ult(j, i), e.fmul(kk, betaJ), e.f32(0.0));
  Value aqk = e.select(e.ult(i, j), e.f32(0.0), e.fmul(qk, betaJ));
  e.store(akk, mine(layout.akk, akkOffset(i, j)));
  e.store(e.toBF16(aqk), handoff(layout.aqk, tokenTileOffset(i, j, c.chunkSize)));
}

void ForwardKernelBuilder::attentionPairwise() {
  // Any spread: every exponent taken pairwise, G_i - G_j <= 0 for j <= i.
  // Thread t computes entries (i, j) = (e / C, e % C), e = t + 128 p, over
  // the channels four at a time, kAttentionStepBytes of G per loop step so
  // that a step's loads are in flight together; q and k come from their
  // tiles (bf16) times their rows' scales.
  int64_t C = c.chunkSize, K = c.headDimK;
  for (int64_t p = 0; p < C * C / 128; ++p) {
    Value entry = e.add(threadInWarpgroup, e.i32(128 * p));
    Value i = e.udiv(entry, e.i32(C)), j = e.urem(entry, e.i32(C));
    Value rowI = scratchOffset(i, e.i32(0)), rowJ = scratchOffset(j, e.i32(0));
    Value scaleQI = e.load(e.f32(), mine(layout.rowScale, e.mul(i, e.i32(4))));
    Value scaleKI = e.load(e.f32(), mine(layout.rowScale, e.mul(e.add(i, e.i32(C)), e.i32(4))));
    Value scaleKJ = e.load(e.f32(), mine(layout.rowScale, e.mul(e.add(j, e.i32(C)), e.i32(4))));
    auto fourG = [&](Value row, Value byte, int64_t step) {
      return e.loadVector(e.f32(), 4, mine(layout.g, e.add(row, e.add(byte, e.i32(step)))));
    };
    auto fourOf = [&](int64_t tileOffset, Value row, Value byte, int64_t step) {
      // Channel byte / 4 of the G scratch is element byte / 2 of the tile row.
      Value offset = e.add(e.mul(row, e.i32(2 * K)), e.udiv(e.add(byte, e.i32(step)), e.i32(2)));
      SmallVector<Value> four;
      for (Value value : e.loadVector(e.bf16(), 4, tile(tileOffset, offset)))
        four.push_back(e.toF32(value));
      return four;
    };
    SmallVector<Value> sums = e.forLoop(
        e.i32(0), e.i32(K * 4), e.i32(kAttentionStepBytes), ValueRange{e.f32(0.0), e.f32(0.0)},
        [&](Value byte, ValueRange carried) -> SmallVector<Value> {
          Value kk = carried[0], qk = carried[1];
          for (int64_t step = 0; step < kAttentionStepBytes; step += 16) {
            SmallVector<Value> gi = fourG(rowI, byte, step), gj = fourG(rowJ, byte, step);
            SmallVector<Value> ki = fourOf(layout.kTile, i, byte, step);
            SmallVector<Value> kj = fourOf(layout.kTile, j, byte, step);
            SmallVector<Value> qi = fourOf(layout.qTile, i, byte, step);
            for (int64_t x = 0; x < 4; ++x) {
              Value kjDecayed = e.fmul(kj[x], e.exp(e.fsub(gi[x], gj[x])));
              kk = e.fadd(kk, e.fmul(ki[x], kjDecayed));
              qk = e.fadd(qk, e.fmul(qi[x], kjDecayed));
            }
          }
          return {kk, qk};
        });
    storeAttention(i, j, e.fmul(sums[0], e.fmul(scaleKI, scaleKJ)),
                   e.fmul(sums[1], e.fmul(scaleQI, scaleKJ)));
  }
}

void ForwardKernelBuilder::attentionOnTensorCores(const std::function<void()> &meanwhile) {
  // [k e^(G-M); q e^(G-M)] [beta k e^(M-G)]^T in k8 steps (tf32, fp32
  // sums): Akk before the mask and Aqk, with beta on their columns.
  int64_t C = c.chunkSize, K = c.headDimK, halves = layout.factorHalves;
  int64_t n = C * halves, steps = K / halves / 8;
  // 32 constant descriptors hoisted out of the chunk loop would hold 64
  // registers across it: they are computed from an opaque base here.
  Value here = descriptorBase(e, e.address(shared(0, e.opaque(workspaceBase))));
  auto at = [&](int64_t offset) {
    return interleavedDescriptor(e, here, offset, kFactorCoreBytes, layout.factorGroupBytes);
  };
  // A k8 step spans two core matrices along K.
  SmallVector<Value> left, right;
  for (int64_t s = 0; s < steps; ++s) {
    left.push_back(at(layout.factorsLeft + s * 2 * kFactorCoreBytes));
    right.push_back(at(layout.factorsRight + s * 2 * kFactorCoreBytes));
  }
  // Two chains, the even and the odd k-steps, summed after: one chain of
  // all the steps would wait out each step's latency in turn.
  Value chains[2] = {undefAccumulator(e, n), undefAccumulator(e, n)};
  wgmmaFence(e);
  for (int64_t s = 0; s < steps; ++s)
    chains[s % 2] = wgmmaTF32(e, chains[s % 2], left[s], right[s], n, /*accumulate=*/s > 1);
  wgmmaCommit(e);
  meanwhile();
  wgmmaWait(e);
  auto sumOf = [&](int64_t v) {
    return e.fadd(extract(e, chains[0], v), extract(e, chains[1], v));
  };
  // Warps 0-1 hold Akk's rows, warps 2-3 Aqk's.
  if (halves > 1) {
    // C = 16, two halves: warp w holds rows 8 (w % 2) .. + 7 of its matrix,
    // a row's first half's sums at its fragment row r (values 4 nb + x,
    // columns 8 nb + 2 (lane % 4) + x) and its second half's at row r + 8
    // in the columns C on (values 4 (nb + C / 8) + 2 + x).
    Value warp = warpOfThread();
    Value lane = e.urem(threadInWarpgroup, e.i32(32));
    Value i = e.add(e.udiv(lane, e.i32(4)), e.mul(e.urem(warp, e.i32(2)), e.i32(8)));
    SmallVector<Value> sums, columns;
    for (int64_t nb = 0; nb < C / 8; ++nb)
      for (int64_t x = 0; x < 2; ++x) {
        sums.push_back(e.fadd(sumOf(4 * nb + x), sumOf(4 * (nb + C / 8) + 2 + x)));
        columns.push_back(fragmentCol(4 * nb + x));
      }
    e.ifThen(e.ult(warp, e.i32(2)), [&] {
      for (auto [sum, j] : llvm::zip(sums, columns))
        e.store(e.select(e.ult(j, i), sum, e.f32(0.0)), mine(layout.akk, akkOffset(i, j)));
      // Warp 0 inverts Akk, waiting for warp 1's rows halfway.
      announceAkkRows(warp);
    });
    e.ifThen(e.ult(e.i32(1), warp), [&] {
      for (auto [sum, j] : llvm::zip(sums, columns))
        e.store(e.toBF16(e.select(e.ult(i, j), e.f32(0.0), sum)),
                handoff(layout.aqk, tokenTileOffset(i, j, C)));
    });
    return;
  }
  // C = 32 (the m64 tile has no unread rows): rows 0..C-1 of the result are
  // Akk, rows C..2C-1 Aqk.
  Value acc = chains[0];
  for (int64_t v = 0; v < C / 2; ++v)
    acc = insert(e, acc, sumOf(v), v);
  Value warp = warpOfThread();
  e.ifThen(e.ult(warp, e.i32(2)), [&] {
    for (int64_t v = 0; v < C / 2; ++v) {
      Value i = e.add(frag.rowBase, e.i32(FragmentLayout::rowOffset(v))), j = fragmentCol(v);
      Value akk = e.select(e.ult(j, i), extract(e, acc, v), e.f32(0.0));
      e.store(akk, mine(layout.akk, akkOffset(i, j)));
    }
  });
  e.ifThen(e.ult(e.i32(1), warp), [&] {
    for (int64_t v = 0; v < C / 2; ++v) {
      Value i = e.add(e.sub(frag.rowBase, e.i32(C)), e.i32(FragmentLayout::rowOffset(v)));
      Value j = fragmentCol(v);
      Value aqk = e.select(e.ult(i, j), e.f32(0.0), extract(e, acc, v));
      e.store(e.toBF16(aqk), handoff(layout.aqk, tokenTileOffset(i, j, C)));
    }
  });
  // Warp 0 inverts Akk and waits for warp 1's rows on the warpgroup's
  // barrier. With a 64-thread barrier of warps 0-1 alone (bar.arrive or
  // bar.sync), racecheck reported hazards in some runs between workspace
  // accesses on either side of the chunk's first barrier, which every warp
  // passes (docs/results.md, session 17).
  chunkLocalSync();
}

void ForwardKernelBuilder::writeOperands(Value factorised, ArrayRef<Value> keptGate) {
  // Thread t owns channel d = t % K and rows [j0, j0 + C K / 128) of the
  // chunk, eight at a time: a warp reads 32 consecutive channels of a row
  // (no bank conflicts) and writes its eight rows of each transposed
  // [K x C] operand as one 16-byte vector (row d of the 32B-swizzled tile).
  int64_t C = c.chunkSize, K = c.headDimK;
  int64_t rowsPerThread = C * K / 128;
  Value d = e.urem(threadInWarpgroup, e.i32(K));
  Value j0 = e.mul(e.udiv(threadInWarpgroup, e.i32(K)), e.i32(rowsPerThread));
  // G of row j0 + r: kept in registers by computeGate (then j0 = 0 and
  // the thread has all C rows) or from the workspace.
  auto gateOf = [&](int64_t r) {
    if (!keptGate.empty())
      return keptGate[r];
    return e.load(e.f32(), mine(layout.g, scratchOffset(e.add(j0, e.i32(r)), d)));
  };
  Value lastG = keptGate.empty()
                    ? e.load(e.f32(), mine(layout.g, scratchOffset(e.i32(C - 1), d)))
                    : keptGate.back();
  // v's tile holds the value columns this CTA hands V^T over for: thread d
  // reads column d % blockRows, so with a split the threads past the block
  // write the block's rows of V^T again, the same values to the same
  // place. V^T is the tile transposed, bf16 as it came.
  int64_t blockRows = computedValueRows(c);
  Value valueColumn = blockRows == K ? d : e.urem(d, e.i32(blockRows));
  auto tileElement = [&](int64_t tileOffset, Value j, Value column, int64_t rowElements) {
    Value offset = e.mul(e.add(e.mul(j, e.i32(rowElements)), column), e.i32(2));
    return e.load(e.bf16(), tile(tileOffset, offset));
  };
  auto tileValue = [&](int64_t tileOffset, Value j, Value column, int64_t rowElements) {
    return e.toF32(tileElement(tileOffset, j, column, rowElements));
  };
  auto scaleOf = [&](Value row) {
    return e.load(e.f32(), mine(layout.rowScale, e.mul(row, e.i32(4))));
  };
  // Row j0 + r (+ rowOffset, a multiple of 8) of this thread's channel in
  // a factor tile: one per-thread address per tile plus a constant. With
  // two halves, the channel's half picks the group after each 8 rows
  // (left) or the tile's second C rows (right).
  int64_t halves = layout.factorHalves, halfK = K / halves, group = layout.factorGroupBytes;
  Value inHalf = halves == 1 ? d : e.urem(d, e.i32(halfK));
  Value channelBase = e.add(e.mul(e.udiv(inHalf, e.i32(4)), e.i32(kFactorCoreBytes)),
                            e.mul(e.urem(d, e.i32(4)), e.i32(4)));
  Value leftBase = e.add(channelBase, e.mul(e.udiv(j0, e.i32(8)), e.i32(halves * group)));
  Value rightBase = leftBase;
  if (halves > 1) {
    Value half = e.udiv(d, e.i32(halfK));
    rightBase = e.add(e.add(channelBase, e.mul(e.udiv(j0, e.i32(8)), e.i32(group))),
                      e.mul(half, e.i32(C / 8 * group)));
    leftBase = e.add(leftBase, e.mul(half, e.i32(group)));
  }
  auto leftOffset = [&](int64_t r, int64_t rowOffset) {
    int64_t row = r + rowOffset;
    return e.add(leftBase, e.i32(row / 8 * halves * group + row % 8 * 16));
  };
  auto rightOffset = [&](int64_t r) {
    return e.add(rightBase, e.i32(r / 8 * group + r % 8 * 16));
  };
  // Two MUFU operations per element either way. Bounded spread: e^(G - M)
  // and its reciprocal (M = G_C / 2, both within e^64 of 1), with
  // e^G = e^(G - M) e^M and e^(G_C - G) = e^(M - G) e^M; within 80 nats
  // M = 0 (factorsUncentred). Wider: e^G and e^(G_C - G) directly, and no
  // factors (the A matrices are pairwise).
  auto rowsOfOperands = [&](bool factorised) {
    // The pairwise A matrices read G from the workspace.
    if (!factorised)
      for (size_t r = 0; r < keptGate.size(); ++r)
        e.store(keptGate[r], mine(layout.g, scratchOffset(e.i32(r), d)));
    // The tf32 wgmma truncates its inputs: the factors are scaled up by half
    // a tf32 ulp (kTF32HalfUlp) first, so that the truncation errs both
    // ways (within 2^-11) instead of always down (within 2^-10). Centred,
    // the scale rides on the exponent of e^(G - M) for free, twice on the
    // reciprocal through the stored beta (kStoredBetaScale), and comes off
    // again in the bf16 operands through e^M. Uncentred, the right factor
    // takes it whole (through beta): its truncation errs up as far as the
    // left one's errs down, and the left factors stay the operands.
    bool uncentred = factorised && factorsUncentred(c);
    Value expMiddleUnscaled, negativeExpMiddle, leftShift, toEnd;
    if (uncentred) {
      // (K e^(G_C - G))^T from the right factor, whose k is negated.
      toEnd = e.fmul(e.exp2(lastG), e.f32(-1.0 / kStoredBetaScale));
    } else {
      Value middle = e.fmul(lastG, e.f32(0.5));
      Value expMiddle = e.exp(middle);
      leftShift = e.f32(std::log2(kTF32HalfUlp));
      leftShift = e.fsub(leftShift, e.fmul(middle, e.f32(kLog2E)));
      expMiddleUnscaled = e.fmul(expMiddle, e.f32(1.0 / kTF32HalfUlp));
      // -(K e^G)^T: the state side's product with it then subtracts.
      negativeExpMiddle = e.fmul(expMiddle, e.f32(-1.0 / kTF32HalfUlp));
    }
    // Row r's three tf32 factors into their tiles.
    auto storeFactors = [&](int64_t r, Value kLeft, Value qLeft, Value betaKRight) {
      e.store(kLeft, mine(layout.factorsLeft, leftOffset(r, 0)));
      e.store(qLeft, mine(layout.factorsLeft, leftOffset(r, C)));
      e.store(betaKRight, mine(layout.factorsRight, rightOffset(r)));
    };
    for (int64_t first = 0; first < rowsPerThread; first += 8) {
      // All loads of the eight rows first, then the math and the stores.
      struct Row { int64_t r; Value beta, k, g, q, v; };
      SmallVector<Row> loaded;
      for (int64_t r = first; r < first + 8; ++r) {
        Value j = e.add(j0, e.i32(r));
        loaded.push_back({r, e.load(e.f32(), mine(layout.beta, e.mul(j, e.i32(4)))),
                          e.fmul(tileValue(layout.kTile, j, d, K), scaleOf(e.add(j, e.i32(C)))),
                          gateOf(r),
                          e.fmul(tileValue(layout.qTile, j, d, K), scaleOf(j)),
                          tileElement(layout.vTile, j, valueColumn, blockRows)});
      }
      SmallVector<Value> kNegatedRows, kDecayed, qGatedRows, values;
      for (const Row &x : loaded) {
        // -k e^G, beta k e^(G_C - G) and q e^G.
        Value kGated, kToEnd, qGated;
        if (uncentred) {
          // e^G and e^-G themselves, G in log2 units (factorsUncentred):
          // with k's scale negated, k e^G is -(K e^G) and q e^G is Q e^G.
          Value left = e.exp2(x.g);
          Value kLeft = e.fmul(x.k, left), qLeft = e.fmul(x.q, left);
          Value betaKRight = e.fmul(e.fmul(x.k, e.reciprocal(left)), x.beta);
          storeFactors(x.r, kLeft, qLeft, betaKRight);
          kGated = kLeft;
          kToEnd = e.fmul(betaKRight, toEnd);
          qGated = qLeft;
        } else if (factorised) {
          // The factors times e^M: e^G = e^(G - M) e^M, e^(G_C - G) =
          // e^(M - G) e^M. The right factor carries beta, so the A
          // matrices' product is Akk and Aqk with beta on their columns.
          // (Its reciprocal comes before the left factors' products here:
          // in the other order ptxas spilled 108 bytes in two 32-token
          // softplus kernels, session 19.)
          Value left = e.exp2(e.fadd(e.fmul(x.g, e.f32(kLog2E)), leftShift));
          Value right = e.reciprocal(left); // its scale rides on the stored beta
          Value kLeft = e.fmul(x.k, left), qLeft = e.fmul(x.q, left);
          Value betaKRight = e.fmul(e.fmul(x.k, right), x.beta);
          storeFactors(x.r, kLeft, qLeft, betaKRight);
          kGated = e.fmul(kLeft, negativeExpMiddle);
          kToEnd = e.fmul(betaKRight, expMiddleUnscaled);
          qGated = e.fmul(qLeft, expMiddleUnscaled);
        } else {
          kGated = e.fmul(e.fneg(x.k), e.exp(x.g));
          Value beta = unscaledBeta(x.beta);
          kToEnd = e.fmul(beta, e.fmul(x.k, e.exp(e.fsub(lastG, x.g))));
          qGated = e.fmul(x.q, e.exp(x.g));
        }
        kNegatedRows.push_back(e.toBF16(kGated));
        kDecayed.push_back(e.toBF16(kToEnd));
        qGatedRows.push_back(e.toBF16(qGated));
        values.push_back(x.v);
      }
      Value firstRow = e.add(j0, e.i32(first));
      Value offsetT = tokenTileOffset(d, firstRow, K);
      e.storeVector(kNegatedRows, handoff(layout.kgT, offsetT));
      e.storeVector(kDecayed, handoff(layout.kdT, offsetT));
      e.storeVector(qGatedRows, handoff(layout.qgT, offsetT));
      Value offsetV = blockRows == K ? offsetT : tokenTileOffset(valueColumn, firstRow, blockRows);
      e.storeVector(values, handoff(layout.vT, offsetV));
    }
  };
  byForm(factorised, [&] { rowsOfOperands(true); }, [&] { rowsOfOperands(false); });
  // A CTA that hands over more value rows than there are channels (a
  // cluster at V = 2K: all 256 rows) has each thread write value rows
  // d + K, ... of V^T too, after the operands, so that their loads add no
  // registers there.
  for (int64_t pass = 1; pass < blockRows / K; ++pass) {
    Value column = e.add(d, e.i32(pass * K));
    for (int64_t first = 0; first < rowsPerThread; first += 8) {
      SmallVector<Value> values;
      for (int64_t r = first; r < first + 8; ++r)
        values.push_back(tileElement(layout.vTile, e.add(j0, e.i32(r)), column, blockRows));
      e.storeVector(values, handoff(layout.vT, tokenTileOffset(column, e.add(j0, e.i32(first)),
                                                               blockRows)));
    }
  }
}

void ForwardKernelBuilder::invertTriangular(Value chunkParity) {
  // Lane c < C of warp 0 solves (I + Akk) x = e_c by forward substitution
  // in fp32, a column of Akk at a time: once x_j is final, each later row's
  // remainder r_i takes -Akk_ij x_j (one fma), so the chain through x is
  // one fma per step. For j < c, x_j = 0 and the steps change nothing.
  // At C = 16 the other lanes run along and store into the tile's spare
  // half: a branch on the lane would make ptxas serialize every wgmma of
  // the loop.
  int64_t C = c.chunkSize;
  e.ifThen(e.eq(warpOfThread(), e.i32(0)), [&] {
    // Warp 0's own stores of Akk (the tensor-core path) before its loads.
    e.syncWarp();
    Value column = e.urem(threadInWarpgroup, e.i32(32));
    // Akk's columns below the diagonal, 16 bytes at a time (every lane
    // reads the same address), rows [first, end): at C = 16 all before the
    // first step, at C = 32 each before its own (496 values would not stay
    // in registers).
    SmallVector<SmallVector<Value>> akk(C, SmallVector<Value>(C));
    auto loadColumn = [&](int64_t j, int64_t first, int64_t end) {
      for (int64_t i = std::max(first, (j + 1) / 4 * 4); i < end; i += 4) {
        SmallVector<Value> four =
            e.loadVector(e.f32(), 4, mine(layout.akk, e.i32(4 * (j * C + i))));
        for (int64_t x = 0; x < 4; ++x)
          akk[i + x][j] = four[x];
      }
    };
    SmallVector<Value> r;
    for (int64_t i = 0; i < C; ++i)
      r.push_back(e.select(e.eq(column, e.i32(i)), e.f32(1.0), e.f32(0.0)));
    // Steps j in [from, to) on rows [max(j + 1, first), end).
    auto steps = [&](int64_t from, int64_t to, int64_t first, int64_t end) {
      for (int64_t j = from; j < to; ++j)
        for (int64_t i = std::max(j + 1, first); i < end; ++i)
          r[i] = e.fsub(r[i], e.fmul(akk[i][j], r[j]));
    };
    if (layout.factorHalves > 1) {
      // C = 16: rows C/2.. are warp 1's (attentionOnTensorCores); the steps
      // on warp 0's own rows run while warp 1 stores them.
      int64_t split = C / 2;
      for (int64_t j = 0; j + 1 < split; ++j)
        loadColumn(j, 0, split);
      steps(0, split - 1, 0, split);
      e.waitParity(akkRowsBarrier(warpgroup), chunkParity);
      for (int64_t j = 0; j + 1 < C; ++j)
        loadColumn(j, split, C);
      steps(0, split, split, C);
      steps(split, C - 1, 0, C);
    } else {
      for (int64_t j = 0; j + 1 < C; ++j) {
        loadColumn(j, 0, C);
        steps(j, j + 1, 0, C);
      }
    }
    // Stored last, so that no store sits between the loads of Akk: the
    // column as row c of Tinv^T, 16 bytes at a time. At C = 16 lanes
    // C..2C-1 write the same pattern into the tile's second half (at
    // C = 32 every lane is in the first copy).
    Value copy = e.mul(e.udiv(column, e.i32(C)), e.i32(C * C * 2));
    Value inCopy = e.urem(column, e.i32(C));
    for (int64_t i = 0; i < C; i += 8) {
      SmallVector<Value> eight;
      for (int64_t x = i; x < i + 8; ++x)
        eight.push_back(e.toBF16(r[x]));
      e.storeVector(eight, handoff(layout.tinv, e.add(copy, tokenTileOffset(inCopy, e.i32(i), C))));
    }
  });
}

//===----------------------------------------------------------------------===//
// Per chunk: the matrix products of one warpgroup
//===----------------------------------------------------------------------===//

SmallVector<Value> ForwardKernelBuilder::stateProducts(Value sAcc,
                                                      const std::function<void()> &meanwhile) {
  int64_t C = c.chunkSize, K = c.headDimK;
  // [O^T | X^T] = [0 | V^T] + S^T [(Q e^G)^T | -(K e^G)^T], one m64 n2C
  // product per k16 step (half the wgmma of two n C ones) over K; S^T's
  // bf16 copy is the A operand, straight from its accumulator. The B
  // operand's two N-major tiles are its two swizzle atoms along N, qgT
  // then kgT (the chunk-local side stores -(K e^G)^T). Its accumulator's
  // values 0..C/2-1 are O^T's, the next C/2 X^T's, each as a C-wide
  // accumulator holds them. Then V'^T = X^T Tinv^T, which is
  // U^T - S^T W^T (U^T = V^T Tinv^T, W^T = (K e^G)^T Tinv^T): the chunk
  // local side hands over Tinv^T and V^T instead of U and W, so that none
  // of its warps waits for the inverse.
  int64_t half = C / 2;
  Value accOV = undefAccumulator(e, 2 * C);
  for (int64_t v = 0; v < half; ++v)
    accOV = insert(e, accOV, e.f32(0.0), v);
  // V^T's rows of this warpgroup: of the CTA's block, or with a cluster of
  // every value row. The segment scan's transition rows (CTA 1) have
  // v = 0: their stage's V^T holds the value rows' (a select, not a
  // branch, beside the wgmma). Values v and v + 1 are adjacent tokens of
  // a row: one 4-byte load.
  Value zeroV = c.segmentScan ? e.ne(clusterRank, e.i32(0)) : Value();
  Value rowBase = stateRow0();
  if (c.clusterCtas && !c.segmentScan)
    rowBase = e.add(valueRow0, rowBase);
  for (int64_t v = 0; v < half; v += 2) {
    Value row = e.add(rowBase, e.add(frag.rowBase, e.i32(FragmentLayout::rowOffset(v))));
    Value offset = tokenTileOffset(row, fragmentCol(v), computedValueRows(c));
    auto [low, high] = e.widenBF16Pair(e.load(e.i32(), handoff(layout.vT, offset)));
    for (auto [x, value] : llvm::enumerate(std::array<Value, 2>{low, high}))
      accOV = insert(e, accOV, zeroV ? e.select(zeroV, e.f32(0.0), value) : value,
                     half + v + x);
  }
  SmallVector<SmallVector<Value, 4>> stateA;
  for (int64_t s = 0; s < K / 16; ++s)
    stateA.push_back(registerOperand(e, sAcc, s));
  wgmmaFence(e);
  // Its atoms along N: (Q e^G)^T's C / 16, then -(K e^G)^T's, evenly
  // spaced.
  assert(layout.kgT - layout.qgT == C / kTokensPerAtom * atomBytes(K) &&
         "-(K e^G)^T's atoms follow (Q e^G)^T's");
  for (int64_t s = 0; s < K / 16; ++s) {
    // Rows 16 s .. 16 s + 15 of (Q e^G)^T and -(K e^G)^T, 32 bytes each.
    Value qgw = matrixDescriptor(e, handoffDescriptors, layout.qgT + s * 16 * 32, Swizzle::B32,
                                 atomBytes(K));
    accOV = wgmmaRegisterA(e, accOV, stateA[s], qgw, 2 * C, /*accumulate=*/true,
                           /*negateA=*/false, /*transposeB=*/true);
  }
  wgmmaCommit(e);
  meanwhile();

  // O^T += V'^T Aqk^T and S^T = S^T Diag(e^G_C) + V'^T (K e^(G_C - G)),
  // V'^T [V x C] the A operand from its accumulator. Values v and v + 1
  // are adjacent key channels: one 8-byte load of their decays. The
  // products above read S^T's bf16 copy, not S^T: its decay is taken while
  // they are in flight.
  for (int64_t v = 0; v < K / 2; v += 2) {
    SmallVector<Value> decay =
        e.loadVector(e.f32(), 2, handoff(layout.stateDecay, e.mul(fragmentCol(v), e.i32(4))));
    for (int64_t x = 0; x < 2; ++x)
      sAcc = insert(e, sAcc, e.fmul(extract(e, sAcc, v + x), decay[x]), v + x);
  }
  wgmmaWait(e);
  // V'^T = X^T Tinv^T: X^T's k16 steps are the accumulator's steps C / 16..,
  // Tinv^T's step s its rows 16 s.. of each atom (N-major; one atom wide at
  // C = 16, so the leading byte offset is never used there). X^T is one
  // bf16 operand: taken as two (its rounding and the rest), as exact as
  // the fp32 U it replaces, the suite's errors were those of step 13 but
  // the chain's extra product cost 2-5 % (docs/design/forward-kernel.md,
  // step 14). Accumulating onto zeros: ptxas serializes every wgmma of the
  // kernel when one writes without reading (C7514).
  int64_t steps = C / kTokensPerAtom;
  Value accV = zeroAccumulator(e, C);
  wgmmaFence(e);
  for (int64_t step = 0; step < steps; ++step) {
    Value tinv = steps == 1 ? handoffDescriptor(layout.tinv, Swizzle::B32)
                            : matrixDescriptor(e, handoffDescriptors,
                                               layout.tinv + step * 16 * 32, Swizzle::B32,
                                               atomBytes(C));
    accV = wgmmaRegisterA(e, accV, registerOperand(e, accOV, steps + step), tinv, C,
                          /*accumulate=*/true, /*negateA=*/false, /*transposeB=*/true);
  }
  wgmmaCommitAndWait(e);
  // V'^T's k16 steps (one per atom of Aqk and of (K e^(G_C - G))^T).
  SmallVector<SmallVector<Value, 4>> vnew;
  for (int64_t step = 0; step < steps; ++step)
    vnew.push_back(registerOperand(e, accV, step));
  Value accO = undefAccumulator(e, C);
  for (int64_t v = 0; v < half; ++v)
    accO = insert(e, accO, extract(e, accOV, v), v);
  wgmmaFence(e);
  for (int64_t step = 0; step < steps; ++step)
    accO = wgmmaRegisterA(e, accO, vnew[step],
                          handoffDescriptor(layout.aqk + step * atomBytes(C), Swizzle::B32), C,
                          /*accumulate=*/true, /*negateA=*/factorsUncentred(c));
  for (int64_t step = 0; step < steps; ++step)
    sAcc = wgmmaRegisterA(e, sAcc, vnew[step],
                          handoffDescriptor(layout.kdT + step * atomBytes(K), Swizzle::B32), K,
                          true);
  wgmmaCommitAndWait(e);
  return {sAcc, accO};
}

Value ForwardKernelBuilder::outputPiece(Value tileOffset, Value token, Value piece) {
  // 16-byte piece p of token row t lies at t * 128 (64 bf16 values of one
  // token) + (p ^ (t % 8)) * 16: the eight rows of an 8 x 8 matrix then
  // fall in distinct banks.
  Value swizzled = e.xori(piece, e.urem(token, e.i32(8)));
  return shared(0, e.add(tileOffset, e.add(e.mul(token, e.i32(128)), e.mul(swizzled, e.i32(16)))));
}

Value ForwardKernelBuilder::stageOutput(Value accO) {
  // O^T [64 value rows x C tokens] is held two adjacent tokens per register
  // pair, but o's rows are tokens with the values contiguous: stored as it
  // is held, each thread wrote eight 2-byte values at eight addresses, and
  // those scattered stores held the load-store pipe the chunk-local side
  // shares (removing them made the kernel 6-10 % faster). So the tile goes
  // transposed (stmatrix .trans) into this warpgroup's output tile of the
  // stage (SharedLayout::out), and flushOutput stores 16 bytes of one
  // token's values per thread.
  int64_t C = c.chunkSize;
  Value tileOffset = e.add(handoffBase, outTileOffset(warpgroup));
  // Matrix m of the warp's four per 16 tokens (values 8 (m % 2).., tokens
  // 16 h + 8 (m / 2)..): lane 8 m + j gives the address of its token row j.
  Value lane = e.urem(threadInWarpgroup, e.i32(32)), warp = e.udiv(threadInWarpgroup, e.i32(32));
  Value matrix = e.udiv(lane, e.i32(8));
  Value token = e.add(e.urem(lane, e.i32(8)), e.mul(e.udiv(matrix, e.i32(2)), e.i32(8)));
  Value piece = e.add(e.mul(warp, e.i32(2)), e.urem(matrix, e.i32(2)));
  for (int64_t h = 0; h < C / 16; ++h) {
    Value tokenH = h ? e.add(token, e.i32(16 * h)) : token;
    SmallVector<Value> operands{e.trunc32(e.address(outputPiece(tileOffset, tokenH, piece)))};
    for (int64_t v = 8 * h; v < 8 * h + 8; v += 2)
      operands.push_back(e.packBF16(extract(e, accO, v), extract(e, accO, v + 1)));
    e.inlinePtxEffect(operands,
                      "stmatrix.sync.aligned.m8n8.x4.trans.shared.b16 [$0], {$1, $2, $3, $4};",
                      "r,r,r,r,r");
  }
  return tileOffset;
}

void ForwardKernelBuilder::flushOutput(Value tileOffset, Value rows, Value firstToken) {
  e.namedBarrier(e.add(e.i32(kOutputBarrier), warpgroup), 128);
  // Thread i: token i / 8 (and 16 more per pass at C = 32), values
  // 8 (i % 8) .. of this warpgroup's 64; the tokens past `rows` (the
  // sequence's end in its last chunk; all, for no chunk) are not stored,
  // by a predicate: a branch on the lane would serialize the kernel's
  // wgmma.
  Value myToken = e.udiv(threadInWarpgroup, e.i32(8)), myPiece = e.urem(threadInWarpgroup, e.i32(8));
  SmallVector<Value> tokens;
  for (int64_t pass = 0; pass < c.chunkSize / 16; ++pass)
    tokens.push_back(pass ? e.add(myToken, e.i32(16 * pass)) : myToken);
  SmallVector<SmallVector<Value>> loaded;
  for (Value token : tokens)
    loaded.push_back(e.loadVector(e.i32(), 4, outputPiece(tileOffset, token, myPiece)));
  for (auto [token, values] : llvm::zip(tokens, loaded))
    storeOutputPiece(values, token, myPiece, rows, firstToken);
}

void ForwardKernelBuilder::storeOutputPiece(ArrayRef<Value> values, Value myToken, Value myPiece,
                                            Value rows, Value firstToken) {
  // The segment scan's value rows' outputs (O0) go to the caller's o, its
  // transition rows' (X) to their [T, HV, K] in the workspace
  // (SegmentKernels.h): rows of V / 2 from either CTA's first row.
  Value row = c.segmentScan ? e.add(stateRow0(), e.mul(myPiece, e.i32(8)))
                            : e.add(e.add(valueRow0, stateRow0()), e.mul(myPiece, e.i32(8)));
  int64_t rowLength = c.segmentScan ? c.headDimV / 2 : c.headDimV;
  Value tokenIndex = e.add(firstToken, e.ext64(myToken));
  Value element = e.add(e.mul(e.add(e.mul(tokenIndex, e.ext64(numValueHeads)), e.ext64(hv)),
                              e.i64(rowLength)),
                        e.ext64(row));
  Value store = e.select(e.slt(myToken, rows), e.i32(1), e.i32(0));
  Value base = c.segmentScan
                   ? e.select(e.eq(clusterRank, e.i32(0)), param(kParamO), transitionOutput())
                   : param(kParamO);
  SmallVector<Value> storeOperands{e.gep(base, e.mul(element, e.i64(2))), store};
  storeOperands.append(values.begin(), values.end());
  e.inlinePtxEffect(storeOperands,
                    "{\n.reg .pred p;\nsetp.ne.u32 p, $1, 0;\n"
                    "@p st.global.v4.b32 [$0], {$2, $3, $4, $5};\n}",
                    "l,r,r,r,r,r");
}

//===----------------------------------------------------------------------===//
// The handoff ring between the two sides
//===----------------------------------------------------------------------===//

void ForwardKernelBuilder::waitHandoffFree(Value chunk) {
  // The stage's previous chunk (chunk - S, S stages) completed its free
  // barrier's phase (chunk / S - 1); the first uses need none.
  Value stage = handoffStageOf(chunk);
  e.ifThen(e.sle(e.i32(handoffStages()), chunk), [&] {
    Value previousUse = e.add(e.udiv(chunk, e.i32(handoffStages())), e.i32(1));
    e.waitParity(freeBarrier(stage), e.andi(previousUse, e.i32(1)));
  });
  handoffBase = e.mul(stage, e.i32(layout.handoffBytes));
}

void ForwardKernelBuilder::markHandoffReady(Value chunk) {
  // The operands written by the generic proxy are read by wgmma (the async
  // proxy) on the other side: fence, then arrive (release).
  e.fenceProxyAsyncShared();
  Value stage = handoffStageOf(chunk);
  if (readyOnNamedBarrier()) {
    e.namedBarrierArrive(e.add(e.i32(kReadyBarrier), stage), readyThreads());
    return;
  }
  e.arriveOn(readyBarrier(stage));
  if (!c.clusterCtas)
    return;
  // The same stage of every other state CTA gets a copy: once every
  // thread's stores are fenced, thread 0 announces the bytes on that CTA's
  // `ready` and starts the bulk copy, which completes them there. Those
  // CTAs' state warpgroups arrive on this stage's `free` when they have
  // read their copies, so the next write into any waits for every reader.
  // Thread 0 (and not this CTA) is a predicate inside the PTX: a branch
  // here makes ptxas serialize the kernel's wgmma (C7520). The arrival
  // needs no release at cluster scope (which ptxas makes a MEMBAR.GPU,
  // a wait for every global access in flight): the operands reach the
  // other CTA through the bulk copy, which completes its barrier itself.
  chunkLocalSync();
  Value stageAddress = e.add(sharedAddress(0), e.mul(stage, e.i32(layout.handoffBytes)));
  Value readyAddress = e.trunc32(e.address(readyBarrier(stage)));
  // One copy per target: the stage up to the output tiles (up to V^T for
  // the segment scan's transition CTA, whose v is zero). One PTX block for
  // every target: separate ones made ptxas serialize the wgmma again
  // (C7514). Operand t is whether thread 0 copies to rank t.
  std::string code = "{\n.reg .pred p;\n.reg .b32 bar, dst;\n";
  SmallVector<Value> operands;
  for (int64_t target = 0; target < c.valueBlocks; ++target) {
    Value copies = e.andi(e.eq(threadInWarpgroup, e.i32(0)), e.ne(clusterRank, e.i32(target)));
    operands.push_back(e.select(copies, e.i32(1), e.i32(0)));
  }
  int64_t ready = c.valueBlocks, source = ready + 1;
  for (int64_t target = 0; target < c.valueBlocks; ++target) {
    int64_t bytes = c.segmentScan && target > 0 ? layout.vT : layout.out;
    code += llvm::formatv("setp.ne.u32 p, ${0}, 0;\n"
                          "mapa.shared::cluster.u32 bar, ${1}, {2};\n"
                          "mapa.shared::cluster.u32 dst, ${3}, {2};\n"
                          "@p mbarrier.arrive.expect_tx.shared::cluster.b64 _, [bar], {4};\n"
                          "@p cp.async.bulk.shared::cluster.shared::cta.mbarrier::complete_tx"
                          "::bytes [dst], [${3}], {4}, [bar];\n",
                          target, ready, target, source, bytes)
                .str();
  }
  code += "}";
  operands.append({readyAddress, stageAddress});
  std::string constraints = "r";
  for (size_t i = 1; i < operands.size(); ++i)
    constraints += ",r";
  e.inlinePtxEffect(operands, code, constraints);
}

void ForwardKernelBuilder::waitHandoffReady(Value chunk) {
  Value stage = handoffStageOf(chunk);
  if (readyOnNamedBarrier())
    e.namedBarrier(e.add(e.i32(kReadyBarrier), stage), readyThreads());
  else
    e.waitParity(readyBarrier(stage), useParity(chunk, handoffStages()));
  handoffBase = e.mul(stage, e.i32(layout.handoffBytes));
  handoffDescriptors = descriptorBase(e, e.address(handoff(0, e.i32(0))));
}

void ForwardKernelBuilder::markHandoffFree(Value chunk, Value enabled) {
  // Every wgmma that read the stage has been waited for, and the output
  // staged in it has been read. `enabled` is a predicate in the PTX: a
  // branch here makes ptxas serialize the kernel's wgmma.
  Value stage = handoffStageOf(chunk);
  if (!c.clusterCtas) {
    e.inlinePtxEffect(ValueRange{e.trunc32(e.address(freeBarrier(stage))), enabled},
                      "{\n.reg .pred p;\nsetp.ne.u32 p, $1, 0;\n"
                      "@p mbarrier.arrive.shared::cta.b64 _, [$0];\n}",
                      "r,r");
    return;
  }
  // A stage this CTA wrote: every thread on its own `free`; one another
  // CTA wrote (and copied here): lane 0 of each warp on that CTA's. Both
  // are predicates inside the PTX: a branch here makes ptxas serialize the
  // kernel's wgmma (C7520). The reads the arrival releases are the wgmma's,
  // already waited for, so it takes the default CTA scope: at cluster
  // scope ptxas puts a MEMBAR.GPU before it, which waits for the chunk's
  // output stores to reach L2 (a quarter of the time per chunk with few
  // heads).
  Value producer = producerOf(chunk);
  Value mine = e.select(e.eq(producer, clusterRank), e.i32(1), e.i32(0));
  e.inlinePtxEffect(
      ValueRange{e.trunc32(e.address(freeBarrier(stage))), mine,
                 e.urem(threadInWarpgroup, e.i32(32)), producer, enabled},
      "{\n.reg .pred p, q, n, on;\n.reg .b32 far;\n.reg .b64 st;\n"
      "setp.ne.u32 on, $4, 0;\nsetp.ne.u32 p, $1, 0;\nnot.pred n, p;\nand.pred p, p, on;\n"
      "@p mbarrier.arrive.shared::cta.b64 st, [$0];\n"
      "mapa.shared::cluster.u32 far, $0, $3;\nsetp.eq.u32 q, $2, 0;\n"
      "and.pred q, q, n;\nand.pred q, q, on;\n"
      "@q mbarrier.arrive.shared::cluster.b64 _, [far];\n}",
      "r,r,r,r,r");
}

//===----------------------------------------------------------------------===//
// The kernel
//===----------------------------------------------------------------------===//

void ForwardKernelBuilder::runChunkLocal(Value chunks) {
  // Warpgroup w takes chunks firstChunk, firstChunk + P, ... (P = L, or
  // G L with a cluster of G CTAs): its first `stages` chunks are
  // loaded before the loop, and each chunk starts the load of the one
  // `stages` later into its stage once its tiles have been read.
  int64_t C = c.chunkSize, step = producerCount(c);
  for (int64_t n = 0; n < c.stages; ++n)
    issueTiles(e.add(firstChunk, e.i32(n * step)), chunks);
  Value firstBeta = prefetchBeta(firstChunk);
  e.forLoop(firstChunk, chunks, e.i32(step), ValueRange{firstBeta},
            [&](Value chunk, ValueRange carried) -> SmallVector<Value> {
              // The thread index through an opaque move each chunk: the
              // phases' per-thread addresses are then recomputed where
              // used, not hoisted to hold registers across the loop.
              Value savedThreadInWarpgroup = threadInWarpgroup;
              FragmentLayout savedFrag = frag;
              threadInWarpgroup = e.urem(e.opaque(tid), e.i32(128));
              frag = fragmentLayout(e, threadInWarpgroup);
              llvm::scope_exit restore([&] {
                threadInWarpgroup = savedThreadInWarpgroup;
                frag = savedFrag;
              });
              Value rows = rowsFrom(e.mul(chunk, e.i32(C)));
              // This warpgroup's n-th chunk (n = (chunk - firstChunk) / step)
              // completes phase n of its barriers used once a chunk.
              Value chunkParity = useParity(e.sub(chunk, firstChunk), step);
              Value nextBeta = prefetchBeta(e.add(chunk, e.i32(step)));
              waitTiles(chunk);
              waitHandoffFree(chunk);
              scaleRows(rows);
              SmallVector<Value> keptGate;
              Value wideChannel = computeGate(rows, keptGate);
              storeBeta(carried[0], rows);
              // The lower_bound gate's spread is bounded by construction:
              // a plain barrier, and no pairwise path (factorised stays
              // null: the factorised path alone, without a branch).
              Value factorised;
              if (spreadIsBounded(c)) {
                e.namedBarrier(e.add(e.i32(kSpreadBarrier), warpgroup), 128);
              } else {
                factorised = e.notb(e.syncThreadsAny(
                    wideChannel, e.add(e.i32(kSpreadBarrier), warpgroup), 128));
              }
              writeOperands(factorised, keptGate);
              e.fenceProxyAsyncShared(); // the factors are wgmma operands
              chunkLocalSync();
              // Once the chunk's tiles have been read, its stage takes the
              // chunk `stages` later: after the operands where the spread
              // is bounded, after the pairwise A matrices otherwise.
              Value later = e.add(chunk, e.i32(c.stages * step));
              // Bounded spread: products of the precomputed factors, on
              // tensor cores; warps 0 and 1 write Akk's rows and warp 0
              // inverts it, waiting for warp 1's rows on an mbarrier at
              // C = 16 (halfway through), on the warpgroup's barrier at
              // C = 32. The last warp starts the loads while the products
              // are in flight.
              byForm(
                  factorised,
                  [&] { attentionOnTensorCores([&] { issueTiles(later, chunks); }); },
                  [&] {
                    attentionPairwise();
                    chunkLocalSync();
                    // The inverse waits for warp 1's rows of Akk there.
                    if (layout.factorHalves > 1)
                      announceAkkRows(warpOfThread());
                    issueTiles(later, chunks);
                  });
              // Tinv^T goes to the stage: the state side forms U and W's
              // share of V' with it, so no warp waits here for warp 0's
              // inverse (each arrives once its own stores are fenced).
              invertTriangular(chunkParity);
              markHandoffReady(chunk);
              // No barrier here: every workspace array the next chunk
              // writes before its first barrier (row scales, G, beta) was
              // last read before one of this chunk's, Akk is read by the
              // warp that writes it next (warp 1's half is written again
              // only after the next chunk's second barrier, which warp 0
              // reaches after its inverse; the pairwise path's Akk lies
              // behind its own barrier), and
              // the factors the A wgmma read are rewritten only after the
              // next chunk's first barrier.
              return {nextBeta};
            });
}

void ForwardKernelBuilder::runStateChain(Value chunks, Value initialState) {
  // Without a cluster each chunk's output waits in its stage (stageOutput)
  // and goes to o while the next chunk's first products are in flight, so
  // the warpgroup's barrier and the tile's round trip leave the chain; the
  // stage is freed after that. With a single handoff stage the next chunk
  // could not be written before that free, and in a cluster a stage held
  // a chunk longer delayed the producing CTAs (T = 8192 H = 64 ran 13 %
  // slower): there the output goes at once.
  int64_t C = c.chunkSize;
  bool deferred = handoffStages() > 1 && !c.clusterCtas;
  Value sAcc = initialState;
  Value firstTile = outTileOffset(warpgroup);
  // The deferred output of the chunk before `next` (none before the first:
  // 0 rows, its stage's arrival off).
  auto flushBefore = [&](Value next, Value tile, Value rows, Value firstToken) {
    flushOutput(tile, rows, firstToken);
    markHandoffFree(e.sub(next, e.i32(1)), e.select(e.ult(e.i32(0), next), e.i32(1), e.i32(0)));
  };
  SmallVector<Value> state = e.forLoop(
      e.i32(0), chunks, e.i32(1), ValueRange{sAcc, firstTile, e.i32(0), e.i64(0)},
      [&](Value chunk, ValueRange carried) -> SmallVector<Value> {
        Value row0 = e.mul(chunk, e.i32(C));
        Value rows = rowsFrom(row0);
        Value firstToken = e.add(bos, e.ext64(row0));
        storeIntermediateState(carried[0], row0);
        waitHandoffReady(chunk);
        auto flushPrevious = [&] {
          if (deferred)
            flushBefore(chunk, carried[1], carried[2], carried[3]);
        };
        SmallVector<Value> products = stateProducts(carried[0], flushPrevious);
        Value tile = stageOutput(products[1]);
        if (!deferred) {
          flushOutput(tile, rows, firstToken);
          markHandoffFree(chunk, e.i32(1));
        }
        return {products[0], tile, rows, firstToken};
      });
  if (deferred)
    flushBefore(chunks, state[1], state[2], state[3]);
  storeFinalState(state[0]);
}

void ForwardKernelBuilder::build() {
  int64_t C = c.chunkSize;
  prologue();
  // Uniform across the CTA; the shuffle lets ptxas prove it for the chunk
  // loops' branches (a branch it cannot prove uniform around wgmma makes it
  // serialize them).
  Value chunks = e.warpUniform(e.udiv(e.add(len, e.i32(C - 1)), e.i32(C)));
  RegisterSplit registers = registerSplit(c);
  e.ifThen(chunkLocal, [&] {
    e.setMaxRegisters(registers.chunkLocal, registers.chunkLocal > kEntryRegisters);
    runChunkLocal(chunks);
  });
  // Without rows (V = 64, a split into 64-row blocks, a cluster's helper
  // CTA) a state warpgroup has nothing to do and keeps its 128 registers
  // where they fit (registerSplit), and the `free` barriers do not count
  // it.
  Value stateWithRows = e.andi(e.notb(chunkLocal), ownsValueRows);
  stateWithRows = e.ne(e.warpUniform(e.select(stateWithRows, e.i32(1), e.i32(0))), e.i32(0));
  e.ifThen(stateWithRows, [&] {
    // The initial state's loads go out before setmaxnreg, which waits for
    // the chunk-local warpgroups to give up their registers: 64 KB per CTA
    // then arrive while chunk 0 is computed (a varlen batch of 8 x 1024
    // tokens at H = 96, six waves of CTAs, ran 0.5-2 % faster).
    Value initialState = loadInitialState();
    e.setMaxRegisters(stateRegisters(c), /*increase=*/true);
    runStateChain(chunks, initialState);
  });
  // An idle warpgroup gives its registers up after the state warpgroups'
  // branch, not before it: ptxas holds every path from the setmaxnreg to
  // its count, and the branch starts with the initial state's loads.
  if (registers.idle != kEntryRegisters) {
    Value idle = e.andi(e.notb(chunkLocal), e.notb(stateWithRows));
    e.ifThen(idle, [&] { e.setMaxRegisters(registers.idle, /*increase=*/false); });
  }
  // No CTA of a cluster leaves while the other may still copy into its
  // shared memory or arrive on its barriers.
  if (c.clusterCtas)
    e.syncCluster();
}

LLVM::LLVMFuncOp kda::buildForwardKernel(OpBuilder &builder, Location loc,
                                         const ForwardKernelConfig &config) {
  MLIRContext *ctx = builder.getContext();
  auto generic = LLVM::LLVMPointerType::get(ctx);
  auto global = LLVM::LLVMPointerType::get(ctx, kGlobalSpace);
  Type i32 = builder.getI32Type(), f32 = builder.getF32Type();
  SmallVector<Type> params(kForwardParamCount);
  for (unsigned p = kParamQMap; p <= kParamGMap; ++p)
    params[p] = generic;
  for (unsigned p = kParamBeta; p <= kParamFinalState; ++p)
    params[p] = global;
  params[kParamIntermediate] = global;
  params[kParamIntermediateInterval] = params[kParamIntermediateBF16] = i32;
  params[kParamCuSeqlens64] = params[kParamSeqLen] = params[kParamHeads] =
      params[kParamValueHeads] = i32;
  params[kParamScale] = params[kParamLowerBound] = f32;

  // 1024-byte alignment: the swizzled operand tiles need it.
  declareSharedMemory(builder, loc, 1024);

  auto func = LLVM::LLVMFuncOp::create(
      builder, loc, config.kernelName(),
      LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx), params));
  func->setAttr("nvvm.kernel", builder.getUnitAttr());
  func->setAttr("nvvm.reqntid", builder.getDenseI32ArrayAttr({kForwardThreads, 1, 1}));
  // One CTA per SM: ptxas honours setmaxnreg only with a known register
  // budget at entry (65,536 / kForwardThreads).
  func->setAttr("nvvm.minctasm", builder.getI32IntegerAttr(1));
  // The cluster of a (sequence, value head)'s CTAs, fixed at compile time
  // (.reqnctapercluster), so a plain launch forms it.
  if (config.clusterCtas)
    func->setAttr(NVVM::NVVMDialect::getClusterDimAttrName(),
                  builder.getDenseI32ArrayAttr({1, 1, static_cast<int32_t>(config.clusterCtas)}));
  // Tensor maps arrive by value: 128-byte __grid_constant__ parameters.
  for (unsigned p = kParamQMap; p <= kParamGMap; ++p) {
    func.setArgAttr(p, "llvm.byval", TypeAttr::get(LLVM::LLVMArrayType::get(builder.getI8Type(), 128)));
    func.setArgAttr(p, "llvm.align", builder.getI64IntegerAttr(64));
    func.setArgAttr(p, "nvvm.grid_constant", builder.getUnitAttr());
  }

  Block *entry = func.addEntryBlock(builder);
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(entry);
  ImplicitLocOpBuilder b(loc, builder);
  KernelEmitter e(b);
  // The segment scan's pass is this kernel at V = 2K (kernelName keeps the
  // op's V).
  ForwardKernelBuilder(e, forwardPassConfig(config), func).build();
  LLVM::ReturnOp::create(b, ValueRange{});
  return func;
}
