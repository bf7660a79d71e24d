/* test_decode.c - the decode step against a state pool: the forward's
 * recurrence on one token per sequence, states gathered and scattered by
 * index, padding rows left alone, bad indices refused. */
#include "problem.h"

enum { N = 3, P = 5, H = 1, HV = 2, K = 4, V = 3 };

typedef struct decode_fixture {
  double q[2][N * H * K], k[2][N * H * K], v[2][N * HV * V], g[2][N * HV * K],
      beta[2][N * HV];
  double pool[P * HV * K * V], pool_before[P * HV * K * V];
  double o[N * HV * V];
  int64_t indices[N];
} decode_fixture;

static void fixture_init(decode_fixture *f) {
  harness_seed(21);
  for (int s = 0; s < 2; ++s) {
    for (int i = 0; i < N * H * K; ++i) {
      f->q[s][i] = harness_uniform(-1, 1);
      f->k[s][i] = harness_uniform(-1, 1);
    }
    for (int i = 0; i < N * HV * V; ++i)
      f->v[s][i] = harness_uniform(-1, 1);
    for (int i = 0; i < N * HV * K; ++i)
      f->g[s][i] = harness_uniform(-0.5, 0);
    for (int i = 0; i < N * HV; ++i)
      f->beta[s][i] = harness_uniform(0, 1);
  }
  for (int i = 0; i < P * HV * K * V; ++i)
    f->pool[i] = f->pool_before[i] = harness_uniform(-1, 1);
  f->indices[0] = 3;
  f->indices[1] = -1; /* padding */
  f->indices[2] = 0;
}

static kda_decode_args decode_args(decode_fixture *f, int step) {
  kda_decode_args a;
  kda_decode_args_init(&a);
  a.num_seqs = N;
  a.num_heads = H;
  a.num_value_heads = HV;
  a.head_dim_k = K;
  a.head_dim_v = V;
  a.pool_size = P;
  a.q = harness_f64(f->q[step]);
  a.k = harness_f64(f->k[step]);
  a.v = harness_f64(f->v[step]);
  a.g = harness_f64(f->g[step]);
  a.beta = harness_f64(f->beta[step]);
  a.state_indices = (kda_tensor){f->indices, KDA_DTYPE_INT64};
  a.state_pool = harness_f64_out(f->pool);
  a.o = harness_f64_out(f->o);
  a.state_layout = KDA_STATE_VK;
  return a;
}

#define EXPECT_DECODE_OK(args)                                                 \
  do {                                                                         \
    kda_error error_;                                                          \
    kda_status status_ = kda_reference_decode(&(args), &error_);               \
    EXPECT(status_ == KDA_OK, "%s: %s", kda_status_string(status_),            \
           error_.message);                                                    \
  } while (0)

/* Two decode steps == the forward over those two tokens from the pool's
 * state, for each real sequence; padding rows give zeros and touch nothing. */
static void decode_matches_the_forward(void) {
  decode_fixture f;
  fixture_init(&f);
  kda_decode_args a0 = decode_args(&f, 0), a1 = decode_args(&f, 1);
  EXPECT_DECODE_OK(a0);
  for (int i = 0; i < N * HV * V; ++i)
    f.o[i] = NAN;
  EXPECT_DECODE_OK(a1);

  const size_t state = HV * K * V;
  for (int n = 0; n < N; ++n) {
    int64_t index = f.indices[n];
    if (index < 0) {
      for (int i = 0; i < HV * V; ++i)
        EXPECT(f.o[n * HV * V + i] == 0.0, "padding row %d not zero", n);
      continue;
    }
    /* [B = 1, T = 2] tokens of sequence n */
    double q[2 * H * K], k[2 * H * K], v[2 * HV * V], g[2 * HV * K], beta[2 * HV];
    for (int s = 0; s < 2; ++s) {
      memcpy(q + s * H * K, f.q[s] + n * H * K, sizeof(double) * H * K);
      memcpy(k + s * H * K, f.k[s] + n * H * K, sizeof(double) * H * K);
      memcpy(v + s * HV * V, f.v[s] + n * HV * V, sizeof(double) * HV * V);
      memcpy(g + s * HV * K, f.g[s] + n * HV * K, sizeof(double) * HV * K);
      memcpy(beta + s * HV, f.beta[s] + n * HV, sizeof(double) * HV);
    }
    double o[2 * HV * V], final_state[HV * K * V];
    problem p = {1, 2, H, HV, K, V, 1, q, k, v, g, beta,
                 f.pool_before + index * state, o, final_state};
    kda_forward_args a = problem_args(&p);
    a.state_layout = KDA_STATE_VK;
    EXPECT_FORWARD_OK(a);
    EXPECT(harness_max_diff(f.o + n * HV * V, o + HV * V, HV * V) == 0,
           "o of sequence %d", n);
    EXPECT(harness_max_diff(f.pool + index * state, final_state, state) == 0,
           "state of sequence %d", n);
  }
  /* slots no sequence uses */
  for (int slot = 0; slot < P; ++slot)
    if (slot != 3 && slot != 0)
      EXPECT(harness_max_diff(f.pool + slot * state, f.pool_before + slot * state,
                              state) == 0,
             "slot %d changed", slot);
}

static void rejects_bad_indices(void) {
  decode_fixture f;
  fixture_init(&f);
  for (int i = 0; i < N * HV * V; ++i)
    f.o[i] = NAN;
  kda_error error;
  kda_decode_args a = decode_args(&f, 0);
  f.indices[2] = 3; /* duplicate of sequence 0 */
  EXPECT(kda_reference_decode(&a, &error) == KDA_ERR_INVALID_ARGUMENT &&
             strstr(error.message, "must be distinct"),
         "duplicate: %s", error.message);
  f.indices[2] = P; /* out of range */
  EXPECT(kda_reference_decode(&a, &error) == KDA_ERR_INVALID_ARGUMENT &&
             strstr(error.message, "'state_indices' must be < pool_size"),
         "range: %s", error.message);
  f.indices[2] = 0;
  a.num_seqs = 0;
  EXPECT(kda_reference_decode(&a, &error) == KDA_ERR_INVALID_ARGUMENT &&
             strstr(error.message, "'num_seqs'"),
         "N: %s", error.message);
  a = decode_args(&f, 0);
  a.state_pool.data = NULL;
  EXPECT(kda_reference_decode(&a, &error) == KDA_ERR_INVALID_ARGUMENT &&
             strstr(error.message, "'state_pool'"),
         "pool: %s", error.message);
  a = decode_args(&f, 0);
  a.q.dtype = KDA_DTYPE_INT32;
  EXPECT(kda_reference_decode(&a, &error) == KDA_ERR_INVALID_ARGUMENT &&
             strstr(error.message, "'q'"),
         "q: %s", error.message);
  a = decode_args(&f, 0);
  a.gate = KDA_GATE_SOFTPLUS;
  EXPECT(kda_reference_decode(&a, &error) == KDA_ERR_INVALID_ARGUMENT &&
             strstr(error.message, "'A_log' is required"),
         "gate: %s", error.message);
  int nan_rows = 0;
  for (int i = 0; i < N * HV * V; ++i)
    nan_rows += isnan(f.o[i]);
  EXPECT(nan_rows == N * HV * V, "a rejected call wrote o");
  EXPECT(memcmp(f.pool, f.pool_before, sizeof f.pool) == 0, "a rejected call wrote the pool");
}

int main(int argc, char **argv) {
  static const harness_test tests[] = {
      {"decode_matches_the_forward", decode_matches_the_forward},
      {"rejects_bad_indices", rejects_bad_indices},
  };
  return harness_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
