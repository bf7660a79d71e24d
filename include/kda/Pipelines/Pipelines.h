//===- Pipelines.h - kda's named pass pipelines -----------------*- C++ -*-===//
//
// One options struct, one builder and one registration per pipeline: the
// same builder serves kda-opt (`--kda-gpu-to-ptx=...`), kda-compile and any
// C++ client.
//
//===----------------------------------------------------------------------===//

#ifndef KDA_PIPELINES_PIPELINES_H
#define KDA_PIPELINES_PIPELINES_H

#include "kda/Conversion/KDAToNVVM/ForwardKernel.h"
#include "kda/Target/TargetInfo.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir::kda {

/// The target half of the options, as plain values.
struct TargetOptions {
  std::string chip = kDefaultChip.str();
  unsigned ptxVersion = kDefaultPtxVersion;
  unsigned optLevel = 3;
};

/// The target options every kda pipeline takes (CRTP over the options
/// struct, as PassPipelineOptions wants).
template <typename Derived>
struct TargetPipelineOptions : public PassPipelineOptions<Derived> {
  mlir::detail::PassOptions::Option<std::string> chip{
      *this, "chip", llvm::cl::desc("target chip"),
      llvm::cl::init(kDefaultChip.str())};
  mlir::detail::PassOptions::Option<unsigned> ptxVersion{
      *this, "ptx-version",
      llvm::cl::desc("PTX ISA version times ten (80 is PTX 8.0)"),
      llvm::cl::init(kDefaultPtxVersion)};
  mlir::detail::PassOptions::Option<unsigned> optLevel{
      *this, "opt-level", llvm::cl::desc("LLVM optimisation level (0-3)"),
      llvm::cl::init(3)};

  TargetOptions target() const {
    return {this->chip, this->ptxVersion, this->optLevel};
  }
};

/// Options of `kda-gpu-to-ptx`.
struct GPUToPTXOptions : public TargetPipelineOptions<GPUToPTXOptions> {};

/// Checks the target options; the message names the bad option.
LogicalResult verifyTargetOptions(const TargetOptions &options,
                                  std::string &message);

/// Lowers every gpu.module of a module, written in the gpu, nvgpu, nvvm,
/// memref, vector, scf, arith and index dialects, to NVVM and on to PTX:
/// each gpu.module becomes a gpu.binary holding PTX text
/// (gpu-module-to-binary{format=isa}, LLVM's NVPTX backend, no CUDA
/// toolkit). Kernels use the bare-pointer calling convention.
void buildGPUToPTXPipeline(OpPassManager &pm, const TargetOptions &options);

/// Options of `kda-to-ptx`: the target's and the schedule's knobs.
struct KDAToPTXOptions : public TargetPipelineOptions<KDAToPTXOptions> {
  PassOptions::Option<int64_t> chunkSize{
      *this, "chunk-size",
      llvm::cl::desc("tokens per chunk of the kernel's schedule, 16 or 32; 0 "
                     "takes each op's chunk_size attribute"),
      llvm::cl::init(0)};
  PassOptions::Option<int64_t> stages{
      *this, "stages",
      llvm::cl::desc("buffers in each chunk-local warpgroup's TMA ring of "
                     "input tiles of the forward kernel (1 to 4, as shared "
                     "memory allows)"),
      llvm::cl::init(kDefaultForwardStages)};
  PassOptions::Option<int64_t> valueBlocks{
      *this, "value-blocks",
      llvm::cl::desc("CTAs per (sequence, value head) of the forward kernel, "
                     "each owning V / value-blocks rows of the state"),
      llvm::cl::init(1)};
  PassOptions::Option<int64_t> chunkLocalWarpgroups{
      *this, "chunk-local-warpgroups",
      llvm::cl::desc("warpgroups of the forward kernel's 4 on the chunk-local "
                     "side: 1 (32-token chunks at K = 128), 2, or 3 with 64 "
                     "value rows per CTA"),
      llvm::cl::init(2)};
  PassOptions::Option<int64_t> clusterCtas{
      *this, "cluster-ctas",
      llvm::cl::desc("0, or the CTAs per (sequence, value head) of the forward "
                     "kernel that run as one cluster splitting the chunk-local "
                     "work: the value blocks and helpers (2 to 8)"),
      llvm::cl::init(0)};
  PassOptions::Option<int64_t> handoffDepth{
      *this, "handoff-depth",
      llvm::cl::desc("handoff stages per chunk-local warpgroup of the forward "
                     "kernel (1 or 2, as shared memory allows)"),
      llvm::cl::init(1)};
  PassOptions::Option<int64_t> segmentScan{
      *this, "segment-scan",
      llvm::cl::desc("1: compile the forward as a segment scan (B = 1 long "
                     "sequences cut into segments whose transitions compose, "
                     "with its combining kernels); 0: the chain alone"),
      llvm::cl::init(0)};
};

/// kda.forward to kernels: convert-kda-to-nvvm with the schedule options
/// (the first half of kda-to-ptx; kda-compile reads the launch manifests
/// between the halves).
void buildKDAKernelPipeline(OpPassManager &pm, const KDAToPTXOptions &options);

/// kda.forward all the way to PTX: buildKDAKernelPipeline, then
/// buildGPUToPTXPipeline.
void buildKDAToPTXPipeline(OpPassManager &pm, const KDAToPTXOptions &options);

/// Registers `kda-to-ptx` and `kda-gpu-to-ptx`.
void registerKDAPipelines();

} // namespace mlir::kda

#endif // KDA_PIPELINES_PIPELINES_H
