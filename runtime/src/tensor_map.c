/* tensor_map.c - TMA descriptors: the driver's rules checked with readable
 * messages before cuTensorMapEncodeTiled sees them. */
#include "gpu.h"

#include <stdint.h>

static int tma_data_type(kda_dtype dtype) {
  switch (dtype) {
  case KDA_DTYPE_FLOAT32:
    return CU_TENSOR_MAP_DATA_TYPE_FLOAT32;
  case KDA_DTYPE_BFLOAT16:
    return CU_TENSOR_MAP_DATA_TYPE_BFLOAT16;
  case KDA_DTYPE_FLOAT16:
    return CU_TENSOR_MAP_DATA_TYPE_FLOAT16;
  case KDA_DTYPE_FLOAT64:
    return CU_TENSOR_MAP_DATA_TYPE_FLOAT64;
  case KDA_DTYPE_INT32:
    return CU_TENSOR_MAP_DATA_TYPE_INT32;
  case KDA_DTYPE_INT64:
    return CU_TENSOR_MAP_DATA_TYPE_INT64;
  }
  return -1;
}

/* CUtensorMapSwizzle for a swizzle span in bytes. */
static int tma_swizzle(uint32_t bytes) {
  switch (bytes) {
  case 0:
    return 0;
  case 32:
    return 1;
  case 64:
    return 2;
  case 128:
    return 3;
  }
  return -1;
}

kda_status kda_tensor_map_encode(kda_context *context,
                                 const kda_tensor_map_desc *d, CUtensorMap *out) {
  const kda_status bad = KDA_ERR_INVALID_ARGUMENT;
  int data_type = tma_data_type(d->dtype), swizzle = tma_swizzle(d->swizzle_bytes);
  size_t element = kda_dtype_size(d->dtype);
  if (data_type < 0)
    return kda_context_fail(context, bad, "tensor map: unknown dtype %d", (int)d->dtype);
  if (swizzle < 0)
    return kda_context_fail(context, bad,
                            "tensor map: swizzle must be 0, 32, 64 or 128 bytes, got %u",
                            d->swizzle_bytes);
  if (d->rank < 1 || d->rank > KDA_TENSOR_MAP_MAX_RANK)
    return kda_context_fail(context, bad, "tensor map: rank must be 1..%d, got %u",
                            KDA_TENSOR_MAP_MAX_RANK, d->rank);
  if ((uintptr_t)d->address % 16 != 0)
    return kda_context_fail(context, bad,
                            "tensor map: the address %p is not 16-byte aligned",
                            d->address);
  for (uint32_t i = 0; i < d->rank; ++i) {
    if (d->dims[i] < 1 || d->dims[i] > (1ull << 32))
      return kda_context_fail(context, bad,
                              "tensor map: dimension %u must be in [1, 2^32], got %llu",
                              i, (unsigned long long)d->dims[i]);
    if (d->box[i] < 1 || d->box[i] > 256)
      return kda_context_fail(context, bad,
                              "tensor map: box dimension %u must be in [1, 256], got %u",
                              i, d->box[i]);
    if (i > 0 && (d->strides[i] % 16 != 0 || d->strides[i] >= (1ull << 40)))
      return kda_context_fail(context, bad,
                              "tensor map: stride %u must be a multiple of 16 below "
                              "2^40 bytes, got %llu",
                              i, (unsigned long long)d->strides[i]);
  }
  if ((d->box[0] * element) % 16 != 0)
    return kda_context_fail(context, bad,
                            "tensor map: the inner box (%u elements) must span a "
                            "multiple of 16 bytes",
                            d->box[0]);
  if (d->swizzle_bytes && d->box[0] * element > d->swizzle_bytes)
    return kda_context_fail(context, bad,
                            "tensor map: the inner box spans %zu bytes, more than "
                            "the %u-byte swizzle",
                            d->box[0] * element, d->swizzle_bytes);

  uint32_t element_strides[KDA_TENSOR_MAP_MAX_RANK] = {1, 1, 1, 1, 1};
  /* The driver validates the address against the current context. */
  kda_status status = kda_context_enter(context);
  if (status != KDA_OK)
    return status;
  CUresult r = context->cu.cuTensorMapEncodeTiled(
      out, data_type, d->rank, (void *)d->address, d->dims, d->strides + 1,
      d->box, element_strides, CU_TENSOR_MAP_INTERLEAVE_NONE, swizzle,
      CU_TENSOR_MAP_L2_PROMOTION_L2_128B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  kda_context_leave(context);
  return kda_context_check(context, r, "cuTensorMapEncodeTiled");
}
