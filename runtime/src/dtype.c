/* dtype.c - element sizes, loads and correctly rounded stores.
 *
 * Stores round once, to nearest even, from double: a double is first
 * rounded to float with round-to-odd, which keeps enough information for
 * the final round-to-nearest-even to 16 bits to be the correct one (float
 * has at least 13 more significand bits than either 16-bit type). */
#include "internal.h"

#include <math.h>
#include <string.h>

size_t kda_dtype_size(kda_dtype dtype) {
  switch (dtype) {
  case KDA_DTYPE_FLOAT32:
  case KDA_DTYPE_INT32:
    return 4;
  case KDA_DTYPE_BFLOAT16:
  case KDA_DTYPE_FLOAT16:
    return 2;
  case KDA_DTYPE_FLOAT64:
  case KDA_DTYPE_INT64:
    return 8;
  }
  return 0;
}

static uint32_t float_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

static float bits_float(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

/* double -> float, rounding to odd: truncate toward zero, then set the last
 * bit if anything was lost. */
static uint32_t double_to_float_round_odd(double value) {
  float nearest = (float)value;
  if (isnan(value) || (double)nearest == value)
    return float_bits(nearest);
  float truncated = nearest;
  if (fabs((double)nearest) > fabs(value))
    truncated = nextafterf(nearest, 0.0f);
  return float_bits(truncated) | 1u;
}

double kda_bf16_to_double(uint16_t bits) {
  return (double)bits_float((uint32_t)bits << 16);
}

uint16_t kda_double_to_bf16(double value) {
  if (isnan(value))
    return (uint16_t)(signbit(value) ? 0xFFC0u : 0x7FC0u);
  uint32_t u = double_to_float_round_odd(value);
  /* Round to nearest even on the 16 dropped bits; a carry into the exponent
   * is the correct rounding up (to infinity past the largest finite). */
  uint32_t lsb = (u >> 16) & 1u;
  return (uint16_t)((u + 0x7FFFu + lsb) >> 16);
}

double kda_f16_to_double(uint16_t bits) {
  int sign = (bits >> 15) & 1;
  int exponent = (bits >> 10) & 0x1F;
  int mantissa = bits & 0x3FF;
  double magnitude;
  if (exponent == 0)
    magnitude = ldexp((double)mantissa, -24); /* subnormal */
  else if (exponent == 0x1F)
    magnitude = mantissa ? NAN : INFINITY;
  else
    magnitude = ldexp((double)(mantissa | 0x400), exponent - 25);
  return sign ? -magnitude : magnitude;
}

uint16_t kda_double_to_f16(double value) {
  if (isnan(value))
    return (uint16_t)(signbit(value) ? 0xFE00u : 0x7E00u);
  uint32_t u = double_to_float_round_odd(value);
  uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
  u &= 0x7FFFFFFFu;
  if (u >= 0x7F800000u) /* infinity */
    return sign | 0x7C00u;
  int exponent = (int)(u >> 23) - 127;
  uint32_t significand = (u & 0x7FFFFFu) | 0x800000u; /* 24 bits, 1.x */
  if (exponent < -25) /* below half the smallest subnormal (float
                        subnormals included) */
    return sign;
  /* Number of low significand bits dropped: 13 for normals, more for
   * subnormals (whose exponent is fixed at -14). */
  int shift = exponent >= -14 ? 13 : 13 + (-14 - exponent);
  uint32_t kept = significand >> shift;
  uint32_t dropped = significand & ((1u << shift) - 1u);
  uint32_t half = 1u << (shift - 1);
  if (dropped > half || (dropped == half && (kept & 1u)))
    kept += 1;
  if (exponent < -14) /* subnormal, or rounded up into the smallest normal */
    return sign | (uint16_t)kept;
  uint32_t biased = (uint32_t)(exponent + 15);
  /* kept is 1.x in 11 bits; a carry to 12 bits bumps the exponent. */
  uint32_t bits = (biased << 10) + (kept - 0x400u);
  if (bits >= 0x7C00u)
    return sign | 0x7C00u;
  return sign | (uint16_t)bits;
}

double kda_load(const void *data, kda_dtype dtype, size_t index) {
  switch (dtype) {
  case KDA_DTYPE_FLOAT32:
    return (double)((const float *)data)[index];
  case KDA_DTYPE_BFLOAT16:
    return kda_bf16_to_double(((const uint16_t *)data)[index]);
  case KDA_DTYPE_FLOAT16:
    return kda_f16_to_double(((const uint16_t *)data)[index]);
  case KDA_DTYPE_FLOAT64:
    return ((const double *)data)[index];
  case KDA_DTYPE_INT32:
    return (double)((const int32_t *)data)[index];
  case KDA_DTYPE_INT64:
    return (double)((const int64_t *)data)[index];
  }
  return NAN;
}

void kda_store(void *data, kda_dtype dtype, size_t index, double value) {
  switch (dtype) {
  case KDA_DTYPE_FLOAT32:
    ((float *)data)[index] = (float)value;
    return;
  case KDA_DTYPE_BFLOAT16:
    ((uint16_t *)data)[index] = kda_double_to_bf16(value);
    return;
  case KDA_DTYPE_FLOAT16:
    ((uint16_t *)data)[index] = kda_double_to_f16(value);
    return;
  case KDA_DTYPE_FLOAT64:
    ((double *)data)[index] = value;
    return;
  case KDA_DTYPE_INT32:
  case KDA_DTYPE_INT64:
    return; /* validation never lets an integer output through */
  }
}

int64_t kda_load_index(const void *data, kda_dtype dtype, size_t index) {
  if (dtype == KDA_DTYPE_INT32)
    return ((const int32_t *)data)[index];
  return ((const int64_t *)data)[index];
}
