/* test_segment_plan.c - the segment scan's plan (forward_segments.c) on a
 * machine without a GPU: how many segments of how many tokens, where its
 * intermediates lie in the workspace, and which calls it refuses. The
 * kernels compute the same segment length (lib/Conversion/KDAToNVVM/
 * SegmentScan.h) and find X right after the ends; the GPU suite checks
 * their results. */
#include "harness.h"

#include "forward_segments.h"

/* A segment-scan bundle as the manifest describes it (K = V = 128, a
 * cluster of two per segment and value head, 128-token tiles), on a
 * device of `sms` SMs. */
typedef struct {
  kda_context context;
  kda_bundle bundle;
} fixture;

static void fixture_init(fixture *f, int sms) {
  memset(f, 0, sizeof *f);
  f->context.info.multiprocessors = sms;
  kda_bundle *b = &f->bundle;
  b->context = &f->context;
  b->head_ctas = 2;
  b->segment_scan = 1;
  b->segment_tokens = 128;
  b->compose_rows = 16;
  static char *const entries[][2] = {
      {"kernel", "kda_forward_segments_under_test"},
      {"compose_params", "ends entering final_state segments value_heads"},
      {"correct_params", "x entering o seq_len value_heads segments"},
  };
  for (size_t i = 0; i < sizeof entries / sizeof entries[0]; ++i) {
    b->entries[i].key = entries[i][0];
    b->entries[i].value = entries[i][1];
  }
  b->entry_count = (int)(sizeof entries / sizeof entries[0]);
}

static kda_forward_args one_sequence(int64_t T, int64_t HV) {
  kda_forward_args a;
  kda_forward_args_init(&a);
  a.batch = 1;
  a.seq_len = T;
  a.num_heads = a.num_value_heads = HV;
  a.head_dim_k = a.head_dim_v = 128;
  return a;
}

/* The plan of one sequence of T tokens at HV value heads on 132 SMs. */
static kda_segment_plan plan_of(int64_t T, int64_t HV) {
  fixture f;
  fixture_init(&f, 132);
  kda_forward_args a = one_sequence(T, HV);
  return kda_segment_plan_of(&f.bundle, &a);
}

static size_t align256(size_t bytes) { return (bytes + 255) / 256 * 256; }

/* T = 65536 at 16 heads on 132 SMs: four segments of 16,384 tokens
 * (128 CTAs); the ends, X right after them, the entering states. */
static void plan_fills_one_wave(void) {
  kda_segment_plan p = plan_of(65536, 16);
  EXPECT(p.segments == 4 && p.length == 16384, "%lld segments of %lld",
         (long long)p.segments, (long long)p.length);
  size_t ends = (size_t)4 * 16 * 256 * 128 * 4, x = (size_t)65536 * 16 * 128 * 2;
  size_t entering = (size_t)3 * 16 * 128 * 128 * 2;
  EXPECT(p.ends == 0 && p.x == ends, "x at %zu, want %zu", p.x, ends);
  EXPECT(p.entering == align256(ends + x) && p.bytes == p.entering + align256(entering),
         "entering at %zu, %zu bytes", p.entering, p.bytes);
}

/* Every plan: at least one segment, lengths a multiple of the tile, no
 * empty segment, T covered, and no more CTAs than SMs unless one segment
 * alone needs more. */
static void plans_cover_the_sequence(void) {
  const int64_t lengths[] = {1, 127, 128, 129, 1000, 4096, 8191, 16385, 65536, 1 << 20};
  const int64_t heads[] = {1, 2, 16, 17, 32, 66, 67, 96};
  for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; ++i)
    for (size_t j = 0; j < sizeof heads / sizeof heads[0]; ++j) {
      int64_t T = lengths[i], HV = heads[j];
      kda_segment_plan p = plan_of(T, HV);
      int64_t ctas = p.segments * HV * 2;
      EXPECT(p.segments >= 1 && p.length % 128 == 0 && (p.segments - 1) * p.length < T &&
                 p.segments * p.length >= T && (ctas <= 132 || p.segments == 1),
             "T = %lld, HV = %lld: %lld segments of %lld", (long long)T, (long long)HV,
             (long long)p.segments, (long long)p.length);
    }
  /* One token per segment tile at most: 65 segments for 16,385 tokens at
   * one head (66 fit the SMs, 256-token segments cover T in 65). */
  kda_segment_plan p = plan_of(16385, 1);
  EXPECT(p.segments == 65 && p.length == 256, "%lld segments of %lld",
         (long long)p.segments, (long long)p.length);
}

/* No token: one empty segment (its pass carries the initial state to the
 * final state), no X, no entering state. */
static void plan_of_no_tokens(void) {
  kda_segment_plan p = plan_of(0, 4);
  EXPECT(p.segments == 1 && p.length == 0, "%lld segments of %lld",
         (long long)p.segments, (long long)p.length);
  EXPECT(p.bytes == align256((size_t)4 * 256 * 128 * 4), "%zu bytes", p.bytes);
}

/* What a segment scan does not run is refused by name. */
static void refuses_what_it_does_not_run(void) {
  fixture f;
  fixture_init(&f, 132);
  kda_forward_args a = one_sequence(1000, 2);
  EXPECT(kda_segment_check(&f.bundle, &a) == KDA_OK, "%s", f.context.last_error);
  a.batch = 2;
  EXPECT(kda_segment_check(&f.bundle, &a) == KDA_ERR_UNSUPPORTED &&
             strstr(f.context.last_error, "argument 'batch' must be 1"),
         "%s", f.context.last_error);
  a = one_sequence(1000, 2);
  int64_t cu[3] = {0, 500, 1000};
  a.cu_seqlens = (kda_tensor){cu, KDA_DTYPE_INT64};
  a.num_seqs = 2;
  EXPECT(kda_segment_check(&f.bundle, &a) == KDA_ERR_UNSUPPORTED &&
             strstr(f.context.last_error, "2 sequences"),
         "%s", f.context.last_error);
  a.num_seqs = 1; /* one sequence through cu_seqlens: runs */
  EXPECT(kda_segment_check(&f.bundle, &a) == KDA_OK, "%s", f.context.last_error);
  a = one_sequence(1000, 2);
  float h = 0;
  a.intermediate_states = (kda_mut_tensor){&h, KDA_DTYPE_FLOAT32};
  EXPECT(kda_segment_check(&f.bundle, &a) == KDA_ERR_UNSUPPORTED &&
             strstr(f.context.last_error, "'intermediate_states'"),
         "%s", f.context.last_error);
  a = one_sequence(1000, 2);
  f.bundle.entries[2].value = "pass_output entering o seq_len value_heads segments";
  EXPECT(kda_segment_check(&f.bundle, &a) == KDA_ERR_UNSUPPORTED &&
             strstr(f.context.last_error, "the correcting kernel's parameters"),
         "%s", f.context.last_error);
}

int main(int argc, char **argv) {
  static const harness_test tests[] = {
      {"plan_fills_one_wave", plan_fills_one_wave},
      {"plans_cover_the_sequence", plans_cover_the_sequence},
      {"plan_of_no_tokens", plan_of_no_tokens},
      {"refuses_what_it_does_not_run", refuses_what_it_does_not_run},
  };
  return harness_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
