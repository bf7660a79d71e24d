/* gpu.h - the runtime's internal GPU layer: the context's innards, modules
 * loaded from PTX, kernels, tensor maps and launches. The public API
 * (kda.h) is built on these; tests reach them directly. */
#ifndef KDA_RUNTIME_GPU_H
#define KDA_RUNTIME_GPU_H

#include "cuda_driver.h"
#include "internal.h"

/* Room for a driver JIT log in the context's last-error message. */
#define KDA_CONTEXT_ERROR_SIZE 8192

struct kda_context {
  kda_cuda_driver cu;
  CUdevice device;
  CUcontext primary; /* the device's primary context, retained */
  kda_device_info info;
  char last_error[KDA_CONTEXT_ERROR_SIZE];
};

/* Formats `format` into the context's last error; returns `status`. */
kda_status kda_context_fail(kda_context *context, kda_status status,
                            const char *format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* KDA_OK for CUDA_SUCCESS, else KDA_ERR_CUDA with "<what>: <error name>". */
kda_status kda_context_check(kda_context *context, CUresult result,
                             const char *what);

/* Makes the context's primary context current for the calls that follow
 * and restores the caller's afterwards; every driver call that needs a
 * current context sits between the two. */
kda_status kda_context_enter(kda_context *context);
void kda_context_leave(kda_context *context);

/* A module compiled by the driver from PTX. */
typedef struct kda_module {
  kda_context *context;
  CUmodule handle;
} kda_module;

/* JIT-compiles NUL-terminated `ptx`. On a compile error the status is
 * KDA_ERR_PTX_JIT and the context's message holds the driver's log. */
kda_status kda_module_load_ptx(kda_context *context, const char *ptx,
                               kda_module **out);
void kda_module_destroy(kda_module *module);

/* Looks up kernel `name` and lets it use `shared_bytes` of dynamic shared
 * memory (the driver's default cap is 48 KiB). */
kda_status kda_module_kernel(kda_module *module, const char *name,
                             size_t shared_bytes, CUfunction *out);

/* A dense tensor as TMA sees it, innermost dimension first. */
#define KDA_TENSOR_MAP_MAX_RANK 5
typedef struct kda_tensor_map_desc {
  const void *address; /* device address, 16-byte aligned */
  kda_dtype dtype;
  uint32_t rank;
  uint64_t dims[KDA_TENSOR_MAP_MAX_RANK];
  uint64_t strides[KDA_TENSOR_MAP_MAX_RANK]; /* bytes; strides[0] is unused (1 element) */
  uint32_t box[KDA_TENSOR_MAP_MAX_RANK];
  uint32_t swizzle_bytes; /* 0 (none), 32, 64 or 128 */
} kda_tensor_map_desc;

/* Checks `desc` against TMA's rules, then encodes it. */
kda_status kda_tensor_map_encode(kda_context *context,
                                 const kda_tensor_map_desc *desc,
                                 CUtensorMap *out);

/* Launches `kernel` on `stream` (NULL: the legacy default stream). */
kda_status kda_launch(kda_context *context, CUfunction kernel,
                      const unsigned grid[3], unsigned threads,
                      size_t shared_bytes, void *stream, void **params);

#endif /* KDA_RUNTIME_GPU_H */
