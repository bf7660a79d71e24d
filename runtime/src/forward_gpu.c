/* forward_gpu.c - kda_forward: checks a call against a bundle, builds the
 * tensor maps and launches the forward kernel on the caller's stream.
 *
 * The kernel's parameter list is the ForwardParam enum of
 * include/kda/Conversion/KDAToNVVM/ForwardKernel.h; its grid is (N, HV,
 * head_ctas) with the manifest's threads and shared-memory bytes (a
 * cluster's shape is compiled into the kernel). A segment scan's bundle
 * (forward_segments.c) runs the same kernel over its segments, then its
 * combining kernels. */
#include "bundle.h"
#include "forward_segments.h"

#include <stdint.h>
#include <string.h>

/* The launch this file performs, as the bundle manifest spells it
 * (include/kda/Conversion/KDAToNVVM/ForwardKernel.h); a bundle from a
 * compiler that disagrees is refused rather than launched wrongly. */
static const char kParams[] =
    "q_map k_map v_map g_map beta A_log dt_bias initial_state cu_seqlens o "
    "final_state cu_seqlens_is_int64 seq_len heads value_heads scale lower_bound "
    "intermediate_states intermediate_interval intermediate_is_bf16";
static const char kGrid[] = "sequences value_heads head_ctas";
static const char kTensorMaps[] = "q k v g";

/* How the forward kernel accesses each tensor: the tensor maps of q, k, v
 * and g need 16 bytes, o is stored in 16-byte pieces, in the vk layout the
 * initial and final state are read and written two adjacent values at a
 * time (the intermediate states one at a time), the rest element by
 * element. */
static kda_status check_alignment(kda_bundle *b, const kda_forward_args *a) {
  static const char tma[] = "read by the tensor memory accelerator",
                    element[] = "read and written element by element",
                    pairs[] = "in the vk layout the kernel reads and writes it two values "
                              "at a time";
  const size_t state = a->state_layout == KDA_STATE_VK ? 2 : 1;
  const char *state_why = state > 1 ? pairs : element;
  const kda_tensor_access tensors[] = {
      KDA_TENSOR_ACCESS(a, q, 1, 16, tma),
      KDA_TENSOR_ACCESS(a, k, 1, 16, tma),
      KDA_TENSOR_ACCESS(a, v, 1, 16, tma),
      KDA_TENSOR_ACCESS(a, g, 1, 16, tma),
      KDA_TENSOR_ACCESS(a, beta, 1, 0, element),
      KDA_TENSOR_ACCESS(a, A_log, 1, 0, element),
      KDA_TENSOR_ACCESS(a, dt_bias, 1, 0, element),
      KDA_TENSOR_ACCESS(a, initial_state, state, 0, state_why),
      KDA_TENSOR_ACCESS(a, cu_seqlens, 1, 0, element),
      KDA_TENSOR_ACCESS(a, o, 1, 16, "stored in 16-byte pieces"),
      KDA_TENSOR_ACCESS(a, final_state, state, 0, state_why),
      KDA_TENSOR_ACCESS(a, intermediate_states, 1, 0, element),
  };
  return kda_bundle_expect_aligned(b, tensors, sizeof tensors / sizeof tensors[0]);
}

kda_status kda_bundle_check(kda_bundle *b, const kda_forward_args *a) {
  if (!b)
    return KDA_ERR_INVALID_ARGUMENT;
  kda_error error;
  kda_status s = kda_forward_check(a, false, &error);
  if (s != KDA_OK)
    return kda_context_fail(b->context, s, "%s", error.message);
  if ((s = kda_bundle_expect(b, "op", "forward", "the op")) ||
      (s = kda_bundle_expect(b, "params", kParams, "the parameter layout")) ||
      (s = kda_bundle_expect(b, "grid", kGrid, "the grid")) ||
      (s = kda_bundle_expect(b, "tensor_maps", kTensorMaps, "the tensor maps")))
    return s;
  const kda_bundle_choices choices = KDA_BUNDLE_CHOICES_OF(a);
  if ((s = kda_bundle_expect_choices(b, &choices)))
    return s;
  if (a->initial_state.data &&
      (s = kda_bundle_expect(b, "initial_state_dtype", kda_dtype_short(a->initial_state.dtype),
                  "the dtype of initial_state")))
    return s;
  if (a->final_state.data &&
      (s = kda_bundle_expect(b, "final_state_dtype", kda_dtype_short(a->final_state.dtype),
                  "the dtype of final_state")))
    return s;
  if (a->intermediate_states.data) {
    kda_dtype d = a->intermediate_states.dtype;
    if (d != KDA_DTYPE_FLOAT32 && d != KDA_DTYPE_BFLOAT16)
      return kda_context_fail(b->context, KDA_ERR_UNSUPPORTED,
                              "argument 'intermediate_states' must be float32 or "
                              "bfloat16 on the GPU, got %s", kda_dtype_short(d));
    if (a->intermediate_interval % b->chunk_size != 0 ||
        a->intermediate_interval > INT32_MAX)
      return kda_context_fail(b->context, KDA_ERR_UNSUPPORTED,
                              "argument 'intermediate_interval' must be a multiple of "
                              "the kernel's %lld-token chunk, got %lld",
                              (long long)b->chunk_size,
                              (long long)a->intermediate_interval);
  }
  if ((s = check_alignment(b, a)))
    return s;
  if (b->segment_scan && (s = kda_segment_check(b, a)))
    return s;
  if (a->num_value_heads > KDA_MAX_GRID_YZ)
    return kda_context_fail(b->context, KDA_ERR_UNSUPPORTED,
                            "num_value_heads = %lld: the launch grid allows at most %lld",
                            (long long)a->num_value_heads, (long long)KDA_MAX_GRID_YZ);
  int64_t N = a->cu_seqlens.data ? a->num_seqs : a->batch;
  if (N > INT32_MAX || a->batch * a->seq_len > INT32_MAX)
    return kda_context_fail(b->context, KDA_ERR_UNSUPPORTED,
                            "%lld sequences of %lld tokens: the kernel indexes "
                            "tokens and sequences with 32 bits",
                            (long long)N, (long long)(a->batch * a->seq_len));
  return KDA_OK;
}

kda_status kda_forward_workspace_size(const kda_bundle *bundle,
                                      const kda_forward_args *args, size_t *bytes) {
  if (!bundle || !args || !bytes)
    return KDA_ERR_INVALID_ARGUMENT;
  /* The chain keeps everything on chip; the segment scan keeps its
   * segments' states, X and the entering states in the workspace. */
  *bytes = 0;
  if (bundle->segment_scan) {
    kda_error error;
    kda_status s = kda_forward_check(args, false, &error);
    if (s != KDA_OK)
      return kda_context_fail(bundle->context, s, "%s", error.message);
    *bytes = kda_segment_plan_of(bundle, args).bytes;
  }
  return KDA_OK;
}

/* The tensor map of a [B, T, heads, dim] tensor read in boxes of
 * box_columns x the chunk's rows. */
static kda_status token_map(kda_bundle *b, const void *data, kda_dtype dtype,
                            int64_t B, int64_t T, int64_t heads, int64_t dim,
                            int64_t box_columns, CUtensorMap *out) {
  size_t element = kda_dtype_size(dtype);
  kda_tensor_map_desc d = {
      .address = data,
      .dtype = dtype,
      .rank = 4,
      .dims = {(uint64_t)dim, (uint64_t)heads, (uint64_t)T, (uint64_t)B},
      .strides = {0, dim * element, heads * dim * element, T * heads * dim * element},
      .box = {(uint32_t)box_columns, 1, (uint32_t)b->tensor_map_box_rows, 1},
      .swizzle_bytes = (uint32_t)b->tensor_map_swizzle,
  };
  return kda_tensor_map_encode(b->context, &d, out);
}

kda_status kda_forward(kda_bundle *b, const kda_forward_args *a, void *workspace,
                       size_t workspace_bytes, void *stream) {
  kda_status s = kda_bundle_check(b, a);
  if (s != KDA_OK)
    return s;
  const int64_t B = a->batch, T = a->seq_len, H = a->num_heads,
                HV = a->num_value_heads, K = a->head_dim_k, V = a->head_dim_v;
  int64_t N = a->cu_seqlens.data ? a->num_seqs : B;
  void *o = a->o.data, *final = a->final_state.data;
  const void *cu = a->cu_seqlens.data;

  /* The segment scan's pass writes its segments' states and X into the
   * workspace (and O0 into o); its sequences are the segments. */
  kda_segment_plan plan = {0};
  if (b->segment_scan) {
    plan = kda_segment_plan_of(b, a);
    if (!workspace || workspace_bytes < plan.bytes || (uintptr_t)workspace % 16 != 0)
      return kda_context_fail(b->context, KDA_ERR_INVALID_ARGUMENT,
                              "argument 'workspace': the segment scan needs %zu bytes "
                              "of device memory, 16-byte aligned "
                              "(kda_forward_workspace_size), got %zu at %p",
                              plan.bytes, workspace ? workspace_bytes : 0, workspace);
    N = plan.segments;
    cu = NULL; /* one sequence: [0, T) */
    final = (char *)workspace + plan.ends;
  }

  /* With no token at all no tile is ever loaded: the maps stay zero. */
  CUtensorMap maps[4];
  memset(maps, 0, sizeof maps);
  /* A CTA loads the v columns it computes U for (kForwardTensorMaps): its
   * block, or every one in a cluster. */
  const int64_t v_columns = b->cluster_ctas ? V : V / b->value_blocks;
  if (B * T > 0 &&
      ((s = token_map(b, a->q.data, a->q.dtype, B, T, H, K, K, &maps[0])) ||
       (s = token_map(b, a->k.data, a->k.dtype, B, T, H, K, K, &maps[1])) ||
       (s = token_map(b, a->v.data, a->v.dtype, B, T, HV, V, v_columns, &maps[2])) ||
       (s = token_map(b, a->g.data, a->g.dtype, B, T, HV, K, K, &maps[3]))))
    return s;

  const void *beta = a->beta.data, *a_log = a->A_log.data, *dt_bias = a->dt_bias.data,
             *initial = a->initial_state.data;
  int32_t cu64 = a->cu_seqlens.dtype == KDA_DTYPE_INT64, seq_len = (int32_t)T,
          heads = (int32_t)H, value_heads = (int32_t)HV;
  float scale = (float)kda_scale_or_default(a->scale, K);
  float lower_bound = (float)a->lower_bound;
  void *intermediate = a->intermediate_states.data;
  int32_t interval = (int32_t)a->intermediate_interval,
          intermediate_bf16 = a->intermediate_states.dtype == KDA_DTYPE_BFLOAT16;
  void *params[] = {&maps[0], &maps[1], &maps[2], &maps[3], &beta, &a_log, &dt_bias,
                    &initial, &cu, &o, &final, &cu64, &seq_len, &heads, &value_heads,
                    &scale, &lower_bound, &intermediate, &interval, &intermediate_bf16};
  const unsigned grid[3] = {(unsigned)N, (unsigned)HV, (unsigned)b->head_ctas};
  s = kda_launch(b->context, b->kernel, grid, (unsigned)b->threads, (size_t)b->shared_bytes,
                 stream, params);
  if (s == KDA_OK && b->segment_scan)
    s = kda_segment_combine(b, a, &plan, workspace, stream);
  return s;
}
