//===- Pipelines.h - kda's named pass pipelines -----------------*- C++ -*-===//
//
// One options struct, one builder and one registration per pipeline: the
// same builder serves kda-opt (`--kda-gpu-to-ptx=...`), kda-compile and any
// C++ client.
//
//===----------------------------------------------------------------------===//

#ifndef KDA_PIPELINES_PIPELINES_H
#define KDA_PIPELINES_PIPELINES_H

#include "kda/Target/TargetInfo.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir::kda {

/// Options of `kda-gpu-to-ptx`.
struct GPUToPTXOptions : public PassPipelineOptions<GPUToPTXOptions> {
  PassOptions::Option<std::string> chip{
      *this, "chip", llvm::cl::desc("target chip"),
      llvm::cl::init(kDefaultChip.str())};
  PassOptions::Option<unsigned> ptxVersion{
      *this, "ptx-version",
      llvm::cl::desc("PTX ISA version times ten (80 is PTX 8.0)"),
      llvm::cl::init(kDefaultPtxVersion)};
  PassOptions::Option<unsigned> optLevel{
      *this, "opt-level", llvm::cl::desc("LLVM optimisation level (0-3)"),
      llvm::cl::init(3)};
};

/// Checks the options; the message names the bad option.
LogicalResult verifyGPUToPTXOptions(const GPUToPTXOptions &options,
                                    std::string &message);

/// Lowers every gpu.module of a module, written in the gpu, nvgpu, nvvm,
/// memref, vector, scf, arith and index dialects, to NVVM and on to PTX:
/// each gpu.module becomes a gpu.binary holding PTX text
/// (gpu-module-to-binary{format=isa}, LLVM's NVPTX backend, no CUDA
/// toolkit). Kernels use the bare-pointer calling convention.
void buildGPUToPTXPipeline(OpPassManager &pm, const GPUToPTXOptions &options);

/// Registers `kda-gpu-to-ptx` (and, as they land, kda's other pipelines).
void registerKDAPipelines();

} // namespace mlir::kda

#endif // KDA_PIPELINES_PIPELINES_H
