/* test_gpu_smoke.c - the toolchain end to end on a Hopper GPU: PTX that
 * kda-compile made from test/Integration/GPU/smoke_gemm_sm90a.mlir (TMA,
 * mbarrier, wgmma) is JIT-loaded by the runtime, launched with by-value
 * tensor maps, and its result compared exactly with the CPU's. Also the
 * runtime's GPU error paths: bad PTX (with the JIT log), a missing kernel,
 * a misaligned tensor map.
 *
 * Then kernel bundles: malformed ones refused with a message that says
 * what is wrong, and a call the bundle was not compiled for refused naming
 * the mismatch.
 *
 * Usage: test_gpu_smoke SMOKE_PTX BUNDLE [TEST], BUNDLE one of the
 * precomputed-gate bundles. Needs a GPU: registered with the ctest label
 * "gpu", which the CPU test run excludes. */
#include "../runtime/harness.h"
#include "bundle.h"

static const char *smoke_ptx_path, *bundle_path;

static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *text = malloc((size_t)size + 1);
  size_t got = fread(text, 1, (size_t)size, f);
  text[got] = '\0';
  fclose(f);
  return text;
}

static kda_context *open_context(void) {
  kda_context *context = NULL;
  kda_error error;
  kda_status status = kda_context_create(0, NULL, &context, &error);
  EXPECT(status == KDA_OK, "kda_context_create: %s", error.message);
  return context;
}

static void device_is_hopper(void) {
  kda_context *context = open_context();
  if (!context)
    return;
  kda_device_info info;
  EXPECT(kda_context_device_info(context, &info) == KDA_OK, "info");
  printf("device 0: %s, sm_%d%d, %d SMs, %d B shared per block, driver %d\n",
         info.name, info.compute_capability_major, info.compute_capability_minor,
         info.multiprocessors, info.shared_memory_per_block_optin,
         info.driver_version);
  EXPECT(info.compute_capability_major == 9 && info.compute_capability_minor == 0,
         "sm_90 expected, got sm_%d%d", info.compute_capability_major,
         info.compute_capability_minor);
  kda_context_destroy(context);
}

static void bad_ptx_reports_the_jit_log(void) {
  kda_context *context = open_context();
  if (!context)
    return;
  kda_module *module = NULL;
  const char *bad = ".version 8.0\n.target sm_90a\n.address_size 64\n"
                    ".visible .entry broken() { not_an_instruction; }\n";
  kda_status status = kda_module_load_ptx(context, bad, &module);
  EXPECT(status == KDA_ERR_PTX_JIT, "status %s", kda_status_string(status));
  EXPECT(module == NULL, "no module on failure");
  EXPECT(strstr(kda_context_last_error(context), "JIT log") &&
             strstr(kda_context_last_error(context), "not_an_instruction"),
         "message: %s", kda_context_last_error(context));
  kda_context_destroy(context);
}

/* Bits of a float as bf16 (exact for the small integers used here). */
static uint16_t bf16_bits(float value) {
  uint32_t u;
  memcpy(&u, &value, sizeof u);
  return (uint16_t)(u >> 16);
}

static void smoke_gemm_is_exact(void) {
  enum { M = 64, N = 16, K = 64 };
  kda_context *context = open_context();
  char *ptx = read_file(smoke_ptx_path);
  EXPECT(ptx != NULL, "cannot read %s", smoke_ptx_path);
  if (!context || !ptx)
    return;
  kda_module *module = NULL;
  EXPECT(kda_module_load_ptx(context, ptx, &module) == KDA_OK, "%s",
         kda_context_last_error(context));
  CUfunction kernel = NULL;
  EXPECT(kda_module_kernel(module, "no_such_kernel", 0, &kernel) == KDA_ERR_NOT_FOUND &&
             strstr(kda_context_last_error(context), "no_such_kernel"),
         "missing kernel: %s", kda_context_last_error(context));
  EXPECT(kda_module_kernel(module, "kda_smoke_gemm", 0, &kernel) == KDA_OK, "%s",
         kda_context_last_error(context));

  uint16_t a[M * K], b[N * K];
  float d[M * N], expected[M * N];
  harness_seed(42);
  for (int i = 0; i < M * K; ++i)
    a[i] = bf16_bits((float)(int)harness_uniform(-4, 5));
  for (int i = 0; i < N * K; ++i)
    b[i] = bf16_bits((float)(int)harness_uniform(-4, 5));
  for (int m = 0; m < M; ++m)
    for (int n = 0; n < N; ++n) {
      double sum = 0;
      for (int k = 0; k < K; ++k)
        sum += kda_bf16_to_double(a[m * K + k]) * kda_bf16_to_double(b[n * K + k]);
      expected[m * N + n] = (float)sum;
    }

  kda_cuda_driver *cu = &context->cu;
  CUdeviceptr da = 0, db = 0, dd = 0;
  EXPECT(kda_context_enter(context) == KDA_OK, "enter");
  EXPECT(cu->cuMemAlloc(&da, sizeof a) == CUDA_SUCCESS &&
             cu->cuMemAlloc(&db, sizeof b) == CUDA_SUCCESS &&
             cu->cuMemAlloc(&dd, sizeof d) == CUDA_SUCCESS,
         "cuMemAlloc");
  memset(d, 0xFF, sizeof d); /* NaN poison: every element must be written */
  cu->cuMemcpyHtoD(da, a, sizeof a);
  cu->cuMemcpyHtoD(db, b, sizeof b);
  cu->cuMemcpyHtoD(dd, d, sizeof d);
  kda_context_leave(context);

  kda_tensor_map_desc desc_a = {(void *)(uintptr_t)da, KDA_DTYPE_BFLOAT16, 2,
                                {K, M}, {0, K * 2}, {K, M}, 128};
  kda_tensor_map_desc desc_b = {(void *)(uintptr_t)db, KDA_DTYPE_BFLOAT16, 2,
                                {K, N}, {0, K * 2}, {K, N}, 128};
  CUtensorMap map_a, map_b;
  EXPECT(kda_tensor_map_encode(context, &desc_a, &map_a) == KDA_OK, "%s",
         kda_context_last_error(context));
  EXPECT(kda_tensor_map_encode(context, &desc_b, &map_b) == KDA_OK, "%s",
         kda_context_last_error(context));
  kda_tensor_map_desc misaligned = desc_a;
  misaligned.address = (void *)(uintptr_t)(da + 2);
  CUtensorMap unused;
  EXPECT(kda_tensor_map_encode(context, &misaligned, &unused) == KDA_ERR_INVALID_ARGUMENT &&
             strstr(kda_context_last_error(context), "16-byte aligned"),
         "misaligned: %s", kda_context_last_error(context));

  if (harness_failures) /* launching with bad tensor maps would fault */
    return;
  void *params[] = {&map_a, &map_b, &dd};
  const unsigned grid[3] = {1, 1, 1};
  EXPECT(kda_launch(context, kernel, grid, 128, 0, NULL, params) == KDA_OK, "%s",
         kda_context_last_error(context));
  EXPECT(kda_context_enter(context) == KDA_OK, "enter");
  CUresult sync = cu->cuCtxSynchronize();
  EXPECT(sync == CUDA_SUCCESS, "kernel failed: CUresult %d", sync);
  cu->cuMemcpyDtoH(d, dd, sizeof d);
  cu->cuMemFree(da);
  cu->cuMemFree(db);
  cu->cuMemFree(dd);
  kda_context_leave(context);

  int wrong = 0;
  for (int i = 0; i < M * N; ++i)
    wrong += !(d[i] == expected[i]);
  EXPECT(wrong == 0, "%d of %d elements wrong (d[0] = %g, want %g)", wrong, M * N,
         d[0], expected[0]);
  kda_module_destroy(module);
  kda_context_destroy(context);
  free(ptx);
}

static void bundle_errors_are_named(void) {
  kda_context *context = open_context();
  char *data = read_file(bundle_path);
  EXPECT(data != NULL, "cannot read %s", bundle_path);
  if (!context || !data)
    return;
  kda_bundle *bundle = NULL;
  const char garbage[] = "not a bundle";
  EXPECT(kda_bundle_load_data(context, garbage, sizeof garbage - 1, &bundle) ==
                 KDA_ERR_INVALID_ARGUMENT &&
             strstr(kda_context_last_error(context), "not a kda bundle") && !bundle,
         "garbage: %s", kda_context_last_error(context));
  size_t size = strlen(data);
  EXPECT(kda_bundle_load_data(context, data, size - 100, &bundle) == KDA_ERR_INVALID_ARGUMENT &&
             strstr(kda_context_last_error(context), "bytes, but"),
         "truncated: %s", kda_context_last_error(context));
  EXPECT(kda_bundle_load(context, "/nonexistent.kdab", &bundle) == KDA_ERR_INVALID_ARGUMENT &&
             strstr(kda_context_last_error(context), "/nonexistent.kdab"),
         "missing file: %s", kda_context_last_error(context));

  EXPECT(kda_bundle_load_data(context, data, size, &bundle) == KDA_OK, "%s",
         kda_context_last_error(context));
  if (bundle) {
    EXPECT(strcmp(kda_bundle_manifest(bundle, "gate"), "precomputed") == 0, "gate entry");
    EXPECT(kda_bundle_manifest(bundle, "no_such_key") == NULL, "missing key");
    /* A call in another mode, checked on host pointers that are never read. */
    static _Alignas(16) uint16_t q[128], v[128];
    static _Alignas(16) float g[128], beta[1], o_bits[64 + 4];
    kda_forward_args a;
    kda_forward_args_init(&a);
    a.batch = a.seq_len = a.num_heads = a.num_value_heads = 1;
    a.head_dim_k = a.head_dim_v = 128;
    a.q = a.k = (kda_tensor){q, KDA_DTYPE_BFLOAT16};
    a.v = (kda_tensor){v, KDA_DTYPE_BFLOAT16};
    a.g = (kda_tensor){g, KDA_DTYPE_FLOAT32};
    a.beta = (kda_tensor){beta, KDA_DTYPE_FLOAT32};
    a.o = (kda_mut_tensor){o_bits, KDA_DTYPE_BFLOAT16};
    a.beta_mode = KDA_BETA_SIGMOID;
    EXPECT(kda_bundle_check(bundle, &a) == KDA_ERR_UNSUPPORTED &&
               strstr(kda_context_last_error(context), "beta_mode = plain, but the call "
                                                       "has beta_mode = sigmoid"),
           "mode mismatch: %s", kda_context_last_error(context));
    a.beta_mode = KDA_BETA_PLAIN;
    a.head_dim_v = 64;
    EXPECT(kda_bundle_check(bundle, &a) == KDA_ERR_UNSUPPORTED &&
               strstr(kda_context_last_error(context), "head_dim_v"),
           "head size mismatch: %s", kda_context_last_error(context));
    a.head_dim_v = 128;
    /* o 4 bytes off its 16-byte alignment: the kernel stores 16-byte
     * pieces, so the call is refused before it launches, naming o. */
    a.o = (kda_mut_tensor){o_bits + 1, KDA_DTYPE_BFLOAT16};
    EXPECT(kda_bundle_check(bundle, &a) == KDA_ERR_INVALID_ARGUMENT &&
               strstr(kda_context_last_error(context), "argument 'o'") &&
               strstr(kda_context_last_error(context), "16-byte aligned"),
           "misaligned o: %s", kda_context_last_error(context));
    a.o = (kda_mut_tensor){o_bits, KDA_DTYPE_BFLOAT16};
    EXPECT(kda_bundle_check(bundle, &a) == KDA_OK, "aligned o: %s",
           kda_context_last_error(context));
    /* An f32 beta 2 bytes off: read element by element, it must be 4-byte
     * aligned, and the error names it. */
    static _Alignas(16) float beta_bits[2];
    a.beta = (kda_tensor){(const char *)beta_bits + 2, KDA_DTYPE_FLOAT32};
    EXPECT(kda_bundle_check(bundle, &a) == KDA_ERR_INVALID_ARGUMENT &&
               strstr(kda_context_last_error(context), "argument 'beta'") &&
               strstr(kda_context_last_error(context), "4-byte aligned"),
           "misaligned beta: %s", kda_context_last_error(context));
    a.beta = (kda_tensor){beta, KDA_DTYPE_FLOAT32};
    a.scale = -1;
    EXPECT(kda_forward(bundle, &a, NULL, 0, NULL) == KDA_ERR_INVALID_ARGUMENT &&
               strstr(kda_context_last_error(context), "'scale'"),
           "bad argument: %s", kda_context_last_error(context));
  }
  kda_bundle_destroy(bundle);
  kda_context_destroy(context);
  free(data);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s SMOKE_PTX BUNDLE [TEST]\n", argv[0]);
    return 2;
  }
  smoke_ptx_path = argv[1];
  bundle_path = argv[2];
  static const harness_test tests[] = {
      {"device_is_hopper", device_is_hopper},
      {"bad_ptx_reports_the_jit_log", bad_ptx_reports_the_jit_log},
      {"smoke_gemm_is_exact", smoke_gemm_is_exact},
      {"bundle_errors_are_named", bundle_errors_are_named},
  };
  return harness_main(argc - 2, argv + 2, tests, sizeof tests / sizeof tests[0]);
}
