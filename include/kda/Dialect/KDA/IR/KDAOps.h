//===- KDAOps.h - kda ops and attributes ------------------------*- C++ -*-===//

#ifndef KDA_DIALECT_KDA_IR_KDAOPS_H
#define KDA_DIALECT_KDA_IR_KDAOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "kda/Dialect/KDA/IR/KDADialect.h"
#include "kda/Dialect/KDA/IR/KDAEnums.h.inc"

namespace mlir::kda {
/// The lower_bound gate's bound must lie in [kMinLowerBound, 0) (spec §3):
/// 16 steps of -5 keep exp() of the chunk-local cumsum in fp32 range.
inline constexpr double kMinLowerBound = -5.0;
} // namespace mlir::kda

#define GET_ATTRDEF_CLASSES
#include "kda/Dialect/KDA/IR/KDAAttrs.h.inc"

#define GET_OP_CLASSES
#include "kda/Dialect/KDA/IR/KDAOps.h.inc"

#endif // KDA_DIALECT_KDA_IR_KDAOPS_H
