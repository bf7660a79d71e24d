/* cuda_driver.c - opening libcuda and resolving the entry points kda calls. */
#include "cuda_driver.h"

#include "internal.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

/* The default driver library: the versioned soname every driver install
 * provides (the unversioned libcuda.so is a development symlink). */
static const char kDefaultDriver[] = "libcuda.so.1";

kda_status kda_cuda_driver_open(kda_cuda_driver *driver, const char *path,
                                kda_error *error) {
  memset(driver, 0, sizeof *driver);
  const char *name = path ? path : kDefaultDriver;
  driver->library = dlopen(name, RTLD_NOW | RTLD_LOCAL);
  if (!driver->library) {
    const char *reason = dlerror();
    return kda_fail(error, KDA_ERR_CUDA_UNAVAILABLE,
                    "cannot load the CUDA driver '%s': %s", name,
                    reason ? reason : "unknown reason");
  }

  /* Versioned names where the driver has several (cuda.h maps the plain
   * name to these). */
  struct {
    void **slot;
    const char *symbol;
  } entries[] = {
      {(void **)&driver->cuInit, "cuInit"},
      {(void **)&driver->cuDriverGetVersion, "cuDriverGetVersion"},
      {(void **)&driver->cuGetErrorName, "cuGetErrorName"},
      {(void **)&driver->cuGetErrorString, "cuGetErrorString"},
      {(void **)&driver->cuDeviceGetCount, "cuDeviceGetCount"},
      {(void **)&driver->cuDeviceGet, "cuDeviceGet"},
      {(void **)&driver->cuDeviceGetName, "cuDeviceGetName"},
      {(void **)&driver->cuDeviceGetAttribute, "cuDeviceGetAttribute"},
      {(void **)&driver->cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain"},
      {(void **)&driver->cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2"},
      {(void **)&driver->cuCtxPushCurrent, "cuCtxPushCurrent_v2"},
      {(void **)&driver->cuCtxPopCurrent, "cuCtxPopCurrent_v2"},
      {(void **)&driver->cuCtxSynchronize, "cuCtxSynchronize"},
      {(void **)&driver->cuModuleLoadDataEx, "cuModuleLoadDataEx"},
      {(void **)&driver->cuModuleUnload, "cuModuleUnload"},
      {(void **)&driver->cuModuleGetFunction, "cuModuleGetFunction"},
      {(void **)&driver->cuFuncSetAttribute, "cuFuncSetAttribute"},
      {(void **)&driver->cuLaunchKernel, "cuLaunchKernel"},
      /* CUDA 12.0+: a driver without it cannot run sm_90a kernels anyway. */
      {(void **)&driver->cuTensorMapEncodeTiled, "cuTensorMapEncodeTiled"},
      {(void **)&driver->cuMemAlloc, "cuMemAlloc_v2"},
      {(void **)&driver->cuMemFree, "cuMemFree_v2"},
      {(void **)&driver->cuMemcpyHtoD, "cuMemcpyHtoD_v2"},
      {(void **)&driver->cuMemcpyDtoH, "cuMemcpyDtoH_v2"},
  };
  for (size_t i = 0; i < sizeof entries / sizeof entries[0]; ++i) {
    *entries[i].slot = dlsym(driver->library, entries[i].symbol);
    if (!*entries[i].slot) {
      kda_status status = kda_fail(
          error, KDA_ERR_CUDA_UNAVAILABLE,
          "the CUDA driver '%s' has no entry point '%s' (driver too old?)",
          name, entries[i].symbol);
      kda_cuda_driver_close(driver);
      return status;
    }
  }

  CUresult result = driver->cuInit(0);
  if (result != CUDA_SUCCESS) {
    char detail[160];
    kda_cuda_describe(driver, result, detail, sizeof detail);
    kda_cuda_driver_close(driver);
    return kda_fail(error, KDA_ERR_CUDA_UNAVAILABLE, "cuInit failed: %s", detail);
  }
  return KDA_OK;
}

void kda_cuda_driver_close(kda_cuda_driver *driver) {
  if (driver->library)
    dlclose(driver->library);
  memset(driver, 0, sizeof *driver);
}

void kda_cuda_describe(const kda_cuda_driver *driver, CUresult result,
                       char *out, size_t size) {
  const char *name = NULL, *text = NULL;
  if (driver->cuGetErrorName)
    driver->cuGetErrorName(result, &name);
  if (driver->cuGetErrorString)
    driver->cuGetErrorString(result, &text);
  snprintf(out, size, "%s (%s)", name ? name : "CUDA error",
           text ? text : "no description");
  if (!name) /* unknown code: keep the number */
    snprintf(out, size, "CUDA error %d", result);
}
