/*
 * Prototype (docs/performance.md, "Native matmul"): a Node-API addon exposing OpenBLAS's sgemm to
 * the tfjs wasm backend's matmul kernels (src/native_matmul.ts). Not part of the package: built
 * by scripts/build_native_matmul.sh and loaded only when TFJS_LENS_NATIVE_MATMUL names it.
 *
 * The CBLAS prototypes are declared here so that only the OpenBLAS runtime library is needed
 * (Debian libopenblas0-pthread), not its development headers.
 */
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum { CBLAS_ROW_MAJOR = 101, CBLAS_NO_TRANS = 111, CBLAS_TRANS = 112 };
void cblas_sgemm(int order, int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                 const float *b, int ldb, float beta, float *c, int ldc);
void openblas_set_num_threads(int n);
int openblas_get_num_threads(void);
char *openblas_get_config(void);

#define CHECK(call)                                                              \
  do {                                                                           \
    if ((call) != napi_ok) {                                                     \
      napi_throw_error(env, NULL, "tfjs-lens blas addon: " #call " failed");     \
      return NULL;                                                               \
    }                                                                            \
  } while (0)

/* The float32 data of a Float32Array argument (NULL, with a JS error thrown, otherwise). */
static float *f32_data(napi_env env, napi_value v, size_t *len) {
  napi_typedarray_type type;
  void *data = NULL;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, v, &type, len, &data, &buffer, &offset) != napi_ok || type != napi_float32_array) {
    napi_throw_type_error(env, NULL, "tfjs-lens blas addon: expected a Float32Array");
    return NULL;
  }
  return (float *)data;
}

/*
 * sgemm(a, b, c, m, n, k, transA, transB, bias | null): c[m, n] = op(a)·op(b) (+ bias[n] on every
 * row), row-major; op(a) is [m, k], op(b) is [k, n]. Sizes are checked against the arrays.
 */
static napi_value sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 8) {
    napi_throw_error(env, NULL, "tfjs-lens blas addon: sgemm(a, b, c, m, n, k, transA, transB, bias?)");
    return NULL;
  }
  size_t la, lb, lc, lbias = 0;
  float *a = f32_data(env, argv[0], &la);
  float *b = a == NULL ? NULL : f32_data(env, argv[1], &lb);
  float *c = b == NULL ? NULL : f32_data(env, argv[2], &lc);
  if (c == NULL) return NULL;
  int32_t m, n, k;
  bool ta, tb;
  CHECK(napi_get_value_int32(env, argv[3], &m));
  CHECK(napi_get_value_int32(env, argv[4], &n));
  CHECK(napi_get_value_int32(env, argv[5], &k));
  CHECK(napi_get_value_bool(env, argv[6], &ta));
  CHECK(napi_get_value_bool(env, argv[7], &tb));
  float *bias = NULL;
  napi_valuetype bt = napi_null;
  if (argc > 8) CHECK(napi_typeof(env, argv[8], &bt));
  if (bt == napi_object) {
    bias = f32_data(env, argv[8], &lbias);
    if (bias == NULL) return NULL;
  }
  if (m < 0 || n < 0 || k < 0 || la < (size_t)m * k || lb < (size_t)k * n || lc < (size_t)m * n ||
      (bias != NULL && lbias < (size_t)n)) {
    napi_throw_range_error(env, NULL, "tfjs-lens blas addon: array sizes do not match m, n, k");
    return NULL;
  }
  if (bias != NULL) {
    for (int32_t i = 0; i < m; i++) memcpy(c + (size_t)i * n, bias, sizeof(float) * n);
  }
  if (m > 0 && n > 0) {
    cblas_sgemm(CBLAS_ROW_MAJOR, ta ? CBLAS_TRANS : CBLAS_NO_TRANS, tb ? CBLAS_TRANS : CBLAS_NO_TRANS, m, n, k, 1.0f,
                a, ta ? m : k, b, tb ? k : n, bias != NULL ? 1.0f : 0.0f, c, n);
  }
  return NULL;
}

/* setThreads(n): OpenBLAS's thread count; returns the count in force. */
static napi_value set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t n = 0;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc >= 1) CHECK(napi_get_value_int32(env, argv[0], &n));
  if (n > 0) openblas_set_num_threads(n);
  napi_value out;
  CHECK(napi_create_int32(env, openblas_get_num_threads(), &out));
  return out;
}

/* config(): OpenBLAS's build/core description, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH ... SkylakeX". */
static napi_value config(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  CHECK(napi_create_string_utf8(env, openblas_get_config(), NAPI_AUTO_LENGTH, &out));
  return out;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"sgemm", NULL, sgemm, NULL, NULL, NULL, napi_default, NULL},
      {"setThreads", NULL, set_threads, NULL, NULL, NULL, napi_default, NULL},
      {"config", NULL, config, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props) != napi_ok) return NULL;
  return exports;
}
