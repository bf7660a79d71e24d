//===- kda-compile.cpp - MLIR in, PTX out -----------------------*- C++ -*-===//
//
// The compile driver: parses a module, compiles its kda.forward op
// (convert-kda-to-nvvm) and runs kda-gpu-to-ptx, then writes its single
// kernel either as a kernel bundle (--emit=bundle: the launch manifest the
// runtime reads, then the PTX) or as bare PTX (--emit=ptx). Diagnostics go
// to stderr and the exit code is non-zero on any failure; nothing is
// written then.
//
//   kda-compile input.mlir -o kernel.kdab [--emit=bundle|ptx]
//               [--ptx-version=80] [--opt-level=3]
//
// Bundle format (runtime/src/bundle.c reads it): the line "kda-bundle 1",
// one "key value" line per manifest entry, then "ptx <bytes>" and exactly
// that many bytes of PTX text.
//===----------------------------------------------------------------------===//

#include "kda/Conversion/Passes.h"
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
enum class Emit { Bundle, Ptx };
static llvm::cl::opt<Emit> emit(
    "emit", llvm::cl::desc("what to write"), llvm::cl::init(Emit::Bundle),
    llvm::cl::values(clEnumValN(Emit::Bundle, "bundle", "manifest + PTX"),
                     clEnumValN(Emit::Ptx, "ptx", "PTX text only")));
static llvm::cl::opt<unsigned>
    ptxVersion("ptx-version", llvm::cl::desc("PTX ISA version times ten"),
               llvm::cl::init(kda::kDefaultPtxVersion));
/// The forward kernel's schedule (kda::copyForwardSchedule reads it by
/// these names).
static struct {
  llvm::cl::opt<int64_t> chunkSize{
      "chunk-size",
      llvm::cl::desc("tokens per chunk, 16 or 32; 0 takes the op's chunk_size"),
      llvm::cl::init(0)};
  llvm::cl::opt<int64_t> stages{
      "stages",
      llvm::cl::desc("buffers in each chunk-local warpgroup's TMA ring of the "
                     "forward kernel (1 to 4, as shared memory allows)"),
      llvm::cl::init(kda::kDefaultForwardStages)};
  llvm::cl::opt<int64_t> valueBlocks{
      "value-blocks",
      llvm::cl::desc("CTAs per (sequence, value head) of the forward kernel, each "
                     "owning V / value-blocks rows of the state"),
      llvm::cl::init(1)};
  llvm::cl::opt<int64_t> chunkLocalWarpgroups{
      "chunk-local-warpgroups",
      llvm::cl::desc("warpgroups of the forward kernel's 4 on the chunk-local "
                     "side: 1 (32-token chunks at K = 128), 2, or 3 with 64 "
                     "value rows per CTA"),
      llvm::cl::init(2)};
  llvm::cl::opt<int64_t> clusterCtas{
      "cluster-ctas",
      llvm::cl::desc("0, or the CTAs per (sequence, value head) of the forward "
                     "kernel that run as one cluster splitting the chunk-local "
                     "work: the value blocks and helpers (2 to 8)"),
      llvm::cl::init(0)};
  llvm::cl::opt<int64_t> handoffDepth{
      "handoff-depth",
      llvm::cl::desc("handoff stages per chunk-local warpgroup of the forward "
                     "kernel (1 or 2, as shared memory allows)"),
      llvm::cl::init(1)};
  llvm::cl::opt<int64_t> segmentScan{
      "segment-scan",
      llvm::cl::desc("1: compile the forward as a segment scan (B = 1 long "
                     "sequences cut into segments whose transitions compose, "
                     "with its combining kernels); 0: the chain alone"),
      llvm::cl::init(0)};
} schedule;
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

  kda::KDAToPTXOptions options;
  options.ptxVersion = ptxVersion;
  options.optLevel = optLevel;
  kda::copyForwardSchedule(schedule, options);
  std::string message;
  if (failed(kda::verifyTargetOptions(options.target(), message)))
    return fail(message);
  // kda-to-ptx in its two halves, reading the manifests in between.
  PassManager kernels(&context);
  kda::buildKDAKernelPipeline(kernels, options);
  if (failed(kernels.run(*module)))
    return fail("compiling the kda ops of '" + inputFile + "' failed");
  // The manifest lives on the gpu.module, which the next step replaces.
  SmallVector<DictionaryAttr> manifests;
  for (auto gpuModule : module->getOps<gpu::GPUModuleOp>())
    if (auto manifest = gpuModule->getAttrOfType<DictionaryAttr>("kda.manifest"))
      manifests.push_back(manifest);

  PassManager pm(&context);
  kda::buildGPUToPTXPipeline(pm, options.target());
  if (failed(pm.run(*module)))
    return fail("lowering '" + inputFile + "' to PTX failed");

  SmallVector<gpu::BinaryOp> binaries(module->getOps<gpu::BinaryOp>());
  if (binaries.size() != 1)
    return fail("expected exactly one gpu.module in '" + inputFile + "', got " +
                llvm::Twine(binaries.size()));
  auto object = cast<gpu::ObjectAttr>(binaries.front().getObjects()[0]);
  StringRef ptx = object.getObject().getValue();
  if (emit == Emit::Bundle && manifests.size() != 1)
    return fail("--emit=bundle needs a kernel compiled from a kda op; '" + inputFile +
                "' has none (use --emit=ptx)");

  std::string error;
  std::unique_ptr<llvm::ToolOutputFile> output = openOutputFile(outputFile, &error);
  if (!output)
    return fail(error);
  if (emit == Emit::Bundle) {
    llvm::raw_ostream &os = output->os();
    os << "kda-bundle 1\n";
    for (NamedAttribute entry : manifests.front()) {
      os << entry.getName().getValue() << " ";
      if (auto text = dyn_cast<StringAttr>(entry.getValue()))
        os << text.getValue();
      else
        os << cast<IntegerAttr>(entry.getValue()).getInt();
      os << "\n";
    }
    os << "ptx " << ptx.size() << "\n";
  }
  output->os() << ptx;
  output->keep();
  return 0;
}
