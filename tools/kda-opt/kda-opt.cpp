//===- kda-opt.cpp - The kda optimizer driver -------------------*- C++ -*-===//
//
// MlirOptMain with the kda dialect and every upstream dialect, extension and
// pass registered: the lowering of kda ops goes through func, arith, scf,
// memref, gpu, nvgpu, nvvm and llvm, and kernel developers run those passes
// by name on kda's intermediate IR. kda's own passes and named pipelines are
// registered here as they are added.
//
//===----------------------------------------------------------------------===//

#include "kda/Dialect/KDA/IR/KDADialect.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();

  mlir::DialectRegistry registry;
  registry.insert<mlir::kda::KDADialect>();
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);

  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "kda optimizer driver: the kda dialect and its lowering\n",
      registry));
}
