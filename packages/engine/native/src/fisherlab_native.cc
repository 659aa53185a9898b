// FisherLab's native CPU tier: NHWC convolution forward and both backward directions as
// im2col / col2im plus one OpenBLAS sgemm per chunk of images. Every entry point computes in place
// on Float32Arrays that JS passes in (views of the wasm heap), synchronously, on the JS thread;
// OpenBLAS and OpenMP add worker threads for the product and the gathers.
//
// Shapes (row-major): x [N, H, W, Cin], filter [KH, KW, Cin, Cout] = W2 [taps, Cout] with
// taps = KH·KW·Cin, y/dy [N, OH, OW, Cout] = [patches, Cout] with patches = N·OH·OW.
//   forward:         y  = cols · W2                      (cols [patches, taps], the im2col of x)
//   backprop filter: dW = colsᵀ · dy                     (summed over chunks of images)
//   backprop input:  dx = col2im(dy · W2ᵀ)               (each cols row added into its window)
// plus batched matrix products (BatchMatMul / _FusedMatMul) on the same sgemm.
#define NAPI_VERSION 8
#include <node_api.h>

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct ConvShape {
  int64_t batch, inHeight, inWidth, inChannels;
  int64_t outHeight, outWidth, outChannels;
  int64_t filterHeight, filterWidth, strideHeight, strideWidth, padTop, padLeft;

  int64_t taps() const { return filterHeight * filterWidth * inChannels; }
  int64_t patchesPerImage() const { return outHeight * outWidth; }
  // A 1x1, stride-1, unpadded convolution: x itself is the im2col matrix.
  bool pointwise() const {
    return filterHeight == 1 && filterWidth == 1 && strideHeight == 1 && strideWidth == 1 && padTop == 0 &&
           padLeft == 0 && outHeight == inHeight && outWidth == inWidth;
  }
};

// The im2col scratch is reused across calls (grown on demand, never above kScratchFloats unless
// one image alone needs more); chunks of images keep it bounded for any batch size.
constexpr int64_t kScratchFloats = int64_t{1} << 23;  // 32 MiB
std::vector<float> scratch;

int64_t imagesPerChunk(const ConvShape& s) {
  const int64_t perImage = s.patchesPerImage() * s.taps();
  return std::max<int64_t>(1, std::min<int64_t>(s.batch, kScratchFloats / std::max<int64_t>(perImage, 1)));
}

float* scratchFor(int64_t floats) {
  if (static_cast<int64_t>(scratch.size()) < floats) scratch.resize(static_cast<size_t>(floats));
  return scratch.data();
}

// cols[(n, oh, ow), (kh, kw, ci)] = x[n, oh·sh + kh − pt, ow·sw + kw − pl, ci], 0 in the padding.
void im2col(const ConvShape& s, const float* x, int64_t images, float* cols) {
  const int64_t taps = s.taps();
  const int64_t rows = images * s.outHeight;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; r++) {
    const int64_t n = r / s.outHeight, oh = r % s.outHeight;
    float* out = cols + r * s.outWidth * taps;
    for (int64_t ow = 0; ow < s.outWidth; ow++) {
      for (int64_t kh = 0; kh < s.filterHeight; kh++) {
        const int64_t ih = oh * s.strideHeight + kh - s.padTop;
        float* tap = out + (ow * s.filterHeight + kh) * s.filterWidth * s.inChannels;
        if (ih < 0 || ih >= s.inHeight) {
          std::memset(tap, 0, sizeof(float) * s.filterWidth * s.inChannels);
          continue;
        }
        const float* row = x + ((n * s.inHeight + ih) * s.inWidth) * s.inChannels;
        for (int64_t kw = 0; kw < s.filterWidth; kw++) {
          const int64_t iw = ow * s.strideWidth + kw - s.padLeft;
          float* dst = tap + kw * s.inChannels;
          if (iw < 0 || iw >= s.inWidth) {
            std::memset(dst, 0, sizeof(float) * s.inChannels);
          } else {
            std::memcpy(dst, row + iw * s.inChannels, sizeof(float) * s.inChannels);
          }
        }
      }
    }
  }
}

// dx[n, ih, iw, ci] += cols[(n, oh, ow), (kh, kw, ci)] for every window that covers (ih, iw).
// Gathered per input row (not scattered per cols row) so threads never write the same dx entry.
void col2im(const ConvShape& s, const float* cols, int64_t images, float* dx) {
  const int64_t taps = s.taps();
  const int64_t rows = images * s.inHeight;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; r++) {
    const int64_t n = r / s.inHeight, ih = r % s.inHeight;
    float* out = dx + r * s.inWidth * s.inChannels;
    std::memset(out, 0, sizeof(float) * s.inWidth * s.inChannels);
    for (int64_t kh = 0; kh < s.filterHeight; kh++) {
      // ih = oh·sh + kh − pt  ⇒  oh = (ih + pt − kh) / sh when divisible and in range.
      const int64_t shifted = ih + s.padTop - kh;
      if (shifted < 0 || shifted % s.strideHeight != 0) continue;
      const int64_t oh = shifted / s.strideHeight;
      if (oh >= s.outHeight) continue;
      for (int64_t ow = 0; ow < s.outWidth; ow++) {
        const float* window = cols + ((n * s.outHeight + oh) * s.outWidth + ow) * taps +
                              kh * s.filterWidth * s.inChannels;
        for (int64_t kw = 0; kw < s.filterWidth; kw++) {
          const int64_t iw = ow * s.strideWidth + kw - s.padLeft;
          if (iw < 0 || iw >= s.inWidth) continue;
          float* dst = out + iw * s.inChannels;
          const float* src = window + kw * s.inChannels;
          for (int64_t ci = 0; ci < s.inChannels; ci++) dst[ci] += src[ci];
        }
      }
    }
  }
}

void conv2dForward(const ConvShape& s, const float* x, const float* filter, const float* bias, bool relu,
                   float* y) {
  const int64_t taps = s.taps();
  const int64_t chunk = imagesPerChunk(s);
  const int64_t inPerImage = s.inHeight * s.inWidth * s.inChannels;
  const int64_t outPerImage = s.patchesPerImage() * s.outChannels;
  for (int64_t n0 = 0; n0 < s.batch; n0 += chunk) {
    const int64_t images = std::min(chunk, s.batch - n0);
    const int64_t patches = images * s.patchesPerImage();
    const float* cols = x + n0 * inPerImage;
    if (!s.pointwise()) {
      float* buffer = scratchFor(patches * taps);
      im2col(s, x + n0 * inPerImage, images, buffer);
      cols = buffer;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, patches, s.outChannels, taps, 1.0f, cols, taps, filter,
                s.outChannels, 0.0f, y + n0 * outPerImage, s.outChannels);
  }
  if (bias || relu) {
    const int64_t patches = s.batch * s.patchesPerImage();
#pragma omp parallel for schedule(static)
    for (int64_t p = 0; p < patches; p++) {
      float* row = y + p * s.outChannels;
      if (bias)
        for (int64_t c = 0; c < s.outChannels; c++) row[c] += bias[c];
      if (relu)
        for (int64_t c = 0; c < s.outChannels; c++) row[c] = row[c] > 0.0f ? row[c] : 0.0f;
    }
  }
}

void conv2dBackpropFilter(const ConvShape& s, const float* x, const float* dy, float* dw) {
  const int64_t taps = s.taps();
  const int64_t chunk = imagesPerChunk(s);
  const int64_t inPerImage = s.inHeight * s.inWidth * s.inChannels;
  const int64_t outPerImage = s.patchesPerImage() * s.outChannels;
  for (int64_t n0 = 0; n0 < s.batch; n0 += chunk) {
    const int64_t images = std::min(chunk, s.batch - n0);
    const int64_t patches = images * s.patchesPerImage();
    const float* cols = x + n0 * inPerImage;
    if (!s.pointwise()) {
      float* buffer = scratchFor(patches * taps);
      im2col(s, x + n0 * inPerImage, images, buffer);
      cols = buffer;
    }
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, taps, s.outChannels, patches, 1.0f, cols, taps,
                dy + n0 * outPerImage, s.outChannels, n0 == 0 ? 0.0f : 1.0f, dw, s.outChannels);
  }
}

void conv2dBackpropInput(const ConvShape& s, const float* dy, const float* filter, float* dx) {
  const int64_t taps = s.taps();
  const int64_t chunk = imagesPerChunk(s);
  const int64_t inPerImage = s.inHeight * s.inWidth * s.inChannels;
  const int64_t outPerImage = s.patchesPerImage() * s.outChannels;
  for (int64_t n0 = 0; n0 < s.batch; n0 += chunk) {
    const int64_t images = std::min(chunk, s.batch - n0);
    const int64_t patches = images * s.patchesPerImage();
    float* cols = s.pointwise() ? dx + n0 * inPerImage : scratchFor(patches * taps);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, patches, taps, s.outChannels, 1.0f, dy + n0 * outPerImage,
                s.outChannels, filter, s.outChannels, 0.0f, cols, taps);
    if (!s.pointwise()) col2im(s, cols, images, dx + n0 * inPerImage);
  }
}

// ---- N-API glue ---------------------------------------------------------------------------------

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
bool convShape(napi_env env, napi_value value, ConvShape* s) {
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

// conv2d(shape, x, filter, bias | null, relu: boolean, y)
napi_value Conv2d(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc != 6) return fail(env, "conv2d(shape, x, filter, bias, relu, y) takes 6 arguments"), nullptr;
  ConvShape s;
  float *x, *filter, *bias, *y;
  size_t nx, nf, nb, ny;
  bool relu = false;
  if (!convShape(env, argv[0], &s) || !floatArray(env, argv[1], "x", false, &x, &nx) ||
      !floatArray(env, argv[2], "filter", false, &filter, &nf) ||
      !floatArray(env, argv[3], "bias", true, &bias, &nb) || napi_get_value_bool(env, argv[4], &relu) != napi_ok ||
      !floatArray(env, argv[5], "y", false, &y, &ny))
    return nullptr;
  if (!expectLength(env, "x", nx, s.batch * s.inHeight * s.inWidth * s.inChannels) ||
      !expectLength(env, "filter", nf, s.taps() * s.outChannels) ||
      (bias && !expectLength(env, "bias", nb, s.outChannels)) ||
      !expectLength(env, "y", ny, s.batch * s.patchesPerImage() * s.outChannels))
    return nullptr;
  conv2dForward(s, x, filter, bias, relu, y);
  return undefinedValue(env);
}

// conv2dBackpropFilter(shape, x, dy, dw)
napi_value Conv2dBackpropFilter(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc != 4) return fail(env, "conv2dBackpropFilter(shape, x, dy, dw) takes 4 arguments"), nullptr;
  ConvShape s;
  float *x, *dy, *dw;
  size_t nx, ndy, ndw;
  if (!convShape(env, argv[0], &s) || !floatArray(env, argv[1], "x", false, &x, &nx) ||
      !floatArray(env, argv[2], "dy", false, &dy, &ndy) || !floatArray(env, argv[3], "dw", false, &dw, &ndw))
    return nullptr;
  if (!expectLength(env, "x", nx, s.batch * s.inHeight * s.inWidth * s.inChannels) ||
      !expectLength(env, "dy", ndy, s.batch * s.patchesPerImage() * s.outChannels) ||
      !expectLength(env, "dw", ndw, s.taps() * s.outChannels))
    return nullptr;
  conv2dBackpropFilter(s, x, dy, dw);
  return undefinedValue(env);
}

// conv2dBackpropInput(shape, dy, filter, dx)
napi_value Conv2dBackpropInput(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc != 4) return fail(env, "conv2dBackpropInput(shape, dy, filter, dx) takes 4 arguments"), nullptr;
  ConvShape s;
  float *dy, *filter, *dx;
  size_t ndy, nf, ndx;
  if (!convShape(env, argv[0], &s) || !floatArray(env, argv[1], "dy", false, &dy, &ndy) ||
      !floatArray(env, argv[2], "filter", false, &filter, &nf) || !floatArray(env, argv[3], "dx", false, &dx, &ndx))
    return nullptr;
  if (!expectLength(env, "dy", ndy, s.batch * s.patchesPerImage() * s.outChannels) ||
      !expectLength(env, "filter", nf, s.taps() * s.outChannels) ||
      !expectLength(env, "dx", ndx, s.batch * s.inHeight * s.inWidth * s.inChannels))
    return nullptr;
  conv2dBackpropInput(s, dy, filter, dx);
  return undefinedValue(env);
}

// matmul(batchA, batchB, m, n, k, transposeA, transposeB, a, b, bias | null, relu, c):
//   c[i] = act(op(a[i or 0]) · op(b[i or 0]) + bias), op(a) [m, k], op(b) [k, n], row-major; a batch
//   of 1 is broadcast against the other operand's batch.
napi_value Matmul(napi_env env, napi_callback_info info) {
  size_t argc = 12;
  napi_value argv[12];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc != 12)
    return fail(env, "matmul(batchA, batchB, m, n, k, transposeA, transposeB, a, b, bias, relu, c) takes 12 arguments"),
           nullptr;
  int64_t dims[5];
  for (int i = 0; i < 5; i++)
    if (napi_get_value_int64(env, argv[i], &dims[i]) != napi_ok || dims[i] < 1)
      return fail(env, "batchA, batchB, m, n, k must be positive integers"), nullptr;
  const int64_t batchA = dims[0], batchB = dims[1], m = dims[2], n = dims[3], k = dims[4];
  if (batchA != batchB && batchA != 1 && batchB != 1)
    return fail(env, "batchA and batchB must be equal or one of them 1"), nullptr;
  bool transposeA = false, transposeB = false, relu = false;
  if (napi_get_value_bool(env, argv[5], &transposeA) != napi_ok ||
      napi_get_value_bool(env, argv[6], &transposeB) != napi_ok || napi_get_value_bool(env, argv[10], &relu) != napi_ok)
    return fail(env, "transposeA, transposeB and relu must be booleans"), nullptr;
  float *a, *b, *bias, *c;
  size_t na, nb, nbias, nc;
  if (!floatArray(env, argv[7], "a", false, &a, &na) || !floatArray(env, argv[8], "b", false, &b, &nb) ||
      !floatArray(env, argv[9], "bias", true, &bias, &nbias) || !floatArray(env, argv[11], "c", false, &c, &nc))
    return nullptr;
  const int64_t batch = std::max(batchA, batchB);
  if (!expectLength(env, "a", na, batchA * m * k) || !expectLength(env, "b", nb, batchB * k * n) ||
      (bias && !expectLength(env, "bias", nbias, n)) || !expectLength(env, "c", nc, batch * m * n))
    return nullptr;
  for (int64_t i = 0; i < batch; i++) {
    cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans, m, n,
                k, 1.0f, a + (batchA == 1 ? 0 : i) * m * k, transposeA ? m : k, b + (batchB == 1 ? 0 : i) * k * n,
                transposeB ? k : n, 0.0f, c + i * m * n, n);
  }
  if (bias || relu) {
    const int64_t rows = batch * m;
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; r++) {
      float* row = c + r * n;
      if (bias)
        for (int64_t j = 0; j < n; j++) row[j] += bias[j];
      if (relu)
        for (int64_t j = 0; j < n; j++) row[j] = row[j] > 0.0f ? row[j] : 0.0f;
    }
  }
  return undefinedValue(env);
}

// setThreads(n): the threads OpenBLAS and the OpenMP gathers use; returns what is in effect.
napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int32_t threads = 0;
  if (argc != 1 || napi_get_value_int32(env, argv[0], &threads) != napi_ok || threads < 1)
    return fail(env, "setThreads(n) needs a positive integer"), nullptr;
  openblas_set_num_threads(threads);
  omp_set_num_threads(threads);
  napi_value result;
  napi_create_int32(env, openblas_get_num_threads(), &result);
  return result;
}

// library(): which BLAS this addon runs on, e.g. "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ... Haswell".
napi_value Library(napi_env env, napi_callback_info) {
  const std::string text = openblas_get_config();
  napi_value result;
  napi_create_string_utf8(env, text.c_str(), text.size(), &result);
  return result;
}

// releaseScratch(): frees the reusable im2col buffer.
napi_value ReleaseScratch(napi_env env, napi_callback_info) {
  std::vector<float>().swap(scratch);
  return undefinedValue(env);
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor methods[] = {
      {"conv2d", nullptr, Conv2d, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"conv2dBackpropFilter", nullptr, Conv2dBackpropFilter, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"conv2dBackpropInput", nullptr, Conv2dBackpropInput, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"matmul", nullptr, Matmul, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"library", nullptr, Library, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"releaseScratch", nullptr, ReleaseScratch, nullptr, nullptr, nullptr, napi_default_method, nullptr},
  };
  napi_define_properties(env, exports, sizeof(methods) / sizeof(methods[0]), methods);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
