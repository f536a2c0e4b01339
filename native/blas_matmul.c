/*
 * tfjs-lens native matmul (docs/performance.md, "Native matmul"): a Node-API addon exposing a
 * system BLAS's sgemm to the tfjs wasm backend's matmul kernels (src/backend/native_matmul.ts).
 * Built at install time by scripts/install_native.mjs (npm's "install" script) into
 * build/native/tfjs_lens_blas.node; used by initBackend when it loads and passes a self-check.
 *
 * It also has a fused LayerNorm/RMSNorm (src/backend/native_norm.ts) and a fused embedding sum and
 * norm (src/backend/native_embed.ts) over the same heap views, split across the BLAS's thread count.
 *
 * Linux: linked against the system OpenBLAS (Debian libopenblas0-pthread). The CBLAS prototypes
 * are declared here, so only the runtime library is needed, not its -dev headers. OpenBLAS's own
 * functions are weak references: when the library that provides cblas_sgemm is the netlib
 * reference BLAS (libblas.so.3 switched by update-alternatives), they resolve to NULL and info()
 * says so; the loader then refuses it (10-50x slower than OpenBLAS).
 * macOS (-DTFJS_LENS_ACCELERATE): Apple's Accelerate framework.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <math.h>
#include <node_api.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum { CBLAS_ROW_MAJOR = 101, CBLAS_NO_TRANS = 111, CBLAS_TRANS = 112 };
void cblas_sgemm(int order, int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                 const float *b, int ldb, float beta, float *c, int ldc);
#ifndef TFJS_LENS_ACCELERATE
void openblas_set_num_threads(int n) __attribute__((weak));
int openblas_get_num_threads(void) __attribute__((weak));
char *openblas_get_config(void) __attribute__((weak));
char *openblas_get_corename(void) __attribute__((weak));
#endif

#define CHECK(call)                                                              \
  do {                                                                           \
    if ((call) != napi_ok) {                                                     \
      napi_throw_error(env, NULL, "tfjs-lens blas addon: " #call " failed");     \
      return NULL;                                                               \
    }                                                                            \
  } while (0)

/* The data of a typed-array argument of type `want` (NULL, with a JS error naming the type thrown, otherwise). */
static void *typed_data(napi_env env, napi_value v, napi_typedarray_type want, size_t *len) {
  napi_typedarray_type type;
  void *data = NULL;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, v, &type, len, &data, &buffer, &offset) != napi_ok || type != want) {
    napi_throw_type_error(env, NULL, want == napi_int32_array ? "tfjs-lens blas addon: expected an Int32Array" : "tfjs-lens blas addon: expected a Float32Array");
    return NULL;
  }
  return data;
}

/* The float32 data of a Float32Array argument (NULL, with a JS error thrown, otherwise). */
static float *f32_data(napi_env env, napi_value v, size_t *len) { return (float *)typed_data(env, v, napi_float32_array, len); }

/* An optional Float32Array argument: *out = NULL for null/undefined; false (a JS error thrown) for anything else that is not one. */
static bool opt_f32(napi_env env, napi_value v, float **out, size_t *len) {
  napi_valuetype t;
  *out = NULL;
  if (napi_typeof(env, v, &t) != napi_ok) {
    napi_throw_error(env, NULL, "tfjs-lens blas addon: napi_typeof failed");
    return false;
  }
  if (t != napi_object) return true;
  *out = f32_data(env, v, len);
  return *out != NULL;
}

static bool get_i64(napi_env env, napi_value v, int64_t *out) {
  if (napi_get_value_int64(env, v, out) != napi_ok) {
    napi_throw_type_error(env, NULL, "tfjs-lens blas addon: expected an integer");
    return false;
  }
  return true;
}

/*
 * sgemm(a, b, c, m, n, k, transA, transB, bias | null[, batch, strideA, strideB]): for each of
 * `batch` entries i (default 1), c[i] = op(a[i])·op(b[i]) (+ bias[n] on every row), row-major;
 * op(a) is [m, k], op(b) is [k, n]; a[i] starts at i·strideA floats (0: the same matrix for every
 * entry), b[i] at i·strideB, c[i] at i·m·n. Sizes are checked against the arrays.
 */
static napi_value sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 12;
  napi_value argv[12];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 8) {
    napi_throw_error(env, NULL, "tfjs-lens blas addon: sgemm(a, b, c, m, n, k, transA, transB, bias?, batch?, strideA?, strideB?)");
    return NULL;
  }
  size_t la, lb, lc, lbias = 0;
  float *a = f32_data(env, argv[0], &la);
  float *b = a == NULL ? NULL : f32_data(env, argv[1], &lb);
  float *c = b == NULL ? NULL : f32_data(env, argv[2], &lc);
  if (c == NULL) return NULL;
  int64_t m, n, k, batch = 1, sa = 0, sb = 0;
  bool ta, tb;
  if (!get_i64(env, argv[3], &m) || !get_i64(env, argv[4], &n) || !get_i64(env, argv[5], &k)) return NULL;
  CHECK(napi_get_value_bool(env, argv[6], &ta));
  CHECK(napi_get_value_bool(env, argv[7], &tb));
  float *bias = NULL;
  if (argc > 8 && !opt_f32(env, argv[8], &bias, &lbias)) return NULL;
  if (argc > 11) {
    if (!get_i64(env, argv[9], &batch) || !get_i64(env, argv[10], &sa) || !get_i64(env, argv[11], &sb)) return NULL;
  } else {
    sa = m * k;
    sb = k * n;
  }
  const int64_t lim = INT32_MAX;
  if (m < 0 || n < 0 || k < 0 || batch < 0 || sa < 0 || sb < 0 || m > lim || n > lim || k > lim ||
      (batch > 0 && ((size_t)la < (size_t)((batch - 1) * sa + m * k) || (size_t)lb < (size_t)((batch - 1) * sb + k * n) ||
                     (size_t)lc < (size_t)(batch * m * n))) ||
      (bias != NULL && lbias < (size_t)n)) {
    napi_throw_range_error(env, NULL, "tfjs-lens blas addon: array sizes do not match m, n, k, batch, strides");
    return NULL;
  }
  for (int64_t i = 0; i < batch; i++) {
    float *ci = c + i * m * n;
    if (bias != NULL) {
      for (int64_t r = 0; r < m; r++) memcpy(ci + r * n, bias, sizeof(float) * (size_t)n);
    }
    if (m > 0 && n > 0) {
      if (k == 0) {
        if (bias == NULL) memset(ci, 0, sizeof(float) * (size_t)(m * n));
        continue;
      }
      cblas_sgemm(CBLAS_ROW_MAJOR, ta ? CBLAS_TRANS : CBLAS_NO_TRANS, tb ? CBLAS_TRANS : CBLAS_NO_TRANS, (int)m, (int)n,
                  (int)k, 1.0f, a + i * sa, ta ? (int)m : (int)k, b + i * sb, tb ? (int)k : (int)n,
                  bias != NULL ? 1.0f : 0.0f, ci, (int)n);
    }
  }
  return NULL;
}

/*
 * Row sums as tfjs-backend-wasm's Mean kernel makes them (src/cc/kernels/Mean.cc: one float
 * accumulator per row, in index order, then / d), so the fused norm equals the unfused ops bit for
 * bit: res[r] = Σ_i v(x[r·d + i]) for the `nr` rows at x, v = x, or (x − shift[r])² (rounded to
 * float before it is added, as tf.square of the centred tensor). Eight rows at a time, interleaved:
 * each row's order is unchanged, and the eight chains run in parallel.
 */
#define RB 8
static inline float sum_term(float v, const float *shift, int r) {
  if (shift == NULL) return v;
  v -= shift[r];
  return v * v;
}
static void rows_sum(const float *x, int64_t d, int nr, const float *shift, float *res) {
  float s[RB] = {0};
  if (nr == RB) {
    for (int64_t i = 0; i < d; i++)
      for (int r = 0; r < RB; r++) s[r] += sum_term(x[r * d + i], shift, r);
  } else {
    for (int r = 0; r < nr; r++)
      for (int64_t i = 0; i < d; i++) s[r] += sum_term(x[r * d + i], shift, r);
  }
  for (int r = 0; r < nr; r++) res[r] = s[r];
}

/*
 * Row-parallel work: the kernels below split their rows into contiguous parts of whole RB-row
 * blocks, one per thread (the calling thread takes the first), when there is enough work to pay for
 * starting threads. Rows are independent, so the values do not depend on the split. The thread
 * count is the BLAS's (setThreads): one budget for both, as the BLAS's threads are idle while these run.
 */
#define MAX_THREADS 64
#define PAR_MIN_VALUES (1 << 19) /* starting a thread costs ~0.1 ms: one thread is as fast below ~512K values (a 683x768 activation) */
static int g_threads = 1;

typedef void (*rows_fn)(const void *job, int64_t r0, int64_t r1);
struct rows_part {
  rows_fn f;
  const void *job;
  int64_t r0, r1;
};
static void *rows_part_run(void *p) {
  const struct rows_part *part = (const struct rows_part *)p;
  part->f(part->job, part->r0, part->r1);
  return NULL;
}
static void parallel_rows(rows_fn f, const void *job, int64_t rows, int64_t values) {
  int64_t t = values < PAR_MIN_VALUES ? 1 : g_threads;
  if (t > (rows + RB - 1) / RB) t = (rows + RB - 1) / RB;
  if (t <= 1) {
    f(job, 0, rows);
    return;
  }
  const int64_t chunk = ((rows + t - 1) / t + RB - 1) / RB * RB;
  pthread_t th[MAX_THREADS];
  struct rows_part parts[MAX_THREADS];
  bool started[MAX_THREADS] = {false};
  for (int64_t i = 1; i < t; i++) {
    const int64_t r0 = i * chunk, r1 = r0 + chunk < rows ? r0 + chunk : rows;
    parts[i] = (struct rows_part){f, job, r0, r1};
    if (r0 < r1) started[i] = pthread_create(&th[i], NULL, rows_part_run, &parts[i]) == 0;
  }
  f(job, 0, chunk < rows ? chunk : rows);
  for (int64_t i = 1; i < t; i++) {
    if (started[i]) pthread_join(th[i], NULL);
    else if (parts[i].r0 < parts[i].r1) f(job, parts[i].r0, parts[i].r1); /* no thread: run it here */
  }
}

/* One norm: rows of d values from x to out (out may be x), weights and epsilon. */
struct norm_job {
  const float *x;
  float *out;
  int64_t d;
  const float *w, *b;
  float eps;
  bool rms;
};

/* Normalise nr (≤ RB) rows at xb into ob (which may be xb). */
static void norm_block(const struct norm_job *j, const float *xb, float *ob, int nr) {
  const int64_t d = j->d;
  const float fd = (float)d;
  float mean[RB] = {0}, scale[RB];
  if (!j->rms) {
    rows_sum(xb, d, nr, NULL, mean);
    for (int r = 0; r < nr; r++) mean[r] /= fd;
  }
  rows_sum(xb, d, nr, mean, scale);
  for (int r = 0; r < nr; r++) scale[r] = sqrtf(scale[r] / fd + j->eps);
  const float *w = j->w, *b = j->b;
  for (int r = 0; r < nr; r++) {
    const float *xr = xb + r * d;
    float *o = ob + r * d;
    const float m = mean[r], sc = scale[r];
    /* each step rounded as the unfused ops round it (built with -ffp-contract=off: no fused multiply-add) */
    if (w != NULL && b != NULL) {
      for (int64_t i = 0; i < d; i++) {
        float v = (xr[i] - m) / sc;
        v *= w[i];
        o[i] = v + b[i];
      }
    } else if (w != NULL) {
      for (int64_t i = 0; i < d; i++) o[i] = (xr[i] - m) / sc * w[i];
    } else if (b != NULL) {
      for (int64_t i = 0; i < d; i++) o[i] = (xr[i] - m) / sc + b[i];
    } else {
      for (int64_t i = 0; i < d; i++) o[i] = (xr[i] - m) / sc;
    }
  }
}

static void norm_rows(const void *job, int64_t r0, int64_t r1) {
  const struct norm_job *j = (const struct norm_job *)job;
  for (int64_t r = r0; r < r1; r += RB) {
    const int nr = r1 - r < RB ? (int)(r1 - r) : RB;
    norm_block(j, j->x + r * j->d, j->out + r * j->d, nr);
  }
}

/* The norm's optional weight, bias, epsilon and kind at argv[0..3]; false with a JS error thrown when malformed. */
static bool norm_args(napi_env env, napi_value *argv, int64_t d, struct norm_job *j) {
  size_t lw = 0, lb = 0;
  float *w = NULL, *b = NULL;
  if (!opt_f32(env, argv[0], &w, &lw) || !opt_f32(env, argv[1], &b, &lb)) return false;
  double eps;
  if (napi_get_value_double(env, argv[2], &eps) != napi_ok || napi_get_value_bool(env, argv[3], &j->rms) != napi_ok) {
    napi_throw_type_error(env, NULL, "tfjs-lens blas addon: expected eps (number) and rms (boolean)");
    return false;
  }
  if ((w != NULL && lw < (size_t)d) || (b != NULL && lb < (size_t)d)) {
    napi_throw_range_error(env, NULL, "tfjs-lens blas addon: norm weight or bias shorter than d");
    return false;
  }
  j->w = w;
  j->b = b;
  j->eps = (float)eps;
  return true;
}

/*
 * layerNorm(x, out, rows, d, w | null, b | null, eps, rms): per row of d values, TransformerLens's
 * LayerNorm (x - mean) / sqrt(mean((x - mean)^2) + eps), or RMSNorm x / sqrt(mean(x^2) + eps) when
 * rms, then times w[d] and plus b[d] where given: the values of the unfused tensor ops of
 * src/model/components/layer_norm.ts on the wasm backend, bit for bit, in three passes instead of
 * nine kernels.
 */
static napi_value layer_norm(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 8) {
    napi_throw_error(env, NULL, "tfjs-lens blas addon: layerNorm(x, out, rows, d, w, b, eps, rms)");
    return NULL;
  }
  size_t lx, lo;
  float *x = f32_data(env, argv[0], &lx);
  float *out = x == NULL ? NULL : f32_data(env, argv[1], &lo);
  if (out == NULL) return NULL;
  int64_t rows, d;
  if (!get_i64(env, argv[2], &rows) || !get_i64(env, argv[3], &d)) return NULL;
  if (rows < 0 || d <= 0 || (size_t)(rows * d) > lx || (size_t)(rows * d) > lo) {
    napi_throw_range_error(env, NULL, "tfjs-lens blas addon: layerNorm array sizes do not match rows, d");
    return NULL;
  }
  struct norm_job j = {x, out, d, NULL, NULL, 0, false};
  if (!norm_args(env, argv + 4, d, &j)) return NULL;
  parallel_rows(norm_rows, &j, rows, rows * d);
  return NULL;
}

/* One embedding sum: out[r] = Σ_t table_t[row_t(r)] (in term order), then the norm when `normalise`. */
#define MAX_TERMS 4
struct embed_job {
  struct norm_job norm;
  int terms;
  const float *table[MAX_TERMS];
  const int32_t *ids[MAX_TERMS]; /* NULL: row r uses table row r mod period (positions 0…period−1 in every sequence) */
  int64_t period[MAX_TERMS];
  bool normalise;
};

static void embed_rows(const void *job, int64_t r0, int64_t r1) {
  const struct embed_job *j = (const struct embed_job *)job;
  const int64_t d = j->norm.d;
  for (int64_t rb = r0; rb < r1; rb += RB) {
    const int nr = r1 - rb < RB ? (int)(r1 - rb) : RB;
    float *ob = j->norm.out + rb * d;
    for (int r = 0; r < nr; r++) {
      float *o = ob + r * d;
      for (int t = 0; t < j->terms; t++) {
        const int64_t row = j->ids[t] != NULL ? (int64_t)j->ids[t][rb + r] : (rb + r) % j->period[t];
        const float *src = j->table[t] + row * d;
        if (t == 0) memcpy(o, src, sizeof(float) * (size_t)d);
        else for (int64_t i = 0; i < d; i++) o[i] += src[i];
      }
    }
    if (j->normalise) norm_block(&j->norm, ob, ob, nr);
  }
}

/*
 * embedNorm(out, rows, d, terms, w | null, b | null, eps, rms, normalise): embedding lookups summed
 * and (when normalise) normalised in one pass over the rows: out[r] = Σ_t table_t[row_t(r)] in term
 * order (the sums of the unfused gathers and adds), then the layerNorm above in place. `terms` is
 * an array of [table Float32Array, ids Int32Array | null, period]: row_t(r) = ids[r], or r mod period
 * when ids is null. Every row index is checked against its table before anything is written.
 */
static napi_value embed_norm(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 9) {
    napi_throw_error(env, NULL, "tfjs-lens blas addon: embedNorm(out, rows, d, terms, w, b, eps, rms, normalise)");
    return NULL;
  }
  size_t lo;
  float *out = f32_data(env, argv[0], &lo);
  if (out == NULL) return NULL;
  int64_t rows, d;
  if (!get_i64(env, argv[1], &rows) || !get_i64(env, argv[2], &d)) return NULL;
  if (rows < 0 || d <= 0 || (size_t)(rows * d) > lo) {
    napi_throw_range_error(env, NULL, "tfjs-lens blas addon: embedNorm out size does not match rows, d");
    return NULL;
  }
  struct embed_job j = {{NULL, out, d, NULL, NULL, 0, false}, 0, {NULL}, {NULL}, {0}, false};
  if (!norm_args(env, argv + 4, d, &j.norm)) return NULL;
  CHECK(napi_get_value_bool(env, argv[8], &j.normalise));
  uint32_t terms;
  CHECK(napi_get_array_length(env, argv[3], &terms));
  if (terms < 1 || terms > MAX_TERMS) {
    napi_throw_range_error(env, NULL, "tfjs-lens blas addon: embedNorm takes 1 to 4 terms");
    return NULL;
  }
  j.terms = (int)terms;
  for (uint32_t t = 0; t < terms; t++) {
    napi_value term, tv, iv, pv;
    CHECK(napi_get_element(env, argv[3], t, &term));
    CHECK(napi_get_element(env, term, 0, &tv));
    CHECK(napi_get_element(env, term, 1, &iv));
    CHECK(napi_get_element(env, term, 2, &pv));
    size_t lt, li = 0;
    float *table = f32_data(env, tv, &lt);
    if (table == NULL) return NULL;
    const int64_t tableRows = (int64_t)(lt / (size_t)d);
    napi_valuetype it;
    CHECK(napi_typeof(env, iv, &it));
    int32_t *ids = NULL;
    int64_t period = 0;
    if (it == napi_object) {
      ids = (int32_t *)typed_data(env, iv, napi_int32_array, &li);
      if (ids == NULL) return NULL;
      if (li < (size_t)rows) {
        napi_throw_range_error(env, NULL, "tfjs-lens blas addon: embedNorm ids shorter than rows");
        return NULL;
      }
      for (int64_t r = 0; r < rows; r++) {
        if (ids[r] < 0 || ids[r] >= tableRows) {
          napi_throw_range_error(env, NULL, "tfjs-lens blas addon: embedNorm id outside its table");
          return NULL;
        }
      }
    } else {
      if (!get_i64(env, pv, &period)) return NULL;
      if (period < 1 || period > tableRows) {
        napi_throw_range_error(env, NULL, "tfjs-lens blas addon: embedNorm period outside [1, table rows]");
        return NULL;
      }
    }
    j.table[t] = table;
    j.ids[t] = ids;
    j.period[t] = period;
  }
  parallel_rows(embed_rows, &j, rows, rows * d);
  return NULL;
}

/* setThreads(n): the BLAS thread count (n > 0 sets it); returns the count in force (0: unknown). */
static napi_value set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t n = 0;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc >= 1) CHECK(napi_get_value_int32(env, argv[0], &n));
  int32_t now = 0;
#ifndef TFJS_LENS_ACCELERATE
  if (n > 0 && openblas_set_num_threads != NULL) openblas_set_num_threads(n);
  if (openblas_get_num_threads != NULL) now = openblas_get_num_threads();
#endif
  if (n > 0 || now > 0) g_threads = now > 0 ? now : n;
  if (g_threads > MAX_THREADS) g_threads = MAX_THREADS;
  napi_value out;
  CHECK(napi_create_int32(env, now, &out));
  return out;
}

static napi_status set_str(napi_env env, napi_value obj, const char *key, const char *value) {
  napi_value v;
  napi_status s = value == NULL ? napi_get_null(env, &v) : napi_create_string_utf8(env, value, NAPI_AUTO_LENGTH, &v);
  return s != napi_ok ? s : napi_set_named_property(env, obj, key, v);
}

/*
 * info(): { vendor: 'openblas' | 'accelerate' | 'unknown', config: OpenBLAS's build description
 * ("OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64") or null, core: the kernel set in
 * use ("SkylakeX") or null, library: the file that provides cblas_sgemm. }
 */
static napi_value info(napi_env env, napi_callback_info cbinfo) {
  (void)cbinfo;
  napi_value out;
  CHECK(napi_create_object(env, &out));
  const char *vendor = "unknown", *config = NULL, *core = NULL, *library = NULL;
#ifdef TFJS_LENS_ACCELERATE
  vendor = "accelerate";
  config = "Apple Accelerate";
#else
  if (openblas_get_config != NULL) {
    vendor = "openblas";
    config = openblas_get_config();
    if (openblas_get_corename != NULL) core = openblas_get_corename();
  }
#endif
  Dl_info dl;
  if (dladdr((void *)&cblas_sgemm, &dl) != 0) library = dl.dli_fname;
  CHECK(set_str(env, out, "vendor", vendor));
  CHECK(set_str(env, out, "config", config));
  CHECK(set_str(env, out, "core", core));
  CHECK(set_str(env, out, "library", library));
  return out;
}

/* config(): the BLAS's description, or "" when it is not OpenBLAS/Accelerate (kept for callers of the prototype). */
static napi_value config(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  const char *s = "";
#ifdef TFJS_LENS_ACCELERATE
  s = "Apple Accelerate";
#else
  if (openblas_get_config != NULL) s = openblas_get_config();
#endif
  CHECK(napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &out));
  return out;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"sgemm", NULL, sgemm, NULL, NULL, NULL, napi_default, NULL},
      {"layerNorm", NULL, layer_norm, NULL, NULL, NULL, napi_default, NULL},
      {"embedNorm", NULL, embed_norm, NULL, NULL, NULL, napi_default, NULL},
      {"setThreads", NULL, set_threads, NULL, NULL, NULL, napi_default, NULL},
      {"info", NULL, info, NULL, NULL, NULL, napi_default, NULL},
      {"config", NULL, config, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props) != napi_ok) return NULL;
  return exports;
}
