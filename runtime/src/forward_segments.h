/* forward_segments.h - the segment scan's plan and combining launches
 * (internal; forward_gpu.c launches its pass). */
#ifndef KDA_RUNTIME_FORWARD_SEGMENTS_H
#define KDA_RUNTIME_FORWARD_SEGMENTS_H

#include "bundle.h"

/* Where a segment scan's intermediates lie in the caller's workspace, and
 * how many segments of how many tokens it runs. */
typedef struct {
  int64_t segments, length;
  size_t ends, x, entering, bytes; /* offsets and the total */
} kda_segment_plan;

/* The plan of `args` under segment-scan bundle `bundle`. */
kda_segment_plan kda_segment_plan_of(const kda_bundle *bundle, const kda_forward_args *args);

/* KDA_ERR_UNSUPPORTED unless `args` is a call a segment scan runs: one
 * sequence (batch 1; cu_seqlens, if given, of one sequence, which is then
 * [0, T] and not read), no intermediate states. */
kda_status kda_segment_check(kda_bundle *bundle, const kda_forward_args *args);

/* The composing and correcting kernels, queued on `stream` after the pass
 * has written O0 into args->o and the plan's ends and X into `workspace`. */
kda_status kda_segment_combine(kda_bundle *bundle, const kda_forward_args *args,
                               const kda_segment_plan *plan, char *workspace,
                               void *stream);

#endif /* KDA_RUNTIME_FORWARD_SEGMENTS_H */
