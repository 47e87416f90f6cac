/* run_model.c — example C application embedding the slmc runtime: load an artifact, run it once through the C API.
 *
 *   slm_run_c MODEL.slm [--plugin PATH.so]... [--dim NAME=N]... [--dump DIR]
 *
 * Inputs are generated deterministically (floats: a smooth pattern in [-1, 1]; integers: small
 * values, token-id friendly), with every symbolic dim set to 1 unless --dim gives it. For each
 * output it prints name, shape and checksum; --dump DIR writes DIR/<input>.npy and
 * DIR/out_<output>.npy so another runner (slm-run, ONNX Runtime) can check the same run.
 * Exit status: 0 ok, 2 bad usage/input/artifact, 1 runtime failure.
 */
#include <slm_runtime.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DIMS 16

typedef struct dim_arg {
  const char *name;
  long long value;
} dim_arg_t;

static int fail(slm_status_t st, const char *what) {
  fprintf(stderr, "slm_run_c: error: %s: %s\n", what, slm_last_error());
  return st == SLM_ERROR_RUNTIME || st == SLM_ERROR_OUT_OF_MEMORY ? 1 : 2;
}

/* The file-name form of a tensor name ('/' and ':' become '_'), as slm-run writes them. */
static void file_stem(const char *name, char *out, size_t size) {
  size_t i = 0;
  for (; name[i] && i + 1 < size; ++i) out[i] = (name[i] == '/' || name[i] == ':') ? '_' : name[i];
  out[i] = 0;
}

/* Writes a C-order .npy (version 1.0) of a float32/int64/int32 tensor; other dtypes are skipped. */
static int write_npy(const char *path, const slm_tensor_t *t) {
  const char *descr = t->dtype == SLM_DTYPE_FLOAT32 ? "<f4"
                      : t->dtype == SLM_DTYPE_INT64 ? "<i8"
                      : t->dtype == SLM_DTYPE_INT32 ? "<i4"
                                                    : NULL;
  if (!descr) return 0;
  char shape[256] = "", header[512];
  for (int i = 0; i < t->rank; ++i) {
    size_t n = strlen(shape);
    snprintf(shape + n, sizeof shape - n, "%lld%s", (long long)t->dims[i], t->rank == 1 ? "," : (i + 1 < t->rank ? ", " : ""));
  }
  int len = snprintf(header, sizeof header, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, shape);
  int total = 10 + len + 1, pad = (64 - total % 64) % 64;
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  unsigned short hlen = (unsigned short)(len + pad + 1);
  fwrite("\x93NUMPY\x01\x00", 1, 8, f);
  fputc(hlen & 0xff, f);
  fputc(hlen >> 8, f);
  fwrite(header, 1, (size_t)len, f);
  for (int i = 0; i < pad; ++i) fputc(' ', f);
  fputc('\n', f);
  fwrite(t->data, 1, t->nbytes, f);
  return fclose(f) == 0 ? 0 : -1;
}

static long long dim_value(const char *name, const dim_arg_t *dims, int num_dims) {
  for (int i = 0; i < num_dims; ++i)
    if (strcmp(dims[i].name, name) == 0) return dims[i].value;
  return 1;
}

/* Fills one input: floats a smooth pattern, integers i % 7 (valid token ids, positions, masks). */
static void *make_input(const slm_tensor_info_t *info, const dim_arg_t *dims, int num_dims, slm_tensor_t *t) {
  size_t n = 1;
  t->dtype = info->dtype;
  t->rank = info->rank;
  for (int i = 0; i < info->rank; ++i) {
    t->dims[i] = info->dim_names[i] ? dim_value(info->dim_names[i], dims, num_dims) : info->max_dims[i];
    n *= (size_t)t->dims[i];
  }
  t->nbytes = n * slm_dtype_size(info->dtype);
  void *data = malloc(t->nbytes ? t->nbytes : 1);
  if (!data) return NULL;
  for (size_t i = 0; i < n; ++i) {
    if (info->dtype == SLM_DTYPE_FLOAT32) ((float *)data)[i] = (float)((long)(i * 37 % 201) - 100) / 100.0f;
    else if (info->dtype == SLM_DTYPE_INT64) ((long long *)data)[i] = (long long)(i % 7);
    else if (info->dtype == SLM_DTYPE_INT32) ((int *)data)[i] = (int)(i % 7);
    else memset((char *)data + i * slm_dtype_size(info->dtype), 0, slm_dtype_size(info->dtype));
  }
  t->data = data;
  return data;
}

int main(int argc, char **argv) {
  const char *artifact = NULL, *dump = NULL;
  dim_arg_t dims[MAX_DIMS];
  int num_dims = 0;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--plugin") == 0 && i + 1 < argc) {
      slm_status_t st = slm_plugin_load(argv[++i], NULL);
      if (st != SLM_OK) return fail(st, "--plugin");
    } else if (strcmp(argv[i], "--dim") == 0 && i + 1 < argc && num_dims < MAX_DIMS) {
      char *eq = strchr(argv[++i], '=');
      if (!eq || eq == argv[i] || atoll(eq + 1) <= 0) {
        fprintf(stderr, "slm_run_c: error: --dim expects NAME=N (N > 0), got '%s'\n", argv[i]);
        return 2;
      }
      *eq = 0;
      dims[num_dims].name = argv[i];
      dims[num_dims++].value = atoll(eq + 1);
    } else if (strcmp(argv[i], "--dump") == 0 && i + 1 < argc) {
      dump = argv[++i];
    } else if (argv[i][0] != '-' && !artifact) {
      artifact = argv[i];
    } else {
      fprintf(stderr, "usage: slm_run_c MODEL.slm [--plugin PATH.so]... [--dim NAME=N]... [--dump DIR]\n");
      return 2;
    }
  }
  if (!artifact) {
    fprintf(stderr, "usage: slm_run_c MODEL.slm [--plugin PATH.so]... [--dim NAME=N]... [--dump DIR]\n");
    return 2;
  }
  slm_model_t *model = NULL;
  slm_status_t st = slm_model_load_file(artifact, &model);
  if (st != SLM_OK) return fail(st, artifact);
  slm_session_t *session = NULL;
  if ((st = slm_session_create(model, NULL, &session)) != SLM_OK) {
    slm_model_free(model);
    return fail(st, "session");
  }
  int rc = 0;
  char path[4096], stem[1024];
  for (size_t i = 0; i < slm_model_input_count(model) && rc == 0; ++i) {
    slm_tensor_info_t info;
    slm_tensor_t value;
    slm_model_input_info(model, i, &info);
    void *data = make_input(&info, dims, num_dims, &value);
    if (!data) {
      fprintf(stderr, "slm_run_c: error: out of memory\n");
      rc = 1;
      break;
    }
    if ((st = slm_session_set_input(session, info.name, &value)) != SLM_OK) rc = fail(st, info.name);
    if (rc == 0 && dump) {
      file_stem(info.name, stem, sizeof stem);
      snprintf(path, sizeof path, "%s/%s.npy", dump, stem);
      if (write_npy(path, &value) != 0) {
        fprintf(stderr, "slm_run_c: error: %s: cannot write\n", path);
        rc = 2;
      }
    }
    free(data);
  }
  if (rc == 0 && (st = slm_session_run(session)) != SLM_OK) rc = fail(st, "run");
  for (size_t i = 0; rc == 0 && i < slm_model_output_count(model); ++i) {
    slm_tensor_info_t info;
    slm_tensor_t out;
    slm_model_output_info(model, i, &info);
    if ((st = slm_session_get_output(session, i, &out)) != SLM_OK) {
      rc = fail(st, info.name);
      break;
    }
    double sum = 0.0;
    if (out.dtype == SLM_DTYPE_FLOAT32)
      for (size_t k = 0; k < out.nbytes / 4; ++k) sum += ((const float *)out.data)[k];
    printf("%s [", info.name);
    for (int d = 0; d < out.rank; ++d) printf("%s%lld", d ? ", " : "", (long long)out.dims[d]);
    printf("] %s sum %.6g\n", slm_dtype_name(out.dtype), sum);
    if (dump) {
      file_stem(info.name, stem, sizeof stem);
      snprintf(path, sizeof path, "%s/out_%s.npy", dump, stem);
      if (write_npy(path, &out) != 0) {
        fprintf(stderr, "slm_run_c: error: %s: cannot write\n", path);
        rc = 2;
      }
    }
  }
  slm_session_free(session);
  slm_model_free(model);
  return rc;
}
