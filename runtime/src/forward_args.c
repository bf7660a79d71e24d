/* forward_args.c - defaults and complete validation of kda_forward_args.
 *
 * Validation reads only shapes, dtypes, modes and the cu_seqlens entries; it
 * touches no input value and writes no output, so any backend can run it
 * before it commits to work. The rules are those of the kda dialect's
 * verifier (spec §1, §3), plus what only a run-time call can check:
 * pointers, the cu_seqlens values, sizes that overflow, and outputs that
 * overlap inputs. */
#include "internal.h"

#include <math.h>
#include <string.h>

void kda_forward_args_init(kda_forward_args *args) {
  if (!args)
    return;
  memset(args, 0, sizeof *args);
  args->scale = 0.0; /* K^-0.5 */
  args->gate = KDA_GATE_PRECOMPUTED;
  args->beta_mode = KDA_BETA_PLAIN;
  args->state_layout = KDA_STATE_KV;
  args->intermediate_interval = 64;
}

/* Elements of a tensor, or -1 when the product overflows what a byte count
 * of any dtype can hold. */
static int64_t checked_numel(const int64_t *dims, int rank) {
  const int64_t limit = INT64_MAX / 8;
  int64_t n = 1;
  for (int i = 0; i < rank; ++i) {
    if (dims[i] != 0 && n > limit / dims[i])
      return -1;
    n *= dims[i];
  }
  return n;
}

static bool is_float_dtype(kda_dtype d) {
  return d == KDA_DTYPE_FLOAT32 || d == KDA_DTYPE_BFLOAT16 ||
         d == KDA_DTYPE_FLOAT16 || d == KDA_DTYPE_FLOAT64;
}

/* Gates, beta and states: no float16 (spec §1). */
static bool is_gate_or_state_dtype(kda_dtype d) {
  return d == KDA_DTYPE_FLOAT32 || d == KDA_DTYPE_BFLOAT16 ||
         d == KDA_DTYPE_FLOAT64;
}

static const char *dtype_name(kda_dtype d) {
  switch (d) {
  case KDA_DTYPE_FLOAT32:
    return "float32";
  case KDA_DTYPE_BFLOAT16:
    return "bfloat16";
  case KDA_DTYPE_FLOAT16:
    return "float16";
  case KDA_DTYPE_FLOAT64:
    return "float64";
  case KDA_DTYPE_INT32:
    return "int32";
  case KDA_DTYPE_INT64:
    return "int64";
  }
  return "an unknown dtype";
}

/* One tensor's byte range, for the overlap check. */
typedef struct byte_range {
  const char *name;
  uintptr_t begin, end;
} byte_range;

static byte_range range_of(const char *name, const void *data, kda_dtype dtype,
                           int64_t numel) {
  byte_range r = {name, (uintptr_t)data, (uintptr_t)data};
  if (data)
    r.end = r.begin + (uintptr_t)numel * kda_dtype_size(dtype);
  return r;
}

static bool overlap(byte_range a, byte_range b) {
  return a.begin < a.end && b.begin < b.end && a.begin < b.end &&
         b.begin < a.end;
}

kda_status kda_forward_validate(const kda_forward_args *a, kda_error *e) {
  return kda_forward_check(a, true, e);
}

double kda_scale_or_default(double scale, int64_t head_dim_k) {
  return scale != 0.0 ? scale : 1.0 / sqrt((double)head_dim_k);
}

kda_status kda_forward_check(const kda_forward_args *a, bool read_cu_seqlens,
                             kda_error *e) {
  const kda_status bad = KDA_ERR_INVALID_ARGUMENT;
  if (!a)
    return kda_fail(e, bad, "argument 'args' must not be NULL");

  /* Dimensions. */
  if (a->batch < 1)
    return kda_fail(e, bad, "argument 'batch' (B) must be >= 1, got %lld",
                    (long long)a->batch);
  if (a->seq_len < 0)
    return kda_fail(e, bad, "argument 'seq_len' (T) must be >= 0, got %lld",
                    (long long)a->seq_len);
  if (a->num_heads < 1)
    return kda_fail(e, bad, "argument 'num_heads' (H) must be >= 1, got %lld",
                    (long long)a->num_heads);
  if (a->num_value_heads < 1 || a->num_value_heads % a->num_heads != 0)
    return kda_fail(e, bad,
                    "argument 'num_value_heads' (HV) must be a positive "
                    "multiple of num_heads (H = %lld), got %lld",
                    (long long)a->num_heads, (long long)a->num_value_heads);
  if (a->head_dim_k < 1 || a->head_dim_k > KDA_MAX_HEAD_SIZE)
    return kda_fail(e, bad, "argument 'head_dim_k' (K) must be in [1, %d], got %lld",
                    KDA_MAX_HEAD_SIZE, (long long)a->head_dim_k);
  if (a->head_dim_v < 1 || a->head_dim_v > KDA_MAX_HEAD_SIZE)
    return kda_fail(e, bad, "argument 'head_dim_v' (V) must be in [1, %d], got %lld",
                    KDA_MAX_HEAD_SIZE, (long long)a->head_dim_v);

  const int64_t B = a->batch, T = a->seq_len, H = a->num_heads,
                HV = a->num_value_heads, K = a->head_dim_k, V = a->head_dim_v;
  const bool varlen = a->cu_seqlens.data != NULL;
  if (varlen && B != 1)
    return kda_fail(e, bad,
                    "argument 'cu_seqlens' requires batch (B) == 1 (packed "
                    "sequences), got B = %lld",
                    (long long)B);
  if (varlen && a->num_seqs < 1)
    return kda_fail(e, bad,
                    "argument 'num_seqs' (N) must be >= 1 with cu_seqlens, got %lld",
                    (long long)a->num_seqs);
  const int64_t N = varlen ? a->num_seqs : B;

  const int64_t qk_dims[] = {B, T, H, K}, v_dims[] = {B, T, HV, V},
                g_dims[] = {B, T, HV, K}, beta_dims[] = {B, T, HV},
                bias_dims[] = {HV, K}, state_dims[] = {N, HV, K, V};
  const int64_t n_qk = checked_numel(qk_dims, 4), n_v = checked_numel(v_dims, 4),
                n_g = checked_numel(g_dims, 4), n_beta = checked_numel(beta_dims, 3),
                n_bias = checked_numel(bias_dims, 2),
                n_state = checked_numel(state_dims, 4);
  if (n_qk < 0 || n_v < 0 || n_g < 0 || n_beta < 0 || n_bias < 0 || n_state < 0)
    return kda_fail(e, bad,
                    "the tensor sizes overflow: B=%lld T=%lld H=%lld HV=%lld "
                    "K=%lld V=%lld N=%lld",
                    (long long)B, (long long)T, (long long)H, (long long)HV,
                    (long long)K, (long long)V, (long long)N);

  /* Required tensors and dtypes. */
  const struct {
    const char *name;
    kda_tensor t;
  } required[] = {{"q", a->q}, {"k", a->k}, {"v", a->v}, {"g", a->g},
                  {"beta", a->beta}};
  const bool has_tokens = B * T > 0; /* with no token, inputs may be NULL */
  for (size_t i = 0; i < sizeof required / sizeof required[0]; ++i)
    if (!required[i].t.data && has_tokens)
      return kda_fail(e, bad, "argument '%s' is required, but its data is NULL",
                      required[i].name);
  if (!a->o.data && has_tokens)
    return kda_fail(e, bad, "argument 'o' is required, but its data is NULL");

  if (!is_float_dtype(a->q.dtype))
    return kda_fail(e, bad,
                    "argument 'q' must be float32, bfloat16, float16 or "
                    "float64, got %s",
                    dtype_name(a->q.dtype));
  if (a->k.dtype != a->q.dtype)
    return kda_fail(e, bad, "argument 'k' must have the dtype of 'q' (%s), got %s",
                    dtype_name(a->q.dtype), dtype_name(a->k.dtype));
  if (a->v.dtype != a->q.dtype)
    return kda_fail(e, bad, "argument 'v' must have the dtype of 'q' (%s), got %s",
                    dtype_name(a->q.dtype), dtype_name(a->v.dtype));
  if (!is_gate_or_state_dtype(a->g.dtype))
    return kda_fail(e, bad, "argument 'g' must be float32, bfloat16 or float64, got %s",
                    dtype_name(a->g.dtype));
  if (!is_gate_or_state_dtype(a->beta.dtype))
    return kda_fail(e, bad,
                    "argument 'beta' must be float32, bfloat16 or float64, got %s",
                    dtype_name(a->beta.dtype));
  if (a->o.dtype != a->q.dtype)
    return kda_fail(e, bad, "argument 'o' must have the dtype of 'q' (%s), got %s",
                    dtype_name(a->q.dtype), dtype_name(a->o.dtype));

  /* Modes. */
  if (a->gate != KDA_GATE_PRECOMPUTED && a->gate != KDA_GATE_SOFTPLUS &&
      a->gate != KDA_GATE_LOWER_BOUND)
    return kda_fail(e, bad, "argument 'gate' must be a kda_gate_mode, got %d",
                    (int)a->gate);
  if (a->beta_mode != KDA_BETA_PLAIN && a->beta_mode != KDA_BETA_SIGMOID &&
      a->beta_mode != KDA_BETA_SIGMOID_NEG_EIGVAL)
    return kda_fail(e, bad, "argument 'beta_mode' must be a kda_beta_mode, got %d",
                    (int)a->beta_mode);
  if (a->state_layout != KDA_STATE_KV && a->state_layout != KDA_STATE_VK)
    return kda_fail(e, bad,
                    "argument 'state_layout' must be a kda_state_layout, got %d",
                    (int)a->state_layout);
  if (a->scale != 0.0 && !(isfinite(a->scale) && a->scale > 0.0))
    return kda_fail(e, bad,
                    "argument 'scale' must be positive and finite (or 0 for "
                    "K^-0.5), got %g",
                    a->scale);
  if (a->gate == KDA_GATE_LOWER_BOUND &&
      !(a->lower_bound >= KDA_MIN_LOWER_BOUND && a->lower_bound < 0.0))
    return kda_fail(e, bad,
                    "argument 'lower_bound' must be in [%g, 0) for the "
                    "lower_bound gate, got %g",
                    KDA_MIN_LOWER_BOUND, a->lower_bound);
  if (a->gate != KDA_GATE_LOWER_BOUND && a->lower_bound != 0.0)
    return kda_fail(e, bad,
                    "argument 'lower_bound' is only used by the lower_bound "
                    "gate; it must be 0 otherwise, got %g",
                    a->lower_bound);
  const bool gate_in_kernel = a->gate != KDA_GATE_PRECOMPUTED;
  if (!gate_in_kernel && a->A_log.data)
    return kda_fail(e, bad,
                    "argument 'A_log' is only used by the softplus and "
                    "lower_bound gates, but the gate is precomputed");
  if (!gate_in_kernel && a->dt_bias.data)
    return kda_fail(e, bad,
                    "argument 'dt_bias' is only used by the softplus and "
                    "lower_bound gates, but the gate is precomputed");
  if (a->gate == KDA_GATE_SOFTPLUS && !a->A_log.data)
    return kda_fail(e, bad, "argument 'A_log' is required by the softplus gate");
  if (a->A_log.data && a->A_log.dtype != KDA_DTYPE_FLOAT32)
    return kda_fail(e, bad, "argument 'A_log' must be float32, got %s",
                    dtype_name(a->A_log.dtype));
  if (a->dt_bias.data && a->dt_bias.dtype != KDA_DTYPE_FLOAT32)
    return kda_fail(e, bad, "argument 'dt_bias' must be float32, got %s",
                    dtype_name(a->dt_bias.dtype));

  /* States. */
  if (a->initial_state.data && !is_gate_or_state_dtype(a->initial_state.dtype))
    return kda_fail(e, bad,
                    "argument 'initial_state' must be float32, bfloat16 or "
                    "float64, got %s",
                    dtype_name(a->initial_state.dtype));
  if (a->final_state.data && !is_gate_or_state_dtype(a->final_state.dtype))
    return kda_fail(e, bad,
                    "argument 'final_state' must be float32, bfloat16 or "
                    "float64, got %s",
                    dtype_name(a->final_state.dtype));

  if (a->intermediate_states.data) {
    if (!is_gate_or_state_dtype(a->intermediate_states.dtype))
      return kda_fail(e, bad,
                      "argument 'intermediate_states' must be float32, bfloat16 or "
                      "float64, got %s",
                      dtype_name(a->intermediate_states.dtype));
    if (a->intermediate_interval < 1)
      return kda_fail(e, bad,
                      "argument 'intermediate_interval' must be >= 1 token, got %lld",
                      (long long)a->intermediate_interval);
  }

  /* cu_seqlens: dtype, then (on the host) every entry. */
  if (varlen) {
    kda_dtype d = a->cu_seqlens.dtype;
    if (d != KDA_DTYPE_INT32 && d != KDA_DTYPE_INT64)
      return kda_fail(e, bad, "argument 'cu_seqlens' must be int32 or int64, got %s",
                      dtype_name(d));
  }
  if (varlen && read_cu_seqlens) {
    kda_dtype d = a->cu_seqlens.dtype;
    int64_t previous = kda_load_index(a->cu_seqlens.data, d, 0);
    if (previous != 0)
      return kda_fail(e, bad, "argument 'cu_seqlens' must start at 0, got cu_seqlens[0] = %lld",
                      (long long)previous);
    for (int64_t n = 1; n <= N; ++n) {
      int64_t next = kda_load_index(a->cu_seqlens.data, d, (size_t)n);
      if (next < previous)
        return kda_fail(e, bad,
                        "argument 'cu_seqlens' must be non-decreasing, got "
                        "cu_seqlens[%lld] = %lld < cu_seqlens[%lld] = %lld",
                        (long long)n, (long long)next, (long long)(n - 1),
                        (long long)previous);
      previous = next;
    }
    if (previous != T)
      return kda_fail(e, bad,
                      "argument 'cu_seqlens' must end at seq_len (T = %lld), "
                      "got cu_seqlens[%lld] = %lld",
                      (long long)T, (long long)N, (long long)previous);
  }

  /* Outputs must not overlap any input or each other: the reference reads
   * inputs while it writes. */
  const byte_range inputs[] = {
      range_of("q", a->q.data, a->q.dtype, n_qk),
      range_of("k", a->k.data, a->k.dtype, n_qk),
      range_of("v", a->v.data, a->v.dtype, n_v),
      range_of("g", a->g.data, a->g.dtype, n_g),
      range_of("beta", a->beta.data, a->beta.dtype, n_beta),
      range_of("A_log", a->A_log.data, a->A_log.dtype, HV),
      range_of("dt_bias", a->dt_bias.data, a->dt_bias.dtype, n_bias),
      range_of("initial_state", a->initial_state.data, a->initial_state.dtype,
               n_state),
      range_of("cu_seqlens", a->cu_seqlens.data, a->cu_seqlens.dtype,
               varlen ? N + 1 : 0),
  };
  const byte_range outputs[] = {
      range_of("o", a->o.data, a->o.dtype, n_v),
      range_of("final_state", a->final_state.data, a->final_state.dtype,
               n_state),
  };
  for (size_t i = 0; i < 2; ++i)
    for (size_t j = 0; j < sizeof inputs / sizeof inputs[0]; ++j)
      if (overlap(outputs[i], inputs[j]))
        return kda_fail(e, bad, "argument '%s' overlaps input '%s'",
                        outputs[i].name, inputs[j].name);
  if (overlap(outputs[0], outputs[1]))
    return kda_fail(e, bad, "argument 'final_state' overlaps output 'o'");

  return kda_succeed(e);
}
