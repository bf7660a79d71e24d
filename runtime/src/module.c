/* module.c - modules JIT-compiled from PTX, their kernels, and launches. */
#include "gpu.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Kernels get 48 KiB of dynamic shared memory unless they opt in to more. */
static const size_t kDefaultDynamicSharedBytes = 48 * 1024;
/* Size of each of the driver's JIT log buffers. */
enum { kJitLogBytes = 4096 };

kda_status kda_module_load_ptx(kda_context *context, const char *ptx,
                               kda_module **out) {
  if (!context)
    return KDA_ERR_INVALID_ARGUMENT;
  if (!ptx || !out)
    return kda_context_fail(context, KDA_ERR_INVALID_ARGUMENT,
                            "argument '%s' must not be NULL", ptx ? "out" : "ptx");
  *out = NULL;
  kda_module *module = calloc(1, sizeof *module);
  char *info_log = calloc(1, kJitLogBytes), *error_log = calloc(1, kJitLogBytes);
  if (!module || !info_log || !error_log) {
    free(module);
    free(info_log);
    free(error_log);
    return kda_context_fail(context, KDA_ERR_OUT_OF_MEMORY,
                            "cannot allocate a module");
  }
  kda_status status = kda_context_enter(context);
  if (status == KDA_OK) {
    int options[] = {CU_JIT_INFO_LOG_BUFFER, CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES,
                     CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
    void *values[] = {info_log, (void *)(uintptr_t)kJitLogBytes, error_log,
                      (void *)(uintptr_t)kJitLogBytes};
    CUresult r = context->cu.cuModuleLoadDataEx(&module->handle, ptx, 4,
                                                options, values);
    kda_context_leave(context);
    if (r != CUDA_SUCCESS) {
      char detail[160];
      kda_cuda_describe(&context->cu, r, detail, sizeof detail);
      status = kda_context_fail(
          context, KDA_ERR_PTX_JIT,
          "the driver could not load the PTX module: %s; JIT log: %s%s%s",
          detail, error_log[0] ? error_log : "(empty)", info_log[0] ? " | " : "",
          info_log);
    }
  }
  free(info_log);
  free(error_log);
  if (status != KDA_OK) {
    free(module);
    return status;
  }
  module->context = context;
  *out = module;
  return KDA_OK;
}

void kda_module_destroy(kda_module *module) {
  if (!module)
    return;
  kda_context *context = module->context;
  if (kda_context_enter(context) == KDA_OK) {
    context->cu.cuModuleUnload(module->handle);
    kda_context_leave(context);
  }
  free(module);
}

kda_status kda_module_kernel(kda_module *module, const char *name,
                             size_t shared_bytes, CUfunction *out) {
  kda_context *context = module->context;
  if (!name || !out)
    return kda_context_fail(context, KDA_ERR_INVALID_ARGUMENT,
                            "argument '%s' must not be NULL", name ? "out" : "name");
  if (shared_bytes > (size_t)context->info.shared_memory_per_block_optin)
    return kda_context_fail(
        context, KDA_ERR_UNSUPPORTED,
        "kernel '%s' needs %zu bytes of shared memory; %s allows %d per block",
        name, shared_bytes, context->info.name,
        context->info.shared_memory_per_block_optin);
  kda_status status = kda_context_enter(context);
  if (status != KDA_OK)
    return status;
  CUresult r = context->cu.cuModuleGetFunction(out, module->handle, name);
  if (r == CUDA_ERROR_NOT_FOUND) {
    status = kda_context_fail(context, KDA_ERR_NOT_FOUND,
                              "the module has no kernel named '%s'", name);
  } else {
    status = kda_context_check(context, r, "cuModuleGetFunction");
    if (status == KDA_OK && shared_bytes > kDefaultDynamicSharedBytes)
      status = kda_context_check(
          context,
          context->cu.cuFuncSetAttribute(
              *out, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
              (int)shared_bytes),
          "cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES)");
  }
  kda_context_leave(context);
  return status;
}

kda_status kda_launch(kda_context *context, CUfunction kernel,
                      const unsigned grid[3], unsigned threads,
                      size_t shared_bytes, void *stream, void **params) {
  kda_status status = kda_context_enter(context);
  if (status != KDA_OK)
    return status;
  status = kda_context_check(
      context,
      context->cu.cuLaunchKernel(kernel, grid[0], grid[1], grid[2], threads, 1, 1,
                                 (unsigned)shared_bytes, (CUstream)stream,
                                 params, NULL),
      "cuLaunchKernel");
  kda_context_leave(context);
  return status;
}
