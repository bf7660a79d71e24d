/* decode.c - one token per sequence against a pool of states, on the CPU.
 *
 * A decode step is the forward over N sequences of one token each whose
 * states are gathered from and scattered back to a pool: the reference runs
 * exactly that, through kda_reference_forward, so the two can never
 * disagree on the recurrence. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

void kda_decode_args_init(kda_decode_args *args) {
  if (!args)
    return;
  memset(args, 0, sizeof *args);
  args->gate = KDA_GATE_PRECOMPUTED;
  args->beta_mode = KDA_BETA_PLAIN;
  args->state_layout = KDA_STATE_KV;
}

/* The forward call of sequence n alone (B = T = 1): its rows of the
 * token tensors, no states yet. */
static kda_forward_args one_token(const kda_decode_args *a, int64_t n) {
  kda_forward_args f;
  kda_forward_args_init(&f);
  f.batch = f.seq_len = 1;
  f.num_heads = a->num_heads;
  f.num_value_heads = a->num_value_heads;
  f.head_dim_k = a->head_dim_k;
  f.head_dim_v = a->head_dim_v;
  const int64_t H = a->num_heads, HV = a->num_value_heads, K = a->head_dim_k,
                V = a->head_dim_v;
  const char *const rows[] = {
      (const char *)a->q.data + n * H * K * kda_dtype_size(a->q.dtype),
      (const char *)a->k.data + n * H * K * kda_dtype_size(a->k.dtype),
      (const char *)a->v.data + n * HV * V * kda_dtype_size(a->v.dtype),
      (const char *)a->g.data + n * HV * K * kda_dtype_size(a->g.dtype),
      (const char *)a->beta.data + n * HV * kda_dtype_size(a->beta.dtype)};
  f.q = (kda_tensor){rows[0], a->q.dtype};
  f.k = (kda_tensor){rows[1], a->k.dtype};
  f.v = (kda_tensor){rows[2], a->v.dtype};
  f.g = (kda_tensor){rows[3], a->g.dtype};
  f.beta = (kda_tensor){rows[4], a->beta.dtype};
  f.A_log = a->A_log;
  f.dt_bias = a->dt_bias;
  f.o = (kda_mut_tensor){(char *)a->o.data + n * HV * V * kda_dtype_size(a->o.dtype),
                         a->o.dtype};
  f.scale = a->scale;
  f.gate = a->gate;
  f.lower_bound = a->lower_bound;
  f.qk_l2norm = a->qk_l2norm;
  f.beta_mode = a->beta_mode;
  f.state_layout = a->state_layout;
  return f;
}

kda_status kda_decode_validate(const kda_decode_args *a, kda_error *e) {
  return kda_decode_check(a, true, e);
}

kda_status kda_decode_check(const kda_decode_args *a, bool read_indices, kda_error *e) {
  const kda_status bad = KDA_ERR_INVALID_ARGUMENT;
  if (!a)
    return kda_fail(e, bad, "argument 'args' must not be NULL");
  if (a->num_seqs < 1)
    return kda_fail(e, bad, "argument 'num_seqs' (N) must be >= 1, got %lld",
                    (long long)a->num_seqs);
  if (a->pool_size < 1)
    return kda_fail(e, bad, "argument 'pool_size' (P) must be >= 1, got %lld",
                    (long long)a->pool_size);
  if (!a->state_pool.data)
    return kda_fail(e, bad, "argument 'state_pool' is required, but its data is NULL");
  if (a->state_pool.dtype != KDA_DTYPE_FLOAT32 && a->state_pool.dtype != KDA_DTYPE_BFLOAT16 &&
      a->state_pool.dtype != KDA_DTYPE_FLOAT64)
    return kda_fail(e, bad, "argument 'state_pool' must be float32, bfloat16 or float64");
  if (!a->state_indices.data)
    return kda_fail(e, bad, "argument 'state_indices' is required, but its data is NULL");
  kda_dtype d = a->state_indices.dtype;
  if (d != KDA_DTYPE_INT32 && d != KDA_DTYPE_INT64)
    return kda_fail(e, bad, "argument 'state_indices' must be int32 or int64");

  /* Everything the forward checks, on sequence 0's rows with the pool's
   * dtype standing in for the states. */
  kda_forward_args f = one_token(a, 0);
  f.initial_state = (kda_tensor){a->state_pool.data, a->state_pool.dtype};
  kda_status s = kda_forward_check(&f, false, e);
  if (s != KDA_OK)
    return s;

  /* Indices: in range, distinct (a shared slot would be updated twice). */
  for (int64_t n = 0; read_indices && n < a->num_seqs; ++n) {
    int64_t index = kda_load_index(a->state_indices.data, d, (size_t)n);
    if (index >= a->pool_size)
      return kda_fail(e, bad,
                      "argument 'state_indices' must be < pool_size (P = %lld), got "
                      "state_indices[%lld] = %lld",
                      (long long)a->pool_size, (long long)n, (long long)index);
    for (int64_t m = 0; m < n && index >= 0; ++m)
      if (kda_load_index(a->state_indices.data, d, (size_t)m) == index)
        return kda_fail(e, bad,
                        "argument 'state_indices' must be distinct, but "
                        "state_indices[%lld] = state_indices[%lld] = %lld",
                        (long long)m, (long long)n, (long long)index);
  }
  return kda_succeed(e);
}

kda_status kda_reference_decode(const kda_decode_args *a, kda_error *e) {
  kda_status s = kda_decode_validate(a, e);
  if (s != KDA_OK)
    return s;
  const int64_t HV = a->num_value_heads, V = a->head_dim_v;
  const size_t state = (size_t)(HV * a->head_dim_k * V);
  const size_t state_bytes = state * kda_dtype_size(a->state_pool.dtype);
  double *updated = malloc(sizeof(double) * state);
  if (!updated)
    return kda_fail(e, KDA_ERR_OUT_OF_MEMORY, "cannot allocate the decode scratch");

  for (int64_t n = 0; n < a->num_seqs; ++n) {
    int64_t index = kda_load_index(a->state_indices.data, a->state_indices.dtype, (size_t)n);
    kda_forward_args f = one_token(a, n);
    if (index < 0) { /* padding: a zero output row, the pool untouched */
      for (int64_t i = 0; i < HV * V; ++i)
        kda_store(f.o.data, f.o.dtype, (size_t)i, 0.0);
      continue;
    }
    char *slot = (char *)a->state_pool.data + (size_t)index * state_bytes;
    f.initial_state = (kda_tensor){slot, a->state_pool.dtype};
    f.final_state = (kda_mut_tensor){updated, KDA_DTYPE_FLOAT64};
    s = kda_reference_forward(&f, e);
    if (s != KDA_OK) /* validated above: cannot fail but for memory */
      break;
    for (size_t i = 0; i < state; ++i)
      kda_store(slot, a->state_pool.dtype, i, updated[i]);
  }
  free(updated);
  return s == KDA_OK ? kda_succeed(e) : s;
}
