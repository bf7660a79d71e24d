//===- kda-compile.cpp - MLIR in, PTX out -----------------------*- C++ -*-===//
//
// The compile driver: parses a module, runs kda-gpu-to-ptx on it and writes
// the PTX of its single gpu.module to the output file. Diagnostics go to
// stderr and the exit code is non-zero on any failure; nothing is written
// then.
//
//   kda-compile input.mlir -o kernel.ptx [--ptx-version=80] [--opt-level=3]
//
//===----------------------------------------------------------------------===//

#include "kda/Dialect/KDA/IR/KDADialect.h"
#include "kda/Pipelines/Pipelines.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace mlir;

static llvm::cl::opt<std::string> inputFile(llvm::cl::Positional,
                                            llvm::cl::desc("<input .mlir>"),
                                            llvm::cl::Required);
static llvm::cl::opt<std::string> outputFile("o", llvm::cl::desc("output PTX file"),
                                             llvm::cl::value_desc("file"),
                                             llvm::cl::Required);
static llvm::cl::opt<unsigned>
    ptxVersion("ptx-version", llvm::cl::desc("PTX ISA version times ten"),
               llvm::cl::init(kda::kDefaultPtxVersion));
static llvm::cl::opt<unsigned> optLevel("opt-level",
                                        llvm::cl::desc("LLVM optimisation level"),
                                        llvm::cl::init(3));

static int fail(const llvm::Twine &message) {
  llvm::errs() << "kda-compile: " << message << "\n";
  return 1;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  llvm::cl::ParseCommandLineOptions(argc, argv, "kda compile driver\n");

  DialectRegistry registry;
  registry.insert<kda::KDADialect>();
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerAllToLLVMIRTranslations(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();

  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(inputFile, sourceMgr,
                                                           &context);
  if (!module)
    return fail("cannot parse '" + inputFile + "'");

  kda::GPUToPTXOptions options;
  options.ptxVersion = ptxVersion;
  options.optLevel = optLevel;
  std::string message;
  if (failed(kda::verifyGPUToPTXOptions(options, message)))
    return fail(message);
  PassManager pm(&context);
  kda::buildGPUToPTXPipeline(pm, options);
  if (failed(pm.run(*module)))
    return fail("lowering '" + inputFile + "' to PTX failed");

  SmallVector<gpu::BinaryOp> binaries(module->getOps<gpu::BinaryOp>());
  if (binaries.size() != 1)
    return fail("expected exactly one gpu.module in '" + inputFile + "', got " +
                llvm::Twine(binaries.size()));
  auto object = cast<gpu::ObjectAttr>(binaries.front().getObjects()[0]);

  std::string error;
  std::unique_ptr<llvm::ToolOutputFile> output = openOutputFile(outputFile, &error);
  if (!output)
    return fail(error);
  output->os() << object.getObject().getValue();
  output->keep();
  return 0;
}
