//===- DecodeKernel.cpp - The kda.decode kernel -----------------*- C++ -*-===//
//
// One CTA per (sequence, value head), one thread per value column j: the
// step is a matrix-vector update of the K x V state, memory-bound on
// reading and writing it, so each thread streams its column through
// registers once:
//
//   shared: k^, q^ (l2-normalised, q scaled) and the decay exp(g) per key
//           channel, computed once by the CTA
//   pass 1: s_c = decay_c S[c][j];  e = sum_c s_c k^_c
//   u = beta (v_j - e)
//   pass 2: S[c][j] = s_c + k^_c u, stored back in place;  o_j = sum_c S[c][j] q^_c
//
// With the kv layout a warp's loads of one row are contiguous; with vk each
// thread's column is. A negative state index writes a zero output row and
// touches no state.
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

int64_t kda::decodeThreads(const DecodeKernelConfig &c) { return c.headDimV; }

namespace {
/// Shared memory: k^, q^, decay (f32 [K] each), then one partial sum per
/// warp for each of the two l2 norms.
struct DecodeShared {
  int64_t k, q, decay, norms, total;
  explicit DecodeShared(const DecodeKernelConfig &c) {
    k = 0;
    q = 4 * c.headDimK;
    decay = 8 * c.headDimK;
    norms = 12 * c.headDimK;
    total = norms + 2 * 4 * (c.headDimV / 32);
  }
};
constexpr StringLiteral kSharedSymbol = "kda_shared";
} // namespace

int64_t kda::decodeSharedBytes(const DecodeKernelConfig &c) {
  return DecodeShared(c).total;
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

  Operation *module = builder.getInsertionBlock()->getParentOp();
  if (!SymbolTable::lookupSymbolIn(module, kSharedSymbol))
    LLVM::GlobalOp::create(builder, loc, LLVM::LLVMArrayType::get(builder.getI8Type(), 0),
                           false, LLVM::Linkage::External, kSharedSymbol, Attribute(),
                           16, kSharedSpace);
  auto func = LLVM::LLVMFuncOp::create(
      builder, loc, c.kernelName(),
      LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx), params));
  func->setAttr("nvvm.kernel", builder.getUnitAttr());
  func->setAttr("nvvm.reqntid",
                builder.getDenseI32ArrayAttr({int32_t(decodeThreads(c)), 1, 1}));

  Block *entry = func.addEntryBlock(builder);
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(entry);
  ImplicitLocOpBuilder b(loc, builder);
  KernelEmitter e(b);
  DecodeShared layout(c);
  const int64_t K = c.headDimK, V = c.headDimV;
  auto param = [&](DecodeParam p) { return func.getArgument(p); };
  Value smem = LLVM::AddressOfOp::create(b, e.ptr(kSharedSpace), kSharedSymbol);
  auto sharedF32 = [&](int64_t base, Value index) {
    return e.gep(smem, e.add(e.i32(base), e.mul(index, e.i32(4))));
  };

  Value j = e.threadIdx();
  Value n = e.ext64(e.blockIdxX()), hv32 = e.blockIdxY(), hv = e.ext64(hv32);
  Value HV = e.ext64(param(kDecodeValueHeads)), H = e.ext64(param(kDecodeHeads));
  Value h = e.udiv(hv, e.udiv(HV, H));
  Value j64 = e.ext64(j);
  Value indices = param(kDecodeStateIndices);
  Value slot = e.ifElse(
      e.ne(param(kDecodeIndices64), e.i32(0)), e.i64(),
      [&] { return e.load(e.i64(), e.gep(indices, e.mul(n, e.i64(8)))); },
      [&] { return e.sext64(e.load(e.i32(), e.gep(indices, e.mul(n, e.i64(4))))); });
  Value oIndex = e.add(e.mul(e.add(e.mul(n, HV), hv), e.i64(V)), j64);
  Value padding = e.slt(slot, e.i64(0));
  e.ifThen(padding, [&] {
    e.store(e.toBF16(e.f32(0.0)), elementPointer(e, param(kDecodeO), oIndex, e.bf16()));
  });

  e.ifThen(e.notb(padding), [&] {
    // q, k rows of head h and the decay of value head hv: thread j owns
    // channel j (K == V).
    Value qkIndex = e.add(e.mul(e.add(e.mul(n, H), h), e.i64(K)), j64);
    Value qj = e.toF32(e.load(e.bf16(), elementPointer(e, param(kDecodeQ), qkIndex, e.bf16())));
    Value kj = e.toF32(e.load(e.bf16(), elementPointer(e, param(kDecodeK), qkIndex, e.bf16())));
    Value headIndex = e.add(e.mul(e.add(e.mul(n, HV), hv), e.i64(K)), j64);
    Value raw = e.toF32(e.load(c.gType, elementPointer(e, param(kDecodeG), headIndex, c.gType)));
    Value logDecay = raw;
    if (c.gate != GateMode::Precomputed) {
      Value aLog = param(kDecodeALog), dtBias = param(kDecodeDtBias);
      Value coefficient = e.ifElse(e.isNull(aLog), e.f32(), [&] { return e.f32(1.0); },
                                   [&] { return e.exp(e.load(e.f32(), elementPointer(e, aLog, hv, e.f32()))); });
      Value bias = e.ifElse(e.isNull(dtBias), e.f32(), [&] { return e.f32(0.0); },
                            [&] {
                              return e.load(e.f32(), elementPointer(e, dtBias,
                                                                    e.add(e.mul(hv, e.i64(K)), j64), e.f32()));
                            });
      Value x = e.fadd(raw, bias);
      logDecay = c.gate == GateMode::Softplus
                     ? e.fneg(e.fmul(coefficient, e.softplus(x)))
                     : e.fmul(param(kDecodeLowerBound), e.sigmoid(e.fmul(coefficient, x)));
    }
    e.store(e.exp(logDecay), sharedF32(layout.decay, j));

    Value qScale = param(kDecodeScale), kScale = e.f32(1.0);
    if (c.qkL2Norm) {
      // Sums of squares: a warp reduction, then the warps' partials.
      Value sq = e.fmul(qj, qj), sk = e.fmul(kj, kj);
      for (int64_t m = 16; m >= 1; m /= 2) {
        sq = e.fadd(sq, e.shuffleXor(sq, m));
        sk = e.fadd(sk, e.shuffleXor(sk, m));
      }
      Value warp = e.udiv(j, e.i32(32));
      e.ifThen(e.eq(e.urem(j, e.i32(32)), e.i32(0)), [&] {
        e.store(sq, sharedF32(layout.norms, warp));
        e.store(sk, sharedF32(layout.norms, e.add(warp, e.i32(V / 32))));
      });
      e.syncThreads();
      Value tq = e.f32(0.0), tk = e.f32(0.0);
      for (int64_t w = 0; w < V / 32; ++w) {
        tq = e.fadd(tq, e.load(e.f32(), sharedF32(layout.norms, e.i32(w))));
        tk = e.fadd(tk, e.load(e.f32(), sharedF32(layout.norms, e.i32(V / 32 + w))));
      }
      qScale = e.fdiv(qScale, e.sqrt(e.fadd(tq, e.f32(1e-6))));
      kScale = e.fdiv(kScale, e.sqrt(e.fadd(tk, e.f32(1e-6))));
    }
    e.store(e.fmul(qj, qScale), sharedF32(layout.q, j));
    e.store(e.fmul(kj, kScale), sharedF32(layout.k, j));
    e.syncThreads();

    Value rawBeta = e.toF32(e.load(c.betaType, elementPointer(e, param(kDecodeBeta),
                                                              e.add(e.mul(n, HV), hv), c.betaType)));
    Value beta = rawBeta;
    if (c.betaMode == BetaMode::Sigmoid)
      beta = e.sigmoid(rawBeta);
    else if (c.betaMode == BetaMode::SigmoidNegEigval)
      beta = e.fmul(e.f32(2.0), e.sigmoid(rawBeta));
    Value vj = e.toF32(e.load(e.bf16(), elementPointer(e, param(kDecodeV), oIndex, e.bf16())));

    // This thread's column of the state, through registers.
    Value stateBase = e.mul(e.add(e.mul(slot, HV), hv), e.i64(K * V));
    auto statePtr = [&](int64_t row) {
      Value index = c.stateLayout == StateLayout::KV
                        ? e.add(e.i64(row * V), j64)
                        : e.add(e.mul(j64, e.i64(K)), e.i64(row));
      return elementPointer(e, param(kDecodeStatePool), e.add(stateBase, index), c.poolType);
    };
    SmallVector<Value> column;
    Value projection = e.f32(0.0);
    for (int64_t r = 0; r < K; ++r) {
      Value s = e.fmul(e.toF32(e.load(c.poolType, statePtr(r))),
                       e.load(e.f32(), sharedF32(layout.decay, e.i32(r))));
      column.push_back(s);
      projection = e.fadd(projection, e.fmul(s, e.load(e.f32(), sharedF32(layout.k, e.i32(r)))));
    }
    Value u = e.fmul(beta, e.fsub(vj, projection));
    Value out = e.f32(0.0);
    for (int64_t r = 0; r < K; ++r) {
      Value s = e.fadd(column[r], e.fmul(e.load(e.f32(), sharedF32(layout.k, e.i32(r))), u));
      out = e.fadd(out, e.fmul(s, e.load(e.f32(), sharedF32(layout.q, e.i32(r)))));
      e.store(c.poolType.isBF16() ? e.toBF16(s) : s, statePtr(r));
    }
    e.store(e.toBF16(out), elementPointer(e, param(kDecodeO), oIndex, e.bf16()));
  });
  LLVM::ReturnOp::create(b, ValueRange{});
  return func;
}
