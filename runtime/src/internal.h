/* internal.h - helpers shared by the runtime's translation units; not part of
 * the public API. */
#ifndef KDA_RUNTIME_INTERNAL_H
#define KDA_RUNTIME_INTERNAL_H

#include "kda/kda.h"

#include <stdbool.h>

/* Formats a message into `error` (if not NULL) and returns `status`. */
kda_status kda_fail(kda_error *error, kda_status status, const char *format,
                    ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Clears `error` (if not NULL) and returns KDA_OK. */
kda_status kda_succeed(kda_error *error);

/* kda_forward_validate, with the reading of cu_seqlens' entries optional:
 * a GPU call's cu_seqlens lives in device memory. */
kda_status kda_forward_check(const kda_forward_args *args, bool read_cu_seqlens,
                             kda_error *error);

/* kda_decode_validate, with the reading of state_indices optional (a GPU
 * call's indices live in device memory). */
kda_status kda_decode_check(const kda_decode_args *args, bool read_indices,
                            kda_error *error);

/* The query scale a call means: `scale`, or 1 / sqrt(K) when it is 0. */
double kda_scale_or_default(double scale, int64_t head_dim_k);

/* Element `index` of a float tensor of `dtype` as a double (exact). */
double kda_load(const void *data, kda_dtype dtype, size_t index);

/* Stores `value` into element `index`, rounded to nearest even. */
void kda_store(void *data, kda_dtype dtype, size_t index, double value);

/* Element `index` of an int32 or int64 tensor. */
int64_t kda_load_index(const void *data, kda_dtype dtype, size_t index);

/* Scalar conversions, exposed for the tests of the rounding itself. */
double kda_bf16_to_double(uint16_t bits);
uint16_t kda_double_to_bf16(double value);
double kda_f16_to_double(uint16_t bits);
uint16_t kda_double_to_f16(double value);

/* The per-step log decay of spec §3 for one channel: `raw` is g as given,
 * `a_log` and `dt_bias` are 0 when absent. */
double kda_gate_log_decay(kda_gate_mode mode, double raw, double a_log,
                          bool has_a_log, double dt_bias, double lower_bound);

/* The delta-rule step size of spec §3 from beta as given. */
double kda_beta_value(kda_beta_mode mode, double raw);

#endif /* KDA_RUNTIME_INTERNAL_H */
