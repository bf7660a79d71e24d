/* forward_segments.c - the segment scan: one long sequence cut into
 * segments that run side by side, their transitions composed afterwards
 * (include/kda/Conversion/KDAToNVVM/SegmentKernels.h says what each of its
 * kernels computes). The pass writes O0 into the caller's o; the rest
 * lives in the caller's workspace:
 *
 *   ends      f32  [S, HV, V + K, K]   each segment's final pass state
 *   X         bf16 [T, HV, K]          the transition rows' outputs, right
 *                                      after the ends (the pass finds it there)
 *   entering  bf16 [S - 1, HV, V, K]   the states entering segments 1..
 */
#include "forward_segments.h"

static const char kComposeParams[] = "ends entering final_state segments value_heads";
static const char kCorrectParams[] = "x entering o seq_len value_heads segments";

/* Workspace pieces start at 256-byte boundaries. */
static size_t align256(size_t bytes) { return (bytes + 255) & ~(size_t)255; }

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* Segment length: a multiple of the bundle's segment_tokens, the same
 * formula as the kernels' (lib/Conversion/KDAToNVVM/SegmentScan.h). */
static int64_t segment_length(const kda_bundle *b, int64_t T, int64_t segments) {
  return b->segment_tokens * ceil_div(ceil_div(T, b->segment_tokens), segments);
}

kda_segment_plan kda_segment_plan_of(const kda_bundle *b, const kda_forward_args *a) {
  const int64_t T = a->seq_len, HV = a->num_value_heads, K = a->head_dim_k,
                V = a->head_dim_v;
  /* As many segments as keep the pass in one wave (each segment takes
   * head_ctas CTAs per value head), at most one per tile of tokens, then
   * as few as cover T at that segments' length (no empty segment). */
  const int64_t tiles = ceil_div(T, b->segment_tokens);
  const int64_t per_segment = HV * b->head_ctas;
  int64_t segments = per_segment > 0 ? b->context->info.multiprocessors / per_segment : 1;
  if (segments > tiles)
    segments = tiles;
  if (segments < 1)
    segments = 1;
  if (T > 0)
    segments = ceil_div(T, segment_length(b, T, segments));
  kda_segment_plan plan = {.segments = segments,
                           .length = T > 0 ? segment_length(b, T, segments) : 0};
  plan.ends = 0;
  plan.x = (size_t)(segments * HV * (V + K) * K) * 4;
  plan.entering = align256(plan.x + (size_t)(T * HV * K) * 2);
  plan.bytes = plan.entering + align256((size_t)((segments - 1) * HV * V * K) * 2);
  return plan;
}

kda_status kda_segment_check(kda_bundle *b, const kda_forward_args *a) {
  kda_status s;
  if ((s = kda_bundle_expect(b, "compose_params", kComposeParams,
                             "the composing kernel's parameters")) ||
      (s = kda_bundle_expect(b, "correct_params", kCorrectParams,
                             "the correcting kernel's parameters")))
    return s;
  const char *kernel = kda_bundle_manifest(b, "kernel");
  if (a->batch != 1 || (a->cu_seqlens.data && a->num_seqs != 1))
    return kda_context_fail(b->context, KDA_ERR_UNSUPPORTED,
                            "bundle '%s' is a segment scan, which runs one sequence: "
                            "argument 'batch' must be 1 and 'cu_seqlens', if given, hold "
                            "one sequence, got batch = %lld and %lld sequences",
                            kernel, (long long)a->batch,
                            (long long)(a->cu_seqlens.data ? a->num_seqs : a->batch));
  if (a->intermediate_states.data)
    return kda_context_fail(b->context, KDA_ERR_UNSUPPORTED,
                            "bundle '%s' is a segment scan, which does not produce "
                            "argument 'intermediate_states'",
                            kernel);
  if (a->head_dim_v % b->compose_rows != 0)
    return kda_context_fail(b->context, KDA_ERR_UNSUPPORTED,
                            "bundle '%s': head_dim_v = %lld is not a multiple of the "
                            "composing kernel's %lld rows",
                            kernel, (long long)a->head_dim_v, (long long)b->compose_rows);
  return KDA_OK;
}

kda_status kda_segment_combine(kda_bundle *b, const kda_forward_args *a,
                               const kda_segment_plan *plan, char *workspace,
                               void *stream) {
  const int64_t T = a->seq_len, HV = a->num_value_heads, V = a->head_dim_v;
  void *ends = workspace + plan->ends, *entering = workspace + plan->entering,
       *x = workspace + plan->x;
  void *final = a->final_state.data, *o = a->o.data;
  int32_t segments = (int32_t)plan->segments, value_heads = (int32_t)HV,
          seq_len = (int32_t)T;

  void *compose[] = {&ends, &entering, &final, &segments, &value_heads};
  const unsigned compose_grid[3] = {(unsigned)(V / b->compose_rows), (unsigned)HV, 1};
  kda_status s = kda_launch(b->context, b->compose_kernel, compose_grid,
                            (unsigned)b->compose_threads, (size_t)b->compose_shared_bytes,
                            stream, compose);
  /* The tokens after segment 0 (whose O0 is its output). */
  if (s != KDA_OK || T <= plan->length)
    return s;
  void *correct[] = {&x, &entering, &o, &seq_len, &value_heads, &segments};
  const unsigned correct_grid[3] = {(unsigned)ceil_div(T - plan->length, b->segment_tokens),
                                    (unsigned)HV, 1};
  return kda_launch(b->context, b->correct_kernel, correct_grid,
                    (unsigned)b->correct_threads, (size_t)b->correct_shared_bytes,
                    stream, correct);
}
