//===- KDADialect.h - The kda dialect ---------------------------*- C++ -*-===//

#ifndef KDA_DIALECT_KDA_IR_KDADIALECT_H
#define KDA_DIALECT_KDA_IR_KDADIALECT_H

#include "mlir/IR/Dialect.h"

#include "kda/Dialect/KDA/IR/KDAOpsDialect.h.inc"

#endif // KDA_DIALECT_KDA_IR_KDADIALECT_H
