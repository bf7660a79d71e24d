/* decode_gpu.c - kda_decode: checks a decode call against a decode bundle
 * and launches it, one CTA per (sequence, value head, block of value
 * columns), on the caller's stream. The parameter list is DecodeParam of
 * include/kda/Conversion/KDAToNVVM/DecodeKernel.h. */
#include "bundle.h"

#include <stdint.h>

static const char kParams[] =
    "q k v g beta A_log dt_bias state_pool state_indices o state_indices_is_int64 "
    "heads value_heads scale lower_bound";
static const char kGrid[] = "sequences value_heads value_blocks";
/* How the decode kernel accesses each tensor: the pool in 16-byte vectors,
 * the rest element by element. */
static kda_status check_alignment(kda_bundle *b, const kda_decode_args *a) {
  static const char element[] = "read and written element by element";
  const kda_tensor_access tensors[] = {
      KDA_TENSOR_ACCESS(a, q, 1, 0, element),
      KDA_TENSOR_ACCESS(a, k, 1, 0, element),
      KDA_TENSOR_ACCESS(a, v, 1, 0, element),
      KDA_TENSOR_ACCESS(a, g, 1, 0, element),
      KDA_TENSOR_ACCESS(a, beta, 1, 0, element),
      KDA_TENSOR_ACCESS(a, A_log, 1, 0, element),
      KDA_TENSOR_ACCESS(a, dt_bias, 1, 0, element),
      KDA_TENSOR_ACCESS(a, state_pool, 1, 16, "the kernel's vector accesses"),
      KDA_TENSOR_ACCESS(a, state_indices, 1, 0, element),
      KDA_TENSOR_ACCESS(a, o, 1, 0, element),
  };
  return kda_bundle_expect_aligned(b, tensors, sizeof tensors / sizeof tensors[0]);
}

kda_status kda_decode(kda_bundle *b, const kda_decode_args *a, void *stream) {
  if (!b)
    return KDA_ERR_INVALID_ARGUMENT;
  kda_error error;
  kda_status s = kda_decode_check(a, false, &error);
  if (s != KDA_OK)
    return kda_context_fail(b->context, s, "%s", error.message);
  const kda_bundle_choices choices = KDA_BUNDLE_CHOICES_OF(a);
  if ((s = kda_bundle_expect(b, "op", "decode", "the op")) ||
      (s = kda_bundle_expect(b, "params", kParams, "the parameter layout")) ||
      (s = kda_bundle_expect(b, "grid", kGrid, "the grid")) ||
      (s = kda_bundle_expect_choices(b, &choices)) ||
      (s = kda_bundle_expect(b, "pool_dtype", kda_dtype_short(a->state_pool.dtype),
                             "the dtype of state_pool")))
    return s;
  if ((s = check_alignment(b, a)))
    return s;
  if (a->num_value_heads > KDA_MAX_GRID_YZ || a->num_seqs > INT32_MAX)
    return kda_context_fail(b->context, KDA_ERR_UNSUPPORTED,
                            "%lld sequences x %lld value heads exceed the launch grid",
                            (long long)a->num_seqs, (long long)a->num_value_heads);

  const void *q = a->q.data, *k = a->k.data, *v = a->v.data, *g = a->g.data,
             *beta = a->beta.data, *a_log = a->A_log.data, *dt_bias = a->dt_bias.data,
             *indices = a->state_indices.data;
  void *pool = a->state_pool.data, *o = a->o.data;
  int32_t indices64 = a->state_indices.dtype == KDA_DTYPE_INT64,
          heads = (int32_t)a->num_heads, value_heads = (int32_t)a->num_value_heads;
  float scale = (float)kda_scale_or_default(a->scale, a->head_dim_k);
  float lower_bound = (float)a->lower_bound;
  void *params[] = {&q, &k, &v, &g, &beta, &a_log, &dt_bias, &pool, &indices, &o,
                    &indices64, &heads, &value_heads, &scale, &lower_bound};
  const unsigned grid[3] = {(unsigned)a->num_seqs, (unsigned)a->num_value_heads,
                            (unsigned)b->value_blocks};
  return kda_launch(b->context, b->kernel, grid, (unsigned)b->threads,
                    (size_t)b->shared_bytes, stream, params);
}
