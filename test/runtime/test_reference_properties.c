/* test_reference_properties.c - algebraic properties of the reference on
 * random float64 inputs. The reference does the same float64 operations in
 * the same order on both sides of each property, so they hold exactly. */
#include "problem.h"

/* Copies rows [t0, t1) of a [B=1, T, heads, dim] tensor. */
static double *slice_tokens(const double *x, int64_t t0, int64_t t1,
                            int64_t row) {
  size_t n = (size_t)((t1 - t0) * row);
  double *y = malloc(sizeof(double) * (n ? n : 1));
  memcpy(y, x + t0 * row, sizeof(double) * n);
  return y;
}

/* A problem holding tokens [t0, t1) of `p` (B = 1), with the given initial
 * state. Owns its buffers except `initial_state`. */
static problem slice(const problem *p, int64_t t0, int64_t t1,
                     double *initial_state) {
  problem s = *p;
  s.T = t1 - t0;
  s.N = 1;
  s.q = slice_tokens(p->q, t0, t1, p->H * p->K);
  s.k = slice_tokens(p->k, t0, t1, p->H * p->K);
  s.v = slice_tokens(p->v, t0, t1, p->HV * p->V);
  s.g = slice_tokens(p->g, t0, t1, p->HV * p->K);
  s.beta = slice_tokens(p->beta, t0, t1, p->HV);
  s.initial_state = initial_state;
  s.o = harness_poisoned(problem_o_size(&s));
  s.final_state = harness_poisoned(problem_state_size(&s));
  return s;
}

static void free_slice(problem *s) {
  s->initial_state = NULL;
  problem_free(s);
}

/* One call over T tokens == a call over [0, 20) whose final state seeds a
 * call over [20, T). */
static void split_and_chain(void) {
  harness_seed(1);
  problem p = problem_random(1, 37, 2, 4, 8, 6);
  kda_forward_args a = problem_args(&p);
  EXPECT_FORWARD_OK(a);

  problem first = slice(&p, 0, 20, p.initial_state);
  kda_forward_args a1 = problem_args(&first);
  EXPECT_FORWARD_OK(a1);
  problem second = slice(&p, 20, 37, first.final_state);
  kda_forward_args a2 = problem_args(&second);
  EXPECT_FORWARD_OK(a2);

  size_t row = (size_t)(p.HV * p.V);
  EXPECT(harness_max_diff(p.o, first.o, 20 * row) == 0, "o before the split");
  EXPECT(harness_max_diff(p.o + 20 * row, second.o, 17 * row) == 0,
         "o after the split");
  EXPECT(harness_max_diff(p.final_state, second.final_state,
                          problem_state_size(&p)) == 0,
         "final state");
  free_slice(&first);
  free_slice(&second);
  problem_free(&p);
}

/* A packed varlen call (with empty sequences first, inside and last) ==
 * one call per sequence. */
static void varlen_equals_separate_calls(void) {
  harness_seed(2);
  const int64_t cu[] = {0, 0, 5, 5, 17, 18, 30, 30};
  const int64_t N = 7, T = 30;
  problem p = problem_random(1, T, 2, 2, 5, 7);
  p.N = N;
  free(p.initial_state);
  free(p.final_state);
  p.initial_state = harness_random(problem_state_size(&p), -1, 1);
  p.final_state = harness_poisoned(problem_state_size(&p));
  kda_forward_args a = problem_args(&p);
  a.cu_seqlens = (kda_tensor){cu, KDA_DTYPE_INT64};
  a.num_seqs = N;
  EXPECT_FORWARD_OK(a);

  size_t state = (size_t)(p.HV * p.K * p.V), row = (size_t)(p.HV * p.V);
  for (int64_t n = 0; n < N; ++n) {
    problem s = slice(&p, cu[n], cu[n + 1], p.initial_state + n * state);
    kda_forward_args an = problem_args(&s);
    EXPECT_FORWARD_OK(an);
    EXPECT(harness_max_diff(p.o + cu[n] * row, s.o,
                            (size_t)(cu[n + 1] - cu[n]) * row) == 0,
           "o of sequence %lld", (long long)n);
    EXPECT(harness_max_diff(p.final_state + n * state, s.final_state, state) == 0,
           "final state of sequence %lld", (long long)n);
    free_slice(&s);
  }
  problem_free(&p);
}

/* int32 cu_seqlens == int64 cu_seqlens. */
static void varlen_index_widths_agree(void) {
  harness_seed(3);
  const int64_t cu64[] = {0, 3, 3, 11};
  const int32_t cu32[] = {0, 3, 3, 11};
  problem p = problem_random(1, 11, 1, 1, 4, 4);
  p.N = 3;
  free(p.initial_state);
  free(p.final_state);
  p.initial_state = NULL;
  p.final_state = harness_poisoned(problem_state_size(&p));
  kda_forward_args a = problem_args(&p);
  a.num_seqs = 3;
  a.cu_seqlens = (kda_tensor){cu64, KDA_DTYPE_INT64};
  EXPECT_FORWARD_OK(a);
  double *o64 = slice_tokens(p.o, 0, 11, 4), *s64 = slice_tokens(p.final_state, 0, 3, 16);
  a.cu_seqlens = (kda_tensor){cu32, KDA_DTYPE_INT32};
  EXPECT_FORWARD_OK(a);
  EXPECT(harness_max_diff(p.o, o64, 44) == 0, "o");
  EXPECT(harness_max_diff(p.final_state, s64, 48) == 0, "final state");
  free(o64);
  free(s64);
  problem_free(&p);
}

/* Fixed batch B = 3 == three B = 1 calls. */
static void batch_equals_separate_calls(void) {
  harness_seed(4);
  problem p = problem_random(3, 9, 2, 2, 4, 3);
  kda_forward_args a = problem_args(&p);
  EXPECT_FORWARD_OK(a);
  problem flat = p;
  flat.B = 1;
  flat.T = 27;
  size_t state = (size_t)(p.HV * p.K * p.V), row = (size_t)(p.HV * p.V);
  for (int64_t b = 0; b < 3; ++b) {
    problem s = slice(&flat, b * 9, b * 9 + 9, p.initial_state + b * state);
    kda_forward_args ab = problem_args(&s);
    EXPECT_FORWARD_OK(ab);
    EXPECT(harness_max_diff(p.o + b * 9 * row, s.o, 9 * row) == 0, "o of %lld",
           (long long)b);
    EXPECT(harness_max_diff(p.final_state + b * state, s.final_state, state) == 0,
           "state of %lld", (long long)b);
    free_slice(&s);
  }
  problem_free(&p);
}

/* H = 2, HV = 6 == H = 6 with each q/k head repeated HV / H = 3 times
 * (value head hv reads q/k head hv / 3). */
static void grouped_equals_repeated_heads(void) {
  harness_seed(5);
  const int64_t T = 13, H = 2, HV = 6, K = 4, V = 5, group = HV / H;
  problem p = problem_random(1, T, H, HV, K, V);
  kda_forward_args a = problem_args(&p);
  a.qk_l2norm = 1;
  EXPECT_FORWARD_OK(a);

  problem r = p;
  r.H = HV;
  r.q = malloc(sizeof(double) * (size_t)(T * HV * K));
  r.k = malloc(sizeof(double) * (size_t)(T * HV * K));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t hv = 0; hv < HV; ++hv)
      for (int64_t i = 0; i < K; ++i) {
        r.q[(t * HV + hv) * K + i] = p.q[(t * H + hv / group) * K + i];
        r.k[(t * HV + hv) * K + i] = p.k[(t * H + hv / group) * K + i];
      }
  r.o = harness_poisoned(problem_o_size(&r));
  r.final_state = harness_poisoned(problem_state_size(&r));
  kda_forward_args ar = problem_args(&r);
  ar.qk_l2norm = 1;
  EXPECT_FORWARD_OK(ar);
  EXPECT(harness_max_diff(p.o, r.o, problem_o_size(&p)) == 0, "o");
  EXPECT(harness_max_diff(p.final_state, r.final_state, problem_state_size(&p)) == 0,
         "final state");
  free(r.q);
  free(r.k);
  free(r.o);
  free(r.final_state);
  problem_free(&p);
}

/* The vk layout stores the transpose of the kv layout, in and out. */
static void layouts_are_transposes(void) {
  harness_seed(6);
  problem p = problem_random(2, 7, 1, 2, 3, 5);
  kda_forward_args a = problem_args(&p);
  EXPECT_FORWARD_OK(a);

  size_t n = problem_state_size(&p);
  double *s0t = malloc(sizeof(double) * n), *o = harness_poisoned(problem_o_size(&p)),
         *s1t = harness_poisoned(n);
  for (int64_t m = 0; m < p.N * p.HV; ++m)
    for (int64_t i = 0; i < p.K; ++i)
      for (int64_t j = 0; j < p.V; ++j)
        s0t[(m * p.V + j) * p.K + i] = p.initial_state[(m * p.K + i) * p.V + j];
  a.state_layout = KDA_STATE_VK;
  a.initial_state = harness_f64(s0t);
  a.final_state = harness_f64_out(s1t);
  a.o = harness_f64_out(o);
  EXPECT_FORWARD_OK(a);
  EXPECT(harness_max_diff(p.o, o, problem_o_size(&p)) == 0, "o");
  int bad = 0;
  for (int64_t m = 0; m < p.N * p.HV; ++m)
    for (int64_t i = 0; i < p.K; ++i)
      for (int64_t j = 0; j < p.V; ++j)
        bad += s1t[(m * p.V + j) * p.K + i] != p.final_state[(m * p.K + i) * p.V + j];
  EXPECT(bad == 0, "%d final-state elements differ from the transpose", bad);
  free(s0t);
  free(s1t);
  free(o);
  problem_free(&p);
}

/* Every output element is written: nothing stays poisoned, on a shape with
 * K != V, grouped heads and a batch. */
static void writes_every_output(void) {
  harness_seed(8);
  problem p = problem_random(2, 5, 1, 3, 6, 2);
  kda_forward_args a = problem_args(&p);
  EXPECT_FORWARD_OK(a);
  int nans = 0;
  for (size_t i = 0; i < problem_o_size(&p); ++i)
    nans += isnan(p.o[i]);
  for (size_t i = 0; i < problem_state_size(&p); ++i)
    nans += isnan(p.final_state[i]);
  EXPECT(nans == 0, "%d output elements left unwritten", nans);
  problem_free(&p);
}

/* The intermediate state of chunk c is the final state of the sequence's
 * first c * interval tokens; varlen sequences (an empty one included) own
 * ceil(len / interval) entries each, in order. */
static void intermediate_states_are_prefix_states(void) {
  harness_seed(9);
  const int64_t cu[] = {0, 10, 10, 23};
  const int64_t N = 3, T = 23, interval = 4, entries = 3 + 0 + 4;
  problem p = problem_random(1, T, 1, 2, 3, 5);
  p.N = N;
  free(p.initial_state);
  free(p.final_state);
  p.initial_state = harness_random(problem_state_size(&p), -1, 1);
  p.final_state = harness_poisoned(problem_state_size(&p));
  size_t state = (size_t)(p.HV * p.K * p.V);
  double *h = harness_poisoned((size_t)entries * state);
  kda_forward_args a = problem_args(&p);
  a.cu_seqlens = (kda_tensor){cu, KDA_DTYPE_INT64};
  a.num_seqs = N;
  a.state_layout = KDA_STATE_VK;
  a.intermediate_states = harness_f64_out(h);
  a.intermediate_interval = interval;
  EXPECT_FORWARD_OK(a);

  int64_t entry = 0;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t t0 = 0; t0 < cu[n + 1] - cu[n]; t0 += interval, ++entry) {
      problem prefix = slice(&p, cu[n], cu[n] + t0, p.initial_state + n * state);
      kda_forward_args ap = problem_args(&prefix);
      ap.state_layout = KDA_STATE_VK;
      EXPECT_FORWARD_OK(ap);
      EXPECT(harness_max_diff(h + entry * state, prefix.final_state, state) == 0,
             "entry %lld (sequence %lld, token %lld)", (long long)entry, (long long)n,
             (long long)t0);
      free_slice(&prefix);
    }
  EXPECT(entry == entries, "%lld entries", (long long)entry);
  free(h);
  problem_free(&p);
}

int main(int argc, char **argv) {
  static const harness_test tests[] = {
      {"split_and_chain", split_and_chain},
      {"varlen_equals_separate_calls", varlen_equals_separate_calls},
      {"varlen_index_widths_agree", varlen_index_widths_agree},
      {"batch_equals_separate_calls", batch_equals_separate_calls},
      {"grouped_equals_repeated_heads", grouped_equals_repeated_heads},
      {"layouts_are_transposes", layouts_are_transposes},
      {"writes_every_output", writes_every_output},
      {"intermediate_states_are_prefix_states", intermediate_states_are_prefix_states},
  };
  return harness_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
