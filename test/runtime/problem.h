/* problem.h - one forward problem in float64 for the C tests: random inputs,
 * poisoned outputs, and the kda_forward_args that point at them. */
#ifndef KDA_TEST_RUNTIME_PROBLEM_H
#define KDA_TEST_RUNTIME_PROBLEM_H

#include "harness.h"

typedef struct problem {
  int64_t B, T, H, HV, K, V, N;
  double *q, *k, *v, *g, *beta, *initial_state; /* inputs */
  double *o, *final_state;                      /* outputs, poisoned */
} problem;

static inline size_t problem_o_size(const problem *p) {
  return (size_t)(p->B * p->T * p->HV * p->V);
}

static inline size_t problem_state_size(const problem *p) {
  return (size_t)(p->N * p->HV * p->K * p->V);
}

/* Random inputs in the ranges the model produces: |q|, |k|, |v| <= 1, log
 * decays in [-0.5, 0], beta in [0, 1], an initial state in [-1, 1]. */
static inline problem problem_random(int64_t B, int64_t T, int64_t H,
                                     int64_t HV, int64_t K, int64_t V) {
  problem p = {B, T, H, HV, K, V, B, 0, 0, 0, 0, 0, 0, 0, 0};
  size_t tokens = (size_t)(B * T);
  p.q = harness_random(tokens * (size_t)(H * K), -1, 1);
  p.k = harness_random(tokens * (size_t)(H * K), -1, 1);
  p.v = harness_random(tokens * (size_t)(HV * V), -1, 1);
  p.g = harness_random(tokens * (size_t)(HV * K), -0.5, 0);
  p.beta = harness_random(tokens * (size_t)HV, 0, 1);
  p.initial_state = harness_random(problem_state_size(&p), -1, 1);
  p.o = harness_poisoned(problem_o_size(&p));
  p.final_state = harness_poisoned(problem_state_size(&p));
  return p;
}

static inline kda_forward_args problem_args(const problem *p) {
  kda_forward_args a;
  kda_forward_args_init(&a);
  a.batch = p->B;
  a.seq_len = p->T;
  a.num_heads = p->H;
  a.num_value_heads = p->HV;
  a.head_dim_k = p->K;
  a.head_dim_v = p->V;
  a.q = harness_f64(p->q);
  a.k = harness_f64(p->k);
  a.v = harness_f64(p->v);
  a.g = harness_f64(p->g);
  a.beta = harness_f64(p->beta);
  a.initial_state = harness_f64(p->initial_state);
  a.o = harness_f64_out(p->o);
  a.final_state = harness_f64_out(p->final_state);
  return a;
}

static inline void problem_free(problem *p) {
  free(p->q);
  free(p->k);
  free(p->v);
  free(p->g);
  free(p->beta);
  free(p->initial_state);
  free(p->o);
  free(p->final_state);
}

/* Runs the reference and expects success. */
#define EXPECT_FORWARD_OK(args)                                                \
  do {                                                                         \
    kda_error error_;                                                          \
    kda_status status_ = kda_reference_forward(&(args), &error_);              \
    EXPECT(status_ == KDA_OK, "%s: %s", kda_status_string(status_),            \
           error_.message);                                                    \
  } while (0)

#endif /* KDA_TEST_RUNTIME_PROBLEM_H */
