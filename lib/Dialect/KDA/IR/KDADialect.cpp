//===- KDADialect.cpp - The kda dialect -------------------------*- C++ -*-===//

#include "kda/Dialect/KDA/IR/KDADialect.h"

#include "kda/Dialect/KDA/IR/KDAOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::kda;

#include "kda/Dialect/KDA/IR/KDAEnums.cpp.inc"
#include "kda/Dialect/KDA/IR/KDAOpsDialect.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "kda/Dialect/KDA/IR/KDAAttrs.cpp.inc"

void KDADialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "kda/Dialect/KDA/IR/KDAAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "kda/Dialect/KDA/IR/KDAOps.cpp.inc"
      >();
}
