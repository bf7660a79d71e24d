/* context.c - kda_context: the driver, the device's primary context, the
 * device's properties and the last error. */
#include "gpu.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

kda_status kda_context_fail(kda_context *context, kda_status status,
                            const char *format, ...) {
  va_list ap;
  va_start(ap, format);
  vsnprintf(context->last_error, sizeof context->last_error, format, ap);
  va_end(ap);
  return status;
}

kda_status kda_context_check(kda_context *context, CUresult result,
                             const char *what) {
  if (result == CUDA_SUCCESS)
    return KDA_OK;
  char detail[160];
  kda_cuda_describe(&context->cu, result, detail, sizeof detail);
  return kda_context_fail(context, KDA_ERR_CUDA, "%s: %s", what, detail);
}

kda_status kda_context_enter(kda_context *context) {
  return kda_context_check(context, context->cu.cuCtxPushCurrent(context->primary),
                           "cuCtxPushCurrent");
}

void kda_context_leave(kda_context *context) {
  CUcontext popped;
  context->cu.cuCtxPopCurrent(&popped);
}

/* Reads one integer attribute of the device. */
static kda_status read_attribute(kda_context *c, int attribute, int *value,
                                 const char *what) {
  return kda_context_check(
      c, c->cu.cuDeviceGetAttribute(value, attribute, c->device), what);
}

static kda_status read_device(kda_context *c, int ordinal) {
  kda_device_info *info = &c->info;
  kda_status s;
  info->ordinal = ordinal;
  if ((s = kda_context_check(c, c->cu.cuDriverGetVersion(&info->driver_version),
                             "cuDriverGetVersion")) ||
      (s = kda_context_check(c, c->cu.cuDeviceGetName(info->name, sizeof info->name,
                                                      c->device),
                             "cuDeviceGetName")) ||
      (s = read_attribute(c, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR,
                          &info->compute_capability_major, "compute capability")) ||
      (s = read_attribute(c, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
                          &info->compute_capability_minor, "compute capability")) ||
      (s = read_attribute(c, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT,
                          &info->multiprocessors, "multiprocessor count")) ||
      (s = read_attribute(c, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN,
                          &info->shared_memory_per_block_optin,
                          "shared memory per block")))
    return s;
  return KDA_OK;
}

kda_status kda_context_create(int device, const char *driver_library,
                              kda_context **out, kda_error *error) {
  if (!out)
    return kda_fail(error, KDA_ERR_INVALID_ARGUMENT,
                    "argument 'out' must not be NULL");
  *out = NULL;
  if (device < 0)
    return kda_fail(error, KDA_ERR_INVALID_ARGUMENT,
                    "argument 'device' must be >= 0, got %d", device);
  kda_context *c = calloc(1, sizeof *c);
  if (!c)
    return kda_fail(error, KDA_ERR_OUT_OF_MEMORY, "cannot allocate a kda_context");

  kda_status s = kda_cuda_driver_open(&c->cu, driver_library, error);
  if (s != KDA_OK) {
    free(c);
    return s;
  }
  int count = 0;
  CUresult r = c->cu.cuDeviceGetCount(&count);
  if (r != CUDA_SUCCESS || device >= count) {
    kda_cuda_driver_close(&c->cu);
    free(c);
    return kda_fail(error, KDA_ERR_CUDA_UNAVAILABLE,
                    "argument 'device' is %d, but the driver reports %d CUDA "
                    "device(s)",
                    device, r == CUDA_SUCCESS ? count : 0);
  }
  if ((s = kda_context_check(c, c->cu.cuDeviceGet(&c->device, device), "cuDeviceGet")) ||
      (s = kda_context_check(c, c->cu.cuDevicePrimaryCtxRetain(&c->primary, c->device),
                             "cuDevicePrimaryCtxRetain"))) {
    kda_fail(error, s, "%s", c->last_error);
    kda_cuda_driver_close(&c->cu);
    free(c);
    return s;
  }
  if ((s = read_device(c, device)) != KDA_OK) {
    kda_fail(error, s, "%s", c->last_error);
    kda_context_destroy(c);
    return s;
  }
  c->last_error[0] = '\0';
  *out = c;
  return kda_succeed(error);
}

void kda_context_destroy(kda_context *context) {
  if (!context)
    return;
  if (context->primary)
    context->cu.cuDevicePrimaryCtxRelease(context->device);
  kda_cuda_driver_close(&context->cu);
  free(context);
}

const char *kda_context_last_error(const kda_context *context) {
  return context ? context->last_error : "argument 'context' is NULL";
}

kda_status kda_context_device_info(const kda_context *context,
                                   kda_device_info *out) {
  if (!context || !out)
    return KDA_ERR_INVALID_ARGUMENT;
  *out = context->info;
  return KDA_OK;
}
