//===- Passes.h - kda conversion passes -------------------------*- C++ -*-===//

#ifndef KDA_CONVERSION_PASSES_H
#define KDA_CONVERSION_PASSES_H

#include "kda/Conversion/KDAToNVVM/ForwardKernel.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::kda {

#define GEN_PASS_DECL
#include "kda/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "kda/Conversion/Passes.h.inc"

} // namespace mlir::kda

#endif // KDA_CONVERSION_PASSES_H
