/* test_validation.c - every bad argument is rejected with
 * KDA_ERR_INVALID_ARGUMENT and a message naming it, and nothing is written
 * to the (poisoned) outputs. */
#include "problem.h"

/* A valid varlen problem with every optional input present, lower_bound
 * gate: each case below breaks exactly one thing in a copy of its args. */
typedef struct fixture {
  problem p;
  float a_log[2], dt_bias[2 * 4];
  int64_t cu[3];
  kda_forward_args args;
} fixture;

static void fixture_init(fixture *f) {
  harness_seed(11);
  f->p = problem_random(1, 6, 1, 2, 4, 3);
  f->p.N = 2;
  free(f->p.initial_state);
  free(f->p.final_state);
  f->p.initial_state = harness_random(problem_state_size(&f->p), -1, 1);
  f->p.final_state = harness_poisoned(problem_state_size(&f->p));
  for (int i = 0; i < 2; ++i)
    f->a_log[i] = 0.1f * (float)i;
  for (int i = 0; i < 8; ++i)
    f->dt_bias[i] = 0.05f * (float)i;
  f->cu[0] = 0;
  f->cu[1] = 4;
  f->cu[2] = 6;
  f->args = problem_args(&f->p);
  f->args.num_seqs = 2;
  f->args.cu_seqlens = (kda_tensor){f->cu, KDA_DTYPE_INT64};
  f->args.gate = KDA_GATE_LOWER_BOUND;
  f->args.lower_bound = -5.0;
  f->args.A_log = (kda_tensor){f->a_log, KDA_DTYPE_FLOAT32};
  f->args.dt_bias = (kda_tensor){f->dt_bias, KDA_DTYPE_FLOAT32};
}

/* True when every element of both outputs is still the NaN poison. */
static bool outputs_untouched(const fixture *f) {
  for (size_t i = 0; i < problem_o_size(&f->p); ++i)
    if (!isnan(f->p.o[i]))
      return false;
  for (size_t i = 0; i < problem_state_size(&f->p); ++i)
    if (!isnan(f->p.final_state[i]))
      return false;
  return true;
}

/* Runs the reference on `args` and expects a rejection whose message
 * contains `needle`, with the outputs untouched. */
static void expect_rejected(const fixture *f, const kda_forward_args *args,
                            const char *needle, int line) {
  kda_error error;
  strcpy(error.message, "(unset)");
  kda_status status = kda_reference_forward(args, &error);
  EXPECT(status == KDA_ERR_INVALID_ARGUMENT, "line %d: status %s", line,
         kda_status_string(status));
  EXPECT(strstr(error.message, needle) != NULL,
         "line %d: message '%s' does not mention '%s'", line, error.message,
         needle);
  EXPECT(outputs_untouched(f), "line %d: an output was written", line);
  /* validate alone says the same */
  kda_error again;
  EXPECT(kda_forward_validate(args, &again) == KDA_ERR_INVALID_ARGUMENT &&
             strcmp(again.message, error.message) == 0,
         "line %d: kda_forward_validate disagrees: '%s'", line, again.message);
}

#define REJECT(mutation, needle)                                               \
  do {                                                                         \
    kda_forward_args a = f.args;                                               \
    mutation;                                                                  \
    expect_rejected(&f, &a, needle, __LINE__);                                 \
  } while (0)

static void fixture_is_valid(void) {
  fixture f;
  fixture_init(&f);
  kda_error error;
  EXPECT(kda_forward_validate(&f.args, &error) == KDA_OK, "%s", error.message);
  EXPECT(outputs_untouched(&f), "validate wrote an output");
  EXPECT_FORWARD_OK(f.args);
  EXPECT(!isnan(f.p.o[0]) && !isnan(f.p.final_state[0]), "outputs written");
  problem_free(&f.p);
}

static void rejects_bad_dimensions(void) {
  fixture f;
  fixture_init(&f);
  kda_error error;
  EXPECT(kda_reference_forward(NULL, &error) == KDA_ERR_INVALID_ARGUMENT &&
             strstr(error.message, "'args'"),
         "NULL args: %s", error.message);
  EXPECT(kda_forward_validate(NULL, NULL) == KDA_ERR_INVALID_ARGUMENT,
         "a NULL error is allowed");
  REJECT(a.batch = 0, "'batch'");
  REJECT(a.seq_len = -1, "'seq_len'");
  REJECT(a.num_heads = 0, "'num_heads'");
  REJECT(a.num_value_heads = 0, "'num_value_heads'");
  REJECT((a.num_heads = 2, a.num_value_heads = 3), "'num_value_heads'");
  REJECT(a.head_dim_k = 0, "'head_dim_k'");
  REJECT(a.head_dim_k = KDA_MAX_HEAD_SIZE + 1, "'head_dim_k'");
  REJECT(a.head_dim_v = 300, "'head_dim_v'");
  REJECT((a.seq_len = INT64_MAX / 2, a.cu_seqlens.data = NULL), "overflow");
  problem_free(&f.p);
}

static void rejects_bad_tensors(void) {
  fixture f;
  fixture_init(&f);
  REJECT(a.q.data = NULL, "'q'");
  REJECT(a.k.data = NULL, "'k'");
  REJECT(a.v.data = NULL, "'v'");
  REJECT(a.g.data = NULL, "'g'");
  REJECT(a.beta.data = NULL, "'beta'");
  REJECT(a.o.data = NULL, "'o'");
  REJECT(a.q.dtype = KDA_DTYPE_INT32, "'q'");
  REJECT(a.q.dtype = (kda_dtype)42, "'q'");
  REJECT(a.k.dtype = KDA_DTYPE_FLOAT32, "'k'");
  REJECT(a.v.dtype = KDA_DTYPE_BFLOAT16, "'v'");
  REJECT(a.g.dtype = KDA_DTYPE_FLOAT16, "'g'");
  REJECT(a.beta.dtype = KDA_DTYPE_FLOAT16, "'beta'");
  REJECT(a.o.dtype = KDA_DTYPE_FLOAT32, "'o'");
  REJECT(a.initial_state.dtype = KDA_DTYPE_FLOAT16, "'initial_state'");
  REJECT(a.final_state.dtype = KDA_DTYPE_INT64, "'final_state'");
  REJECT(a.A_log.dtype = KDA_DTYPE_BFLOAT16, "'A_log'");
  REJECT(a.dt_bias.dtype = KDA_DTYPE_FLOAT64, "'dt_bias'");
  REJECT((a.intermediate_states = (kda_mut_tensor){f.p.o, KDA_DTYPE_INT32}),
         "'intermediate_states'");
  REJECT((a.intermediate_states = (kda_mut_tensor){f.p.o, KDA_DTYPE_FLOAT64},
          a.intermediate_interval = 0),
         "'intermediate_interval'");
  /* outputs overlapping inputs or each other */
  REJECT(a.o.data = f.p.q, "'o' overlaps input 'q'");
  REJECT(a.final_state.data = (void *)f.cu, "'final_state' overlaps input 'cu_seqlens'");
  REJECT(a.final_state.data = f.p.o + 1, "'final_state' overlaps output 'o'");
  problem_free(&f.p);
}

static void rejects_bad_modes(void) {
  fixture f;
  fixture_init(&f);
  REJECT(a.gate = (kda_gate_mode)7, "'gate'");
  REJECT(a.beta_mode = (kda_beta_mode)9, "'beta_mode'");
  REJECT(a.state_layout = (kda_state_layout)5, "'state_layout'");
  REJECT(a.scale = -1.0, "'scale'");
  REJECT(a.scale = INFINITY, "'scale'");
  REJECT(a.scale = NAN, "'scale'");
  REJECT(a.lower_bound = 0.0, "'lower_bound'");
  REJECT(a.lower_bound = -5.5, "'lower_bound'");
  REJECT(a.gate = KDA_GATE_SOFTPLUS, "'lower_bound' is only used");
  REJECT((a.gate = KDA_GATE_PRECOMPUTED, a.lower_bound = 0, a.dt_bias.data = NULL),
         "'A_log' is only used");
  REJECT((a.gate = KDA_GATE_PRECOMPUTED, a.lower_bound = 0, a.A_log.data = NULL),
         "'dt_bias' is only used");
  REJECT((a.gate = KDA_GATE_SOFTPLUS, a.lower_bound = 0, a.A_log.data = NULL),
         "'A_log' is required");
  problem_free(&f.p);
}

static void rejects_bad_cu_seqlens(void) {
  fixture f;
  fixture_init(&f);
  const int64_t starts_at_one[] = {1, 4, 6}, decreasing[] = {0, 4, 3},
                ends_short[] = {0, 4, 5};
  REJECT(a.batch = 2, "'cu_seqlens' requires batch");
  REJECT(a.num_seqs = 0, "'num_seqs'");
  REJECT(a.cu_seqlens.dtype = KDA_DTYPE_FLOAT32, "'cu_seqlens' must be int32 or int64");
  REJECT(a.cu_seqlens.data = starts_at_one, "must start at 0");
  REJECT(a.cu_seqlens.data = decreasing, "non-decreasing");
  REJECT(a.cu_seqlens.data = ends_short, "must end at seq_len");
  problem_free(&f.p);
}

/* Statuses have names; the version matches the header. */
static void status_strings_and_version(void) {
  EXPECT(strcmp(kda_status_string(KDA_OK), "KDA_OK") == 0, "KDA_OK");
  EXPECT(strcmp(kda_status_string(KDA_ERR_INVALID_ARGUMENT),
                "KDA_ERR_INVALID_ARGUMENT") == 0, "invalid argument");
  EXPECT(strcmp(kda_status_string((kda_status)999), "KDA_ERR_UNKNOWN_STATUS") == 0,
         "unknown");
  EXPECT(kda_version_number() == KDA_VERSION_NUMBER, "version");
  EXPECT(kda_dtype_size(KDA_DTYPE_BFLOAT16) == 2 && kda_dtype_size((kda_dtype)77) == 0,
         "dtype sizes");
}

int main(int argc, char **argv) {
  static const harness_test tests[] = {
      {"fixture_is_valid", fixture_is_valid},
      {"rejects_bad_dimensions", rejects_bad_dimensions},
      {"rejects_bad_tensors", rejects_bad_tensors},
      {"rejects_bad_modes", rejects_bad_modes},
      {"rejects_bad_cu_seqlens", rejects_bad_cu_seqlens},
      {"status_strings_and_version", status_strings_and_version},
  };
  return harness_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
