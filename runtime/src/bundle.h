/* bundle.h - the loaded form of a kernel bundle (internal). */
#ifndef KDA_RUNTIME_BUNDLE_H
#define KDA_RUNTIME_BUNDLE_H

#include "gpu.h"

#define KDA_BUNDLE_MAX_ENTRIES 64

struct kda_bundle {
  kda_context *context;
  kda_module *module;
  CUfunction kernel;
  int entry_count;
  struct {
    char *key, *value;
  } entries[KDA_BUNDLE_MAX_ENTRIES];
  /* The manifest's launch facts. */
  int64_t threads, shared_bytes, chunk_size, head_dim_k, head_dim_v;
  int64_t tensor_map_box_rows, tensor_map_swizzle;
  int64_t value_blocks; /* CTAs per (sequence, value head): the grid's z */
  /* Forward: the CTAs per (sequence, value head), the grid's z, and 0 or
   * the same number when they form a cluster whose CTAs each compute U for
   * every value row (their v tiles are whole rows). */
  int64_t head_ctas, cluster_ctas;
  /* Forward: 1 for the segment scan (forward_segments.c), whose combining
   * kernels come with the pass kernel, with their launch facts. */
  int64_t segment_scan, segment_tokens;
  CUfunction compose_kernel, correct_kernel;
  int64_t compose_threads, compose_rows, compose_shared_bytes;
  int64_t correct_threads, correct_shared_bytes;
};

/* The most CTAs a launch grid may have along y or z (x allows 2^31 - 1). */
#define KDA_MAX_GRID_YZ 65535

/* Manifest spellings of the call's choices. */
const char *kda_gate_name(kda_gate_mode mode);
const char *kda_beta_name(kda_beta_mode mode);
const char *kda_dtype_short(kda_dtype dtype);

/* KDA_OK when manifest entry `key` is `wanted`; else KDA_ERR_UNSUPPORTED
 * naming both (`what` describes the entry). */
kda_status kda_bundle_expect(kda_bundle *bundle, const char *key, const char *wanted,
                             const char *what);

/* The choices a forward and a decode call both bake into a kernel. */
typedef struct {
  int64_t head_dim_k, head_dim_v;
  kda_gate_mode gate;
  kda_beta_mode beta_mode;
  int qk_l2norm;
  kda_state_layout state_layout;
  kda_dtype qkv_dtype, g_dtype, beta_dtype;
} kda_bundle_choices;

/* The choices of a kda_forward_args or a kda_decode_args (both name the
 * fields alike). */
#define KDA_BUNDLE_CHOICES_OF(args)                                            \
  ((kda_bundle_choices){.head_dim_k = (args)->head_dim_k,                      \
                        .head_dim_v = (args)->head_dim_v,                      \
                        .gate = (args)->gate,                                  \
                        .beta_mode = (args)->beta_mode,                        \
                        .qk_l2norm = (args)->qk_l2norm,                        \
                        .state_layout = (args)->state_layout,                  \
                        .qkv_dtype = (args)->q.dtype,                          \
                        .g_dtype = (args)->g.dtype,                            \
                        .beta_dtype = (args)->beta.dtype})

/* kda_bundle_expect for each of `choices`, in declaration order. */
kda_status kda_bundle_expect_choices(kda_bundle *bundle, const kda_bundle_choices *choices);

/* How a kernel accesses one tensor: `elements` at a time, and at least
 * `bytes` at a time (0: no more than the elements); `why` says so in the
 * error. */
typedef struct {
  const char *name;
  const void *data; /* NULL: absent, nothing to check */
  kda_dtype dtype;
  size_t elements, bytes;
  const char *why;
} kda_tensor_access;

/* The access entry of tensor `field` of a forward or decode call. */
#define KDA_TENSOR_ACCESS(args, field, elements, bytes, why)                  \
  ((kda_tensor_access){#field, (args)->field.data, (args)->field.dtype,        \
                       (elements), (bytes), (why)})

/* KDA_OK when every present tensor's address is a multiple of its access
 * width; else KDA_ERR_INVALID_ARGUMENT naming the first that is not (a
 * misaligned access would fault on the device, a sticky error for the
 * whole context). */
kda_status kda_bundle_expect_aligned(kda_bundle *bundle, const kda_tensor_access *tensors,
                                     size_t count);

#endif /* KDA_RUNTIME_BUNDLE_H */
