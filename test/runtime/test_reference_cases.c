/* test_reference_cases.c - the reference on cases small enough to compute by
 * hand; each expected value is worked out in the comment above it. */
#include "problem.h"

/* Scalar state (K = V = 1), two tokens, scale 1:
 *   t1: S = 0.5 * 0 = 0;  delta = 0.5 * (2 - 0) = 1;  S = 1;  o = 1 * 1 = 1
 *   t2: S = 0.5 * 1;      delta = 1 * (4 - 0.5) = 3.5; S = 4; o = 4 * 2 = 8 */
static void scalar_two_tokens(void) {
  double q[] = {1, 2}, k[] = {1, 1}, v[] = {2, 4}, g[] = {log(0.5), log(0.5)},
         beta[] = {0.5, 1}, o[] = {NAN, NAN}, s[] = {NAN};
  problem p = {1, 2, 1, 1, 1, 1, 1, q, k, v, g, beta, NULL, o, s};
  kda_forward_args a = problem_args(&p);
  a.scale = 1.0;
  EXPECT_FORWARD_OK(a);
  EXPECT_NEAR(o[0], 1.0, 0);
  EXPECT_NEAR(o[1], 8.0, 0);
  EXPECT_NEAR(s[0], 4.0, 0);
}

/* K = 2, V = 1, l2norm, default scale 2^-0.5, no decay, beta 1:
 *   k = (3, 4) / sqrt(25 + 1e-6), q = (1, 0) / sqrt(1 + 1e-6)
 *   S = k * (v - 0) = 10 k;  o = S^T (q / sqrt 2) = 10 * 3 / sqrt(25 + 1e-6)
 *                                                  / sqrt(1 + 1e-6) / sqrt 2 */
static void l2norm_and_default_scale(void) {
  double q[] = {1, 0}, k[] = {3, 4}, v[] = {10}, g[] = {0, 0}, beta[] = {1},
         o[] = {NAN}, s[] = {NAN, NAN};
  problem p = {1, 1, 1, 1, 2, 1, 1, q, k, v, g, beta, NULL, o, s};
  kda_forward_args a = problem_args(&p);
  a.qk_l2norm = 1;
  EXPECT_FORWARD_OK(a);
  double kn = sqrt(25 + 1e-6), qn = sqrt(1 + 1e-6);
  EXPECT_NEAR(o[0], 10 * 3 / kn / qn / sqrt(2.0), 1e-15);
  EXPECT_NEAR(s[0], 10 * 3 / kn, 1e-15);
  EXPECT_NEAR(s[1], 10 * 4 / kn, 1e-14);
}

/* The delta rule corrects against the decayed state, not the old one:
 * S0 = 8, g = log 0.25, k = 1, v = 3, beta = 1 gives S = 2 + (3 - 2) = 3
 * (correcting against the undecayed 8 would give 2 + (3 - 8) = -3). */
static void decay_before_correction(void) {
  double q[] = {1}, k[] = {1}, v[] = {3}, g[] = {log(0.25)}, beta[] = {1},
         s0[] = {8}, o[] = {NAN}, s[] = {NAN};
  problem p = {1, 1, 1, 1, 1, 1, 1, q, k, v, g, beta, s0, o, s};
  kda_forward_args a = problem_args(&p);
  a.scale = 1.0;
  EXPECT_FORWARD_OK(a);
  EXPECT_NEAR(s[0], 3.0, 1e-15);
  EXPECT_NEAR(o[0], 3.0, 1e-15);
}

/* One token, S0 = 1, k = 0 (so only the decay acts), q = 1, scale 1: the
 * output is exp(log decay). Each gate mode, HV = 1, K = 1. */
static double decay_of(kda_gate_mode mode, double raw, const float *a_log,
                       const float *dt_bias, double lower_bound) {
  double q[] = {1}, k[] = {0}, v[] = {0}, g[] = {raw}, beta[] = {1}, s0[] = {1},
         o[] = {NAN}, s[] = {NAN};
  problem p = {1, 1, 1, 1, 1, 1, 1, q, k, v, g, beta, s0, o, s};
  kda_forward_args a = problem_args(&p);
  a.scale = 1.0;
  a.gate = mode;
  a.lower_bound = lower_bound;
  if (a_log)
    a.A_log = (kda_tensor){a_log, KDA_DTYPE_FLOAT32};
  if (dt_bias)
    a.dt_bias = (kda_tensor){dt_bias, KDA_DTYPE_FLOAT32};
  EXPECT_FORWARD_OK(a);
  return o[0];
}

static void gate_modes(void) {
  const float log2f_ = 0.693147180559945309f, zero = 0.0f, one = 1.0f;
  /* precomputed: exp(-0.3) */
  EXPECT_NEAR(decay_of(KDA_GATE_PRECOMPUTED, -0.3, NULL, NULL, 0), exp(-0.3), 1e-16);
  /* softplus, A_log = ln 2 (as float), g = 0, no bias:
   * -2 * softplus(0) = -2 ln 2, decay 1/4 (up to A_log's float rounding) */
  EXPECT_NEAR(decay_of(KDA_GATE_SOFTPLUS, 0.0, &log2f_, NULL, 0),
              exp(-exp((double)log2f_) * log(2.0)), 1e-16);
  EXPECT_NEAR(decay_of(KDA_GATE_SOFTPLUS, 0.0, &log2f_, NULL, 0), 0.25, 1e-7);
  /* softplus with dt_bias = 1 and g = -1: softplus(0) again */
  EXPECT_NEAR(decay_of(KDA_GATE_SOFTPLUS, -1.0, &zero, &one, 0), 0.5, 1e-16);
  /* softplus far out: g = 1000 gives -1000 per step (no overflow, no NaN) */
  EXPECT_NEAR(decay_of(KDA_GATE_SOFTPLUS, 1000.0, &zero, NULL, 0), exp(-1000.0), 0);
  /* lower_bound -4, A_log = 0, g + bias = 0: -4 * sigmoid(0) = -2 */
  EXPECT_NEAR(decay_of(KDA_GATE_LOWER_BOUND, 0.0, &zero, NULL, -4.0), exp(-2.0), 1e-16);
  /* lower_bound without A_log: -4 * sigmoid(ln 3) = -4 * 3/4 = -3 */
  EXPECT_NEAR(decay_of(KDA_GATE_LOWER_BOUND, log(3.0), NULL, NULL, -4.0), exp(-3.0), 1e-15);
  /* lower_bound with A_log = ln 2: exp(A_log) scales the argument:
   * -4 * sigmoid(2 * ln 3 / 2) = -3 */
  EXPECT_NEAR(decay_of(KDA_GATE_LOWER_BOUND, log(3.0) / exp((double)log2f_),
                       &log2f_, NULL, -4.0),
              exp(-3.0), 1e-15);
}

/* One token from S0 = 0 with k = 1, v = 1: S = beta. */
static double beta_of(kda_beta_mode mode, double raw) {
  double q[] = {1}, k[] = {1}, v[] = {1}, g[] = {0}, beta[] = {raw},
         o[] = {NAN}, s[] = {NAN};
  problem p = {1, 1, 1, 1, 1, 1, 1, q, k, v, g, beta, NULL, o, s};
  kda_forward_args a = problem_args(&p);
  a.beta_mode = mode;
  EXPECT_FORWARD_OK(a);
  return s[0];
}

static void beta_modes(void) {
  EXPECT_NEAR(beta_of(KDA_BETA_PLAIN, 0.3), 0.3, 1e-16);
  EXPECT_NEAR(beta_of(KDA_BETA_SIGMOID, 0.0), 0.5, 1e-16);
  EXPECT_NEAR(beta_of(KDA_BETA_SIGMOID, log(3.0)), 0.75, 1e-15);
  EXPECT_NEAR(beta_of(KDA_BETA_SIGMOID_NEG_EIGVAL, log(3.0)), 1.5, 1e-15);
}

/* K = 2, V = 3, no token: the final state is the initial state, element for
 * element, in both layouts; the vk layout stores S^T. */
static void empty_sequence_keeps_state(void) {
  double s0[6] = {1, 2, 3, 4, 5, 6}, s[6];
  for (int layout = KDA_STATE_KV; layout <= KDA_STATE_VK; ++layout) {
    for (int i = 0; i < 6; ++i)
      s[i] = NAN;
    problem p = {1, 0, 1, 1, 2, 3, 1, NULL, NULL, NULL, NULL, NULL, s0, NULL, s};
    kda_forward_args a = problem_args(&p);
    a.state_layout = (kda_state_layout)layout;
    EXPECT_FORWARD_OK(a);
    EXPECT(memcmp(s, s0, sizeof s) == 0, "layout %d changed the state", layout);
  }
}

/* K = 2, V = 1, one token from S0 = (1, 2)^T, scale 1, k = (1, 0), v = 5,
 * beta 1, decay (1/2, 1/4), q = (1, 1):
 *   S = (0.5, 0.5);  delta = 5 - 0.5 = 4.5;  S = (5, 0.5);  o = 5.5
 * With V = 1 the two layouts store the same numbers. */
static void per_channel_decay(void) {
  double q[] = {1, 1}, k[] = {1, 0}, v[] = {5}, g[] = {log(0.5), log(0.25)},
         beta[] = {1}, s0[] = {1, 2}, o[] = {NAN}, s[] = {NAN, NAN};
  problem p = {1, 1, 1, 1, 2, 1, 1, q, k, v, g, beta, s0, o, s};
  kda_forward_args a = problem_args(&p);
  a.scale = 1.0;
  EXPECT_FORWARD_OK(a);
  EXPECT_NEAR(o[0], 5.5, 1e-15);
  EXPECT_NEAR(s[0], 5.0, 1e-15);
  EXPECT_NEAR(s[1], 0.5, 1e-15);
}

/* H = 1, HV = 2: both value heads read q/k head 0 but their own v, g, beta.
 * One token, K = V = 1, scale 1, q = k = 1, v = (1, 6), beta = (1, 0.5):
 *   head 0: S = 1, o = 1;  head 1: S = 0.5 * 6 = 3, o = 3. */
static void grouped_value_heads(void) {
  double q[] = {1}, k[] = {1}, v[] = {1, 6}, g[] = {0, 0}, beta[] = {1, 0.5},
         o[] = {NAN, NAN}, s[] = {NAN, NAN};
  problem p = {1, 1, 1, 2, 1, 1, 1, q, k, v, g, beta, NULL, o, s};
  kda_forward_args a = problem_args(&p);
  a.scale = 1.0;
  EXPECT_FORWARD_OK(a);
  EXPECT_NEAR(o[0], 1.0, 0);
  EXPECT_NEAR(o[1], 3.0, 0);
}

/* bf16 in, bf16 out: q = k = 1, v = 1 + 2^-7 (exact in bf16), beta 1,
 * scale 1 + 2^-7: o = (1 + 2^-7)^2 = 1 + 2^-6 + 2^-14 in float64, which
 * rounds once, to bf16 1 + 2^-6 (0x3F82). */
static void bf16_io_rounds_once(void) {
  uint16_t q[] = {0x3F80}, k[] = {0x3F80}, v[] = {0x3F81}, g[] = {0x0000},
           beta[] = {0x3F80}, o[] = {0xFFFF};
  kda_forward_args a;
  kda_forward_args_init(&a);
  a.batch = a.seq_len = a.num_heads = a.num_value_heads = 1;
  a.head_dim_k = a.head_dim_v = 1;
  a.q = (kda_tensor){q, KDA_DTYPE_BFLOAT16};
  a.k = (kda_tensor){k, KDA_DTYPE_BFLOAT16};
  a.v = (kda_tensor){v, KDA_DTYPE_BFLOAT16};
  a.g = (kda_tensor){g, KDA_DTYPE_BFLOAT16};
  a.beta = (kda_tensor){beta, KDA_DTYPE_BFLOAT16};
  a.o = (kda_mut_tensor){o, KDA_DTYPE_BFLOAT16};
  a.scale = 1.0 + ldexp(1, -7);
  EXPECT_FORWARD_OK(a);
  EXPECT(o[0] == 0x3F82, "o = 0x%04x, want 0x3F82", o[0]);
}

int main(int argc, char **argv) {
  static const harness_test tests[] = {
      {"scalar_two_tokens", scalar_two_tokens},
      {"l2norm_and_default_scale", l2norm_and_default_scale},
      {"decay_before_correction", decay_before_correction},
      {"gate_modes", gate_modes},
      {"beta_modes", beta_modes},
      {"empty_sequence_keeps_state", empty_sequence_keeps_state},
      {"per_channel_decay", per_channel_decay},
      {"grouped_value_heads", grouped_value_heads},
      {"bf16_io_rounds_once", bf16_io_rounds_once},
  };
  return harness_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
