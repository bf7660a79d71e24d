//===- TargetInfo.h - Facts about the chips kda targets --------*- C++ -*-===//
//
// The one place that knows which chip and PTX versions kda emits for; the
// pipelines, the compile driver and the tests read these instead of
// spelling "sm_90a" or "+ptx80" themselves.
//
//===----------------------------------------------------------------------===//

#ifndef KDA_TARGET_TARGETINFO_H
#define KDA_TARGET_TARGETINFO_H

#include "llvm/ADT/StringRef.h"

namespace mlir::kda {

/// wgmma and setmaxnreg exist only on the "a" variant of sm_90.
inline constexpr llvm::StringLiteral kDefaultChip = "sm_90a";
/// PTX ISA version times ten. 8.0 is the first with sm_90a; LLVM 22's NVPTX
/// backend aborts (not a diagnostic) on older ones, so they are refused.
inline constexpr unsigned kMinPtxVersion = 80;
inline constexpr unsigned kDefaultPtxVersion = 80;
/// The newest PTX version the CUDA 13.0 ptxas and driver JIT accept.
inline constexpr unsigned kMaxPtxVersion = 90;

} // namespace mlir::kda

#endif // KDA_TARGET_TARGETINFO_H
