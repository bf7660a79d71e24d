//===- GPUToPTX.cpp - The kda-gpu-to-ptx pipeline ---------------*- C++ -*-===//
//
// The device half of upstream's gpu-lower-to-nvvm-pipeline, in the order
// that works on MLIR 22 for sm_90a (docs/design/lowering.md):
//
//   1. nvgpu -> nvvm first: it creates nvvm.wgmma.mma_async, which only
//      convert-nvvm-to-llvm can lower (it becomes inline PTX);
//   2. structured control flow and memref metadata to plain arithmetic;
//   3. the NVVM target (chip, PTX version) is attached before the gpu.module
//      is converted, so the conversion sees the target;
//   4. inside each gpu.module: gpu/arith/memref -> llvm + nvvm with bare
//      pointers for kernel arguments;
//   5. gpu-module-to-binary{format=isa}: LLVM's NVPTX backend emits PTX.
//
// Post-condition: no gpu.module is left; each is a gpu.binary whose object
// holds PTX text.
//
//===----------------------------------------------------------------------===//

#include "kda/Pipelines/Pipelines.h"

#include "kda/Conversion/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

LogicalResult kda::verifyTargetOptions(const TargetOptions &options,
                                       std::string &message) {
  if (options.chip != kDefaultChip) {
    message = "option 'chip' must be " + kDefaultChip.str() +
              " (wgmma and setmaxnreg need it), got '" + options.chip + "'";
    return failure();
  }
  if (options.ptxVersion < kMinPtxVersion ||
      options.ptxVersion > kMaxPtxVersion) {
    message = "option 'ptx-version' must be in [" +
              std::to_string(kMinPtxVersion) + ", " +
              std::to_string(kMaxPtxVersion) + "], got " +
              std::to_string(options.ptxVersion);
    return failure();
  }
  if (options.optLevel > 3) {
    message = "option 'opt-level' must be 0..3, got " +
              std::to_string(options.optLevel);
    return failure();
  }
  return success();
}

void kda::buildGPUToPTXPipeline(OpPassManager &pm,
                                const TargetOptions &options) {
  pm.addPass(createConvertNVGPUToNVVMPass());
  pm.addPass(createConvertVectorToSCFPass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertNVVMToLLVMPass());
  pm.addPass(memref::createExpandStridedMetadataPass());

  GpuNVVMAttachTargetOptions target;
  target.chip = options.chip;
  target.features = "+ptx" + std::to_string(options.ptxVersion);
  target.optLevel = options.optLevel;
  pm.addPass(createGpuNVVMAttachTarget(target));

  pm.addPass(createLowerAffinePass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());

  OpPassManager &device = pm.nest<gpu::GPUModuleOp>();
  device.addPass(createStripDebugInfoPass());
  ConvertGpuOpsToNVVMOpsOptions toNVVM;
  toNVVM.useBarePtrCallConv = true;
  device.addPass(createConvertGpuOpsToNVVMOps(toNVVM));
  device.addPass(createConvertNVVMToLLVMPass());
  device.addPass(createCanonicalizerPass());
  device.addPass(createCSEPass());
  device.addPass(createReconcileUnrealizedCastsPass());

  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = "isa";
  pm.addPass(createGpuModuleToBinaryPass(binary));
}

void kda::buildKDAKernelPipeline(OpPassManager &pm, const KDAToPTXOptions &options) {
  ConvertKDAToNVVMOptions kernels;
  copyForwardSchedule(options, kernels);
  pm.addPass(createConvertKDAToNVVM(kernels));
}

void kda::buildKDAToPTXPipeline(OpPassManager &pm, const KDAToPTXOptions &options) {
  buildKDAKernelPipeline(pm, options);
  buildGPUToPTXPipeline(pm, options.target());
}

/// Registers pipeline `name`: parses its options, refuses target options
/// out of range with a message naming them, then calls `build`.
template <typename Options>
static void registerPipeline(StringRef name, StringRef description,
                             void (*build)(OpPassManager &, const Options &)) {
  std::string prefix = name.str();
  registerPassPipeline(
      name, description,
      [build, prefix](OpPassManager &pm, StringRef text,
                      function_ref<LogicalResult(const Twine &)> errorHandler) {
        Options options;
        if (failed(options.parseFromString(text)))
          return failure();
        std::string message;
        if (failed(kda::verifyTargetOptions(options.target(), message)))
          return errorHandler(prefix + ": " + message);
        build(pm, options);
        return success();
      },
      [](function_ref<void(const detail::PassOptions &)> handler) {
        handler(Options());
      });
}

static void buildGPUToPTX(OpPassManager &pm, const kda::GPUToPTXOptions &options) {
  kda::buildGPUToPTXPipeline(pm, options.target());
}

void kda::registerKDAPipelines() {
  registerPipeline<KDAToPTXOptions>(
      "kda-to-ptx",
      "Compile kda.forward ops to kernels and lower them to PTX for sm_90a",
      buildKDAToPTXPipeline);
  registerPipeline<GPUToPTXOptions>(
      "kda-gpu-to-ptx",
      "Lower gpu.modules (gpu/nvgpu/nvvm level) to PTX for sm_90a", buildGPUToPTX);
}
