/* test_context.c - kda_context on a machine with or without a GPU: bad
 * arguments and a missing driver give a status and a message, never a
 * crash; NULL handles are harmless. */
#include "harness.h"

static void rejects_bad_arguments(void) {
  kda_error error;
  kda_context *context = (kda_context *)&error; /* must be reset to NULL */
  EXPECT(kda_context_create(0, NULL, NULL, &error) == KDA_ERR_INVALID_ARGUMENT &&
             strstr(error.message, "'out'"),
         "NULL out: %s", error.message);
  EXPECT(kda_context_create(-1, NULL, &context, &error) == KDA_ERR_INVALID_ARGUMENT &&
             strstr(error.message, "'device'") && context == NULL,
         "device -1: %s", error.message);
}

static void missing_driver_is_reported(void) {
  kda_error error;
  kda_context *context = NULL;
  const char *path = "/nonexistent/libcuda.so.1";
  kda_status status = kda_context_create(0, path, &context, &error);
  EXPECT(status == KDA_ERR_CUDA_UNAVAILABLE, "status %s", kda_status_string(status));
  EXPECT(strstr(error.message, path) != NULL, "message '%s' names the path",
         error.message);
  EXPECT(context == NULL, "no context on failure");
}

/* A library that is not a CUDA driver: its missing entry point is named. */
static void wrong_library_is_reported(void) {
  kda_error error;
  kda_context *context = NULL;
  kda_status status = kda_context_create(0, "libm.so.6", &context, &error);
  EXPECT(status == KDA_ERR_CUDA_UNAVAILABLE && strstr(error.message, "cuInit"),
         "%s: %s", kda_status_string(status), error.message);
}

static void null_handles_are_harmless(void) {
  kda_context_destroy(NULL);
  EXPECT(strlen(kda_context_last_error(NULL)) > 0, "a message for NULL");
  kda_device_info info;
  EXPECT(kda_context_device_info(NULL, &info) == KDA_ERR_INVALID_ARGUMENT, "NULL");
  EXPECT(strcmp(kda_status_string(KDA_ERR_PTX_JIT), "KDA_ERR_PTX_JIT") == 0 &&
             strcmp(kda_status_string(KDA_ERR_NOT_FOUND), "KDA_ERR_NOT_FOUND") == 0 &&
             strcmp(kda_status_string(KDA_ERR_CUDA), "KDA_ERR_CUDA") == 0 &&
             strcmp(kda_status_string(KDA_ERR_CUDA_UNAVAILABLE),
                    "KDA_ERR_CUDA_UNAVAILABLE") == 0,
         "status names");
}

int main(int argc, char **argv) {
  static const harness_test tests[] = {
      {"rejects_bad_arguments", rejects_bad_arguments},
      {"missing_driver_is_reported", missing_driver_is_reported},
      {"wrong_library_is_reported", wrong_library_is_reported},
      {"null_handles_are_harmless", null_handles_are_harmless},
  };
  return harness_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
