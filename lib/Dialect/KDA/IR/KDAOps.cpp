//===- KDAOps.cpp - Verifiers of kda.forward and kda.decode -----*- C++ -*-===//
//
// The verifiers check every rule of the kda spec (§1 tensors and layouts,
// §3 gate and beta modes). Shapes are described with the spec's symbols
// (B, T, H, K, HV, V, N, P); each symbol is bound once from the operand that
// defines it (q for B, T, H, K; v for HV, V; ...) and every other operand is
// checked against it. Dynamic dimensions match anything, so an ML compiler
// may emit the op before shapes are known.
//
//===----------------------------------------------------------------------===//

#include "kda/Dialect/KDA/IR/KDAOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

#include <cmath>
#include <cstdio>
#include <optional>

using namespace mlir;
using namespace mlir::kda;

//===----------------------------------------------------------------------===//
// Limits of the spec
//===----------------------------------------------------------------------===//

/// Head sizes K and V above this are rejected (spec §1: up to 256).
static constexpr int64_t kMaxHeadSize = 256;
/// Chunk sizes the chunked form (spec §4) is defined for.
static constexpr int64_t kChunkSizes[] = {16, 32, 64};

//===----------------------------------------------------------------------===//
// Shape and element-type helpers
//===----------------------------------------------------------------------===//

namespace {

/// An element-type rule: a predicate and how to say it in a message.
struct ElementRule {
  bool (*accepts)(Type);
  const char *description;
};

bool isActivationType(Type t) { return t.isBF16() || t.isF16() || t.isF32(); }
bool isGateOrStateType(Type t) { return t.isBF16() || t.isF32(); }
bool isF32Type(Type t) { return t.isF32(); }
bool isIndexType(Type t) { return t.isInteger(32) || t.isInteger(64); }

constexpr ElementRule kActivation = {isActivationType, "bf16, f16 or f32"};
constexpr ElementRule kGateOrState = {isGateOrStateType, "bf16 or f32"};
constexpr ElementRule kF32 = {isF32Type, "f32"};
constexpr ElementRule kIndex = {isIndexType, "i32 or i64"};

/// Checks operands and results of one op against symbolic shapes, naming the
/// value in every diagnostic.
class Checker {
public:
  explicit Checker(Operation *op) : op(op) {}

  /// `[2, 64, ?, 128]`.
  static std::string formatShape(ArrayRef<int64_t> shape) {
    std::string s = "[";
    llvm::interleave(
        shape,
        [&](int64_t d) { s += ShapedType::isDynamic(d) ? "?" : std::to_string(d); },
        [&] { s += ", "; });
    return s + "]";
  }

  /// Dimensions agree when equal or when either is dynamic.
  static bool compatible(int64_t a, int64_t b) {
    return ShapedType::isDynamic(a) || ShapedType::isDynamic(b) || a == b;
  }

  /// `value` must have `expected` shape, written `symbols` in the message.
  LogicalResult shape(StringRef value, RankedTensorType type,
                      StringRef symbols, ArrayRef<int64_t> expected) {
    bool ok = type.getRank() == static_cast<int64_t>(expected.size()) &&
              llvm::all_of(llvm::zip(type.getShape(), expected), [](auto p) {
                return compatible(std::get<0>(p), std::get<1>(p));
              });
    if (ok)
      return success();
    return op->emitOpError() << value << " must have shape " << symbols
                             << " = " << formatShape(expected) << ", got "
                             << formatShape(type.getShape());
  }

  /// `value` must have rank `rank`, written `symbols` in the message.
  LogicalResult rank(StringRef value, RankedTensorType type, int64_t rank,
                     StringRef symbols) {
    if (type.getRank() == rank)
      return success();
    return op->emitOpError() << value << " must be a rank-" << rank
                             << " tensor " << symbols << ", got rank "
                             << type.getRank();
  }

  LogicalResult element(StringRef value, RankedTensorType type,
                        ElementRule rule) {
    if (rule.accepts(type.getElementType()))
      return success();
    return op->emitOpError() << value << " must have element type "
                             << rule.description << ", got "
                             << type.getElementType();
  }

  LogicalResult sameElement(StringRef value, RankedTensorType type,
                            StringRef other, Type expected) {
    if (type.getElementType() == expected)
      return success();
    return op->emitOpError() << value << " must have the element type of "
                             << other << " (" << expected << "), got "
                             << type.getElementType();
  }

private:
  Operation *op;
};

/// `-5`, `0.125`, `inf`: numbers in diagnostics read as the spec writes them.
std::string formatNumber(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", value);
  return buffer;
}

std::optional<double> asDouble(FloatAttr attr) {
  if (!attr)
    return std::nullopt;
  return attr.getValueAsDouble();
}

RankedTensorType tensorType(Value v) {
  return v ? cast<RankedTensorType>(v.getType()) : RankedTensorType();
}

/// The symbols of spec §1 shared by both ops, bound from q and v.
struct HeadDims {
  int64_t H, K, HV, V;
};

/// Checks H, K, HV, V themselves: sizes in range and grouped value heads.
LogicalResult verifyHeadDims(Operation *op, const HeadDims &d) {
  auto inRange = [](int64_t size) {
    return ShapedType::isDynamic(size) || (size >= 1 && size <= kMaxHeadSize);
  };
  if (!inRange(d.K))
    return op->emitOpError() << "head size K (last dimension of 'q') must be "
                             << "in [1, " << kMaxHeadSize << "], got " << d.K;
  if (!inRange(d.V))
    return op->emitOpError() << "head size V (last dimension of 'v') must be "
                             << "in [1, " << kMaxHeadSize << "], got " << d.V;
  if (ShapedType::isDynamic(d.H) || ShapedType::isDynamic(d.HV))
    return success();
  if (d.H < 1 || d.HV < 1 || d.HV % d.H != 0)
    return op->emitOpError()
           << "operand 'v' has HV = " << d.HV
           << " value heads, which must be a positive multiple of H = " << d.H
           << " (the heads of 'q')";
  return success();
}

/// The gate and beta modes of spec §3, the scale and the gate operands.
/// `numValueHeads` and `headK` are HV and K.
LogicalResult verifyModes(Operation *op, Checker &check, GateMode gate,
                          std::optional<double> lowerBound,
                          std::optional<double> scale, Value aLog,
                          Value dtBias, int64_t numValueHeads, int64_t headK) {
  bool gateInKernel = gate != GateMode::Precomputed;
  StringRef gateName = stringifyGateMode(gate);

  if (gate == GateMode::LowerBound && !lowerBound)
    return op->emitOpError()
           << "attribute 'lower_bound' is required by gate lower_bound";
  if (gate != GateMode::LowerBound && lowerBound)
    return op->emitOpError() << "attribute 'lower_bound' is only used by "
                             << "gate lower_bound, but gate is " << gateName;
  if (lowerBound && !(*lowerBound >= kMinLowerBound && *lowerBound < 0.0))
    return op->emitOpError() << "attribute 'lower_bound' must be in ["
                             << formatNumber(kMinLowerBound) << ", 0), got "
                             << formatNumber(*lowerBound);
  if (scale && !(std::isfinite(*scale) && *scale > 0.0))
    return op->emitOpError()
           << "attribute 'scale' must be a positive finite number, got "
           << formatNumber(*scale);

  if (!gateInKernel && aLog)
    return op->emitOpError() << "operand 'A_log' is only used by the softplus "
                             << "and lower_bound gates, but gate is "
                             << gateName;
  if (!gateInKernel && dtBias)
    return op->emitOpError() << "operand 'dt_bias' is only used by the "
                             << "softplus and lower_bound gates, but gate is "
                             << gateName;
  if (gate == GateMode::Softplus && !aLog)
    return op->emitOpError() << "gate softplus requires operand 'A_log'";

  if (aLog) {
    RankedTensorType t = tensorType(aLog);
    if (failed(check.shape("operand 'A_log'", t, "[HV]", {numValueHeads})) ||
        failed(check.element("operand 'A_log'", t, kF32)))
      return failure();
  }
  if (dtBias) {
    RankedTensorType t = tensorType(dtBias);
    // fla passes dt_bias flattened as [HV * K]; both spellings are accepted.
    int64_t flat = ShapedType::isDynamic(numValueHeads) ||
                           ShapedType::isDynamic(headK)
                       ? ShapedType::kDynamic
                       : numValueHeads * headK;
    if (t.getRank() == 1) {
      if (failed(check.shape("operand 'dt_bias'", t, "[HV * K]", {flat})))
        return failure();
    } else if (failed(check.shape("operand 'dt_bias'", t, "[HV, K]",
                                  {numValueHeads, headK}))) {
      return failure();
    }
    if (failed(check.element("operand 'dt_bias'", t, kF32)))
      return failure();
  }
  return success();
}

/// The state shape for `layout`: [count, HV, K, V] or [count, HV, V, K].
SmallVector<int64_t> stateShape(StateLayout layout, int64_t count,
                                const HeadDims &d) {
  if (layout == StateLayout::KV)
    return {count, d.HV, d.K, d.V};
  return {count, d.HV, d.V, d.K};
}

StringRef stateSymbols(StateLayout layout, StringRef count) {
  if (layout == StateLayout::KV)
    return count == "N" ? "[N, HV, K, V]" : "[P, HV, K, V]";
  return count == "N" ? "[N, HV, V, K]" : "[P, HV, V, K]";
}

} // namespace

//===----------------------------------------------------------------------===//
// ForwardOp
//===----------------------------------------------------------------------===//

LogicalResult ForwardOp::verify() {
  Checker check(getOperation());
  RankedTensorType q = tensorType(getQ()), k = tensorType(getK()),
                   v = tensorType(getV()), g = tensorType(getG()),
                   beta = tensorType(getBeta());

  if (failed(check.rank("operand 'q'", q, 4, "[B, T, H, K]")) ||
      failed(check.element("operand 'q'", q, kActivation)))
    return failure();
  int64_t B = q.getDimSize(0), T = q.getDimSize(1);
  HeadDims d{q.getDimSize(2), q.getDimSize(3), ShapedType::kDynamic,
             ShapedType::kDynamic};

  if (failed(check.shape("operand 'k'", k, "[B, T, H, K]", q.getShape())) ||
      failed(check.sameElement("operand 'k'", k, "'q'", q.getElementType())))
    return failure();

  if (failed(check.rank("operand 'v'", v, 4, "[B, T, HV, V]")))
    return failure();
  d.HV = v.getDimSize(2);
  d.V = v.getDimSize(3);
  if (failed(check.shape("operand 'v'", v, "[B, T, HV, V]",
                         {B, T, d.HV, d.V})) ||
      failed(check.sameElement("operand 'v'", v, "'q'", q.getElementType())) ||
      failed(verifyHeadDims(getOperation(), d)))
    return failure();

  if (failed(check.shape("operand 'g'", g, "[B, T, HV, K]",
                         {B, T, d.HV, d.K})) ||
      failed(check.element("operand 'g'", g, kGateOrState)) ||
      failed(check.shape("operand 'beta'", beta, "[B, T, HV]", {B, T, d.HV})) ||
      failed(check.element("operand 'beta'", beta, kGateOrState)))
    return failure();

  if (failed(verifyModes(getOperation(), check, getGate(), asDouble(getLowerBoundAttr()),
                         asDouble(getScaleAttr()), getALog(), getDtBias(), d.HV, d.K)))
    return failure();

  if (!llvm::is_contained(kChunkSizes, getChunkSize()))
    return emitOpError() << "attribute 'chunk_size' must be 16, 32 or 64, got "
                         << getChunkSize();

  // N: the number of sequences, B or the length of cu_seqlens minus one.
  int64_t N = B;
  if (Value cuSeqlensValue = getCuSeqlens()) {
    RankedTensorType cu = tensorType(cuSeqlensValue);
    if (failed(check.rank("operand 'cu_seqlens'", cu, 1, "[N + 1]")) ||
        failed(check.element("operand 'cu_seqlens'", cu, kIndex)))
      return failure();
    if (!ShapedType::isDynamic(B) && B != 1)
      return emitOpError() << "operand 'cu_seqlens' requires B == 1 (packed "
                           << "sequences), got B = " << B;
    int64_t length = cu.getDimSize(0);
    if (!ShapedType::isDynamic(length) && length < 2)
      return emitOpError() << "operand 'cu_seqlens' must have N + 1 >= 2 "
                           << "entries (at least one sequence), got " << length;
    N = ShapedType::isDynamic(length) ? ShapedType::kDynamic : length - 1;
  }

  StateLayout layout = getStateLayout();
  SmallVector<int64_t> state = stateShape(layout, N, d);
  StringRef symbols = stateSymbols(layout, "N");
  if (Value initial = getInitialState()) {
    RankedTensorType s = tensorType(initial);
    if (failed(check.shape("operand 'initial_state'", s, symbols, state)) ||
        failed(check.element("operand 'initial_state'", s, kGateOrState)))
      return failure();
  }

  RankedTensorType o = tensorType(getO());
  if (failed(check.shape("result 'o'", o, "[B, T, HV, V]",
                         {B, T, d.HV, d.V})) ||
      failed(check.sameElement("result 'o'", o, "'q'", q.getElementType())))
    return failure();
  const size_t expectedStates = 1 + (getIntermediateStates() ? 1 : 0);
  if (getStates().size() > expectedStates)
    return emitOpError() << "expects at most " << expectedStates + 1
                         << " results (o, final_state"
                         << (getIntermediateStates() ? ", the intermediate states" : "")
                         << "), got " << getStates().size() + 1;
  if (getIntermediateStates() && getStates().empty())
    return emitOpError() << "attribute 'intermediate_states' requires a last result "
                         << "for the intermediate states";
  if (Value finalState = getFinalState()) {
    RankedTensorType s = tensorType(finalState);
    if (failed(check.shape("result 'final_state'", s, symbols, state)) ||
        failed(check.element("result 'final_state'", s, kGateOrState)))
      return failure();
  }
  if (Value intermediate = getIntermediateStatesResult()) {
    // [B, NT, HV, K, V]: NT is known for fixed lengths only.
    int64_t chunks = ShapedType::kDynamic;
    if (!getCuSeqlens() && !ShapedType::isDynamic(T))
      chunks = (T + getChunkSize() - 1) / getChunkSize();
    SmallVector<int64_t> shape = stateShape(layout, B, d);
    shape.insert(shape.begin() + 1, chunks);
    RankedTensorType h = tensorType(intermediate);
    if (failed(check.shape("result 'intermediate_states'", h,
                           layout == StateLayout::KV ? "[B, NT, HV, K, V]"
                                                     : "[B, NT, HV, V, K]",
                           shape)) ||
        failed(check.element("result 'intermediate_states'", h, kGateOrState)))
      return failure();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// DecodeOp
//===----------------------------------------------------------------------===//

LogicalResult DecodeOp::verify() {
  Checker check(getOperation());
  RankedTensorType q = tensorType(getQ()), k = tensorType(getK()),
                   v = tensorType(getV()), g = tensorType(getG()),
                   beta = tensorType(getBeta());

  if (failed(check.rank("operand 'q'", q, 3, "[N, H, K]")) ||
      failed(check.element("operand 'q'", q, kActivation)))
    return failure();
  int64_t N = q.getDimSize(0);
  HeadDims d{q.getDimSize(1), q.getDimSize(2), ShapedType::kDynamic,
             ShapedType::kDynamic};

  if (failed(check.shape("operand 'k'", k, "[N, H, K]", q.getShape())) ||
      failed(check.sameElement("operand 'k'", k, "'q'", q.getElementType())))
    return failure();

  if (failed(check.rank("operand 'v'", v, 3, "[N, HV, V]")))
    return failure();
  d.HV = v.getDimSize(1);
  d.V = v.getDimSize(2);
  if (failed(check.shape("operand 'v'", v, "[N, HV, V]", {N, d.HV, d.V})) ||
      failed(check.sameElement("operand 'v'", v, "'q'", q.getElementType())) ||
      failed(verifyHeadDims(getOperation(), d)))
    return failure();

  if (failed(check.shape("operand 'g'", g, "[N, HV, K]", {N, d.HV, d.K})) ||
      failed(check.element("operand 'g'", g, kGateOrState)) ||
      failed(check.shape("operand 'beta'", beta, "[N, HV]", {N, d.HV})) ||
      failed(check.element("operand 'beta'", beta, kGateOrState)))
    return failure();

  if (failed(verifyModes(getOperation(), check, getGate(), asDouble(getLowerBoundAttr()),
                         asDouble(getScaleAttr()), getALog(), getDtBias(), d.HV, d.K)))
    return failure();

  StateLayout layout = getStateLayout();
  RankedTensorType pool = tensorType(getStatePool());
  StringRef symbols = stateSymbols(layout, "P");
  if (failed(check.rank("operand 'state_pool'", pool, 4, symbols)))
    return failure();
  SmallVector<int64_t> poolShape =
      stateShape(layout, pool.getDimSize(0), d);
  if (failed(check.shape("operand 'state_pool'", pool, symbols, poolShape)) ||
      failed(check.element("operand 'state_pool'", pool, kGateOrState)))
    return failure();

  RankedTensorType indices = tensorType(getStateIndices());
  if (failed(check.shape("operand 'state_indices'", indices, "[N]", {N})) ||
      failed(check.element("operand 'state_indices'", indices, kIndex)))
    return failure();

  RankedTensorType o = tensorType(getO());
  if (failed(check.shape("result 'o'", o, "[N, HV, V]", {N, d.HV, d.V})) ||
      failed(check.sameElement("result 'o'", o, "'q'", q.getElementType())))
    return failure();
  if (getNewStatePool().getType() != pool)
    return emitOpError() << "result 'new_state_pool' must have the type of "
                         << "operand 'state_pool' (" << pool << "), got "
                         << getNewStatePool().getType();
  return success();
}

#define GET_OP_CLASSES
#include "kda/Dialect/KDA/IR/KDAOps.cpp.inc"
