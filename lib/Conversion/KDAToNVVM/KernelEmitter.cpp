//===- KernelEmitter.cpp - Building blocks of generated kernels -*- C++ -*-===//

#include "KernelEmitter.h"

#include "llvm/Support/FormatVariadic.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/SymbolTable.h"


using namespace mlir;
using namespace mlir::kda;

// C++17 has no <numbers>.
static constexpr double kLn2 = 0.69314718055994530942;

void kda::declareSharedMemory(OpBuilder &builder, Location loc, int64_t alignment) {
  Operation *module = builder.getInsertionBlock()->getParentOp();
  if (!SymbolTable::lookupSymbolIn(module, kSharedSymbol))
    LLVM::GlobalOp::create(builder, loc, LLVM::LLVMArrayType::get(builder.getI8Type(), 0),
                           /*isConstant=*/false, LLVM::Linkage::External, kSharedSymbol,
                           Attribute(), alignment, kSharedSpace);
}

Type KernelEmitter::ptr(unsigned space) {
  return LLVM::LLVMPointerType::get(b.getContext(), space);
}

Value KernelEmitter::i32(int64_t v) {
  return arith::ConstantIntOp::create(b, v, 32);
}
Value KernelEmitter::i64(int64_t v) {
  return arith::ConstantIntOp::create(b, v, 64);
}
Value KernelEmitter::f32(double v) {
  return arith::ConstantFloatOp::create(b, b.getF32Type(),
                                        APFloat(static_cast<float>(v)));
}

Value KernelEmitter::zero(Type floatType) {
  auto type = cast<FloatType>(floatType);
  return arith::ConstantFloatOp::create(b, type, APFloat::getZero(type.getFloatSemantics()));
}

Value KernelEmitter::add(Value a, Value c) { return arith::AddIOp::create(b, a, c); }
Value KernelEmitter::sub(Value a, Value c) { return arith::SubIOp::create(b, a, c); }
Value KernelEmitter::mul(Value a, Value c) { return arith::MulIOp::create(b, a, c); }
Value KernelEmitter::udiv(Value a, Value c) { return arith::DivUIOp::create(b, a, c); }
Value KernelEmitter::urem(Value a, Value c) { return arith::RemUIOp::create(b, a, c); }
Value KernelEmitter::andi(Value a, Value c) { return arith::AndIOp::create(b, a, c); }
Value KernelEmitter::ori(Value a, Value c) { return arith::OrIOp::create(b, a, c); }
Value KernelEmitter::xori(Value a, Value c) { return arith::XOrIOp::create(b, a, c); }
Value KernelEmitter::shl(Value a, Value c) { return arith::ShLIOp::create(b, a, c); }
Value KernelEmitter::lshr(Value a, Value c) { return arith::ShRUIOp::create(b, a, c); }
Value KernelEmitter::minsi(Value a, Value c) { return arith::MinSIOp::create(b, a, c); }
Value KernelEmitter::ext64(Value a) { return arith::ExtUIOp::create(b, i64(), a); }
Value KernelEmitter::sext64(Value a) { return arith::ExtSIOp::create(b, i64(), a); }
Value KernelEmitter::trunc32(Value a) { return arith::TruncIOp::create(b, i32(), a); }

Value KernelEmitter::eq(Value a, Value c) {
  return arith::CmpIOp::create(b, arith::CmpIPredicate::eq, a, c);
}
Value KernelEmitter::ne(Value a, Value c) {
  return arith::CmpIOp::create(b, arith::CmpIPredicate::ne, a, c);
}
Value KernelEmitter::slt(Value a, Value c) {
  return arith::CmpIOp::create(b, arith::CmpIPredicate::slt, a, c);
}
Value KernelEmitter::sle(Value a, Value c) {
  return arith::CmpIOp::create(b, arith::CmpIPredicate::sle, a, c);
}
Value KernelEmitter::ult(Value a, Value c) {
  return arith::CmpIOp::create(b, arith::CmpIPredicate::ult, a, c);
}
Value KernelEmitter::notb(Value a) {
  return xori(a, arith::ConstantIntOp::create(b, 1, 1));
}
Value KernelEmitter::select(Value cond, Value t, Value f) {
  return arith::SelectOp::create(b, cond, t, f);
}

// `contract`: a product feeding a sum may become one fma (one rounding
// instead of two, one instruction instead of two).
static arith::FastMathFlagsAttr contract(ImplicitLocOpBuilder &b) {
  return arith::FastMathFlagsAttr::get(b.getContext(), arith::FastMathFlags::contract);
}
Value KernelEmitter::fadd(Value a, Value c) { return arith::AddFOp::create(b, a, c, contract(b)); }
Value KernelEmitter::fsub(Value a, Value c) { return arith::SubFOp::create(b, a, c, contract(b)); }
Value KernelEmitter::fmul(Value a, Value c) { return arith::MulFOp::create(b, a, c, contract(b)); }
Value KernelEmitter::fneg(Value a) { return arith::NegFOp::create(b, a); }
Value KernelEmitter::fmax(Value a, Value c) {
  return arith::MaximumFOp::create(b, a, c);
}
Value KernelEmitter::folt(Value a, Value c) {
  return arith::CmpFOp::create(b, arith::CmpFPredicate::OLT, a, c);
}
Value KernelEmitter::fabs(Value a) {
  return fmax(a, fneg(a));
}
Value KernelEmitter::toF32(Value a) {
  if (a.getType().isF32())
    return a;
  return arith::ExtFOp::create(b, f32(), a);
}
Value KernelEmitter::toBF16(Value a) { return arith::TruncFOp::create(b, bf16(), a); }

// Side-effecting inline asm returning `result` (none when null).
static LLVM::InlineAsmOp inlineAsm(ImplicitLocOpBuilder &b, Type result, ValueRange operands,
                                   StringRef code, StringRef constraints) {
  return LLVM::InlineAsmOp::create(b, result, operands, code, constraints,
                                   /*has_side_effects=*/true, /*is_align_stack=*/false,
                                   LLVM::tailcallkind::TailCallKind::None,
                                   LLVM::AsmDialectAttr(), ArrayAttr());
}

Value KernelEmitter::inlinePtx(Type result, ValueRange operands, StringRef code,
                               StringRef constraints) {
  return inlineAsm(b, result, operands, code, constraints).getResult(0);
}

void KernelEmitter::inlinePtxEffect(ValueRange operands, StringRef code,
                                    StringRef constraints) {
  inlineAsm(b, Type(), operands, code, constraints);
}

Value KernelEmitter::ptxUnary(StringRef instruction, Value x) {
  std::string code = (instruction + " $0, $1;").str();
  return NVVM::InlinePtxOp::create(b, TypeRange{f32()}, ValueRange{x},
                                   ValueRange{}, code, Value())
      .getResult(0);
}

// The MUFU forms flush subnormals (.ftz): a result below 2^-126 becomes 0,
// where without .ftz ptxas wraps each in a three-instruction range fix-up.
Value KernelEmitter::exp(Value x) { return exp2(fmul(x, f32(kLog2E))); }
Value KernelEmitter::exp2(Value x) { return ptxUnary("ex2.approx.ftz.f32", x); }
Value KernelEmitter::log1p(Value x) {
  return fmul(ptxUnary("lg2.approx.ftz.f32", fadd(f32(1.0), x)), f32(kLn2));
}
Value KernelEmitter::rsqrt(Value x) { return ptxUnary("rsqrt.approx.ftz.f32", x); }
Value KernelEmitter::reciprocal(Value x) { return ptxUnary("rcp.approx.ftz.f32", x); }
Value KernelEmitter::softplus(Value x) {
  // max(x, 0) + ln(1 + exp(-|x|)): no overflow for any x.
  return fadd(fmax(x, f32(0.0)), log1p(exp(fneg(fabs(x)))));
}
Value KernelEmitter::sigmoid(Value x) {
  return reciprocal(fadd(f32(1.0), exp(fneg(x))));
}

Value KernelEmitter::gep(Value base, Value byteOffset) {
  return LLVM::GEPOp::create(b, base.getType(), b.getI8Type(), base,
                             ValueRange{byteOffset});
}
Value KernelEmitter::load(Type type, Value p) { return LLVM::LoadOp::create(b, type, p); }
void KernelEmitter::store(Value value, Value p) { LLVM::StoreOp::create(b, value, p); }

static unsigned accessBytes(Type element, int64_t count) {
  return unsigned(count * element.getIntOrFloatBitWidth() / 8);
}

SmallVector<Value> KernelEmitter::loadVector(Type element, int64_t count, Value p) {
  auto type = VectorType::get({count}, element);
  Value vector = LLVM::LoadOp::create(b, type, p, accessBytes(element, count));
  SmallVector<Value> elements;
  for (int64_t i = 0; i < count; ++i)
    elements.push_back(LLVM::ExtractElementOp::create(b, vector, i32(i)));
  return elements;
}

SmallVector<Value> KernelEmitter::loadBF16AsF32(int64_t count, Value p) {
  assert(count % 2 == 0 && "bf16 values are widened a 32-bit pair at a time");
  SmallVector<Value> values;
  for (Value word : loadVector(b.getI32Type(), count / 2, p)) {
    auto [low, high] = widenBF16Pair(word);
    values.append({low, high});
  }
  return values;
}

std::pair<Value, Value> KernelEmitter::widenBF16Pair(Value word) {
  return {LLVM::BitcastOp::create(b, f32(), shl(word, i32(16))),
          LLVM::BitcastOp::create(b, f32(), andi(word, i32(int32_t(0xffff0000u))))};
}

Value KernelEmitter::packBF16(Value low, Value high) {
  auto pair = VectorType::get({2}, bf16());
  Value vector = LLVM::PoisonOp::create(b, pair);
  vector = LLVM::InsertElementOp::create(b, vector, toBF16(low), i32(0));
  vector = LLVM::InsertElementOp::create(b, vector, toBF16(high), i32(1));
  return LLVM::BitcastOp::create(b, b.getI32Type(), vector);
}

void KernelEmitter::storeVector(ValueRange elements, Value p) {
  Type element = elements.front().getType();
  auto type = VectorType::get({int64_t(elements.size())}, element);
  Value vector = LLVM::PoisonOp::create(b, type);
  for (auto [i, value] : llvm::enumerate(elements))
    vector = LLVM::InsertElementOp::create(b, vector, value, i32(i));
  LLVM::StoreOp::create(b, vector, p, accessBytes(element, elements.size()));
}
Value KernelEmitter::isNull(Value p) {
  Value zero = LLVM::ZeroOp::create(b, p.getType());
  return LLVM::ICmpOp::create(b, LLVM::ICmpPredicate::eq, p, zero);
}
Value KernelEmitter::isNotNull(Value p) {
  Value zero = LLVM::ZeroOp::create(b, p.getType());
  return LLVM::ICmpOp::create(b, LLVM::ICmpPredicate::ne, p, zero);
}
Value KernelEmitter::address(Value p) { return LLVM::PtrToIntOp::create(b, i64(), p); }

void KernelEmitter::ifThen(Value cond, const std::function<void()> &then) {
  scf::IfOp::create(b, cond, [&](OpBuilder &nested, Location loc) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(nested.getInsertionBlock(), nested.getInsertionPoint());
    then();
    scf::YieldOp::create(b);
  });
}

Value KernelEmitter::ifElse(Value cond, Type type, const std::function<Value()> &then,
                            const std::function<Value()> &otherwise) {
  return ifElse(
      cond, TypeRange{type}, [&] { return SmallVector<Value>{then()}; },
      [&] { return SmallVector<Value>{otherwise()}; })[0];
}

SmallVector<Value> KernelEmitter::ifElse(Value cond, TypeRange types,
                                         const std::function<SmallVector<Value>()> &then,
                                         const std::function<SmallVector<Value>()> &otherwise) {
  auto op = scf::IfOp::create(b, types, cond, /*withElseRegion=*/true);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&op.getThenRegion().front());
    scf::YieldOp::create(b, then());
    b.setInsertionPointToStart(&op.getElseRegion().front());
    scf::YieldOp::create(b, otherwise());
  }
  return SmallVector<Value>(op.getResults());
}

SmallVector<Value> KernelEmitter::forLoop(
    Value lower, Value upper, Value step, ValueRange init,
    const std::function<SmallVector<Value>(Value, ValueRange)> &body) {
  auto op = scf::ForOp::create(
      b, lower, upper, step, init,
      [&](OpBuilder &nested, Location loc, Value iv, ValueRange carried) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nested.getInsertionBlock(), nested.getInsertionPoint());
        scf::YieldOp::create(b, body(iv, carried));
      });
  return SmallVector<Value>(op.getResults());
}

Value KernelEmitter::threadIdx() { return NVVM::ThreadIdXOp::create(b, i32()); }
Value KernelEmitter::blockIdxX() { return NVVM::BlockIdXOp::create(b, i32()); }
Value KernelEmitter::blockIdxY() { return NVVM::BlockIdYOp::create(b, i32()); }
Value KernelEmitter::blockIdxZ() { return NVVM::BlockIdZOp::create(b, i32()); }
Value KernelEmitter::gridDimX() { return NVVM::GridDimXOp::create(b, i32()); }

void KernelEmitter::syncThreads() { NVVM::Barrier0Op::create(b); }

Value KernelEmitter::syncThreadsAny(Value predicate, Value barrier, int64_t threads) {
  // NVVM's barrier op reduces on barrier 0 only: inline PTX for the others.
  std::string code = llvm::formatv("{{\n.reg .pred p, q;\nsetp.ne.b32 p, $1, 0;\n"
                                   "bar.red.or.pred q, $2, {0}, p;\nselp.u32 $0, 1, 0, q;\n}",
                                   threads)
                         .str();
  Value any = inlinePtx(i32(), ValueRange{LLVM::ZExtOp::create(b, i32(), predicate), barrier},
                        code, "=r,r,r");
  // Uniform anyway; the shuffle lets ptxas prove it for branches on it.
  return ne(warpUniform(any), i32(0));
}

void KernelEmitter::syncCluster() {
  NVVM::ClusterArriveOp::create(b, b.getUnitAttr());
  NVVM::ClusterWaitOp::create(b, b.getUnitAttr());
}

void KernelEmitter::setMaxRegisters(int64_t count, bool increase) {
  NVVM::SetMaxRegisterOp::create(
      b, b.getI32IntegerAttr(count),
      NVVM::SetMaxRegisterActionAttr::get(b.getContext(), increase
                                              ? NVVM::SetMaxRegisterAction::increase
                                              : NVVM::SetMaxRegisterAction::decrease));
}

void KernelEmitter::arriveOn(Value mbarrier) {
  NVVM::MBarrierArriveOp::create(b, Type(), mbarrier, Value(), NVVM::MemScopeKindAttr());
}

void KernelEmitter::waitParity(Value mbarrier, Value parity) {
  NVVM::MBarrierTryWaitParityOp::create(b, mbarrier, parity, i32(10000000));
}

void KernelEmitter::namedBarrier(Value id, int64_t threads) {
  NVVM::BarrierOp::create(b, Type(), id, i32(threads),
                          NVVM::BarrierReductionAttr(), Value());
}

void KernelEmitter::namedBarrierArrive(Value id, int64_t threads) {
  NVVM::BarrierArriveOp::create(b, id, i32(threads));
}

void KernelEmitter::syncWarp() { NVVM::SyncWarpOp::create(b, i32(-1)); }

void KernelEmitter::fenceProxyAsyncShared() {
  NVVM::FenceProxyOp::create(
      b, NVVM::ProxyKindAttr::get(b.getContext(), NVVM::ProxyKind::async_shared),
      NVVM::SharedSpaceAttr::get(b.getContext(), NVVM::SharedSpace::shared_cta));
}

void KernelEmitter::copyAsync(Value sharedDst, Value globalSrc, int64_t bytes) {
  auto modifier = bytes == 16 ? NVVM::LoadCacheModifierKind::CG : NVVM::LoadCacheModifierKind::CA;
  NVVM::CpAsyncOp::create(b, sharedDst, globalSrc, b.getI32IntegerAttr(bytes),
                          NVVM::LoadCacheModifierKindAttr::get(b.getContext(), modifier),
                          Value());
}

void KernelEmitter::commitAsyncCopies() { NVVM::CpAsyncCommitGroupOp::create(b); }

void KernelEmitter::waitAsyncCopies(int64_t pending) {
  NVVM::CpAsyncWaitGroupOp::create(b, b.getI32IntegerAttr(pending));
}

Value KernelEmitter::opaque(Value value) {
  return inlinePtx(i32(), ValueRange{value}, "mov.b32 $0, $1;", "=r,r");
}

Value KernelEmitter::shuffle(Type type, Value value, Value lane, NVVM::ShflKind kind) {
  return NVVM::ShflOp::create(b, type, i32(-1), value, lane, i32(0x1f),
                              NVVM::ShflKindAttr::get(b.getContext(), kind), UnitAttr());
}

Value KernelEmitter::warpUniform(Value value) {
  return shuffle(i32(), value, i32(0), NVVM::ShflKind::idx);
}

Value KernelEmitter::shuffleIndex(Value value, Value lane) {
  return shuffle(value.getType(), value, lane, NVVM::ShflKind::idx);
}

Value KernelEmitter::shuffleXor(Value value, int64_t laneMask) {
  return shuffle(f32(), value, i32(laneMask), NVVM::ShflKind::bfly);
}
