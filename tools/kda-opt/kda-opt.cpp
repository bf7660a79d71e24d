//===- kda-opt.cpp - The kda optimizer driver -------------------*- C++ -*-===//
//
// MlirOptMain with the kda dialect and every upstream dialect, extension and
// pass registered: the lowering of kda ops goes through func, arith, scf,
// memref, gpu, nvgpu, nvvm and llvm, and kernel developers run those passes
// by name on kda's intermediate IR. kda's named pipelines (kda-gpu-to-ptx)
// are registered here too.
//
//===----------------------------------------------------------------------===//

#include "kda/Conversion/Passes.h"
#include "kda/Dialect/KDA/IR/KDADialect.h"
#include "kda/Pipelines/Pipelines.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mlir::kda::registerKDAConversionPasses();
  mlir::kda::registerKDAPipelines();

  mlir::DialectRegistry registry;
  registry.insert<mlir::kda::KDADialect>();
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  // gpu-module-to-binary translates each gpu.module to LLVM IR in-process.
  mlir::registerAllToLLVMIRTranslations(registry);

  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "kda optimizer driver: the kda dialect and its lowering\n",
      registry));
}
