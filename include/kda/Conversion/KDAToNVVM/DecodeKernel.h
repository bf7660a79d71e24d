//===- DecodeKernel.h - The kda.decode kernel and its ABI -------*- C++ -*-===//
//
// One decode step (one token per sequence against a pool of states): its
// compile-time configuration, parameters and launch shape. The runtime
// reads them from the bundle manifest (runtime/src/decode_gpu.c).
//
//===----------------------------------------------------------------------===//

#ifndef KDA_CONVERSION_KDATONVVM_DECODEKERNEL_H
#define KDA_CONVERSION_KDATONVVM_DECODEKERNEL_H

#include "kda/Conversion/KDAToNVVM/KernelChoices.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"

namespace mlir::kda {

struct DecodeKernelConfig : KernelChoices {
  Type poolType; ///< f32 or bf16

  std::string kernelName() const;
};

/// The parameters, in order. A negative state index is a padding row.
enum DecodeParam : unsigned {
  kDecodeQ, kDecodeK, kDecodeV, kDecodeG, kDecodeBeta, kDecodeALog,
  kDecodeDtBias, kDecodeStatePool, kDecodeStateIndices, kDecodeO,
  kDecodeIndices64, ///< i32: 1 if state_indices is int64, 0 if int32
  kDecodeHeads, kDecodeValueHeads, kDecodeScale, kDecodeLowerBound,
  kDecodeParamCount
};

/// Space-separated parameter names: the manifest's `params` entry.
std::string decodeParamNames();
/// The grid's axes: one CTA per (sequence, value head, block of value
/// columns); the manifest's `value_blocks` says how many blocks.
inline constexpr const char *kDecodeGrid = "sequences value_heads value_blocks";

std::string checkDecodeSupport(const DecodeKernelConfig &config);
int64_t decodeSharedBytes(const DecodeKernelConfig &config);
int64_t decodeThreads(const DecodeKernelConfig &config);
int64_t decodeValueBlocks(const DecodeKernelConfig &config);

LLVM::LLVMFuncOp buildDecodeKernel(OpBuilder &builder, Location loc,
                                   const DecodeKernelConfig &config);

} // namespace mlir::kda

#endif // KDA_CONVERSION_KDATONVVM_DECODEKERNEL_H
