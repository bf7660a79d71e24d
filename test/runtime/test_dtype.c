/* test_dtype.c - correctly rounded stores and exact loads of bf16 and f16. */
#include "harness.h"
#include "internal.h"

static void bf16_known_values(void) {
  EXPECT(kda_double_to_bf16(1.0) == 0x3F80, "1.0 -> 0x%04x", kda_double_to_bf16(1.0));
  EXPECT(kda_double_to_bf16(-2.0) == 0xC000, "-2.0 -> 0x%04x", kda_double_to_bf16(-2.0));
  /* Halfway between 1 and 1 + 2^-7: ties go to the even significand. */
  EXPECT(kda_double_to_bf16(1.0 + ldexp(1, -8)) == 0x3F80, "tie at 1");
  EXPECT(kda_double_to_bf16(1.0 + 3 * ldexp(1, -8)) == 0x3F82, "tie at 1+2^-7");
  /* Just above the tie, by less than a float ulp: rounding through float
   * with round-to-nearest would see an exact tie and go down. */
  EXPECT(kda_double_to_bf16(1.0 + ldexp(1, -8) + ldexp(1, -30)) == 0x3F81,
         "double rounding: got 0x%04x",
         kda_double_to_bf16(1.0 + ldexp(1, -8) + ldexp(1, -30)));
  EXPECT(kda_double_to_bf16(INFINITY) == 0x7F80, "inf");
  EXPECT(kda_double_to_bf16(3.4e38 * 1.01) == 0x7F80, "overflow to inf");
  EXPECT((kda_double_to_bf16(NAN) & 0x7FFF) > 0x7F80, "NaN stays NaN");
  EXPECT(kda_bf16_to_double(0x3F80) == 1.0, "0x3F80 -> 1");
  EXPECT(kda_bf16_to_double(0x0001) == ldexp(1, -133), "smallest subnormal");
}

static void f16_known_values(void) {
  EXPECT(kda_double_to_f16(1.0) == 0x3C00, "1.0 -> 0x%04x", kda_double_to_f16(1.0));
  EXPECT(kda_double_to_f16(65504.0) == 0x7BFF, "largest finite");
  EXPECT(kda_double_to_f16(65520.0) == 0x7C00, "tie above the largest -> inf");
  EXPECT(kda_double_to_f16(65519.0) == 0x7BFF, "below the tie -> largest");
  EXPECT(kda_double_to_f16(ldexp(1, -24)) == 0x0001, "smallest subnormal");
  EXPECT(kda_double_to_f16(ldexp(1, -25)) == 0x0000, "tie to even zero");
  EXPECT(kda_double_to_f16(1.5 * ldexp(1, -25)) == 0x0001, "above the tie");
  EXPECT(kda_double_to_f16(3 * ldexp(1, -25)) == 0x0002, "tie to even 2");
  EXPECT(kda_double_to_f16(ldexp(1, -14)) == 0x0400, "smallest normal");
  EXPECT(kda_double_to_f16(ldexp(1023.5, -24)) == 0x0400,
         "subnormal rounding up into the smallest normal");
  EXPECT(kda_double_to_f16(1.0 + ldexp(1, -11) + ldexp(1, -40)) == 0x3C01,
         "double rounding");
  EXPECT(kda_double_to_f16(-0.0) == 0x8000, "negative zero");
  EXPECT(kda_f16_to_double(0x3555) == 0.25 + 0x155 * ldexp(1, -12),
         "0x3555");
}

/* Every finite 16-bit pattern survives widening and rounding back. */
static void round_trips(void) {
  int bad_bf16 = 0, bad_f16 = 0;
  for (uint32_t bits = 0; bits <= 0xFFFF; ++bits) {
    uint16_t b = (uint16_t)bits;
    if ((b & 0x7F80) != 0x7F80 && kda_double_to_bf16(kda_bf16_to_double(b)) != b)
      ++bad_bf16;
    if ((b & 0x7C00) != 0x7C00 && kda_double_to_f16(kda_f16_to_double(b)) != b)
      ++bad_f16;
  }
  EXPECT(bad_bf16 == 0, "%d bf16 patterns did not round-trip", bad_bf16);
  EXPECT(bad_f16 == 0, "%d f16 patterns did not round-trip", bad_f16);
}

/* Random doubles round to the nearer neighbour (ties excluded by chance). */
static void nearest_neighbour(void) {
  harness_seed(7);
  int bad = 0;
  for (int i = 0; i < 100000; ++i) {
    double x = harness_uniform(-1000.0, 1000.0);
    uint16_t b = kda_double_to_bf16(x);
    double r = kda_bf16_to_double(b);
    double up = kda_bf16_to_double((uint16_t)(b + 1)),
           down = kda_bf16_to_double((uint16_t)(b - 1));
    if (fabs(x - r) > fabs(x - up) || fabs(x - r) > fabs(x - down))
      ++bad;
    uint16_t h = kda_double_to_f16(x);
    double rh = kda_f16_to_double(h);
    if (fabs(x - rh) > fabs(x - kda_f16_to_double((uint16_t)(h + 1))) ||
        fabs(x - rh) > fabs(x - kda_f16_to_double((uint16_t)(h - 1))))
      ++bad;
  }
  EXPECT(bad == 0, "%d values not rounded to the nearest", bad);
}

int main(int argc, char **argv) {
  static const harness_test tests[] = {
      {"bf16_known_values", bf16_known_values},
      {"f16_known_values", f16_known_values},
      {"round_trips", round_trips},
      {"nearest_neighbour", nearest_neighbour},
  };
  return harness_main(argc, argv, tests, sizeof tests / sizeof tests[0]);
}
