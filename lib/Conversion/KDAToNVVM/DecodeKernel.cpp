//===- DecodeKernel.cpp - The kda.decode kernel -----------------*- C++ -*-===//
//
// One CTA per (sequence, value head, block of value columns). The step is
// a rank-one update of the K x V state, memory-bound on reading and writing
// it once, so the CTA's threads tile the state with 16-byte accesses along
// its contiguous axis (columns for the kv layout, rows for vk). Each thread
// copies its tile into shared memory asynchronously (cp.async): no
// registers wait on the copy, so as many CTAs fit on an SM as shared memory
// allows, and that many tiles are in flight:
//
//   shared: k^, q^ (l2-normalised, q scaled) and the decay exp(g) per key
//           channel, computed while the tile copies are in flight
//   pass 1: s = decay_c S[c][j];  e_j = sum_c s k^_c   (partial sums per
//           tile, added across tiles through shared memory)
//   u_j = beta (v_j - e_j)
//   pass 2: S[c][j] = s + k^_c u_j, stored back in place;  o_j = sum_c S q^_c
//
// A negative state index writes a zero output row and touches no state.
//
//===----------------------------------------------------------------------===//

#include "kda/Conversion/KDAToNVVM/DecodeKernel.h"

#include "KernelEmitter.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::kda;

static StringRef typeName(Type t) { return t.isBF16() ? "bf16" : "f32"; }

std::string DecodeKernelConfig::kernelName() const {
  return llvm::formatv("kda_decode_k{0}_v{1}_{2}_{3}{4}_{5}_g{6}_b{7}_s{8}", headDimK,
                       headDimV, stringifyGateMode(gate), stringifyBetaMode(betaMode),
                       qkL2Norm ? "_l2norm" : "", stringifyStateLayout(stateLayout),
                       typeName(gType), typeName(betaType), typeName(poolType))
      .str();
}

std::string kda::decodeParamNames() {
  static const char *const names[kDecodeParamCount] = {
      "q", "k", "v", "g", "beta", "A_log", "dt_bias", "state_pool", "state_indices",
      "o", "state_indices_is_int64", "heads", "value_heads", "scale", "lower_bound"};
  std::string joined;
  for (unsigned p = 0; p < kDecodeParamCount; ++p)
    joined += (p ? " " : "") + std::string(names[p]);
  return joined;
}

std::string kda::checkDecodeSupport(const DecodeKernelConfig &c) {
  if (c.headDimK != c.headDimV || (c.headDimK != 64 && c.headDimK != 128))
    return llvm::formatv("head sizes K = {0}, V = {1}: the decode kernel supports "
                         "K = V = 64 or 128 so far",
                         c.headDimK, c.headDimV);
  return "";
}

namespace {
/// Value columns per CTA: the columns are independent, so splitting them
/// across CTAs buys resident CTAs (and overlap of their phases) at the
/// price of preparing q, k and the decay once per block.
constexpr int64_t kDecodeValueBlock = 64;
/// Elements of the state each thread copies, updates and writes back.
constexpr int64_t kDecodeTileFloats = 64;
/// Shared memory an SM gives its CTAs (sm_90: 228 KB, 1 KB reserved per
/// CTA) and the most CTAs worth asking ptxas to fit.
constexpr int64_t kSharedPerSM = 228 * 1024;
constexpr int64_t kMaxCTAsPerSM = 8;

/// How the CTA's threads tile its K x Vb block of the state. `lanes`
/// threads cover the contiguous axis (the block's columns for kv, K for
/// vk) with `vector` elements each, one access per line; the `groups` of
/// lanes split the other axis, `span` lines each. Sums over key channels
/// run inside a tile, then across the tiles holding the same columns: the
/// groups (kv) or the lanes (vk).
struct DecodeTiling {
  bool kv;
  int64_t columns, threads, vector = 4, lanes, groups, span, partsPerColumn;
  explicit DecodeTiling(const DecodeKernelConfig &c)
      : kv(c.stateLayout == StateLayout::KV),
        columns(std::min(c.headDimV, kDecodeValueBlock)) {
    int64_t contiguous = kv ? columns : c.headDimK, other = kv ? c.headDimK : columns;
    // Threads t < K prepare channel t and t < columns finish column t.
    threads = std::max({c.headDimK, columns, c.headDimK * columns / kDecodeTileFloats});
    lanes = contiguous / vector;
    groups = threads / lanes;
    span = other / groups;
    partsPerColumn = kv ? groups : lanes;
  }
};

/// Shared memory: the threads' tiles, line i of every thread together
/// (conflict-free 16-byte accesses); then (f32) k^, q^, decay [K]; u
/// [columns]; one partial sum per warp for each of the two l2 norms; the
/// partial sums over key channels, one row of columns + 1 (padded against
/// bank conflicts) per part.
struct DecodeShared {
  int64_t tile, lineBytes, k, q, decay, u, norms, partials, partialStride, total;
  DecodeShared(const DecodeKernelConfig &c, const DecodeTiling &t) {
    tile = 0;
    lineBytes = t.vector * c.poolType.getIntOrFloatBitWidth() / 8;
    k = tile + t.span * t.threads * lineBytes;
    q = k + 4 * c.headDimK;
    decay = q + 4 * c.headDimK;
    u = decay + 4 * c.headDimK;
    norms = u + 4 * t.columns;
    partials = norms + 2 * 4 * (t.threads / 32);
    partialStride = t.columns + 1;
    total = partials + 4 * t.partsPerColumn * partialStride;
  }
};
} // namespace

int64_t kda::decodeThreads(const DecodeKernelConfig &c) { return DecodeTiling(c).threads; }

int64_t kda::decodeValueBlocks(const DecodeKernelConfig &c) {
  return c.headDimV / DecodeTiling(c).columns;
}

int64_t kda::decodeSharedBytes(const DecodeKernelConfig &c) {
  return DecodeShared(c, DecodeTiling(c)).total;
}

static Value elementPointer(KernelEmitter &e, Value base, Value index, Type type) {
  return e.gep(base, e.mul(index, e.i64(type.getIntOrFloatBitWidth() / 8)));
}

LLVM::LLVMFuncOp kda::buildDecodeKernel(OpBuilder &builder, Location loc,
                                        const DecodeKernelConfig &c) {
  MLIRContext *ctx = builder.getContext();
  auto global = LLVM::LLVMPointerType::get(ctx, kGlobalSpace);
  SmallVector<Type> params(kDecodeParamCount, global);
  params[kDecodeIndices64] = params[kDecodeHeads] = params[kDecodeValueHeads] =
      builder.getI32Type();
  params[kDecodeScale] = params[kDecodeLowerBound] = builder.getF32Type();

  const DecodeTiling tiling(c);
  const DecodeShared layout(c, tiling);
  declareSharedMemory(builder, loc, 16);
  auto func = LLVM::LLVMFuncOp::create(
      builder, loc, c.kernelName(),
      LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx), params));
  func->setAttr("nvvm.kernel", builder.getUnitAttr());
  func->setAttr("nvvm.reqntid",
                builder.getDenseI32ArrayAttr({int32_t(tiling.threads), 1, 1}));
  // Resident CTAs are what keeps copies in flight: as many as shared memory
  // allows, registers bounded to match.
  func->setAttr("nvvm.minctasm",
                builder.getI32IntegerAttr(std::min(
                    kMaxCTAsPerSM, kSharedPerSM / (layout.total + 1024))));

  Block *entry = func.addEntryBlock(builder);
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(entry);
  ImplicitLocOpBuilder b(loc, builder);
  KernelEmitter e(b);
  const int64_t K = c.headDimK, V = c.headDimV;
  auto param = [&](DecodeParam p) { return func.getArgument(p); };
  Value smem = LLVM::AddressOfOp::create(b, e.ptr(kSharedSpace), kSharedSymbol);
  auto sharedF32 = [&](int64_t base, Value index) {
    return e.gep(smem, e.add(e.i32(base), e.mul(index, e.i32(4))));
  };
  auto sharedLoad = [&](int64_t base, Value index) {
    return e.load(e.f32(), sharedF32(base, index));
  };

  Value t = e.threadIdx();
  Value n = e.ext64(e.blockIdxX()), hv = e.ext64(e.blockIdxY());
  Value firstColumn = e.ext64(e.mul(e.blockIdxZ(), e.i32(tiling.columns)));
  Value HV = e.ext64(param(kDecodeValueHeads)), H = e.ext64(param(kDecodeHeads));
  Value h = e.udiv(hv, e.udiv(HV, H));
  // v and beta are read before anything waits on memory: loaded later,
  // behind a barrier, they would add a memory round trip to every CTA.
  Value vIndex = e.add(e.mul(e.add(e.mul(n, HV), hv), e.i64(V)),
                       e.add(firstColumn, e.ext64(e.minsi(t, e.i32(tiling.columns - 1)))));
  Value vj = e.toF32(e.load(e.bf16(), elementPointer(e, param(kDecodeV), vIndex, e.bf16())));
  Value rawBeta = e.toF32(e.load(c.betaType, elementPointer(e, param(kDecodeBeta),
                                                            e.add(e.mul(n, HV), hv), c.betaType)));
  Value indices = param(kDecodeStateIndices);
  Value slot = e.ifElse(
      e.ne(param(kDecodeIndices64), e.i32(0)), e.i64(),
      [&] { return e.load(e.i64(), e.gep(indices, e.mul(n, e.i64(8)))); },
      [&] { return e.sext64(e.load(e.i32(), e.gep(indices, e.mul(n, e.i64(4))))); });
  // Thread t < columns finishes the block's column t: its output, u and
  // the cross-tile sums.
  Value ownsColumn = e.ult(t, e.i32(tiling.columns));
  Value column64 = e.add(firstColumn, e.ext64(t));
  Value oIndex = e.add(e.mul(e.add(e.mul(n, HV), hv), e.i64(V)), column64);
  Value padding = e.slt(slot, e.i64(0));
  e.ifThen(e.andi(padding, ownsColumn), [&] {
    e.store(e.toBF16(e.f32(0.0)), elementPointer(e, param(kDecodeO), oIndex, e.bf16()));
  });

  e.ifThen(e.notb(padding), [&] {
    // The tile: line i of this thread's group, elements x of its lane.
    // Loads first, so the state streams in while the CTA prepares q, k, g.
    Value lane = e.urem(t, e.i32(tiling.lanes)), group = e.udiv(t, e.i32(tiling.lanes));
    Value firstElement = e.mul(lane, e.i32(tiling.vector));
    Value firstLine = e.mul(group, e.i32(tiling.span));
    // Row and column of tile element (i, x) as shared-memory addresses:
    // one base register each plus a constant, so nothing per element
    // stays live across the passes.
    Value rowOrigin = sharedF32(0, tiling.kv ? firstLine : firstElement);
    Value columnOrigin = sharedF32(0, tiling.kv ? firstElement : firstLine);
    auto rowPtr = [&](int64_t array, int64_t i, int64_t x) {
      return e.gep(rowOrigin, e.i32(array + 4 * (tiling.kv ? i : x)));
    };
    auto columnPtr = [&](int64_t array, int64_t i, int64_t x) {
      return e.gep(columnOrigin, e.i32(array + 4 * (tiling.kv ? x : i)));
    };
    const int64_t lineLength = tiling.kv ? V : K;
    Value tileOrigin = elementPointer(
        e, param(kDecodeStatePool),
        e.add(e.add(e.mul(e.add(e.mul(slot, HV), hv), e.i64(K * V)),
                    tiling.kv ? firstColumn : e.mul(firstColumn, e.i64(K))),
              e.add(e.mul(e.ext64(firstLine), e.i64(lineLength)), e.ext64(firstElement))),
        c.poolType);
    auto linePtr = [&](int64_t i) {
      return e.gep(tileOrigin, e.i64(i * lineLength * c.poolType.getIntOrFloatBitWidth() / 8));
    };
    Value tileSlot = e.gep(smem, e.add(e.i32(layout.tile), e.mul(t, e.i32(layout.lineBytes))));
    auto sharedLinePtr = [&](int64_t i) {
      return e.gep(tileSlot, e.i32(i * tiling.threads * layout.lineBytes));
    };
    for (int64_t i = 0; i < tiling.span; ++i)
      e.copyAsync(sharedLinePtr(i), linePtr(i), layout.lineBytes);
    e.commitAsyncCopies();
    // Line i of the tile, from shared memory (each thread reads only what
    // it copied, so its own wait suffices); read once per pass rather than
    // held in registers across the barriers between them.
    auto tileLine = [&](int64_t i) {
      SmallVector<Value> line;
      for (Value v : e.loadVector(c.poolType, tiling.vector, sharedLinePtr(i)))
        line.push_back(e.toF32(v));
      return line;
    };

    // q, k rows of head h and the decay of value head hv: thread t < K
    // prepares channel t; the others read a valid channel and discard it.
    Value ownsChannel = e.ult(t, e.i32(K));
    Value channel64 = e.ext64(e.minsi(t, e.i32(K - 1)));
    Value qkIndex = e.add(e.mul(e.add(e.mul(n, H), h), e.i64(K)), channel64);
    Value qj = e.toF32(e.load(e.bf16(), elementPointer(e, param(kDecodeQ), qkIndex, e.bf16())));
    Value kj = e.toF32(e.load(e.bf16(), elementPointer(e, param(kDecodeK), qkIndex, e.bf16())));
    Value headIndex = e.add(e.mul(e.add(e.mul(n, HV), hv), e.i64(K)), channel64);
    Value raw = e.toF32(e.load(c.gType, elementPointer(e, param(kDecodeG), headIndex, c.gType)));
    Value logDecay = raw;
    if (c.gate != GateMode::Precomputed) {
      Value aLog = param(kDecodeALog), dtBias = param(kDecodeDtBias);
      Value coefficient = e.ifElse(e.isNull(aLog), e.f32(), [&] { return e.f32(1.0); },
                                   [&] { return e.exp(e.load(e.f32(), elementPointer(e, aLog, hv, e.f32()))); });
      Value bias = e.ifElse(e.isNull(dtBias), e.f32(), [&] { return e.f32(0.0); },
                            [&] {
                              return e.load(e.f32(), elementPointer(e, dtBias,
                                                                    e.add(e.mul(hv, e.i64(K)), channel64), e.f32()));
                            });
      Value x = e.fadd(raw, bias);
      logDecay = c.gate == GateMode::Softplus
                     ? e.fneg(e.fmul(coefficient, e.softplus(x)))
                     : e.fmul(param(kDecodeLowerBound), e.sigmoid(e.fmul(coefficient, x)));
    }

    Value qScale = param(kDecodeScale), kScale = e.f32(1.0);
    if (c.qkL2Norm) {
      // Sums of squares: a warp reduction, then the warps' partials.
      Value sq = e.select(ownsChannel, e.fmul(qj, qj), e.f32(0.0));
      Value sk = e.select(ownsChannel, e.fmul(kj, kj), e.f32(0.0));
      for (int64_t m = 16; m >= 1; m /= 2) {
        sq = e.fadd(sq, e.shuffleXor(sq, m));
        sk = e.fadd(sk, e.shuffleXor(sk, m));
      }
      const int64_t warps = tiling.threads / 32;
      Value warp = e.udiv(t, e.i32(32));
      e.ifThen(e.eq(e.urem(t, e.i32(32)), e.i32(0)), [&] {
        e.store(sq, sharedF32(layout.norms, warp));
        e.store(sk, sharedF32(layout.norms, e.add(warp, e.i32(warps))));
      });
      e.syncThreads();
      Value tq = e.f32(0.0), tk = e.f32(0.0);
      for (int64_t w = 0; w < warps; ++w) {
        tq = e.fadd(tq, sharedLoad(layout.norms, e.i32(w)));
        tk = e.fadd(tk, sharedLoad(layout.norms, e.i32(warps + w)));
      }
      qScale = e.fmul(qScale, e.rsqrt(e.fadd(tq, e.f32(1e-6))));
      kScale = e.fmul(kScale, e.rsqrt(e.fadd(tk, e.f32(1e-6))));
    }
    e.ifThen(ownsChannel, [&] {
      e.store(e.exp(logDecay), sharedF32(layout.decay, t));
      e.store(e.fmul(qj, qScale), sharedF32(layout.q, t));
      e.store(e.fmul(kj, kScale), sharedF32(layout.k, t));
    });
    e.syncThreads();

    Value beta = rawBeta;
    if (c.betaMode == BetaMode::Sigmoid)
      beta = e.sigmoid(rawBeta);
    else if (c.betaMode == BetaMode::SigmoidNegEigval)
      beta = e.fmul(e.f32(2.0), e.sigmoid(rawBeta));

    // Sums over key channels: this tile's part of column (i, x)
    // goes to the shared row of its part; thread t < V adds column t's
    // parts after the barrier.
    Value part = tiling.kv ? group : lane;
    Value partOrigin = e.gep(columnOrigin, e.mul(part, e.i32(4 * layout.partialStride)));
    auto partialPtr = [&](int64_t i, int64_t x) {
      return e.gep(partOrigin, e.i32(layout.partials + 4 * (tiling.kv ? x : i)));
    };
    // kv lines are rows: each element is summed across the lines into its
    // column's part; vk lines are columns: a line sums to its column's part.
    auto storeColumnSums = [&](const std::function<SmallVector<Value>(int64_t)> &lineTerms) {
      SmallVector<Value> sums(tiling.vector, e.f32(0.0));
      for (int64_t i = 0; i < tiling.span; ++i) {
        SmallVector<Value> terms = lineTerms(i);
        if (tiling.kv) {
          for (int64_t x = 0; x < tiling.vector; ++x)
            sums[x] = e.fadd(sums[x], terms[x]);
          continue;
        }
        Value sum = terms[0];
        for (int64_t x = 1; x < tiling.vector; ++x)
          sum = e.fadd(sum, terms[x]);
        e.store(sum, partialPtr(i, 0));
      }
      if (tiling.kv)
        for (int64_t x = 0; x < tiling.vector; ++x)
          e.store(sums[x], partialPtr(0, x));
    };
    auto columnTotal = [&] {
      Value total = e.f32(0.0);
      for (int64_t p = 0; p < tiling.partsPerColumn; ++p)
        total = e.fadd(total, sharedLoad(layout.partials,
                                         e.add(e.i32(p * layout.partialStride), t)));
      return total;
    };

    // The decayed state s = decay_c S[c][j], from the tile's line i.
    auto decayedLine = [&](int64_t i) {
      SmallVector<Value> line = tileLine(i);
      for (int64_t x = 0; x < tiling.vector; ++x)
        line[x] = e.fmul(line[x], e.load(e.f32(), rowPtr(layout.decay, i, x)));
      return line;
    };

    // Pass 1: the decayed state's projection on k^.
    e.waitAsyncCopies(0);
    storeColumnSums([&](int64_t i) {
      SmallVector<Value> terms = decayedLine(i);
      for (int64_t x = 0; x < tiling.vector; ++x)
        terms[x] = e.fmul(terms[x], e.load(e.f32(), rowPtr(layout.k, i, x)));
      return terms;
    });
    e.syncThreads();
    e.ifThen(ownsColumn, [&] {
      e.store(e.fmul(beta, e.fsub(vj, columnTotal())), sharedF32(layout.u, t));
    });
    e.syncThreads();

    // Pass 2: the rank-one update, stored in place, and the output.
    storeColumnSums([&](int64_t i) {
      SmallVector<Value> updated = decayedLine(i), stored, terms;
      for (int64_t x = 0; x < tiling.vector; ++x) {
        updated[x] = e.fadd(updated[x], e.fmul(e.load(e.f32(), rowPtr(layout.k, i, x)),
                                               e.load(e.f32(), columnPtr(layout.u, i, x))));
        stored.push_back(c.poolType.isBF16() ? e.toBF16(updated[x]) : updated[x]);
        terms.push_back(e.fmul(updated[x], e.load(e.f32(), rowPtr(layout.q, i, x))));
      }
      e.storeVector(stored, linePtr(i));
      return terms;
    });
    e.syncThreads();
    e.ifThen(ownsColumn, [&] {
      e.store(e.toBF16(columnTotal()), elementPointer(e, param(kDecodeO), oIndex, e.bf16()));
    });
  });
  LLVM::ReturnOp::create(b, ValueRange{});
  return func;
}
