// The N-API glue: each exported function checks its arguments (types, lengths against the shape,
// with errors naming the argument and what the shape needs), then calls its kernel.
#define NAPI_VERSION 8
#include <node_api.h>

#include <cstdlib>
#include <cstring>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "fisherlab_native.h"

namespace fisherlab {
namespace {

bool fail(napi_env env, const std::string& message) {
  napi_throw_error(env, nullptr, ("fisherlab native: " + message).c_str());
  return false;
}

// A Float32Array argument's data and length; nullptr for null/undefined when optional.
bool floatArray(napi_env env, napi_value value, const char* name, bool optional, float** data, size_t* length) {
  napi_valuetype type;
  napi_typeof(env, value, &type);
  if (optional && (type == napi_null || type == napi_undefined)) {
    *data = nullptr;
    *length = 0;
    return true;
  }
  bool isTypedArray = false;
  napi_is_typedarray(env, value, &isTypedArray);
  if (!isTypedArray) return fail(env, std::string(name) + " must be a Float32Array");
  napi_typedarray_type arrayType;
  void* raw = nullptr;
  if (napi_get_typedarray_info(env, value, &arrayType, length, &raw, nullptr, nullptr) != napi_ok ||
      arrayType != napi_float32_array) {
    return fail(env, std::string(name) + " must be a Float32Array");
  }
  *data = static_cast<float*>(raw);
  return true;
}

// The shape argument: [N, H, W, Cin, OH, OW, Cout, KH, KW, strideH, strideW, padTop, padLeft].
bool convShape(napi_env env, napi_value value, ConvShape* s, bool forOneDnn = true) {
  int64_t fields[13];
  for (uint32_t i = 0; i < 13; i++) {
    napi_value element;
    if (napi_get_element(env, value, i, &element) != napi_ok ||
        napi_get_value_int64(env, element, &fields[i]) != napi_ok) {
      return fail(env, "shape must be 13 integers [N, H, W, Cin, OH, OW, Cout, KH, KW, sh, sw, padTop, padLeft]");
    }
  }
  *s = ConvShape{fields[0], fields[1], fields[2],  fields[3],  fields[4],  fields[5], fields[6],
                 fields[7], fields[8], fields[9], fields[10], fields[11], fields[12]};
  for (int i = 0; i < 11; i++)
    if (fields[i] < 1) return fail(env, "shape entries must be positive (except the paddings)");
  if (s->padTop < 0 || s->padLeft < 0) return fail(env, "paddings must not be negative");
  if (forOneDnn && !s->consistent()) return fail(env, "the output size does not follow from the input, filter, stride and padding");
  return true;
}

bool expectLength(napi_env env, const char* name, size_t actual, int64_t expected) {
  if (static_cast<int64_t>(actual) != expected)
    return fail(env, std::string(name) + " has " + std::to_string(actual) + " elements, the shape needs " +
                         std::to_string(expected));
  return true;
}

napi_value undefinedValue(napi_env env) {
  napi_value result;
  napi_get_undefined(env, &result);
  return result;
}

napi_value booleanValue(napi_env env, bool value) {
  napi_value result;
  napi_get_boolean(env, value, &result);
  return result;
}

// Runs a oneDNN call, turning its exceptions into JS errors; returns true when it computed, false
// when the shape has no safe implementation (the caller then runs the wasm kernel).
template <typename Body>
napi_value guarded(napi_env env, const char* what, Body body) {
  try {
    body();
  } catch (const NoSafeImplementation&) {
    return booleanValue(env, false);
  } catch (const dnnl::error& error) {
    fail(env, std::string(what) + ": oneDNN error " + std::to_string(error.status) + " (" + error.what() + ")");
    return nullptr;
  } catch (const std::exception& error) {
    fail(env, std::string(what) + ": " + error.what());
    return nullptr;
  }
  return booleanValue(env, true);
}

// Exactly `count` arguments into argv, or a JS error naming the call's signature.
bool arguments(napi_env env, napi_callback_info info, size_t count, napi_value* argv, const char* signature) {
  size_t argc = count;
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc != count) return fail(env, std::string(signature) + " takes " + std::to_string(count) + " arguments");
  return true;
}

// A Float32Array argument and the element count the call needs it to have (null allowed if optional).
struct FloatArg {
  const char* name;
  int64_t length;
  bool optional = false;
};

// Reads argv[0], argv[1], ... as the Float32Arrays `specs` describe into data[0], data[1], ...
// (nullptr for an absent optional one); false, with a JS error thrown, for a wrong type or length.
bool floatArgs(napi_env env, const napi_value* argv, std::initializer_list<FloatArg> specs, float** data) {
  size_t i = 0;
  for (const FloatArg& spec : specs) {
    size_t length = 0;
    if (!floatArray(env, argv[i], spec.name, spec.optional, &data[i], &length)) return false;
    if (data[i] && !expectLength(env, spec.name, length, spec.length)) return false;
    i++;
  }
  return true;
}

// Positive int64 arguments argv[0..count), or a JS error naming them.
bool positiveIntegers(napi_env env, const napi_value* argv, size_t count, int64_t* values, const char* names) {
  for (size_t i = 0; i < count; i++)
    if (napi_get_value_int64(env, argv[i], &values[i]) != napi_ok || values[i] < 1)
      return fail(env, std::string(names) + " must be positive integers");
  return true;
}

// conv2d(shape, x, filter, bias | null, relu: boolean, y)
napi_value Conv2d(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  ConvShape s;
  bool relu = false;
  float* a[3];
  float* y;
  if (!arguments(env, info, 6, argv, "conv2d(shape, x, filter, bias, relu, y)") || !convShape(env, argv[0], &s))
    return nullptr;
  if (napi_get_value_bool(env, argv[4], &relu) != napi_ok) return fail(env, "relu must be a boolean"), nullptr;
  if (!floatArgs(env, argv + 1, {{"x", s.inputSize()}, {"filter", s.filterSize()}, {"bias", s.outChannels, true}}, a) ||
      !floatArgs(env, argv + 5, {{"y", s.outputSize()}}, &y))
    return nullptr;
  return guarded(env, "conv2d", [&] { conv2dForward(s, a[0], a[1], a[2], relu, y); });
}

// conv2dBackpropFilter(shape, x, dy, dw)
napi_value Conv2dBackpropFilter(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  ConvShape s;
  float* a[3];
  if (!arguments(env, info, 4, argv, "conv2dBackpropFilter(shape, x, dy, dw)") || !convShape(env, argv[0], &s) ||
      !floatArgs(env, argv + 1, {{"x", s.inputSize()}, {"dy", s.outputSize()}, {"dw", s.filterSize()}}, a))
    return nullptr;
  return guarded(env, "conv2dBackpropFilter", [&] { conv2dBackpropFilter(s, a[0], a[1], a[2]); });
}

// perExampleConv2dFilterSquaredNorms(shape, x, dy, out [N])
napi_value PerExampleConv2dFilterSquaredNorms(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  ConvShape s;
  float* a[3];
  if (!arguments(env, info, 4, argv, "perExampleConv2dFilterSquaredNorms(shape, x, dy, out)") ||
      !convShape(env, argv[0], &s) ||
      !floatArgs(env, argv + 1, {{"x", s.inputSize()}, {"dy", s.outputSize()}, {"out", s.batch}}, a))
    return nullptr;
  return guarded(env, "perExampleConv2dFilterSquaredNorms",
                 [&] { perExampleConv2dFilterSquaredNorms(s, a[0], a[1], a[2]); });
}

// conv2dBackpropInput(shape, dy, filter, dx)
napi_value Conv2dBackpropInput(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  ConvShape s;
  float* a[3];
  if (!arguments(env, info, 4, argv, "conv2dBackpropInput(shape, dy, filter, dx)") || !convShape(env, argv[0], &s) ||
      !floatArgs(env, argv + 1, {{"dy", s.outputSize()}, {"filter", s.filterSize()}, {"dx", s.inputSize()}}, a))
    return nullptr;
  return guarded(env, "conv2dBackpropInput", [&] { conv2dBackpropInput(s, a[0], a[1], a[2]); });
}

// matmul(batchA, batchB, m, n, k, transposeA, transposeB, a, b, bias | null, relu, c):
//   c[i] = act(op(a[i or 0]) · op(b[i or 0]) + bias), op(a) [m, k], op(b) [k, n], row-major; a batch
//   of 1 is broadcast against the other operand's batch.
napi_value Matmul(napi_env env, napi_callback_info info) {
  napi_value argv[12];
  int64_t dims[5];
  if (!arguments(env, info, 12, argv, "matmul(batchA, batchB, m, n, k, transposeA, transposeB, a, b, bias, relu, c)") ||
      !positiveIntegers(env, argv, 5, dims, "batchA, batchB, m, n, k"))
    return nullptr;
  const int64_t batchA = dims[0], batchB = dims[1], m = dims[2], n = dims[3], k = dims[4];
  if (batchA != batchB && batchA != 1 && batchB != 1)
    return fail(env, "batchA and batchB must be equal or one of them 1"), nullptr;
  bool transposeA = false, transposeB = false, relu = false;
  if (napi_get_value_bool(env, argv[5], &transposeA) != napi_ok ||
      napi_get_value_bool(env, argv[6], &transposeB) != napi_ok || napi_get_value_bool(env, argv[10], &relu) != napi_ok)
    return fail(env, "transposeA, transposeB and relu must be booleans"), nullptr;
  const int64_t batch = std::max(batchA, batchB);
  float* ab[3];
  float* c;
  if (!floatArgs(env, argv + 7, {{"a", batchA * m * k}, {"b", batchB * k * n}, {"bias", n, true}}, ab) ||
      !floatArgs(env, argv + 11, {{"c", batch * m * n}}, &c))
    return nullptr;
  float* bias = ab[2];
  return guarded(env, "matmul", [&] {
    matmul(batchA, batchB, m, n, k, transposeA, transposeB, ab[0], ab[1], bias, relu, c);
  });
}

// A pooling call's shape: as for convolutions, with Cout = Cin and KH, KW the window.
bool poolShape(napi_env env, napi_value value, ConvShape* s, const char* what) {
  if (!convShape(env, value, s, false)) return false;
  if (s->outChannels != s->inChannels) return fail(env, std::string(what) + ": Cout must equal Cin");
  return true;
}

// maxPoolGrad(shape, x, dy, dx)
napi_value MaxPoolGrad(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  ConvShape s;
  float* a[3];
  if (!arguments(env, info, 4, argv, "maxPoolGrad(shape, x, dy, dx)") || !poolShape(env, argv[0], &s, "maxPoolGrad") ||
      !floatArgs(env, argv + 1, {{"x", s.inputSize()}, {"dy", s.outputSize()}, {"dx", s.inputSize()}}, a))
    return nullptr;
  maxPoolGrad(s, a[0], a[1], a[2]);
  return undefinedValue(env);
}

// maxPool(shape, x, y)
napi_value MaxPool(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  ConvShape s;
  float* a[2];
  if (!arguments(env, info, 3, argv, "maxPool(shape, x, y)") || !poolShape(env, argv[0], &s, "maxPool") ||
      !floatArgs(env, argv + 1, {{"x", s.inputSize()}, {"y", s.outputSize()}}, a))
    return nullptr;
  maxPool(s, a[0], a[1]);
  return undefinedValue(env);
}

// maxPoolSelect(shape, x, ddx, ddy)
napi_value MaxPoolSelect(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  ConvShape s;
  float* a[3];
  if (!arguments(env, info, 4, argv, "maxPoolSelect(shape, x, ddx, ddy)") ||
      !poolShape(env, argv[0], &s, "maxPoolSelect") ||
      !floatArgs(env, argv + 1, {{"x", s.inputSize()}, {"ddx", s.inputSize()}, {"ddy", s.outputSize()}}, a))
    return nullptr;
  maxPoolSelect(s, a[0], a[1], a[2]);
  return undefinedValue(env);
}

// batchNorm(rows, channels, x, mean, variance, offset | null, scale | null, epsilon, y)
napi_value BatchNorm(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  int64_t dims[2];
  double epsilon;
  if (!arguments(env, info, 9, argv, "batchNorm(rows, channels, x, mean, variance, offset, scale, epsilon, y)") ||
      !positiveIntegers(env, argv, 2, dims, "rows and channels"))
    return nullptr;
  if (napi_get_value_double(env, argv[7], &epsilon) != napi_ok) return fail(env, "epsilon must be a number"), nullptr;
  const int64_t rows = dims[0], channels = dims[1];
  float* a[5];
  float* y;
  if (!floatArgs(env, argv + 2,
                 {{"x", rows * channels},
                  {"mean", channels},
                  {"variance", channels},
                  {"offset", channels, true},
                  {"scale", channels, true}},
                 a) ||
      !floatArgs(env, argv + 8, {{"y", rows * channels}}, &y))
    return nullptr;
  batchNorm(rows, channels, a[0], a[1], a[2], a[3], a[4], static_cast<float>(epsilon), y);
  return undefinedValue(env);
}

// Reads argv[0..1] as rows and channels and argv[epsilonAt] as epsilon; then each argument of
// `layout` (from argv[2]) as a Float32Array of rows·channels ('x') or channels ('c') floats.
bool batchNormArguments(napi_env env, const napi_value* argv, const char* layout, size_t epsilonAt, int64_t* rows,
                        int64_t* channels, double* epsilon, const char* const* names, float** data) {
  int64_t dims[2];
  if (!positiveIntegers(env, argv, 2, dims, "rows and channels")) return false;
  *rows = dims[0];
  *channels = dims[1];
  if (napi_get_value_double(env, argv[epsilonAt], epsilon) != napi_ok) return fail(env, "epsilon must be a number");
  size_t next = 0;
  for (size_t i = 0; layout[i] != '\0'; i++) {
    const size_t at = 2 + i + (2 + i >= epsilonAt ? 1 : 0);
    const int64_t length = layout[i] == 'x' ? dims[0] * dims[1] : dims[1];
    if (!floatArgs(env, argv + at, {{names[next], length}}, data + next)) return false;
    next++;
  }
  return true;
}

// batchNormTraining(rows, channels, x, scale, offset, epsilon, y, mean, variance)
napi_value BatchNormTraining(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  const char* names[] = {"x", "scale", "offset", "y", "mean", "variance"};
  float* a[6];
  int64_t rows, channels;
  double epsilon;
  if (!arguments(env, info, 9, argv, "batchNormTraining(rows, channels, x, scale, offset, epsilon, y, mean, variance)") ||
      !batchNormArguments(env, argv, "xccxcc", 5, &rows, &channels, &epsilon, names, a))
    return nullptr;
  batchNormTraining(rows, channels, a[0], a[1], a[2], static_cast<float>(epsilon), a[3], a[4], a[5]);
  return undefinedValue(env);
}

// batchNormTrainingGrad(rows, channels, dy, x, scale, dmean, dvariance, epsilon, dx, dscale, doffset)
napi_value BatchNormTrainingGrad(napi_env env, napi_callback_info info) {
  napi_value argv[11];
  const char* names[] = {"dy", "x", "scale", "dmean", "dvariance", "dx", "dscale", "doffset"};
  float* a[8];
  int64_t rows, channels;
  double epsilon;
  if (!arguments(env, info, 11, argv,
                 "batchNormTrainingGrad(rows, channels, dy, x, scale, dmean, dvariance, epsilon, dx, dscale, doffset)") ||
      !batchNormArguments(env, argv, "xxcccxcc", 7, &rows, &channels, &epsilon, names, a))
    return nullptr;
  batchNormTrainingGrad(rows, channels, a[0], a[1], a[2], a[3], a[4], epsilon, a[5], a[6], a[7]);
  return undefinedValue(env);
}

// batchNormTrainingGradGrad(rows, channels, dy, x, scale, dvariance, ddx, ddscale, ddoffset, epsilon,
//   ddy, dx, dscale, ddmean, ddvariance)
napi_value BatchNormTrainingGradGrad(napi_env env, napi_callback_info info) {
  napi_value argv[15];
  const char* names[] = {"dy",  "x",   "scale", "dvariance", "ddx",    "ddscale",   "ddoffset",
                         "ddy", "dx2", "dscale", "ddmean",   "ddvariance"};
  float* a[12];
  int64_t rows, channels;
  double epsilon;
  if (!arguments(env, info, 15, argv,
                 "batchNormTrainingGradGrad(rows, channels, dy, x, scale, dvariance, ddx, ddscale, ddoffset, epsilon, "
                 "ddy, dx, dscale, ddmean, ddvariance)") ||
      !batchNormArguments(env, argv, "xxccxccxxccc", 9, &rows, &channels, &epsilon, names, a))
    return nullptr;
  batchNormTrainingGradGrad(rows, channels, a[0], a[1], a[2], a[3], a[4], a[5], a[6], epsilon, a[7], a[8], a[9],
                            a[10], a[11]);
  return undefinedValue(env);
}

// columnSums(outer, rows, cols, x [outer, rows, cols], scale, out [outer, cols]):
//   out[o, c] = scale · Σ_i x[o, i, c].
napi_value ColumnSums(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  int64_t dims[3];
  double scale;
  if (!arguments(env, info, 6, argv, "columnSums(outer, rows, cols, x, scale, out)") ||
      !positiveIntegers(env, argv, 3, dims, "outer, rows and cols"))
    return nullptr;
  if (napi_get_value_double(env, argv[4], &scale) != napi_ok) return fail(env, "scale must be a number"), nullptr;
  const int64_t outer = dims[0], rows = dims[1], cols = dims[2];
  float* x;
  float* out;
  if (!floatArgs(env, argv + 3, {{"x", outer * rows * cols}}, &x) ||
      !floatArgs(env, argv + 5, {{"out", outer * cols}}, &out))
    return nullptr;
  blockColumnSums(outer, rows, cols, x, scale, out);
  return undefinedValue(env);
}

// An array of int64s (shape or strides), or a JS error naming it.
bool int64List(napi_env env, napi_value value, const char* name, std::vector<int64_t>* out) {
  bool isArray = false;
  uint32_t length = 0;
  if (napi_is_array(env, value, &isArray) != napi_ok || !isArray || napi_get_array_length(env, value, &length) != napi_ok)
    return fail(env, std::string(name) + " must be an array of integers");
  out->resize(length);
  for (uint32_t i = 0; i < length; i++) {
    napi_value element;
    if (napi_get_element(env, value, i, &element) != napi_ok ||
        napi_get_value_int64(env, element, &(*out)[i]) != napi_ok)
      return fail(env, std::string(name) + " must be an array of integers");
  }
  return true;
}

// binary(op, shape, aStrides, bStrides, a, b, out): out (row-major `shape`) = a op b, a and b read
// at their strides (0 along a broadcast dim).
napi_value Binary(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  int32_t op = 0;
  std::vector<int64_t> shape, aStrides, bStrides;
  if (!arguments(env, info, 7, argv, "binary(op, shape, aStrides, bStrides, a, b, out)") ||
      !int64List(env, argv[1], "shape", &shape) || !int64List(env, argv[2], "aStrides", &aStrides) ||
      !int64List(env, argv[3], "bStrides", &bStrides))
    return nullptr;
  if (napi_get_value_int32(env, argv[0], &op) != napi_ok) return fail(env, "op must be an integer"), nullptr;
  if (shape.empty() || aStrides.size() != shape.size() || bStrides.size() != shape.size())
    return fail(env, "shape and both stride lists must have the same, positive length"), nullptr;
  int64_t size = 1, extentA = 1, extentB = 1;
  for (size_t d = 0; d < shape.size(); d++) {
    if (shape[d] < 1 || aStrides[d] < 0 || bStrides[d] < 0)
      return fail(env, "shape entries must be positive and strides not negative"), nullptr;
    size *= shape[d];
    extentA += (shape[d] - 1) * aStrides[d];
    extentB += (shape[d] - 1) * bStrides[d];
  }
  float* data[3];
  size_t lengths[3];
  for (int i = 0; i < 3; i++)
    if (!floatArray(env, argv[4 + i], i == 0 ? "a" : i == 1 ? "b" : "out", false, &data[i], &lengths[i])) return nullptr;
  if (!expectLength(env, "out", lengths[2], size)) return nullptr;
  if (static_cast<int64_t>(lengths[0]) < extentA || static_cast<int64_t>(lengths[1]) < extentB)
    return fail(env, "a or b is shorter than its strides reach"), nullptr;
  try {
    binary(op, shape, aStrides, bStrides, data[0], data[1], data[2]);
  } catch (const std::exception& error) {
    return fail(env, error.what()), nullptr;
  }
  return undefinedValue(env);
}

// unary(op, x, alpha, y): y[i] = op(x[i]) (alpha: Step's value for x <= 0).
napi_value Unary(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  int32_t op = 0;
  double alpha = 0;
  if (!arguments(env, info, 4, argv, "unary(op, x, alpha, y)")) return nullptr;
  if (napi_get_value_int32(env, argv[0], &op) != napi_ok) return fail(env, "op must be an integer"), nullptr;
  if (napi_get_value_double(env, argv[2], &alpha) != napi_ok) return fail(env, "alpha must be a number"), nullptr;
  float* x;
  float* y;
  size_t xLength = 0, yLength = 0;
  if (!floatArray(env, argv[1], "x", false, &x, &xLength) || !floatArray(env, argv[3], "y", false, &y, &yLength) ||
      !expectLength(env, "y", yLength, static_cast<int64_t>(xLength)))
    return nullptr;
  try {
    unary(op, static_cast<int64_t>(xLength), x, alpha, y);
  } catch (const std::exception& error) {
    return fail(env, error.what()), nullptr;
  }
  return undefinedValue(env);
}

// setThreads(n): the OpenMP threads oneDNN and the epilogues use; returns what is in effect.
napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int32_t threads = 0;
  if (argc != 1 || napi_get_value_int32(env, argv[0], &threads) != napi_ok || threads < 1)
    return fail(env, "setThreads(n) needs a positive integer"), nullptr;
  // Primitives are created for a thread count (their work split); new ones for the new count.
  if (threads != omp_get_max_threads()) {
    clearConvPrimitives();
    clearMatmulPrimitives();
  }
  omp_set_num_threads(threads);
  napi_value result;
  napi_create_int32(env, omp_get_max_threads(), &result);
  return result;
}

const char* isaName(dnnl::cpu_isa isa) {
  switch (isa) {
    case dnnl::cpu_isa::sse41: return "SSE4.1";
    case dnnl::cpu_isa::avx: return "AVX";
    case dnnl::cpu_isa::avx2: return "AVX2";
    case dnnl::cpu_isa::avx512_core: return "AVX-512";
    case dnnl::cpu_isa::avx512_core_vnni: return "AVX-512 VNNI";
    case dnnl::cpu_isa::avx512_core_bf16: return "AVX-512 BF16";
    case dnnl::cpu_isa::avx512_core_amx: return "AVX-512 AMX";
    default: return "other ISA";
  }
}

// library(): e.g. "oneDNN 2.6.3 (AVX-512, OpenMP)".
napi_value Library(napi_env env, napi_callback_info) {
  const dnnl_version_t* version = dnnl_version();
  std::ostringstream text;
  text << "oneDNN " << version->major << '.' << version->minor << '.' << version->patch << " ("
       << isaName(dnnl::get_effective_cpu_isa()) << ", OpenMP)";
  const std::string value = text.str();
  napi_value result;
  napi_create_string_utf8(env, value.c_str(), value.size(), &result);
  return result;
}

// keepFreedMemory(): on glibc, keeps freed blocks of any size in the process for the next
// allocation (mmap and trim thresholds at their maximum), unless the environment already sets
// glibc's malloc (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_, GLIBC_TUNABLES). By default glibc
// maps every block over 32 MiB afresh and unmaps it when freed, so each large activation of a
// step faults its pages in again: WRN-16-4's plain step at batch 128 took 11.2 s (6.5 s of it in
// the kernel) against 4.8 s this way. Returns what it did, in words.
napi_value KeepFreedMemory(napi_env env, napi_callback_info) {
  std::string what;
#ifdef __GLIBC__
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") || std::getenv("MALLOC_TRIM_THRESHOLD_") ||
      (tunables && std::strstr(tunables, "glibc.malloc"))) {
    what = "glibc malloc as the environment sets it";
  } else if (mallopt(M_MMAP_THRESHOLD, std::numeric_limits<int>::max()) == 1 &&
             mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max()) == 1) {
    what = "glibc malloc keeps freed memory for reuse";
  } else {
    what = "glibc malloc as it was (it refused the thresholds)";
  }
#else
  what = "the C library's malloc as it is (not glibc)";
#endif
  napi_value result;
  napi_create_string_utf8(env, what.c_str(), what.size(), &result);
  return result;
}

// releaseScratch(): frees the cached primitives (and the scratch memory they hold).
napi_value ReleaseScratch(napi_env env, napi_callback_info) {
  clearConvPrimitives();
  clearMatmulPrimitives();
  unsafeShapes.clear();
  return undefinedValue(env);
}

// {name: code} for each op of a FISHERLAB_*_OPS list, as a frozen JS object.
napi_value opCodes(napi_env env, std::initializer_list<std::pair<const char*, int32_t>> ops) {
  napi_value object;
  napi_create_object(env, &object);
  for (const auto& [name, code] : ops) {
    napi_value value;
    napi_create_int32(env, code, &value);
    napi_set_named_property(env, object, name, value);
  }
  napi_object_freeze(env, object);
  return object;
}

#define FISHERLAB_OP_ENTRY(name, code, js) {js, code},

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor methods[] = {
      {"conv2d", nullptr, Conv2d, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"conv2dBackpropFilter", nullptr, Conv2dBackpropFilter, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"perExampleConv2dFilterSquaredNorms", nullptr, PerExampleConv2dFilterSquaredNorms, nullptr, nullptr, nullptr,
       napi_default_method, nullptr},
      {"conv2dBackpropInput", nullptr, Conv2dBackpropInput, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"matmul", nullptr, Matmul, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"maxPoolGrad", nullptr, MaxPoolGrad, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"maxPool", nullptr, MaxPool, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"maxPoolSelect", nullptr, MaxPoolSelect, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"batchNorm", nullptr, BatchNorm, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"batchNormTraining", nullptr, BatchNormTraining, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"batchNormTrainingGrad", nullptr, BatchNormTrainingGrad, nullptr, nullptr, nullptr, napi_default_method,
       nullptr},
      {"batchNormTrainingGradGrad", nullptr, BatchNormTrainingGradGrad, nullptr, nullptr, nullptr,
       napi_default_method, nullptr},
      {"columnSums", nullptr, ColumnSums, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"binary", nullptr, Binary, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"unary", nullptr, Unary, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"library", nullptr, Library, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"releaseScratch", nullptr, ReleaseScratch, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"keepFreedMemory", nullptr, KeepFreedMemory, nullptr, nullptr, nullptr, napi_default_method, nullptr},
  };
  napi_define_properties(env, exports, sizeof(methods) / sizeof(methods[0]), methods);
  napi_set_named_property(env, exports, "binaryOps", opCodes(env, {FISHERLAB_BINARY_OPS(FISHERLAB_OP_ENTRY)}));
  napi_set_named_property(env, exports, "unaryOps", opCodes(env, {FISHERLAB_UNARY_OPS(FISHERLAB_OP_ENTRY)}));
  return exports;
}

}  // namespace
}  // namespace fisherlab

NAPI_MODULE(NODE_GYP_MODULE_NAME, fisherlab::Init)