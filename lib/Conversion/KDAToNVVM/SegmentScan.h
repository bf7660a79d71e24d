//===- SegmentScan.h - The segments' bounds, as kernels compute them -*- C++ -*-===//
//
// The one formula the segment scan's pass and correcting kernels (and the
// runtime, runtime/src/forward_segments.c) agree on: segment length L =
// kSegmentTokenTile * ceil(ceil(T / kSegmentTokenTile) / S).
//
//===----------------------------------------------------------------------===//

#ifndef KDA_LIB_CONVERSION_KDATONVVM_SEGMENTSCAN_H
#define KDA_LIB_CONVERSION_KDATONVVM_SEGMENTSCAN_H

#include "KernelEmitter.h"

namespace mlir::kda {

/// Tokens per segment (i32) of T tokens (i32) in S segments (i32).
Value segmentLength(KernelEmitter &e, Value seqLen, Value segments);

} // namespace mlir::kda

#endif // KDA_LIB_CONVERSION_KDATONVVM_SEGMENTSCAN_H
