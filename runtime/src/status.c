/* status.c - status names, version, and the error-message helpers. */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>

int kda_version_number(void) { return KDA_VERSION_NUMBER; }

const char *kda_status_string(kda_status status) {
  switch (status) {
  case KDA_OK:
    return "KDA_OK";
  case KDA_ERR_INVALID_ARGUMENT:
    return "KDA_ERR_INVALID_ARGUMENT";
  case KDA_ERR_OUT_OF_MEMORY:
    return "KDA_ERR_OUT_OF_MEMORY";
  case KDA_ERR_UNSUPPORTED:
    return "KDA_ERR_UNSUPPORTED";
  case KDA_ERR_CUDA_UNAVAILABLE:
    return "KDA_ERR_CUDA_UNAVAILABLE";
  case KDA_ERR_CUDA:
    return "KDA_ERR_CUDA";
  case KDA_ERR_PTX_JIT:
    return "KDA_ERR_PTX_JIT";
  case KDA_ERR_NOT_FOUND:
    return "KDA_ERR_NOT_FOUND";
  }
  return "KDA_ERR_UNKNOWN_STATUS";
}

kda_status kda_fail(kda_error *error, kda_status status, const char *format,
                    ...) {
  if (error) {
    va_list ap;
    va_start(ap, format);
    vsnprintf(error->message, sizeof error->message, format, ap);
    va_end(ap);
  }
  return status;
}

kda_status kda_succeed(kda_error *error) {
  if (error)
    error->message[0] = '\0';
  return KDA_OK;
}
