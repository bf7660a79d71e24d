/* bundle.c - kernel bundles: the manifest kda-compile writes, then PTX.
 *
 *   kda-bundle 1
 *   <key> <value>          one line per manifest entry
 *   ptx <bytes>
 *   <exactly that many bytes of PTX>
 */
#include "bundle.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char kMagic[] = "kda-bundle 1\n";

/* Integer manifest entries the launcher needs, with their fields. */
static kda_status read_integer(kda_bundle *bundle, const char *key, int64_t *out) {
  const char *text = kda_bundle_manifest(bundle, key);
  char *end = NULL;
  long long value = text ? strtoll(text, &end, 10) : 0;
  if (!text || *end != '\0' || value < 0)
    return kda_context_fail(bundle->context, KDA_ERR_INVALID_ARGUMENT,
                            "bundle manifest: entry '%s' is %s, expected a "
                            "non-negative integer",
                            key, text ? text : "missing");
  *out = value;
  return KDA_OK;
}

/* The segment scan's combining kernels' launch facts; a kernel's block
 * must be non-empty and the segments' tile too. */
static kda_status read_segment_facts(kda_bundle *b) {
  kda_status s;
  if ((s = read_integer(b, "segment_tokens", &b->segment_tokens)) ||
      (s = read_integer(b, "compose_threads", &b->compose_threads)) ||
      (s = read_integer(b, "compose_rows", &b->compose_rows)) ||
      (s = read_integer(b, "compose_shared_bytes", &b->compose_shared_bytes)) ||
      (s = read_integer(b, "correct_threads", &b->correct_threads)) ||
      (s = read_integer(b, "correct_shared_bytes", &b->correct_shared_bytes)))
    return s;
  if (b->segment_tokens < 1 || b->compose_threads < 1 || b->compose_rows < 1 ||
      b->correct_threads < 1)
    return kda_context_fail(b->context, KDA_ERR_INVALID_ARGUMENT,
                            "bundle manifest: the segment scan's segment_tokens, "
                            "compose_threads, compose_rows and correct_threads must be "
                            "positive");
  return KDA_OK;
}

static kda_status load_segment_kernels(kda_bundle *b) {
  const char *compose = kda_bundle_manifest(b, "compose_kernel"),
             *correct = kda_bundle_manifest(b, "correct_kernel");
  if (!compose || !correct)
    return kda_context_fail(b->context, KDA_ERR_INVALID_ARGUMENT,
                            "bundle manifest: a segment scan needs 'compose_kernel' and "
                            "'correct_kernel' entries");
  kda_status s = kda_module_kernel(b->module, compose, (size_t)b->compose_shared_bytes,
                                   &b->compose_kernel);
  if (s == KDA_OK)
    s = kda_module_kernel(b->module, correct, (size_t)b->correct_shared_bytes,
                          &b->correct_kernel);
  return s;
}

static kda_status parse(kda_bundle *b, const char *data, size_t size,
                        const char **ptx, size_t *ptx_size) {
  kda_context *c = b->context;
  const kda_status bad = KDA_ERR_INVALID_ARGUMENT;
  if (size < sizeof kMagic - 1 || memcmp(data, kMagic, sizeof kMagic - 1) != 0)
    return kda_context_fail(c, bad, "not a kda bundle: it must start with "
                                    "\"kda-bundle 1\"");
  size_t at = sizeof kMagic - 1;
  while (at < size) {
    const char *line = data + at;
    const char *newline = memchr(line, '\n', size - at);
    if (!newline)
      return kda_context_fail(c, bad, "bundle manifest: unterminated line at byte %zu", at);
    size_t length = (size_t)(newline - line);
    at += length + 1;
    const char *space = memchr(line, ' ', length);
    if (!space || space == line)
      return kda_context_fail(c, bad, "bundle manifest: line '%.*s' is not 'key value'",
                              (int)(length < 60 ? length : 60), line);
    size_t key_length = (size_t)(space - line);
    if (key_length == 3 && memcmp(line, "ptx", 3) == 0) {
      char *end = NULL;
      errno = 0;
      unsigned long long bytes = strtoull(space + 1, &end, 10);
      if (errno || end != newline || bytes != size - at)
        return kda_context_fail(c, bad,
                                "bundle: the ptx entry announces %.*s bytes, but %zu follow",
                                (int)(newline - space - 1), space + 1, size - at);
      *ptx = data + at;
      *ptx_size = (size_t)bytes;
      return KDA_OK;
    }
    if (b->entry_count == KDA_BUNDLE_MAX_ENTRIES)
      return kda_context_fail(c, bad, "bundle manifest: more than %d entries",
                              KDA_BUNDLE_MAX_ENTRIES);
    char *key = malloc(key_length + 1), *value = malloc(length - key_length);
    if (!key || !value) {
      free(key);
      free(value);
      return kda_context_fail(c, KDA_ERR_OUT_OF_MEMORY, "cannot allocate the manifest");
    }
    memcpy(key, line, key_length);
    key[key_length] = '\0';
    memcpy(value, space + 1, length - key_length - 1);
    value[length - key_length - 1] = '\0';
    b->entries[b->entry_count].key = key;
    b->entries[b->entry_count].value = value;
    ++b->entry_count;
  }
  return kda_context_fail(c, bad, "bundle: no ptx entry");
}

kda_status kda_bundle_load_data(kda_context *context, const char *data, size_t size,
                                kda_bundle **out) {
  if (!context)
    return KDA_ERR_INVALID_ARGUMENT;
  if (!data || !out)
    return kda_context_fail(context, KDA_ERR_INVALID_ARGUMENT,
                            "argument '%s' must not be NULL", data ? "out" : "data");
  *out = NULL;
  kda_bundle *b = calloc(1, sizeof *b);
  if (!b)
    return kda_context_fail(context, KDA_ERR_OUT_OF_MEMORY, "cannot allocate a bundle");
  b->context = context;
  const char *ptx = NULL;
  size_t ptx_size = 0;
  char *text = NULL;
  kda_status s = parse(b, data, size, &ptx, &ptx_size);
  if (s == KDA_OK && !(text = malloc(ptx_size + 1)))
    s = kda_context_fail(context, KDA_ERR_OUT_OF_MEMORY, "cannot copy the PTX");
  if (s == KDA_OK) {
    memcpy(text, ptx, ptx_size);
    text[ptx_size] = '\0';
    const char *kernel = kda_bundle_manifest(b, "kernel");
    if (!kernel)
      s = kda_context_fail(context, KDA_ERR_INVALID_ARGUMENT,
                           "bundle manifest: no 'kernel' entry");
    if (s == KDA_OK)
      s = read_integer(b, "threads", &b->threads);
    if (s == KDA_OK)
      s = read_integer(b, "shared_bytes", &b->shared_bytes);
    if (s == KDA_OK)
      s = read_integer(b, "head_dim_k", &b->head_dim_k);
    if (s == KDA_OK)
      s = read_integer(b, "head_dim_v", &b->head_dim_v);
    /* The forward's chunked schedule also has its tiles' shape. */
    const char *op = kda_bundle_manifest(b, "op");
    if (s == KDA_OK && !(op && (strcmp(op, "forward") == 0 || strcmp(op, "decode") == 0)))
      s = kda_context_fail(context, KDA_ERR_INVALID_ARGUMENT,
                           "bundle manifest: entry 'op' is %s, expected forward or decode",
                           op ? op : "missing");
    if (s == KDA_OK && strcmp(op, "forward") == 0) {
      s = read_integer(b, "chunk_size", &b->chunk_size);
      if (s == KDA_OK)
        s = read_integer(b, "tensor_map_box_rows", &b->tensor_map_box_rows);
      if (s == KDA_OK)
        s = read_integer(b, "tensor_map_swizzle", &b->tensor_map_swizzle);
      if (s == KDA_OK)
        s = read_integer(b, "cluster_ctas", &b->cluster_ctas);
      if (s == KDA_OK)
        s = read_integer(b, "head_ctas", &b->head_ctas);
      if (s == KDA_OK && (b->head_ctas < 1 || b->head_ctas > KDA_MAX_GRID_YZ))
        s = kda_context_fail(context, KDA_ERR_INVALID_ARGUMENT,
                             "bundle manifest: head_ctas = %lld, expected 1 to %d",
                             (long long)b->head_ctas, KDA_MAX_GRID_YZ);
      /* Bundles from before the segment scan have no entry: 0. */
      if (s == KDA_OK && kda_bundle_manifest(b, "segment_scan"))
        s = read_integer(b, "segment_scan", &b->segment_scan);
      if (s == KDA_OK && b->segment_scan)
        s = read_segment_facts(b);
    }
    if (s == KDA_OK) {
      s = read_integer(b, "value_blocks", &b->value_blocks);
      if (s == KDA_OK && (b->value_blocks < 1 || b->value_blocks > KDA_MAX_GRID_YZ))
        s = kda_context_fail(context, KDA_ERR_INVALID_ARGUMENT,
                             "bundle manifest: value_blocks = %lld, expected 1 to %d",
                             (long long)b->value_blocks, KDA_MAX_GRID_YZ);
    }
    if (s == KDA_OK)
      s = kda_module_load_ptx(context, text, &b->module);
    if (s == KDA_OK)
      s = kda_module_kernel(b->module, kernel, (size_t)b->shared_bytes, &b->kernel);
    if (s == KDA_OK && b->segment_scan)
      s = load_segment_kernels(b);
  }
  free(text);
  if (s != KDA_OK) {
    kda_bundle_destroy(b);
    return s;
  }
  *out = b;
  return KDA_OK;
}

kda_status kda_bundle_load(kda_context *context, const char *path, kda_bundle **out) {
  if (!context)
    return KDA_ERR_INVALID_ARGUMENT;
  if (!path || !out)
    return kda_context_fail(context, KDA_ERR_INVALID_ARGUMENT,
                            "argument '%s' must not be NULL", path ? "out" : "path");
  FILE *f = fopen(path, "rb");
  if (!f)
    return kda_context_fail(context, KDA_ERR_INVALID_ARGUMENT,
                            "cannot open the bundle '%s': %s", path, strerror(errno));
  char *data = NULL;
  long size = -1;
  if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0)
    data = malloc((size_t)size + 1);
  size_t got = data ? fread(data, 1, (size_t)size, f) : 0;
  fclose(f);
  if (!data || got != (size_t)size) {
    free(data);
    return kda_context_fail(context, KDA_ERR_INVALID_ARGUMENT,
                            "cannot read the bundle '%s'", path);
  }
  kda_status s = kda_bundle_load_data(context, data, (size_t)size, out);
  free(data);
  return s;
}

void kda_bundle_destroy(kda_bundle *bundle) {
  if (!bundle)
    return;
  kda_module_destroy(bundle->module);
  for (int i = 0; i < bundle->entry_count; ++i) {
    free(bundle->entries[i].key);
    free(bundle->entries[i].value);
  }
  free(bundle);
}

const char *kda_bundle_manifest(const kda_bundle *bundle, const char *key) {
  if (!bundle || !key)
    return NULL;
  for (int i = 0; i < bundle->entry_count; ++i)
    if (strcmp(bundle->entries[i].key, key) == 0)
      return bundle->entries[i].value;
  return NULL;
}

const char *kda_gate_name(kda_gate_mode m) {
  return m == KDA_GATE_SOFTPLUS ? "softplus"
         : m == KDA_GATE_LOWER_BOUND ? "lower_bound" : "precomputed";
}
const char *kda_beta_name(kda_beta_mode m) {
  return m == KDA_BETA_SIGMOID ? "sigmoid"
         : m == KDA_BETA_SIGMOID_NEG_EIGVAL ? "sigmoid_neg_eigval" : "plain";
}
const char *kda_dtype_short(kda_dtype d) {
  switch (d) {
  case KDA_DTYPE_FLOAT32:
    return "f32";
  case KDA_DTYPE_BFLOAT16:
    return "bf16";
  case KDA_DTYPE_FLOAT16:
    return "f16";
  case KDA_DTYPE_FLOAT64:
    return "f64";
  case KDA_DTYPE_INT32:
    return "i32";
  case KDA_DTYPE_INT64:
    return "i64";
  }
  return "?";
}

/* One manifest entry must equal what the call needs. */
kda_status kda_bundle_expect(kda_bundle *b, const char *key, const char *wanted,
                         const char *what) {
  const char *have = kda_bundle_manifest(b, key);
  if (have && strcmp(have, wanted) == 0)
    return KDA_OK;
  return kda_context_fail(b->context, KDA_ERR_UNSUPPORTED,
                          "bundle '%s' was compiled for %s = %s, but the call "
                          "has %s = %s",
                          kda_bundle_manifest(b, "kernel"), what,
                          have ? have : "(missing)", what, wanted);
}

kda_status kda_bundle_expect_aligned(kda_bundle *b, const kda_tensor_access *tensors,
                                     size_t count) {
  for (size_t i = 0; i < count; ++i) {
    const kda_tensor_access *t = &tensors[i];
    size_t width = t->elements * kda_dtype_size(t->dtype);
    if (width < t->bytes)
      width = t->bytes;
    if (!t->data || width == 0 || (uintptr_t)t->data % width == 0)
      continue;
    return kda_context_fail(b->context, KDA_ERR_INVALID_ARGUMENT,
                            "argument '%s': its address %p must be %zu-byte aligned on "
                            "the GPU (%s)",
                            t->name, t->data, width, t->why);
  }
  return KDA_OK;
}

kda_status kda_bundle_expect_choices(kda_bundle *b, const kda_bundle_choices *c) {
  char number[32];
  kda_status s;
  snprintf(number, sizeof number, "%lld", (long long)c->head_dim_k);
  if ((s = kda_bundle_expect(b, "head_dim_k", number, "head_dim_k")))
    return s;
  snprintf(number, sizeof number, "%lld", (long long)c->head_dim_v);
  if ((s = kda_bundle_expect(b, "head_dim_v", number, "head_dim_v")) ||
      (s = kda_bundle_expect(b, "gate", kda_gate_name(c->gate), "gate")) ||
      (s = kda_bundle_expect(b, "beta_mode", kda_beta_name(c->beta_mode), "beta_mode")) ||
      (s = kda_bundle_expect(b, "qk_l2norm", c->qk_l2norm ? "1" : "0", "qk_l2norm")) ||
      (s = kda_bundle_expect(b, "state_layout", c->state_layout == KDA_STATE_VK ? "vk" : "kv",
                             "state_layout")) ||
      (s = kda_bundle_expect(b, "qkv_dtype", kda_dtype_short(c->qkv_dtype),
                             "the dtype of q, k, v")) ||
      (s = kda_bundle_expect(b, "g_dtype", kda_dtype_short(c->g_dtype), "the dtype of g")))
    return s;
  return kda_bundle_expect(b, "beta_dtype", kda_dtype_short(c->beta_dtype),
                           "the dtype of beta");
}

