/* npu8_plugin.c — example slmc target plugin for "NPU8", a fictional edge int8 matmul unit, emulated in software.
 *
 * The NPU8 multiplies int8 activations by int8 weights into int32 accumulators, 16 output
 * columns at a time, and applies a float epilogue (scales, bias, activation, multiplier,
 * residual) on its way out. Its weights live in its own layout (see "Packed weights" below), so
 * this plugin packs them at compile time and the artifact stores them that way. Activations are
 * quantized per row on the fly (symmetric int8), weights per output column (symmetric int8).
 *
 * It claims MatMul and slm.fused_matmul whose weight operand is a 2-D float32 constant with
 * K >= 16 and N >= 8; everything else stays on the host CPU (x86_64). Build it against the
 * installed SDK only (see CMakeLists.txt and docs/writing-a-target-plugin.md).
 */
#include <slmc/plugin.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NPU8_TILE 16     /* output columns per weight tile */
#define NPU8_MIN_K 16    /* smaller products are cheaper on the host */
#define NPU8_MIN_N 8
#define DTYPE_F32 1
#define DTYPE_I8 3

/* ---- Packed weights --------------------------------------------------------------------
 * One int8 tensor of rank 1 holding, in order:
 *   header  16 bytes: "NPU8", uint32 K, uint32 N, uint32 reserved (0)
 *   scales  N float32: weight scale of output column n (w ~= q * scale)
 *   tiles   ceil(N/16) tiles of K x 16 int8: tile t, row k, lane j = q(W[k][16 t + j]),
 *           zero beyond N.
 */
typedef struct npu8_header {
  char magic[4];
  uint32_t k, n, reserved;
} npu8_header_t;

static size_t packed_bytes(uint32_t k, uint32_t n) {
  return sizeof(npu8_header_t) + 4u * (size_t)n + (size_t)((n + NPU8_TILE - 1) / NPU8_TILE) * k * NPU8_TILE;
}

/* ---- attribute helpers ---- */

static const slm_provider_attr_t *find_attr(const slm_provider_attr_t *attrs, size_t n, const char *name) {
  for (size_t i = 0; i < n; ++i)
    if (strcmp(attrs[i].name, name) == 0) return &attrs[i];
  return NULL;
}

static int64_t attr_int(const slm_provider_attr_t *attrs, size_t n, const char *name, int64_t fallback) {
  const slm_provider_attr_t *a = find_attr(attrs, n, name);
  return a && a->kind == SLM_PROVIDER_ATTR_INT ? a->i : fallback;
}

static float attr_float(const slm_provider_attr_t *attrs, size_t n, const char *name, float fallback) {
  const slm_provider_attr_t *a = find_attr(attrs, n, name);
  return a && a->kind == SLM_PROVIDER_ATTR_FLOAT ? a->f : fallback;
}

/* The epilogue activations NPU8 implements, by slm.fused_matmul's "activation" names. */
typedef enum { ACT_NONE, ACT_RELU, ACT_GELU_ERF, ACT_GELU_TANH, ACT_SILU, ACT_SIGMOID, ACT_TANH, ACT_CLIP, ACT_BAD } act_t;

static act_t parse_act(const slm_provider_attr_t *attrs, size_t n) {
  static const char *const names[] = {"", "relu", "gelu_erf", "gelu_tanh", "silu", "sigmoid", "tanh", "clip"};
  const slm_provider_attr_t *a = find_attr(attrs, n, "activation");
  if (!a) return ACT_NONE;
  if (a->kind != SLM_PROVIDER_ATTR_STRING) return ACT_BAD;
  for (int i = 0; i < ACT_BAD; ++i)
    if (strlen(names[i]) == a->count && strncmp(names[i], a->s, a->count) == 0) return (act_t)i;
  return ACT_BAD;
}

static float apply_act(act_t act, float x, float lo, float hi) {
  switch (act) {
  case ACT_RELU: return x > 0.0f ? x : 0.0f;
  case ACT_GELU_ERF: return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
  case ACT_GELU_TANH: return 0.5f * x * (1.0f + tanhf(0.7978845608028654f * (x + 0.044715f * x * x * x)));
  case ACT_SILU: return x / (1.0f + expf(-x));
  case ACT_SIGMOID: return 1.0f / (1.0f + expf(-x));
  case ACT_TANH: return tanhf(x);
  case ACT_CLIP: return x < lo ? lo : (x > hi ? hi : x);
  default: return x;
  }
}

/* Whether the op is one NPU8 runs; sets k, n and trans_b of the weight operand. */
static int npu8_supports(const char *key, const slm_provider_attr_t *attrs, size_t num_attrs,
                         const slm_provider_tensor_t *const *in, int num_in, int64_t *k, int64_t *n, int *trans_b) {
  int fused = strcmp(key, "slm.fused_matmul") == 0;
  if (!fused && strcmp(key, "MatMul") != 0) return 0;
  if (num_in < 2 || !in[0] || !in[1]) return 0;
  const slm_provider_tensor_t *a = in[0], *b = in[1];
  if (a->dtype != DTYPE_F32 || b->dtype != DTYPE_F32 || a->rank < 2 || b->rank != 2 || !b->data) return 0;
  *trans_b = fused && attr_int(attrs, num_attrs, "trans_b", 0) != 0;
  *k = *trans_b ? b->dims[1] : b->dims[0];
  *n = *trans_b ? b->dims[0] : b->dims[1];
  if (a->dims[a->rank - 1] != *k || *k < NPU8_MIN_K || *n < NPU8_MIN_N || *k > (1 << 20) || *n > (1 << 20)) return 0;
  if (fused && parse_act(attrs, num_attrs) == ACT_BAD) return 0;
  for (int i = 2; i < num_in; ++i) /* bias, mul, residual: float only */
    if (in[i] && in[i]->dtype != DTYPE_F32) return 0;
  return 1;
}

/* ---- compile side ---- */

static int npu8_op_cost(const slmc_op_query_t *q, double *out_cost) {
  int64_t k, n;
  int trans_b;
  if (!npu8_supports(q->op_key, q->attrs, q->num_attrs, q->inputs, q->num_inputs, &k, &n, &trans_b)) return 0;
  /* The unit does 16 MACs per lane per cycle: far faster than the host on any product it takes. */
  *out_cost = 0.25;
  return 1;
}

static int npu8_pack_input(const slmc_op_query_t *q, int index, slmc_packed_tensor_t *out, char *error,
                           size_t error_size) {
  int64_t k, n;
  int trans_b;
  if (index != 1) return SLMC_PACK_KEEP; /* only the weight operand has an NPU8 layout */
  if (!npu8_supports(q->op_key, q->attrs, q->num_attrs, q->inputs, q->num_inputs, &k, &n, &trans_b)) {
    snprintf(error, error_size, "npu8: op '%s' is not one NPU8 claimed", q->op_name);
    return SLMC_PACK_ERROR;
  }
  const float *w = (const float *)q->inputs[1]->data;
  size_t bytes = packed_bytes((uint32_t)k, (uint32_t)n);
  uint8_t *buf = (uint8_t *)calloc(1, bytes);
  if (!buf) {
    snprintf(error, error_size, "npu8: out of memory packing %zu bytes", bytes);
    return SLMC_PACK_ERROR;
  }
  npu8_header_t h = {{'N', 'P', 'U', '8'}, (uint32_t)k, (uint32_t)n, 0};
  memcpy(buf, &h, sizeof h);
  float *scales = (float *)(buf + sizeof h);
  int8_t *tiles = (int8_t *)(buf + sizeof h + 4u * (size_t)n);
  for (int64_t col = 0; col < n; ++col) {
    float maxabs = 0.0f;
    for (int64_t r = 0; r < k; ++r) {
      float v = fabsf(trans_b ? w[col * k + r] : w[r * n + col]);
      if (v > maxabs) maxabs = v;
    }
    float scale = maxabs > 0.0f ? maxabs / 127.0f : 1.0f;
    scales[col] = scale;
    int8_t *tile = tiles + (size_t)(col / NPU8_TILE) * (size_t)k * NPU8_TILE;
    for (int64_t r = 0; r < k; ++r) {
      float v = (trans_b ? w[col * k + r] : w[r * n + col]) / scale;
      long qv = lrintf(v);
      tile[r * NPU8_TILE + col % NPU8_TILE] = (int8_t)(qv > 127 ? 127 : (qv < -127 ? -127 : qv));
    }
  }
  out->dtype = DTYPE_I8;
  out->rank = 1;
  out->dims[0] = (int64_t)bytes;
  out->data = buf;
  out->nbytes = bytes;
  return SLMC_PACK_DONE;
}

static void npu8_free_packed(slmc_packed_tensor_t *packed) {
  free(packed->data);
  packed->data = NULL;
}

/* ---- runtime side: the kernel provider ---- */

typedef struct npu8_state {
  int64_t k, n;
  const float *scales;
  const int8_t *tiles;
  act_t act;
  float lo, hi;
} npu8_state_t;

static int fail(const slm_provider_call_t *call, int status, const char *msg) {
  snprintf(call->error, call->error_size, "npu8: %s", msg);
  return status;
}

/* A real NPU8 driver would probe its device node here; the emulator is present unless the
 * environment says NPU8_ABSENT=1 (used to test the runtime's refusal). */
static int npu8_is_available(void) {
  const char *absent = getenv("NPU8_ABSENT");
  return !(absent && strcmp(absent, "1") == 0);
}

static int npu8_prepare(const slm_provider_call_t *call, void **out_state) {
  const slm_provider_tensor_t *b = call->num_inputs > 1 ? call->inputs[1] : NULL;
  if (!b || !b->data || b->dtype != DTYPE_I8 || b->rank != 1 || b->dims[0] < (int64_t)sizeof(npu8_header_t))
    return fail(call, SLM_PROVIDER_INVALID, "the weight operand is not an NPU8-packed constant");
  npu8_header_t h;
  memcpy(&h, b->data, sizeof h);
  if (memcmp(h.magic, "NPU8", 4) != 0 || h.k == 0 || h.n == 0 || packed_bytes(h.k, h.n) != (size_t)b->dims[0])
    return fail(call, SLM_PROVIDER_INVALID, "the packed weights have a bad header or size");
  act_t act = parse_act(call->attrs, call->num_attrs);
  if (act == ACT_BAD) return fail(call, SLM_PROVIDER_UNSUPPORTED, "unknown activation");
  npu8_state_t *s = (npu8_state_t *)calloc(1, sizeof *s);
  if (!s) return fail(call, SLM_PROVIDER_UNSUPPORTED, "out of memory");
  s->k = h.k;
  s->n = h.n;
  s->scales = (const float *)((const uint8_t *)b->data + sizeof h);
  s->tiles = (const int8_t *)((const uint8_t *)b->data + sizeof h + 4u * (size_t)h.n);
  s->act = act;
  s->lo = attr_float(call->attrs, call->num_attrs, "clip_min", -INFINITY);
  s->hi = attr_float(call->attrs, call->num_attrs, "clip_max", INFINITY);
  *out_state = s;
  return SLM_PROVIDER_OK;
}

static int npu8_infer(void *state, slm_provider_call_t *call) {
  const npu8_state_t *s = (const npu8_state_t *)state;
  const slm_provider_tensor_t *a = call->inputs[0];
  if (!a || a->dtype != DTYPE_F32 || a->rank < 2 || a->dims[a->rank - 1] != s->k)
    return fail(call, SLM_PROVIDER_INVALID, "input a must be float32 with rank >= 2 and last dim K");
  slm_provider_tensor_t *y = call->outputs[0];
  y->dtype = DTYPE_F32;
  y->rank = a->rank;
  for (int i = 0; i < a->rank - 1; ++i) y->dims[i] = a->dims[i];
  y->dims[a->rank - 1] = s->n;
  int64_t rows = 1;
  for (int i = 0; i < a->rank - 1; ++i) rows *= a->dims[i];
  if (call->num_inputs > 2 && call->inputs[2] && call->inputs[2]->dims[call->inputs[2]->rank - 1] != s->n)
    return fail(call, SLM_PROVIDER_INVALID, "bias must have N elements");
  for (int i = 3; i < call->num_inputs && i < 5; ++i) {
    const slm_provider_tensor_t *e = call->inputs[i];
    int64_t numel = 1;
    if (!e) continue;
    for (int d = 0; d < e->rank; ++d) numel *= e->dims[d];
    if (numel != rows * s->n) return fail(call, SLM_PROVIDER_INVALID, "mul/residual must match the output");
  }
  return SLM_PROVIDER_OK;
}

typedef struct npu8_job {
  const npu8_state_t *s;
  const float *a, *bias, *mul, *res;
  float *y;
  int8_t *qa; /* rows x K scratch for the quantized activations */
} npu8_job_t;

/* Rows [begin, end): quantize each activation row, run the int8 tiles, apply the epilogue. */
static void npu8_rows(void *arg, int64_t begin, int64_t end) {
  const npu8_job_t *j = (const npu8_job_t *)arg;
  const npu8_state_t *s = j->s;
  for (int64_t r = begin; r < end; ++r) {
    const float *a = j->a + r * s->k;
    int8_t *qa = j->qa + r * s->k;
    float maxabs = 0.0f;
    for (int64_t i = 0; i < s->k; ++i)
      if (fabsf(a[i]) > maxabs) maxabs = fabsf(a[i]);
    float sa = maxabs > 0.0f ? maxabs / 127.0f : 1.0f;
    for (int64_t i = 0; i < s->k; ++i) qa[i] = (int8_t)lrintf(a[i] / sa);
    for (int64_t t = 0; t * NPU8_TILE < s->n; ++t) {
      int32_t acc[NPU8_TILE] = {0};
      const int8_t *tile = s->tiles + t * s->k * NPU8_TILE;
      for (int64_t i = 0; i < s->k; ++i)
        for (int l = 0; l < NPU8_TILE; ++l) acc[l] += (int32_t)qa[i] * tile[i * NPU8_TILE + l];
      for (int l = 0; l < NPU8_TILE && t * NPU8_TILE + l < s->n; ++l) {
        int64_t col = t * NPU8_TILE + l, o = r * s->n + col;
        float v = (float)acc[l] * sa * s->scales[col] + (j->bias ? j->bias[col] : 0.0f);
        v = apply_act(s->act, v, s->lo, s->hi);
        if (j->mul) v *= j->mul[o];
        if (j->res) v += j->res[o];
        j->y[o] = v;
      }
    }
  }
}

static int npu8_execute(void *state, const slm_provider_call_t *call) {
  const npu8_state_t *s = (const npu8_state_t *)state;
  const slm_provider_tensor_t *a = call->inputs[0];
  int64_t rows = 1;
  for (int i = 0; i < a->rank - 1; ++i) rows *= a->dims[i];
  npu8_job_t job = {s, (const float *)a->data, NULL, NULL, NULL, (float *)call->outputs[0]->data, NULL};
  job.qa = (int8_t *)malloc((size_t)(rows * s->k) + 1);
  if (!job.qa) return fail(call, SLM_PROVIDER_UNSUPPORTED, "out of memory for the activation scratch");
  if (call->num_inputs > 2 && call->inputs[2]) job.bias = (const float *)call->inputs[2]->data;
  if (call->num_inputs > 3 && call->inputs[3]) job.mul = (const float *)call->inputs[3]->data;
  if (call->num_inputs > 4 && call->inputs[4]) job.res = (const float *)call->inputs[4]->data;
  if (call->parallel_for) call->parallel_for(call->runner, rows, 4, npu8_rows, &job);
  else npu8_rows(&job, 0, rows);
  free(job.qa);
  return SLM_PROVIDER_OK;
}

static void npu8_destroy(void *state) { free(state); }

/* ---- the plugin description ---- */

static const slm_kernel_provider_t kProvider = {
    SLMC_PLUGIN_API_VERSION, "npu8", npu8_is_available, npu8_prepare, npu8_infer, npu8_execute, npu8_destroy};

static const char *const kFeatures[] = {"sse2"};
static const slmc_target_desc_t kTarget = {
    SLMC_TARGET_PLUGIN_API_VERSION, "npu8", "x86_64-unknown-linux-gnu", "x86-64", kFeatures, 1,
    "NPU8 int8 matmul unit beside an x86-64 host (example plugin, emulated in software)"};
static const slmc_target_desc_t *const kTargets[] = {&kTarget};
static const char *const kOps[] = {"MatMul", "slm.fused_matmul"};

static const slmc_plugin_t kPlugin = {
    SLMC_PLUGIN_API_VERSION, "npu8", "1.0", kTargets, 1, "x86_64", kOps, 2,
    npu8_op_cost, npu8_pack_input, npu8_free_packed,
    "cse", /* extra passes after slmc's (an MLIR pipeline of passes slmc registers); here just CSE */
    &kProvider};

SLMC_PLUGIN_DEFINE(kPlugin)
