/* harness.h - the C tests' tiny harness: named tests, checks that count
 * failures, seeded random inputs and poisoned buffers.
 *
 * Each test binary holds several tests; `binary NAME` runs one (ctest
 * registers one entry per name), `binary` alone runs them all. */
#ifndef KDA_TEST_RUNTIME_HARNESS_H
#define KDA_TEST_RUNTIME_HARNESS_H

#include "kda/kda.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int harness_failures;

#define EXPECT(cond, ...)                                                      \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: expected %s: ", __FILE__, __LINE__, #cond);      \
      fprintf(stderr, __VA_ARGS__);                                            \
      fputc('\n', stderr);                                                     \
      ++harness_failures;                                                      \
    }                                                                          \
  } while (0)

#define EXPECT_NEAR(actual, expected, tolerance)                               \
  EXPECT(fabs((double)(actual) - (double)(expected)) <= (tolerance),           \
         "%s = %.17g, want %.17g (tolerance %g)", #actual, (double)(actual),   \
         (double)(expected), (double)(tolerance))

typedef struct harness_test {
  const char *name;
  void (*run)(void);
} harness_test;

static inline int harness_main(int argc, char **argv, const harness_test *tests,
                        size_t count) {
  size_t ran = 0;
  for (size_t i = 0; i < count; ++i) {
    if (argc > 1 && strcmp(argv[1], tests[i].name) != 0)
      continue;
    int before = harness_failures;
    tests[i].run();
    ++ran;
    printf("%s: %s\n", tests[i].name,
           harness_failures == before ? "ok" : "FAILED");
  }
  if (ran == 0) {
    fprintf(stderr, "no test named '%s'\n", argc > 1 ? argv[1] : "");
    return 2;
  }
  return harness_failures == 0 ? 0 : 1;
}

/* xorshift64*: reproducible, independent of libc. */
static uint64_t harness_rng_state = 0x9E3779B97F4A7C15ull;

static inline void harness_seed(uint64_t seed) {
  harness_rng_state = seed * 0x9E3779B97F4A7C15ull + 1;
}

static inline double harness_uniform(double lo, double hi) {
  harness_rng_state ^= harness_rng_state >> 12;
  harness_rng_state ^= harness_rng_state << 25;
  harness_rng_state ^= harness_rng_state >> 27;
  uint64_t r = harness_rng_state * 0x2545F4914F6CDD1Dull;
  return lo + (hi - lo) * ((double)(r >> 11) / 9007199254740992.0);
}

/* `n` doubles uniform in [lo, hi). Caller frees. */
static inline double *harness_random(size_t n, double lo, double hi) {
  double *x = malloc(sizeof(double) * (n ? n : 1));
  for (size_t i = 0; i < n; ++i)
    x[i] = harness_uniform(lo, hi);
  return x;
}

/* `n` doubles set to NaN: any element an output fails to write stays NaN. */
static inline double *harness_poisoned(size_t n) {
  double *x = malloc(sizeof(double) * (n ? n : 1));
  for (size_t i = 0; i < n; ++i)
    x[i] = NAN;
  return x;
}

/* Largest |a - b| over n elements; NaN anywhere gives +inf. */
static inline double harness_max_diff(const double *a, const double *b, size_t n) {
  double worst = 0.0;
  for (size_t i = 0; i < n; ++i) {
    double d = fabs(a[i] - b[i]);
    if (isnan(d))
      return INFINITY;
    if (d > worst)
      worst = d;
  }
  return worst;
}

static inline kda_tensor harness_f64(const double *data) {
  kda_tensor t = {data, KDA_DTYPE_FLOAT64};
  return t;
}

static inline kda_mut_tensor harness_f64_out(double *data) {
  kda_mut_tensor t = {data, KDA_DTYPE_FLOAT64};
  return t;
}

#endif /* KDA_TEST_RUNTIME_HARNESS_H */
