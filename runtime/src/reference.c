/* reference.c - the exact float64 reference of Kimi Delta Attention.
 *
 * The recurrence of spec §2, token by token, exactly as written: no
 * chunking, no reassociation, every input widened to double. It is the
 * oracle every kernel is tested against and the CPU backend of the Python
 * front, so it favours plainness over speed. */
#include "internal.h"

#include <math.h>
#include <stdlib.h>

double kda_gate_log_decay(kda_gate_mode mode, double raw, double a_log,
                          bool has_a_log, double dt_bias, double lower_bound) {
  switch (mode) {
  case KDA_GATE_PRECOMPUTED:
    return raw;
  case KDA_GATE_SOFTPLUS: {
    double x = raw + dt_bias;
    double softplus = fmax(x, 0.0) + log1p(exp(-fabs(x))); /* overflow-free */
    return -exp(a_log) * softplus;
  }
  case KDA_GATE_LOWER_BOUND: {
    double x = raw + dt_bias;
    if (has_a_log)
      x *= exp(a_log);
    return lower_bound / (1.0 + exp(-x)); /* lower_bound * sigmoid(x) */
  }
  }
  return NAN;
}

double kda_beta_value(kda_beta_mode mode, double raw) {
  switch (mode) {
  case KDA_BETA_PLAIN:
    return raw;
  case KDA_BETA_SIGMOID:
    return 1.0 / (1.0 + exp(-raw));
  case KDA_BETA_SIGMOID_NEG_EIGVAL:
    return 2.0 / (1.0 + exp(-raw));
  }
  return NAN;
}

/* Scratch for one (sequence, value head): the state and one token's
 * vectors, all float64. */
typedef struct scratch {
  double *state; /* [K][V], row-major whatever the layout in memory */
  double *q, *k, *decay; /* [K] */
  double *v, *delta;     /* [V] */
} scratch;

/* Index of state element (i, j) = (key channel, value channel) of one
 * (sequence, value head) whose state starts at `base`. */
static size_t state_index(const kda_forward_args *a, size_t base, int64_t i,
                          int64_t j) {
  if (a->state_layout == KDA_STATE_KV)
    return base + (size_t)(i * a->head_dim_v + j);
  return base + (size_t)(j * a->head_dim_k + i);
}

/* Writes the [K][V] state into `out` at element `base` in the call's layout. */
static void store_state(const kda_forward_args *a, kda_mut_tensor out, size_t base,
                        const double *state) {
  for (int64_t i = 0; i < a->head_dim_k; ++i)
    for (int64_t j = 0; j < a->head_dim_v; ++j)
      kda_store(out.data, out.dtype, state_index(a, base, i, j),
                state[i * a->head_dim_v + j]);
}

/* Loads row `row` (length `n`, starting at element row * n) as doubles, l2
 * normalised when asked: x / sqrt(sum(x^2) + eps). */
static void load_row(const kda_tensor *t, size_t row, int64_t n, bool l2norm,
                     double *out) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    out[i] = kda_load(t->data, t->dtype, row * (size_t)n + (size_t)i);
    sum += out[i] * out[i];
  }
  if (!l2norm)
    return;
  double inv_norm = 1.0 / sqrt(sum + KDA_L2NORM_EPS);
  for (int64_t i = 0; i < n; ++i)
    out[i] *= inv_norm;
}

/* Runs tokens [begin, end) of one packed row range through one value head,
 * starting from and leaving the state in `s->state`. Tokens are indexed in
 * the flattened [B*T] token axis. */
static void run_sequence(const kda_forward_args *a, int64_t hv, int64_t begin,
                         int64_t end, double scale, int64_t first_entry,
                         scratch *s) {
  const int64_t H = a->num_heads, HV = a->num_value_heads,
                K = a->head_dim_k, V = a->head_dim_v;
  const int64_t h = hv / (HV / H); /* grouped value heads share q/k head h */
  const bool has_a_log = a->A_log.data != NULL;
  const double a_log =
      has_a_log ? kda_load(a->A_log.data, a->A_log.dtype, (size_t)hv) : 0.0;

  for (int64_t t = begin; t < end; ++t) {
    /* The state entering each intermediate_interval-token chunk. */
    if (a->intermediate_states.data && (t - begin) % a->intermediate_interval == 0) {
      int64_t entry = first_entry + (t - begin) / a->intermediate_interval;
      store_state(a, a->intermediate_states, (size_t)((entry * HV + hv) * a->head_dim_k *
                                                      a->head_dim_v), s->state);
    }
    const size_t qk_row = (size_t)(t * H + h), head_row = (size_t)(t * HV + hv);
    load_row(&a->q, qk_row, K, a->qk_l2norm, s->q);
    load_row(&a->k, qk_row, K, a->qk_l2norm, s->k);
    load_row(&a->v, head_row, V, false, s->v);
    for (int64_t i = 0; i < K; ++i) {
      double raw = kda_load(a->g.data, a->g.dtype, head_row * (size_t)K + (size_t)i);
      double bias = a->dt_bias.data
                        ? kda_load(a->dt_bias.data, a->dt_bias.dtype,
                                   (size_t)(hv * K + i))
                        : 0.0;
      s->decay[i] = exp(kda_gate_log_decay(a->gate, raw, a_log, has_a_log,
                                           bias, a->lower_bound));
    }
    const double beta = kda_beta_value(
        a->beta_mode, kda_load(a->beta.data, a->beta.dtype, head_row));

    /* S <- Diag(exp(g)) S */
    for (int64_t i = 0; i < K; ++i)
      for (int64_t j = 0; j < V; ++j)
        s->state[i * V + j] *= s->decay[i];
    /* delta = beta (v - S^T k);  S <- S + k delta^T */
    for (int64_t j = 0; j < V; ++j) {
      double projection = 0.0;
      for (int64_t i = 0; i < K; ++i)
        projection += s->state[i * V + j] * s->k[i];
      s->delta[j] = beta * (s->v[j] - projection);
    }
    for (int64_t i = 0; i < K; ++i)
      for (int64_t j = 0; j < V; ++j)
        s->state[i * V + j] += s->k[i] * s->delta[j];
    /* o = S^T (scale q) */
    for (int64_t j = 0; j < V; ++j) {
      double out = 0.0;
      for (int64_t i = 0; i < K; ++i)
        out += s->state[i * V + j] * (scale * s->q[i]);
      kda_store(a->o.data, a->o.dtype, head_row * (size_t)V + (size_t)j, out);
    }
  }
}

kda_status kda_reference_forward(const kda_forward_args *a, kda_error *e) {
  kda_status status = kda_forward_validate(a, e);
  if (status != KDA_OK)
    return status;

  const int64_t T = a->seq_len, HV = a->num_value_heads, K = a->head_dim_k,
                V = a->head_dim_v;
  const bool varlen = a->cu_seqlens.data != NULL;
  const int64_t N = varlen ? a->num_seqs : a->batch;
  const double scale = kda_scale_or_default(a->scale, K);

  double *buffer = malloc(sizeof(double) * (size_t)(K * V + 3 * K + 2 * V));
  if (!buffer)
    return kda_fail(e, KDA_ERR_OUT_OF_MEMORY,
                    "could not allocate %lld doubles of reference scratch",
                    (long long)(K * V + 3 * K + 2 * V));
  scratch s = {.state = buffer};
  s.q = s.state + K * V;
  s.k = s.q + K;
  s.decay = s.k + K;
  s.v = s.decay + K;
  s.delta = s.v + V;

  int64_t first_entry = 0; /* this sequence's first intermediate state */
  for (int64_t n = 0; n < N; ++n) {
    int64_t begin = n * T, end = (n + 1) * T;
    if (varlen) {
      begin = kda_load_index(a->cu_seqlens.data, a->cu_seqlens.dtype, (size_t)n);
      end = kda_load_index(a->cu_seqlens.data, a->cu_seqlens.dtype,
                           (size_t)n + 1);
    }
    for (int64_t hv = 0; hv < HV; ++hv) {
      const size_t base = (size_t)((n * HV + hv) * K * V);
      for (int64_t i = 0; i < K; ++i)
        for (int64_t j = 0; j < V; ++j)
          s.state[i * V + j] =
              a->initial_state.data
                  ? kda_load(a->initial_state.data, a->initial_state.dtype,
                             state_index(a, base, i, j))
                  : 0.0;
      run_sequence(a, hv, begin, end, scale, first_entry, &s);
      if (a->final_state.data)
        store_state(a, a->final_state, base, s.state);
    }
    if (a->intermediate_states.data)
      first_entry +=
          (end - begin + a->intermediate_interval - 1) / a->intermediate_interval;
  }
  free(buffer);
  return kda_succeed(e);
}
