//===- SegmentKernels.cpp - The segment scan's combining kernels -*- C++ -*-===//
//
// The composing and the correcting kernel of the segment scan
// (SegmentKernels.h says what each computes). Composing is a few fp32
// products of [16 x K] by [K x K] per CTA, latency-bound: each CTA keeps
// its rows in registers, one key column per thread, and double-buffers the
// next segment's transition into shared memory while it multiplies by this
// one's. Correcting is memory-bound (it reads X and O0 and writes o in
// place): a warp takes 16 tokens, copies their rows of X and O0 into
// shared memory in 16-byte pieces (a load of 4 bytes per lane, straight
// into the fragments, kept DRAM at 62 % and the memory pipes at 82 %),
// reads X as mma.sync A fragments by ldmatrix, multiplies by the
// segment's entering state (staged once per CTA), and writes o back
// through the same tile, 16 bytes a lane.
//
//===----------------------------------------------------------------------===//

#include "kda/Conversion/KDAToNVVM/SegmentKernels.h"

#include "KernelEmitter.h"
#include "SegmentScan.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::kda;

namespace {

/// The correcting kernel's copy of an entering state: row v (K bf16) at
/// v * kStateRowBytes, 16 bytes of padding per row so that a warp's B
/// fragment loads (eight rows, four words each) hit 32 distinct banks.
int64_t stateRowBytes(const ForwardKernelConfig &c) { return 2 * c.headDimK + 16; }

/// The composing kernel's shared memory: two buffers of a transition
/// ([K x K] f32, A_s^T), then the CTA's rows of E_{s-1} transposed (key
/// column i's kComposeRows values together, read as 16-byte broadcasts).
struct ComposeShared {
  int64_t transition, transitionBytes, rows, total;
  explicit ComposeShared(const ForwardKernelConfig &c) {
    transition = 0;
    transitionBytes = 4 * c.headDimK * c.headDimK;
    rows = 2 * transitionBytes;
    total = rows + 4 * c.headDimK * kComposeRows;
  }
};

/// The correcting kernel's shared memory: the entering state (V rows of
/// stateRowBytes), then per warp its 16 tokens' X and O rows, each row
/// padded by 16 bytes (ldmatrix's eight rows and the accumulators' eight
/// rows then fall in distinct banks).
struct CorrectShared {
  int64_t x, o, xRowBytes, oRowBytes, warpBytes, total;
  explicit CorrectShared(const ForwardKernelConfig &c) {
    xRowBytes = 2 * c.headDimK + 16;
    oRowBytes = 2 * c.headDimV + 16;
    x = c.headDimV * stateRowBytes(c);
    o = x + 16 * xRowBytes;
    warpBytes = 16 * (xRowBytes + oRowBytes);
    total = x + kCorrectThreads / 32 * warpBytes;
  }
};

std::string joinNames(ArrayRef<const char *> names) {
  std::string joined;
  for (auto [i, name] : llvm::enumerate(names))
    joined += (i ? " " : "") + std::string(name);
  return joined;
}

using KernelBody = llvm::function_ref<void(KernelEmitter &, LLVM::LLVMFuncOp)>;

/// A kernel of `paramCount` parameters (global pointers but those in
/// `i32Params`) with `threads` threads, whose body `body` emits.
LLVM::LLVMFuncOp buildKernel(OpBuilder &builder, Location loc, StringRef name,
                             unsigned paramCount, ArrayRef<unsigned> i32Params,
                             int64_t threads, KernelBody body) {
  MLIRContext *ctx = builder.getContext();
  SmallVector<Type> params(paramCount, LLVM::LLVMPointerType::get(ctx, kGlobalSpace));
  for (unsigned p : i32Params)
    params[p] = builder.getI32Type();
  declareSharedMemory(builder, loc, 1024); // the pass kernel declares it first
  auto func = LLVM::LLVMFuncOp::create(
      builder, loc, name, LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx), params));
  func->setAttr("nvvm.kernel", builder.getUnitAttr());
  func->setAttr("nvvm.reqntid", builder.getDenseI32ArrayAttr({int32_t(threads), 1, 1}));
  Block *entry = func.addEntryBlock(builder);
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(entry);
  ImplicitLocOpBuilder b(loc, builder);
  KernelEmitter e(b);
  body(e, func);
  LLVM::ReturnOp::create(b, ValueRange{});
  return func;
}

/// The four 8 x 8 b16 matrices whose rows lanes 0-7, 8-15, 16-23 and
/// 24-31 address (`address`, a shared-window i32), as a thread holds an
/// mma.sync A fragment: ldmatrix .x4.
SmallVector<Value> loadMatrices(KernelEmitter &e, Value address) {
  auto &builder = e.builder();
  Type i32 = e.i32();
  auto result = LLVM::LLVMStructType::getLiteral(builder.getContext(), {i32, i32, i32, i32});
  Value out = e.inlinePtx(result, ValueRange{address},
                          "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {$0, $1, $2, $3}, [$4];",
                          "=r,=r,=r,=r,r");
  SmallVector<Value> values;
  for (int64_t i = 0; i < 4; ++i)
    values.push_back(LLVM::ExtractValueOp::create(builder, out, ArrayRef<int64_t>{i}));
  return values;
}

/// acc += A B for one m16 n8 k16 step: A four bf16 pairs (rows g and g + 8,
/// columns 2q.. and 2q + 8..; g = lane / 4, q = lane % 4), B two (rows
/// 2q.. and 2q + 8.., column g), acc four f32 (rows g and g + 8, columns
/// 2q and 2q + 1).
SmallVector<Value, 4> mma16816(KernelEmitter &e, ArrayRef<Value> a, ArrayRef<Value> b,
                               ArrayRef<Value> acc) {
  auto &builder = e.builder();
  Type f32 = e.f32();
  auto result = LLVM::LLVMStructType::getLiteral(builder.getContext(), {f32, f32, f32, f32});
  SmallVector<Value> operands(a.begin(), a.end());
  operands.append(b.begin(), b.end());
  operands.append(acc.begin(), acc.end());
  // No side effects: the loads around it may move across it.
  Value out = LLVM::InlineAsmOp::create(
                  builder, result, operands,
                  "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
                  "{$0, $1, $2, $3}, {$4, $5, $6, $7}, {$8, $9}, {$10, $11, $12, $13};",
                  "=f,=f,=f,=f,r,r,r,r,r,r,f,f,f,f", /*has_side_effects=*/false,
                  /*is_align_stack=*/false, LLVM::tailcallkind::TailCallKind::None,
                  LLVM::AsmDialectAttr(), ArrayAttr())
                  .getResult(0);
  SmallVector<Value, 4> values;
  for (int64_t i = 0; i < 4; ++i)
    values.push_back(LLVM::ExtractValueOp::create(builder, out, ArrayRef<int64_t>{i}));
  return values;
}
} // namespace

Value kda::segmentLength(KernelEmitter &e, Value seqLen, Value segments) {
  Value tile = e.i32(kSegmentTokenTile);
  Value tiles = e.udiv(e.add(seqLen, e.i32(kSegmentTokenTile - 1)), tile);
  return e.mul(e.udiv(e.add(tiles, e.sub(segments, e.i32(1))), segments), tile);
}

std::string kda::segmentComposeParamNames() {
  return joinNames({"ends", "entering", "final_state", "segments", "value_heads"});
}

std::string kda::segmentCorrectParamNames() {
  return joinNames({"x", "entering", "o", "seq_len", "value_heads", "segments"});
}

int64_t kda::segmentComposeSharedBytes(const ForwardKernelConfig &c) {
  return ComposeShared(c).total;
}

int64_t kda::segmentCorrectSharedBytes(const ForwardKernelConfig &c) {
  return CorrectShared(c).total;
}

std::string kda::segmentComposeKernelName(const ForwardKernelConfig &c) {
  return llvm::formatv("kda_segment_compose_k{0}_v{1}", c.headDimK, c.headDimV).str();
}

std::string kda::segmentCorrectKernelName(const ForwardKernelConfig &c) {
  return llvm::formatv("kda_segment_correct_k{0}_v{1}", c.headDimK, c.headDimV).str();
}

//===----------------------------------------------------------------------===//
// Compose: E_s = E_{s-1} A_s^T + B_s^T, kComposeRows rows per CTA
//===----------------------------------------------------------------------===//

static void emitCompose(KernelEmitter &e, LLVM::LLVMFuncOp func,
                        const ForwardKernelConfig &c) {
  auto &b = e.builder();
  const int64_t K = c.headDimK, V = c.headDimV, R = kComposeRows;
  const ComposeShared layout(c);
  auto param = [&](SegmentComposeParam p) { return func.getArgument(p); };
  Value smem = LLVM::AddressOfOp::create(b, e.ptr(kSharedSpace), kSharedSymbol);

  // Thread t owns key column t of rows row0 .. row0 + R - 1.
  Value t = e.threadIdx();
  Value row0 = e.ext64(e.mul(e.blockIdxX(), e.i32(R)));
  Value hv = e.ext64(e.blockIdxY());
  Value HV = e.ext64(param(kComposeValueHeads));
  Value S = param(kComposeSegments);
  // Segment s's pass state, [V + K, K] f32: the value rows, then A_s^T.
  auto passState = [&](Value s) {
    Value head = e.add(e.mul(e.ext64(s), HV), hv);
    return e.gep(param(kComposeEnds), e.mul(head, e.i64((V + K) * K * 4)));
  };
  // Element (row0 + r, t) of a [V, K] state starting at `base`.
  auto rowElement = [&](Value base, int64_t r, int64_t bytes) {
    Value index = e.add(e.mul(e.add(row0, e.i64(r)), e.i64(K)), e.ext64(t));
    return e.gep(base, e.mul(index, e.i64(bytes)));
  };
  auto valueRows = [&](Value s) {
    SmallVector<Value> rows;
    for (int64_t r = 0; r < R; ++r)
      rows.push_back(e.load(e.f32(), rowElement(passState(s), r, 4)));
    return rows;
  };
  // A_s^T into buffer s % 2: 16-byte copies, nothing held in registers.
  auto copyTransition = [&](Value s) {
    Value source = e.gep(passState(s), e.i64(V * K * 4));
    Value buffer = e.mul(e.urem(s, e.i32(2)), e.i32(layout.transitionBytes));
    for (int64_t m = 0; m < layout.transitionBytes / 16 / kComposeThreads; ++m) {
      Value chunk = e.add(t, e.i32(m * kComposeThreads));
      Value offset = e.mul(chunk, e.i32(16));
      e.copyAsync(e.gep(smem, e.add(buffer, offset)), e.gep(source, e.ext64(offset)), 16);
    }
    e.commitAsyncCopies();
  };

  SmallVector<Value> rows = valueRows(e.i32(0));
  e.ifThen(e.ult(e.i32(1), S), [&] { copyTransition(e.i32(1)); });
  Value rowsAt = e.gep(smem, e.add(e.i32(layout.rows), e.mul(t, e.i32(4 * R))));
  rows = e.forLoop(
      e.i32(1), S, e.i32(1), rows, [&](Value s, ValueRange previous) -> SmallVector<Value> {
        // E_{s-1}: segment s's entering state, in bf16 for the correction,
        // and transposed into shared memory for the product.
        Value entering = e.gep(param(kComposeEntering),
                               e.mul(e.add(e.mul(e.ext64(e.sub(s, e.i32(1))), HV), hv),
                                     e.i64(V * K * 2)));
        for (int64_t r = 0; r < R; ++r)
          e.store(e.toBF16(previous[r]), rowElement(entering, r, 2));
        for (int64_t r = 0; r < R; r += 4)
          e.storeVector(previous.slice(r, 4), e.gep(rowsAt, e.i32(4 * r)));
        Value next = e.add(s, e.i32(1));
        Value prefetch = e.ult(next, S);
        e.ifThen(prefetch, [&] { copyTransition(next); });
        // The transition of s has landed once at most the prefetch's group
        // is in flight.
        e.ifThen(prefetch, [&] { e.waitAsyncCopies(1); });
        e.ifThen(e.notb(prefetch), [&] { e.waitAsyncCopies(0); });
        e.syncThreads();
        SmallVector<Value> sums = valueRows(s);
        Value transition = e.gep(smem, e.add(e.mul(e.urem(s, e.i32(2)),
                                                   e.i32(layout.transitionBytes)),
                                             e.mul(t, e.i32(4))));
        Value rowsBase = e.gep(smem, e.i32(layout.rows));
        // Four key channels i per iteration: four loads in flight.
        sums = e.forLoop(
            e.i32(0), e.i32(K), e.i32(4), sums,
            [&](Value i, ValueRange partial) -> SmallVector<Value> {
              SmallVector<Value> out(partial.begin(), partial.end());
              for (int64_t di = 0; di < 4; ++di) {
                Value channel = e.add(i, e.i32(di));
                Value a = e.load(e.f32(), e.gep(transition, e.mul(channel, e.i32(4 * K))));
                Value rowsOfChannel = e.gep(rowsBase, e.mul(channel, e.i32(4 * R)));
                for (int64_t r = 0; r < R; r += 4) {
                  SmallVector<Value> x =
                      e.loadVector(e.f32(), 4, e.gep(rowsOfChannel, e.i32(4 * r)));
                  for (int64_t dr = 0; dr < 4; ++dr)
                    out[r + dr] = e.fadd(out[r + dr], e.fmul(x[dr], a));
                }
              }
              return out;
            });
        // Nobody overwrites the rows or this buffer before all have read.
        e.syncThreads();
        return sums;
      });
  Value finalState = param(kComposeFinalState);
  e.ifThen(e.isNotNull(finalState), [&] {
    Value head = e.gep(finalState, e.mul(hv, e.i64(V * K * 4)));
    for (int64_t r = 0; r < R; ++r)
      e.store(rows[r], rowElement(head, r, 4));
  });
}

LLVM::LLVMFuncOp kda::buildSegmentComposeKernel(OpBuilder &builder, Location loc,
                                                const ForwardKernelConfig &c) {
  return buildKernel(builder, loc, segmentComposeKernelName(c), kComposeParamCount,
                     {kComposeSegments, kComposeValueHeads}, kComposeThreads,
                     [&](KernelEmitter &e, LLVM::LLVMFuncOp func) { emitCompose(e, func, c); });
}

//===----------------------------------------------------------------------===//
// Correct: o = O0 + E_{s-1} X, 16 tokens per warp
//===----------------------------------------------------------------------===//

static void emitCorrect(KernelEmitter &e, LLVM::LLVMFuncOp func,
                        const ForwardKernelConfig &c) {
  auto &b = e.builder();
  const int64_t K = c.headDimK, V = c.headDimV, rowBytes = stateRowBytes(c);
  const CorrectShared layout(c);
  auto param = [&](SegmentCorrectParam p) { return func.getArgument(p); };
  Value smem = LLVM::AddressOfOp::create(b, e.ptr(kSharedSpace), kSharedSymbol);

  Value t = e.threadIdx();
  Value warp = e.udiv(t, e.i32(32)), lane = e.urem(t, e.i32(32));
  Value g = e.udiv(lane, e.i32(4)), q = e.urem(lane, e.i32(4));
  Value T = param(kCorrectSeqLen);
  Value hv = e.ext64(e.blockIdxY());
  Value HV = e.ext64(param(kCorrectValueHeads));
  // The grid covers the tokens after segment 0, which started from the
  // caller's state (the pass's O0 is its output). Every warp of the CTA is
  // in the same segment: L is a multiple of the tile.
  Value length = segmentLength(e, T, param(kCorrectSegments));
  Value tile0 = e.add(length, e.mul(e.blockIdxX(), e.i32(kSegmentTokenTile)));
  Value segment = e.udiv(tile0, length);
  Value token0 = e.add(tile0, e.mul(warp, e.i32(16)));
  Value last = e.sub(T, e.i32(1));
  // Byte addresses of token `token` (i32, < T) of X and of o.
  auto transitionRow = [&](Value token) {
    Value row = e.add(e.mul(e.ext64(token), HV), hv);
    return e.gep(param(kCorrectX), e.mul(row, e.i64(K * 2)));
  };
  auto outRow = [&](Value token) {
    Value row = e.add(e.mul(e.ext64(token), HV), hv);
    return e.gep(param(kCorrectO), e.mul(row, e.i64(V * 2)));
  };

  // E_{s-1} into shared memory, row v at v * rowBytes; the warp's 16 rows
  // of X and of O0 into its tiles, 16 bytes a lane, rows past T repeating
  // the last token. One group of copies for all.
  Value entering = e.gep(param(kCorrectEntering),
                         e.mul(e.add(e.mul(e.ext64(e.sub(segment, e.i32(1))), HV), hv),
                               e.i64(V * K * 2)));
  const int64_t chunksPerRow = 2 * K / 16;
  for (int64_t m = 0; m < V * chunksPerRow / kCorrectThreads; ++m) {
    Value chunk = e.add(t, e.i32(m * kCorrectThreads));
    Value row = e.udiv(chunk, e.i32(chunksPerRow));
    Value piece = e.urem(chunk, e.i32(chunksPerRow));
    e.copyAsync(e.gep(smem, e.add(e.mul(row, e.i32(rowBytes)), e.mul(piece, e.i32(16)))),
                e.gep(entering, e.ext64(e.mul(chunk, e.i32(16)))), 16);
  }
  Value xTile = e.add(e.i32(layout.x), e.mul(warp, e.i32(layout.warpBytes)));
  Value oTile = e.add(xTile, e.i32(layout.o - layout.x));
  // Lane l's chunks: row (l + 32 m) / P, piece (l + 32 m) % P of P per row.
  auto tileChunks = [&](int64_t piecesPerRow,
                        const std::function<void(Value row, Value piece)> &each) {
    for (int64_t m = 0; m < 16 * piecesPerRow / 32; ++m) {
      Value chunk = e.add(lane, e.i32(32 * m));
      each(e.udiv(chunk, e.i32(piecesPerRow)), e.urem(chunk, e.i32(piecesPerRow)));
    }
  };
  tileChunks(2 * K / 16, [&](Value row, Value piece) {
    Value token = e.minsi(e.add(token0, row), last);
    e.copyAsync(e.gep(smem, e.add(xTile, e.add(e.mul(row, e.i32(layout.xRowBytes)),
                                               e.mul(piece, e.i32(16))))),
                e.gep(transitionRow(token), e.ext64(e.mul(piece, e.i32(16)))), 16);
  });
  tileChunks(2 * V / 16, [&](Value row, Value piece) {
    Value token = e.minsi(e.add(token0, row), last);
    e.copyAsync(e.gep(smem, e.add(oTile, e.add(e.mul(row, e.i32(layout.oRowBytes)),
                                               e.mul(piece, e.i32(16))))),
                e.gep(outRow(token), e.ext64(e.mul(piece, e.i32(16)))), 16);
  });
  e.commitAsyncCopies();
  e.waitAsyncCopies(0);
  e.syncThreads();

  // X's A fragments, all K / 16 steps, by ldmatrix: lane l gives row
  // l % 8 + 8 ((l / 8) % 2), columns 8 (l / 16) .. of each step.
  Value ldRow = e.add(e.urem(lane, e.i32(8)), e.mul(e.urem(e.udiv(lane, e.i32(8)), e.i32(2)),
                                                    e.i32(8)));
  Value ldAddress = e.trunc32(e.address(e.gep(
      smem, e.add(xTile, e.add(e.mul(ldRow, e.i32(layout.xRowBytes)),
                               e.mul(e.udiv(lane, e.i32(16)), e.i32(16)))))));
  SmallVector<SmallVector<Value>> x;
  for (int64_t step = 0; step < K / 16; ++step)
    x.push_back(loadMatrices(e, e.add(ldAddress, e.i32(32 * step))));

  // Rows g and g + 8, columns n0 + 2q, n0 + 2q + 1 of the O tile: O0 in,
  // o out (each thread rewrites what it read).
  Value oA = e.gep(smem, e.add(oTile, e.add(e.mul(g, e.i32(layout.oRowBytes)),
                                            e.mul(q, e.i32(4)))));
  Value oB = e.gep(oA, e.i32(8 * layout.oRowBytes));
  Value stateRow = e.gep(smem, e.add(e.mul(g, e.i32(rowBytes)), e.mul(q, e.i32(4))));
  for (int64_t n0 = 0; n0 < V; n0 += 8) {
    Value atA = e.gep(oA, e.i32(2 * n0)), atB = e.gep(oB, e.i32(2 * n0));
    auto [a0, a1] = e.widenBF16Pair(e.load(e.i32(), atA));
    auto [b0, b1] = e.widenBF16Pair(e.load(e.i32(), atB));
    SmallVector<Value, 4> acc = {a0, a1, b0, b1};
    for (int64_t step = 0; step < K / 16; ++step) {
      Value at = e.gep(stateRow, e.i32(n0 * rowBytes + 2 * 16 * step));
      SmallVector<Value> state = {e.load(e.i32(), at), e.load(e.i32(), e.gep(at, e.i32(16)))};
      acc = mma16816(e, x[step], state, acc);
    }
    e.store(e.packBF16(acc[0], acc[1]), atA);
    e.store(e.packBF16(acc[2], acc[3]), atB);
  }
  // The warp's o rows out, 16 bytes a lane, the rows of tokens < T.
  e.syncWarp();
  tileChunks(2 * V / 16, [&](Value row, Value piece) {
    Value token = e.add(token0, row);
    e.ifThen(e.slt(token, T), [&] {
      SmallVector<Value> words = e.loadVector(
          e.i32(), 4,
          e.gep(smem, e.add(oTile, e.add(e.mul(row, e.i32(layout.oRowBytes)),
                                         e.mul(piece, e.i32(16))))));
      e.storeVector(words, e.gep(outRow(token), e.ext64(e.mul(piece, e.i32(16)))));
    });
  });
}

LLVM::LLVMFuncOp kda::buildSegmentCorrectKernel(OpBuilder &builder, Location loc,
                                                const ForwardKernelConfig &c) {
  return buildKernel(builder, loc, segmentCorrectKernelName(c), kCorrectParamCount,
                     {kCorrectSeqLen, kCorrectValueHeads, kCorrectSegments}, kCorrectThreads,
                     [&](KernelEmitter &e, LLVM::LLVMFuncOp func) { emitCorrect(e, func, c); });
}
