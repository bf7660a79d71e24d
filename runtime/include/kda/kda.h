/* kda.h - the public C API of kda: status codes, tensor descriptions and the
 * exact float64 reference of Kimi Delta Attention.
 *
 * Pure C99, no CUDA headers. The library never prints, never aborts and
 * never writes outside the outputs it is given: every fallible call returns
 * a kda_status and, when the caller passes a kda_error, a message naming the
 * argument and what was expected. When a call fails on validation, nothing
 * has been written to any output.
 *
 * The function computed is spec/kda.md: per (sequence, value head) a state
 * S in R^{K x V} evolves as
 *     S   <- Diag(exp(g_t)) S
 *     S   <- S + beta_t k_t (v_t - S^T k_t)^T
 *     o_t  = S^T (scale q_t)
 * with optional q/k l2 normalisation, three gate modes and three beta modes.
 */
#ifndef KDA_KDA_H
#define KDA_KDA_H

#include <stddef.h>
#include <stdint.h>

#ifndef KDA_API
#define KDA_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define KDA_VERSION_MAJOR 0
#define KDA_VERSION_MINOR 1
#define KDA_VERSION_PATCH 0
#define KDA_VERSION_NUMBER                                                     \
  (KDA_VERSION_MAJOR * 10000 + KDA_VERSION_MINOR * 100 + KDA_VERSION_PATCH)

/** The run-time version, KDA_VERSION_NUMBER of the library actually loaded. */
KDA_API int kda_version_number(void);

/* ------------------------------------------------------------------------ */
/* Status codes. Append only: a code never changes its value.               */
/* ------------------------------------------------------------------------ */

typedef enum kda_status {
  KDA_OK = 0,
  KDA_ERR_INVALID_ARGUMENT = 1, /* an argument is missing, malformed or inconsistent */
  KDA_ERR_OUT_OF_MEMORY = 2,    /* a host allocation failed */
  KDA_ERR_UNSUPPORTED = 3,      /* valid, but not supported by this backend */
  KDA_ERR_CUDA_UNAVAILABLE = 4, /* no CUDA driver, no such device, or a driver entry point missing */
  KDA_ERR_CUDA = 5,             /* a CUDA driver call failed; the message names it */
  KDA_ERR_PTX_JIT = 6,          /* the driver could not compile PTX; the message holds its log */
  KDA_ERR_NOT_FOUND = 7         /* a named kernel is not in the module */
} kda_status;

/** A static, human-readable name of `status` ("KDA_ERR_INVALID_ARGUMENT"). */
KDA_API const char *kda_status_string(kda_status status);

/** Where a failing call describes what went wrong. Caller-owned; may be NULL
 *  wherever a kda_error* is taken. On success `message` is left empty. */
#define KDA_ERROR_MESSAGE_SIZE 512
typedef struct kda_error {
  char message[KDA_ERROR_MESSAGE_SIZE];
} kda_error;

/* ------------------------------------------------------------------------ */
/* Tensors. Every tensor is dense and contiguous, row-major, in the         */
/* token-major layout of flash-linear-attention.                            */
/* ------------------------------------------------------------------------ */

typedef enum kda_dtype {
  KDA_DTYPE_FLOAT32 = 0,
  KDA_DTYPE_BFLOAT16 = 1, /* stored as the upper 16 bits of a float32 */
  KDA_DTYPE_FLOAT16 = 2,  /* IEEE binary16 */
  KDA_DTYPE_FLOAT64 = 3,  /* the reference's own precision; CPU only */
  KDA_DTYPE_INT32 = 4,    /* cu_seqlens */
  KDA_DTYPE_INT64 = 5     /* cu_seqlens */
} kda_dtype;

/** Bytes per element of `dtype`, 0 for an unknown value. */
KDA_API size_t kda_dtype_size(kda_dtype dtype);

/** A read-only tensor argument: NULL `data` means absent. */
typedef struct kda_tensor {
  const void *data;
  kda_dtype dtype;
} kda_tensor;

/** An output tensor: NULL `data` means not wanted. */
typedef struct kda_mut_tensor {
  void *data;
  kda_dtype dtype;
} kda_mut_tensor;

/* ------------------------------------------------------------------------ */
/* Modes of spec §3                                                         */
/* ------------------------------------------------------------------------ */

typedef enum kda_gate_mode {
  /* g is the per-step log decay itself (<= 0). */
  KDA_GATE_PRECOMPUTED = 0,
  /* -exp(A_log[h]) * softplus(g + dt_bias[h]); needs A_log. Unbounded. */
  KDA_GATE_SOFTPLUS = 1,
  /* lower_bound * sigmoid(exp(A_log[h]) * (g + dt_bias[h])), lower_bound in
   * [-5, 0); without A_log: lower_bound * sigmoid(g + dt_bias[h]). */
  KDA_GATE_LOWER_BOUND = 2
} kda_gate_mode;

typedef enum kda_beta_mode {
  KDA_BETA_PLAIN = 0,             /* beta as given */
  KDA_BETA_SIGMOID = 1,           /* sigmoid(beta) */
  KDA_BETA_SIGMOID_NEG_EIGVAL = 2 /* 2 * sigmoid(beta) */
} kda_beta_mode;

typedef enum kda_state_layout {
  KDA_STATE_KV = 0, /* [N, HV, K, V] (fla's default) */
  KDA_STATE_VK = 1  /* [N, HV, V, K] (FlashKDA's, fla's state_v_first) */
} kda_state_layout;

/** The lower_bound gate's bound must lie in [KDA_MIN_LOWER_BOUND, 0). */
#define KDA_MIN_LOWER_BOUND (-5.0)
/** Head sizes K and V must lie in [1, KDA_MAX_HEAD_SIZE]. */
#define KDA_MAX_HEAD_SIZE 256
/** The epsilon of the q/k l2 normalisation: x / sqrt(sum(x^2) + eps). */
#define KDA_L2NORM_EPS 1e-6

/* ------------------------------------------------------------------------ */
/* The forward                                                              */
/* ------------------------------------------------------------------------ */

/** Everything one forward call reads and writes. Start from
 *  kda_forward_args_init(), which zeroes the struct and sets the defaults
 *  (scale 0 = K^-0.5, precomputed gate, plain beta, kv state layout).
 *
 *  Shapes (all contiguous):
 *    q, k          [B, T, H, K]     float32, bfloat16, float16 or float64
 *    v             [B, T, HV, V]    dtype of q; HV % H == 0
 *    g             [B, T, HV, K]    float32, bfloat16 or float64
 *    beta          [B, T, HV]       float32, bfloat16 or float64
 *    A_log         [HV]             float32 (gate modes only)
 *    dt_bias       [HV, K]          float32 (gate modes only; optional)
 *    initial_state [N, HV, K, V]    float32, bfloat16 or float64; [N, HV, V, K]
 *                                   for KDA_STATE_VK; absent = zero
 *    cu_seqlens    [N + 1]          int32 or int64; requires B == 1;
 *                                   cu[0] = 0, non-decreasing, cu[N] = T
 *    o             [B, T, HV, V]    dtype of q
 *    final_state   as initial_state float32, bfloat16 or float64; optional
 *  N is B without cu_seqlens, else num_seqs. */
typedef struct kda_forward_args {
  int64_t batch;           /* B */
  int64_t seq_len;         /* T */
  int64_t num_heads;       /* H: heads of q and k */
  int64_t num_value_heads; /* HV: heads of v, g, beta, o and the state */
  int64_t head_dim_k;      /* K */
  int64_t head_dim_v;      /* V */
  int64_t num_seqs;        /* N when cu_seqlens is given, else ignored */

  kda_tensor q, k, v, g, beta;
  kda_tensor A_log, dt_bias;
  kda_tensor initial_state;
  kda_tensor cu_seqlens;

  kda_mut_tensor o;
  kda_mut_tensor final_state;

  double scale; /* > 0, or 0 for the default K^-0.5 */
  kda_gate_mode gate;
  double lower_bound; /* KDA_GATE_LOWER_BOUND only */
  int qk_l2norm;      /* nonzero: l2-normalise q and k per token and head */
  kda_beta_mode beta_mode;
  kda_state_layout state_layout;

  /* Optional: the state entering every `intermediate_interval`-token chunk
   * of every sequence (fla's return_intermediate_states, with its
   * chunk_size), [NT, HV, K, V] ([NT, HV, V, K] for KDA_STATE_VK), float32,
   * bfloat16 or float64. Sequences follow each other: sequence n owns
   * ceil(len_n / interval) entries (none for an empty one), so NT is
   * B * ceil(T / interval) for a fixed batch. Must not overlap any other
   * tensor. */
  kda_mut_tensor intermediate_states;
  int64_t intermediate_interval; /* tokens, > 0; 64 after kda_forward_args_init */
} kda_forward_args;

/** Zeroes `args` and sets the defaults. */
KDA_API void kda_forward_args_init(kda_forward_args *args);

/** Checks `args` completely (shapes, dtypes, modes, every cu_seqlens entry)
 *  without reading q..beta or writing anything. */
KDA_API kda_status kda_forward_validate(const kda_forward_args *args,
                                        kda_error *error);

/** Runs the recurrence of spec §2 exactly as written, token by token, with
 *  every input converted to float64 and all arithmetic in float64; results
 *  are rounded once into the output dtypes (round to nearest even).
 *  Single-threaded; allocates K*V doubles per call. Validates first: on any
 *  error nothing is written. */
KDA_API kda_status kda_reference_forward(const kda_forward_args *args,
                                         kda_error *error);

/* ------------------------------------------------------------------------ */
/* Decode: one token per sequence against a pool of states                  */
/* ------------------------------------------------------------------------ */

/** One serving step (the dialect's kda.decode, fla's fused_recurrent_kda
 *  with ssm_state_indices): sequence n advances the state
 *  state_pool[state_indices[n]] by its one token, in place, and writes
 *  o[n]. A negative index marks a padding row: its state is not touched and
 *  its o row is written as zeros. Start from kda_decode_args_init().
 *
 *  Shapes (all contiguous):
 *    q, k          [N, H, K]      as for the forward
 *    v             [N, HV, V]
 *    g             [N, HV, K]
 *    beta          [N, HV]
 *    A_log, dt_bias                as for the forward
 *    state_indices [N]            int32 or int64; distinct, in [0, P) or negative
 *    state_pool    [P, HV, K, V]  float32, bfloat16 or float64; [P, HV, V, K]
 *                                 for KDA_STATE_VK; read and updated in place
 *    o             [N, HV, V]     dtype of q */
typedef struct kda_decode_args {
  int64_t num_seqs;        /* N */
  int64_t num_heads;       /* H */
  int64_t num_value_heads; /* HV */
  int64_t head_dim_k;      /* K */
  int64_t head_dim_v;      /* V */
  int64_t pool_size;       /* P */

  kda_tensor q, k, v, g, beta;
  kda_tensor A_log, dt_bias;
  kda_tensor state_indices;
  kda_mut_tensor state_pool;
  kda_mut_tensor o;

  double scale; /* > 0, or 0 for the default K^-0.5 */
  kda_gate_mode gate;
  double lower_bound;
  int qk_l2norm;
  kda_beta_mode beta_mode;
  kda_state_layout state_layout;
} kda_decode_args;

KDA_API void kda_decode_args_init(kda_decode_args *args);

/** Checks `args` completely, every state index included, reading no other
 *  input and writing nothing. */
KDA_API kda_status kda_decode_validate(const kda_decode_args *args,
                                       kda_error *error);

/** The exact float64 step (the forward's recurrence on one token); the pool
 *  is rounded once per updated state. Validates first: on any error nothing
 *  is written. */
KDA_API kda_status kda_reference_decode(const kda_decode_args *args,
                                        kda_error *error);

/* ------------------------------------------------------------------------ */
/* GPU contexts                                                             */
/* ------------------------------------------------------------------------ */

/** A CUDA device as kda uses it: the CUDA driver (opened at run time; kda
 *  links no CUDA library), the device's primary context (the one PyTorch and
 *  the CUDA runtime use), what kda needs to know of the device, and the
 *  message of the last failing call made through it. Not thread-safe: use
 *  one context per thread, or serialise calls. */
typedef struct kda_context kda_context;

/** Opens the CUDA driver (`driver_library`, or "libcuda.so.1" when NULL),
 *  retains device `device`'s primary context and reads its properties.
 *  On failure `*out` is NULL and `error` says why: KDA_ERR_CUDA_UNAVAILABLE
 *  when there is no usable driver or no such device. */
KDA_API kda_status kda_context_create(int device, const char *driver_library,
                                      kda_context **out, kda_error *error);

/** Releases the primary context and the driver. NULL is a no-op. */
KDA_API void kda_context_destroy(kda_context *context);

/** The message of the last call through `context` that failed ("" if none).
 *  The string belongs to the context and changes with its next failure. */
KDA_API const char *kda_context_last_error(const kda_context *context);

/** What kda knows of a context's device. */
typedef struct kda_device_info {
  char name[256];
  int ordinal;
  int compute_capability_major;
  int compute_capability_minor;
  int multiprocessors;
  int shared_memory_per_block_optin; /* bytes a kernel may opt in to */
  int driver_version;                /* e.g. 13000 for CUDA 13.0 */
} kda_device_info;

KDA_API kda_status kda_context_device_info(const kda_context *context,
                                           kda_device_info *out);

/* ------------------------------------------------------------------------ */
/* Kernel bundles and the GPU forward                                       */
/* ------------------------------------------------------------------------ */

/** A compiled forward kernel: the PTX kda-compile produced for one
 *  configuration (head sizes, gate and beta modes, l2norm, state layout,
 *  dtypes), JIT-loaded on a context's device, with its launch manifest.
 *  Belongs to its context; destroy it before the context. */
typedef struct kda_bundle kda_bundle;

/** Loads the bundle file at `path`. On failure the context's last error
 *  says why (KDA_ERR_PTX_JIT carries the driver's JIT log). */
KDA_API kda_status kda_bundle_load(kda_context *context, const char *path,
                                   kda_bundle **out);

/** Loads a bundle from memory (`size` bytes, not NUL-terminated). */
KDA_API kda_status kda_bundle_load_data(kda_context *context, const char *data,
                                        size_t size, kda_bundle **out);

KDA_API void kda_bundle_destroy(kda_bundle *bundle);

/** The value of manifest entry `key` ("kernel", "gate", ...), or NULL. */
KDA_API const char *kda_bundle_manifest(const kda_bundle *bundle,
                                        const char *key);

/** KDA_OK when `bundle` can run `args`; else KDA_ERR_UNSUPPORTED or
 *  KDA_ERR_INVALID_ARGUMENT, with the mismatch in the context's message. */
KDA_API kda_status kda_bundle_check(kda_bundle *bundle,
                                    const kda_forward_args *args);

/** Bytes of device workspace kda_forward needs for `args` (0 when none):
 *  a segment-scan bundle (manifest `segment_scan` 1, one long sequence)
 *  keeps its segments' states and the transition rows' outputs there. */
KDA_API kda_status kda_forward_workspace_size(const kda_bundle *bundle,
                                              const kda_forward_args *args,
                                              size_t *bytes);

/** The forward on the GPU: every tensor of `args` is in device memory of the
 *  bundle's context, aligned to its element; q, k, v, g and o 16-byte
 *  aligned, and with KDA_STATE_VK initial_state and final_state aligned to
 *  two elements (KDA_ERR_INVALID_ARGUMENT otherwise, naming the tensor). The kernel is
 *  queued on `stream` (a CUstream; NULL is
 *  the legacy default stream) and the call returns without waiting.
 *  Everything is validated before the GPU is touched, except the entries of
 *  cu_seqlens, which live on the device: they must satisfy the rules of
 *  kda_forward_validate. `workspace` is device memory of at least
 *  kda_forward_workspace_size bytes, 16-byte aligned (NULL when that is 0),
 *  which the queued kernels may use until they finish. A segment-scan
 *  bundle runs one sequence (batch 1; cu_seqlens, if given, of one
 *  sequence) without intermediate states, and queues three kernels.
 *  Errors go to the context's last-error message. */
KDA_API kda_status kda_forward(kda_bundle *bundle, const kda_forward_args *args,
                               void *workspace, size_t workspace_bytes,
                               void *stream);

/** The decode step on the GPU with a decode bundle: every tensor in device
 *  memory and aligned to its element, the pool to 16 bytes
 *  (KDA_ERR_INVALID_ARGUMENT otherwise, naming the tensor); queued on
 *  `stream`. Validated before the GPU is touched, except
 *  the entries of state_indices, which live on the device: they must be
 *  distinct and below pool_size (or negative). */
KDA_API kda_status kda_decode(kda_bundle *bundle, const kda_decode_args *args,
                              void *stream);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* KDA_KDA_H */
