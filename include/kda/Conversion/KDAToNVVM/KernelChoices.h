//===- KernelChoices.h - Choices every kda kernel shares --------*- C++ -*-===//
//
// The compile-time choices the forward and the decode kernels share; each
// kernel's configuration adds its own to these.
//
//===----------------------------------------------------------------------===//

#ifndef KDA_CONVERSION_KDATONVVM_KERNELCHOICES_H
#define KDA_CONVERSION_KDATONVVM_KERNELCHOICES_H

#include "kda/Dialect/KDA/IR/KDAOps.h"

namespace mlir::kda {

struct KernelChoices {
  int64_t headDimK = 128;
  int64_t headDimV = 128;
  GateMode gate = GateMode::Precomputed;
  BetaMode betaMode = BetaMode::Plain;
  bool qkL2Norm = false;
  StateLayout stateLayout = StateLayout::KV;
  Type gType;    ///< bf16 or f32
  Type betaType; ///< bf16 or f32
};

} // namespace mlir::kda

#endif // KDA_CONVERSION_KDATONVVM_KERNELCHOICES_H
