// FisherLab's native CPU tier: NHWC convolution forward (with bias and relu fused), backward data
// and backward weights as oneDNN primitives (and, for Tr(F), each example's own weight-gradient
// norm from one backward-weights call per example), batched matrix products as oneDNN's matmul primitive
// (not dnnl_sgemm: Debian's oneDNN 2.6.3 sgemm corrupts the C heap on its AVX2 and AVX-512 paths,
// reproduced in a 20-line C loop; the matmul primitive's brgemm and jit-gemm paths do not), and two
// memory-bound loops in OpenMP C++ (max-pool gradient, column sums for Sum/Mean). Every
// entry point computes in place on Float32Arrays that JS passes in (views of the wasm heap),
// synchronously, on the JS thread; oneDNN adds OpenMP worker threads.
//
// Shapes (row-major): x [N, H, W, Cin], filter [KH, KW, Cin, Cout] (oneDNN's "hwio"),
// y/dy [N, OH, OW, Cout]. Activations stay NHWC; weights are reordered to the layout the chosen
// oneDNN implementation wants on each call (they change every training step), and gradients of
// the weights are reordered back to hwio.
#define NAPI_VERSION 8
#include <node_api.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <sstream>
#include <string>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace {

using dnnl::memory;

// Below this many floats a loop runs on the calling thread: waking OpenMP workers costs more than
// the loop, and far more when another process holds the other core.
constexpr int64_t kParallelMinFloats = int64_t{1} << 18;
using Tag = memory::format_tag;
using Type = memory::data_type;

struct ConvShape {
  int64_t batch, inHeight, inWidth, inChannels;
  int64_t outHeight, outWidth, outChannels;
  int64_t filterHeight, filterWidth, strideHeight, strideWidth, padTop, padLeft;

  int64_t inputSize() const { return batch * inHeight * inWidth * inChannels; }
  int64_t outputSize() const { return batch * outHeight * outWidth * outChannels; }
  int64_t filterSize() const { return filterHeight * filterWidth * inChannels * outChannels; }
  // oneDNN checks OH = (IH − KH + pt + pb) / sh + 1 (integer division); tfjs gives only the output
  // size, so pb is the smallest non-negative padding consistent with it.
  int64_t padBottom() const {
    return std::max<int64_t>(0, (outHeight - 1) * strideHeight + filterHeight - inHeight - padTop);
  }
  int64_t padRight() const {
    return std::max<int64_t>(0, (outWidth - 1) * strideWidth + filterWidth - inWidth - padLeft);
  }
  bool consistent() const {
    return (inHeight - filterHeight + padTop + padBottom()) / strideHeight + 1 == outHeight &&
           (inWidth - filterWidth + padLeft + padRight()) / strideWidth + 1 == outWidth;
  }
  std::string key() const {
    std::ostringstream out;
    out << batch << ',' << inHeight << ',' << inWidth << ',' << inChannels << ',' << outHeight << ',' << outWidth
        << ',' << outChannels << ',' << filterHeight << ',' << filterWidth << ',' << strideHeight << ','
        << strideWidth << ',' << padTop << ',' << padLeft;
    return out.str();
  }
};

// Per JS thread (the addon may be loaded by several worker_threads): a oneDNN stream and the
// primitive cache must not be shared by threads that run at the same time.
dnnl::engine& cpuEngine() {
  thread_local dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& cpuStream() {
  thread_local dnnl::stream stream(cpuEngine());
  return stream;
}

// oneDNN's jit gemm (dnnl_sgemm, and the "gemm:jit" implementations of matmul and convolution
// built on it) corrupts the C heap in Debian's oneDNN 2.6.3 on AVX2 and AVX-512 (a plain C loop of
// dnnl_sgemm calls aborts in malloc). Those implementations are skipped; when a shape has no other
// (besides the slow reference one), the call reports it and the JS side runs the wasm kernel.
struct NoSafeImplementation : std::runtime_error {
  NoSafeImplementation() : std::runtime_error("no oneDNN implementation without jit gemm for this shape") {}
};

// Moves `pd` past jit-gemm and reference implementations; throws NoSafeImplementation if none is left.
template <typename PrimitiveDesc>
void skipUnsafeImplementations(PrimitiveDesc& pd) {
  auto unsafe = [](const std::string& name) {
    return name.find("gemm") != std::string::npos || name.find("ref") != std::string::npos;
  };
  while (unsafe(pd.impl_info_str()))
    if (!pd.next_impl()) throw NoSafeImplementation();
}

// The primitives of one convolution shape (and fused epilogue), built once and reused: building
// a primitive descriptor picks and JIT-compiles an implementation, far more than a small call.
struct ConvPrimitives {
  memory::desc src, dst, userWeights, bias;
  dnnl::convolution_forward::primitive_desc forwardDesc;
  dnnl::convolution_forward forward;
  // Built on first use (a forward-only model never needs them).
  std::unique_ptr<dnnl::convolution_backward_data::primitive_desc> backwardDataDesc;
  std::unique_ptr<dnnl::convolution_backward_data> backwardData;
  std::unique_ptr<dnnl::convolution_backward_weights::primitive_desc> backwardWeightsDesc;
  std::unique_ptr<dnnl::convolution_backward_weights> backwardWeights;
  // Set when the direction has no safe implementation for this shape (see NoSafeImplementation).
  bool backwardDataUnsafe = false;
  bool backwardWeightsUnsafe = false;
};

// Shapes found to have no safe implementation, so the search is not repeated on every call.
thread_local std::unordered_set<std::string> unsafeShapes;

// Bounded: a model has a few dozen convolution shapes; an unbounded stream of new shapes clears it.
constexpr size_t kMaxCachedShapes = 256;
thread_local std::unordered_map<std::string, std::unique_ptr<ConvPrimitives>> convCache;

memory::dims dimsOf(std::initializer_list<int64_t> values) { return memory::dims(values); }

ConvPrimitives& primitivesFor(const ConvShape& s, bool bias, bool relu) {
  const std::string key = s.key() + (bias ? ",b" : ",-") + (relu ? ",r" : ",-");
  auto found = convCache.find(key);
  if (found != convCache.end()) return *found->second;
  if (unsafeShapes.count("conv" + key)) throw NoSafeImplementation();
  if (convCache.size() >= kMaxCachedShapes) convCache.clear();

  auto& engine = cpuEngine();
  const memory::desc src(dimsOf({s.batch, s.inChannels, s.inHeight, s.inWidth}), Type::f32, Tag::nhwc);
  const memory::desc dst(dimsOf({s.batch, s.outChannels, s.outHeight, s.outWidth}), Type::f32, Tag::nhwc);
  const memory::dims weightDims = dimsOf({s.outChannels, s.inChannels, s.filterHeight, s.filterWidth});
  const memory::desc userWeights(weightDims, Type::f32, Tag::hwio);
  const memory::desc anyWeights(weightDims, Type::f32, Tag::any);
  const memory::desc biasDesc = bias ? memory::desc(dimsOf({s.outChannels}), Type::f32, Tag::x) : memory::desc();
  const memory::dims strides = dimsOf({s.strideHeight, s.strideWidth});
  const memory::dims padBefore = dimsOf({s.padTop, s.padLeft});
  const memory::dims padAfter = dimsOf({s.padBottom(), s.padRight()});
  dnnl::primitive_attr attr;
  if (relu) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    attr.set_post_ops(ops);
  }
  const dnnl::convolution_forward::desc forward(dnnl::prop_kind::forward_training,
                                                dnnl::algorithm::convolution_direct, src, anyWeights, biasDesc, dst,
                                                strides, padBefore, padAfter);
  dnnl::convolution_forward::primitive_desc forwardDesc(forward, attr, engine);
  try {
    skipUnsafeImplementations(forwardDesc);
  } catch (const NoSafeImplementation&) {
    unsafeShapes.insert("conv" + key);
    throw;
  }
  auto entry = std::make_unique<ConvPrimitives>(ConvPrimitives{
      src, dst, userWeights, biasDesc, forwardDesc, dnnl::convolution_forward(forwardDesc), nullptr, nullptr, nullptr,
      nullptr});
  auto& stored = *entry;
  convCache.emplace(key, std::move(entry));
  return stored;
}

// Below this many flops a matmul runs on the calling thread alone: a parallel region has to wake
// the other OpenMP thread, and when the hypervisor or another process holds that core the wait
// was measured at up to 11 ms for a 0.3-MFLOP product (a classifier's last layer).
constexpr int64_t kParallelMinFlops = int64_t{1} << 22;

// Limits OpenMP to one thread for its lifetime (for a primitive created and run small), then
// restores the previous count. A primitive is always created and executed under the same limit.
class SingleThreadIf {
 public:
  explicit SingleThreadIf(bool single) : saved_(omp_get_max_threads()), active_(single && saved_ > 1) {
    if (active_) omp_set_num_threads(1);
  }
  ~SingleThreadIf() {
    if (active_) omp_set_num_threads(saved_);
  }
  SingleThreadIf(const SingleThreadIf&) = delete;
  SingleThreadIf& operator=(const SingleThreadIf&) = delete;

 private:
  int saved_;
  bool active_;
};

// One matmul primitive per shape, transposes, bias and relu: A [batchA, m, k] (stored [k, m] per
// batch entry when transposed), B [batchB, k, n] (stored [n, k] when transposed), C [batch, m, n];
// a batch of 1 broadcasts. The bias [n] and relu are fused as oneDNN bias and post-op.
struct MatmulPrimitives {
  memory::desc a, b, c, bias;
  dnnl::matmul prim;
};
thread_local std::unordered_map<std::string, std::unique_ptr<MatmulPrimitives>> matmulCache;

MatmulPrimitives& matmulFor(int64_t batchA, int64_t batchB, int64_t m, int64_t n, int64_t k, bool transposeA,
                            bool transposeB, bool bias, bool relu) {
  std::ostringstream key;
  key << batchA << ',' << batchB << ',' << m << ',' << n << ',' << k << ',' << transposeA << transposeB << bias << relu;
  auto found = matmulCache.find(key.str());
  if (found != matmulCache.end()) return *found->second;
  if (unsafeShapes.count("mm" + key.str())) throw NoSafeImplementation();
  if (matmulCache.size() >= kMaxCachedShapes) matmulCache.clear();
  const int64_t batch = std::max(batchA, batchB);
  const memory::desc a(dimsOf({batchA, m, k}), Type::f32,
                       transposeA ? dimsOf({m * k, 1, m}) : dimsOf({m * k, k, 1}));
  const memory::desc b(dimsOf({batchB, k, n}), Type::f32,
                       transposeB ? dimsOf({k * n, 1, k}) : dimsOf({k * n, n, 1}));
  const memory::desc c(dimsOf({batch, m, n}), Type::f32, dimsOf({m * n, n, 1}));
  const memory::desc biasDesc = bias ? memory::desc(dimsOf({1, 1, n}), Type::f32, dimsOf({n, n, 1})) : memory::desc();
  dnnl::primitive_attr attr;
  if (relu) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    attr.set_post_ops(ops);
  }
  const dnnl::matmul::desc desc = bias ? dnnl::matmul::desc(a, b, biasDesc, c) : dnnl::matmul::desc(a, b, c);
  dnnl::matmul::primitive_desc primitiveDesc(desc, attr, cpuEngine());
  try {
    skipUnsafeImplementations(primitiveDesc);
  } catch (const NoSafeImplementation&) {
    unsafeShapes.insert("mm" + key.str());
    throw;
  }
  auto entry = std::make_unique<MatmulPrimitives>(MatmulPrimitives{a, b, c, biasDesc, dnnl::matmul(primitiveDesc)});
  auto& stored = *entry;
  matmulCache.emplace(key.str(), std::move(entry));
  return stored;
}

// `user` as the layout `wanted`: itself when they agree, else a reordered copy.
memory inLayout(memory user, const memory::desc& wanted) {
  if (user.get_desc() == wanted) return user;
  memory converted(wanted, cpuEngine());
  dnnl::reorder(user, converted).execute(cpuStream(), user, converted);
  return converted;
}

void conv2dForward(const ConvShape& s, float* x, float* filter, float* bias, bool relu, float* y) {
  auto& p = primitivesFor(s, bias != nullptr, relu);
  auto& engine = cpuEngine();
  const memory weights = inLayout(memory(p.userWeights, engine, filter), p.forwardDesc.weights_desc());
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, memory(p.src, engine, x)},
                                       {DNNL_ARG_WEIGHTS, weights},
                                       {DNNL_ARG_DST, memory(p.dst, engine, y)}};
  if (bias) args.emplace(DNNL_ARG_BIAS, memory(p.bias, engine, bias));
  p.forward.execute(cpuStream(), args);
  cpuStream().wait();
}

void conv2dBackpropInput(const ConvShape& s, float* dy, float* filter, float* dx) {
  auto& p = primitivesFor(s, false, false);
  auto& engine = cpuEngine();
  if (p.backwardDataUnsafe) throw NoSafeImplementation();
  if (!p.backwardData) {
    const dnnl::convolution_backward_data::desc desc(
        dnnl::algorithm::convolution_direct, p.src,
        memory::desc(p.userWeights.dims(), Type::f32, Tag::any), p.dst, dimsOf({s.strideHeight, s.strideWidth}),
        dimsOf({s.padTop, s.padLeft}), dimsOf({s.padBottom(), s.padRight()}));
    p.backwardDataDesc =
        std::make_unique<dnnl::convolution_backward_data::primitive_desc>(desc, engine, p.forwardDesc);
    try {
      skipUnsafeImplementations(*p.backwardDataDesc);
    } catch (const NoSafeImplementation&) {
      p.backwardDataUnsafe = true;
      throw;
    }
    p.backwardData = std::make_unique<dnnl::convolution_backward_data>(*p.backwardDataDesc);
  }
  const memory weights = inLayout(memory(p.userWeights, engine, filter), p.backwardDataDesc->weights_desc());
  p.backwardData->execute(cpuStream(), {{DNNL_ARG_DIFF_DST, memory(p.dst, engine, dy)},
                                        {DNNL_ARG_WEIGHTS, weights},
                                        {DNNL_ARG_DIFF_SRC, memory(p.src, engine, dx)}});
  cpuStream().wait();
}

// The backward-weights primitive of `p` (shape `s`), built on first use.
dnnl::convolution_backward_weights& backwardWeightsFor(ConvPrimitives& p, const ConvShape& s) {
  if (p.backwardWeightsUnsafe) throw NoSafeImplementation();
  if (!p.backwardWeights) {
    const dnnl::convolution_backward_weights::desc desc(
        dnnl::algorithm::convolution_direct, p.src, memory::desc(p.userWeights.dims(), Type::f32, Tag::any), p.dst,
        dimsOf({s.strideHeight, s.strideWidth}), dimsOf({s.padTop, s.padLeft}), dimsOf({s.padBottom(), s.padRight()}));
    p.backwardWeightsDesc =
        std::make_unique<dnnl::convolution_backward_weights::primitive_desc>(desc, cpuEngine(), p.forwardDesc);
    try {
      skipUnsafeImplementations(*p.backwardWeightsDesc);
    } catch (const NoSafeImplementation&) {
      p.backwardWeightsUnsafe = true;
      throw;
    }
    p.backwardWeights = std::make_unique<dnnl::convolution_backward_weights>(*p.backwardWeightsDesc);
  }
  return *p.backwardWeights;
}

void conv2dBackpropFilter(const ConvShape& s, float* x, float* dy, float* dw) {
  auto& p = primitivesFor(s, false, false);
  auto& engine = cpuEngine();
  auto& backwardWeights = backwardWeightsFor(p, s);
  memory user(p.userWeights, engine, dw);
  const memory::desc wanted = p.backwardWeightsDesc->diff_weights_desc();
  memory gradient = wanted == p.userWeights ? user : memory(wanted, engine);
  backwardWeights.execute(cpuStream(), {{DNNL_ARG_SRC, memory(p.src, engine, x)},
                                        {DNNL_ARG_DIFF_DST, memory(p.dst, engine, dy)},
                                        {DNNL_ARG_DIFF_WEIGHTS, gradient}});
  if (wanted != p.userWeights) dnnl::reorder(gradient, user).execute(cpuStream(), gradient, user);
  cpuStream().wait();
}

// out[n] = ‖∂/∂W of example n‖² = ‖Uₙᵀ Δₙ‖²_F, with Uₙ [P, K] the example's im2col patches
// (P = OH·OW output positions, K = KH·KW·Cin) and Δₙ = dy[n] as [P, Cout]. Two ways, whichever
// costs less for the layer:
// - direct: the backward-weights convolution of that example alone (batch 1, the same primitive for
//   every example) into a scratch filter, squared and summed in float64 (2·P·K·Cout flops, plus
//   writing K·Cout floats per example): early layers, many positions, few channels;
// - Gram: ‖Uᵀ Δ‖²_F = Σ_{p,q} (U Uᵀ)_{pq} (Δ Δᵀ)_{pq}, two batched [P, P] products
//   (2·P²·(K + Cout) flops): deep layers, few positions and many channels (VGG-11's 512→512 on
//   2x2 or 4x4 maps write a 2.4M-float gradient per example the direct way).
// A sum of squares does not depend on the order of the entries, so the direct gradient stays in
// the layout oneDNN computes it in, unless that layout pads (blocked channels): then it is reordered
// to hwio first, so padding never enters the sum.
void perExampleFilterNormsDirect(const ConvShape& s, float* x, float* dy, float* out) {
  ConvShape one = s;
  one.batch = 1;
  auto& p = primitivesFor(one, false, false);
  auto& engine = cpuEngine();
  auto& backwardWeights = backwardWeightsFor(p, one);
  const memory::desc wanted = p.backwardWeightsDesc->diff_weights_desc();
  memory gradient(wanted, engine);
  const bool padded = wanted.get_size() != static_cast<size_t>(s.filterSize()) * sizeof(float);
  memory dense = padded ? memory(p.userWeights, engine) : gradient;
  const auto* values = static_cast<const float*>(dense.get_data_handle());
  const int64_t count = s.filterSize();
  for (int64_t n = 0; n < s.batch; n++) {
    backwardWeights.execute(cpuStream(), {{DNNL_ARG_SRC, memory(p.src, engine, x + n * one.inputSize())},
                                          {DNNL_ARG_DIFF_DST, memory(p.dst, engine, dy + n * one.outputSize())},
                                          {DNNL_ARG_DIFF_WEIGHTS, gradient}});
    if (padded) dnnl::reorder(gradient, dense).execute(cpuStream(), gradient, dense);
    cpuStream().wait();
    double total = 0.0;
    for (int64_t i = 0; i < count; i++) total += static_cast<double>(values[i]) * values[i];
    out[n] = static_cast<float>(total);
  }
}

// Floats of im2col patches formed at once in the Gram path (examples go in chunks).
constexpr int64_t kGramChunkFloats = int64_t{1} << 23;

void perExampleFilterNormsGram(const ConvShape& s, const float* x, const float* dy, float* out) {
  const int64_t positions = s.outHeight * s.outWidth;
  const int64_t patch = s.filterHeight * s.filterWidth * s.inChannels;
  const int64_t imageSize = s.inHeight * s.inWidth * s.inChannels;
  const int64_t chunk = std::max<int64_t>(1, std::min<int64_t>(s.batch, kGramChunkFloats / (positions * patch)));
  std::vector<float> patches(static_cast<size_t>(chunk * positions * patch));
  std::vector<float> patchGram(static_cast<size_t>(chunk * positions * positions));
  std::vector<float> deltaGram(static_cast<size_t>(chunk * positions * positions));
  auto& engine = cpuEngine();
  for (int64_t first = 0; first < s.batch; first += chunk) {
    const int64_t count = std::min(chunk, s.batch - first);
    // U[n][p][(kh, kw, ci)] = x[n, oh·sh + kh − pt, ow·sw + kw − pl, ci], 0 outside the image.
#pragma omp parallel for schedule(static) if (count * positions * patch >= kParallelMinFloats)
    for (int64_t n = 0; n < count; n++) {
      const float* image = x + (first + n) * imageSize;
      float* row = patches.data() + n * positions * patch;
      for (int64_t oh = 0; oh < s.outHeight; oh++) {
        for (int64_t ow = 0; ow < s.outWidth; ow++, row += patch) {
          float* entry = row;
          for (int64_t kh = 0; kh < s.filterHeight; kh++) {
            const int64_t ih = oh * s.strideHeight + kh - s.padTop;
            for (int64_t kw = 0; kw < s.filterWidth; kw++, entry += s.inChannels) {
              const int64_t iw = ow * s.strideWidth + kw - s.padLeft;
              if (ih < 0 || ih >= s.inHeight || iw < 0 || iw >= s.inWidth) {
                std::fill(entry, entry + s.inChannels, 0.0f);
              } else {
                const float* pixel = image + (ih * s.inWidth + iw) * s.inChannels;
                std::copy(pixel, pixel + s.inChannels, entry);
              }
            }
          }
        }
      }
    }
    // U Uᵀ and Δ Δᵀ per example: A [count, P, K] times A transposed.
    auto gram = [&](const float* a, int64_t k, float* c) {
      MatmulPrimitives& mm = matmulFor(count, count, positions, positions, k, false, true, false, false);
      mm.prim.execute(cpuStream(), {{DNNL_ARG_SRC, memory(mm.a, engine, const_cast<float*>(a))},
                                    {DNNL_ARG_WEIGHTS, memory(mm.b, engine, const_cast<float*>(a))},
                                    {DNNL_ARG_DST, memory(mm.c, engine, c)}});
      cpuStream().wait();
    };
    gram(patches.data(), patch, patchGram.data());
    gram(dy + first * positions * s.outChannels, s.outChannels, deltaGram.data());
    const int64_t square = positions * positions;
    for (int64_t n = 0; n < count; n++) {
      const float* a = patchGram.data() + n * square;
      const float* b = deltaGram.data() + n * square;
      double total = 0.0;
      for (int64_t i = 0; i < square; i++) total += static_cast<double>(a[i]) * b[i];
      out[first + n] = static_cast<float>(total);
    }
  }
}

void perExampleConv2dFilterSquaredNorms(const ConvShape& s, float* x, float* dy, float* out) {
  const double positions = static_cast<double>(s.outHeight * s.outWidth);
  const double patch = static_cast<double>(s.filterHeight * s.filterWidth * s.inChannels);
  const double channels = static_cast<double>(s.outChannels);
  // Costs in flops, the direct gradient's write counted at 16 per float (memory-bound).
  const double direct = 2 * positions * patch * channels + 16 * patch * channels;
  const double gram = 2 * positions * positions * (patch + channels) + 4 * positions * patch;
  if (gram < direct) {
    try {
      perExampleFilterNormsGram(s, x, dy, out);
      return;
    } catch (const NoSafeImplementation&) {
      // Only jit gemm for these products: the direct way below.
    }
  }
  perExampleFilterNormsDirect(s, x, dy, out);
}

// dx[argmax of each window] += dy[window]: the argmax is the first maximum in row-major window
// order, windows clipped to the image (padding never wins), as on tfjs's cpu backend. Images are
// independent, so threads split the batch and never write the same dx entry.
void maxPoolGrad(const ConvShape& s, const float* x, const float* dy, float* dx) {
  const int64_t rowStride = s.inWidth * s.inChannels;
  const int64_t imageSize = s.inHeight * rowStride;
#pragma omp parallel for schedule(static) if (s.batch * imageSize >= kParallelMinFloats)
  for (int64_t n = 0; n < s.batch; n++) {
    const float* image = x + n * imageSize;
    float* grad = dx + n * imageSize;
    std::fill(grad, grad + imageSize, 0.0f);
    const float* upstream = dy + n * s.outHeight * s.outWidth * s.inChannels;
    for (int64_t oh = 0; oh < s.outHeight; oh++) {
      const int64_t rowStart = std::max<int64_t>(0, oh * s.strideHeight - s.padTop);
      const int64_t rowEnd = std::min<int64_t>(s.inHeight, oh * s.strideHeight - s.padTop + s.filterHeight);
      for (int64_t ow = 0; ow < s.outWidth; ow++, upstream += s.inChannels) {
        const int64_t colStart = std::max<int64_t>(0, ow * s.strideWidth - s.padLeft);
        const int64_t colEnd = std::min<int64_t>(s.inWidth, ow * s.strideWidth - s.padLeft + s.filterWidth);
        if (rowEnd <= rowStart || colEnd <= colStart) continue;
        for (int64_t c = 0; c < s.inChannels; c++) {
          int64_t bestAt = rowStart * rowStride + colStart * s.inChannels + c;
          float best = image[bestAt];
          for (int64_t row = rowStart; row < rowEnd; row++) {
            int64_t at = row * rowStride + colStart * s.inChannels + c;
            for (int64_t col = colStart; col < colEnd; col++, at += s.inChannels) {
              if (image[at] > best) {
                best = image[at];
                bestAt = at;
              }
            }
          }
          grad[bestAt] += upstream[c];
        }
      }
    }
  }
}

// y[n, oh, ow, c] = max of window (oh, ow) in channel c, windows clipped to the image (padding
// never wins; a window entirely in the padding gives −∞, as on tfjs's cpu backend). Channels are
// the innermost loop: each window row is a contiguous run of channels per column.
void maxPool(const ConvShape& s, const float* x, float* y) {
  const int64_t channels = s.inChannels;
  const int64_t rowStride = s.inWidth * channels;
  const int64_t imageSize = s.inHeight * rowStride;
#pragma omp parallel for schedule(static) if (s.batch * imageSize >= kParallelMinFloats)
  for (int64_t n = 0; n < s.batch; n++) {
    const float* image = x + n * imageSize;
    float* pooled = y + n * s.outHeight * s.outWidth * channels;
    for (int64_t oh = 0; oh < s.outHeight; oh++) {
      const int64_t rowStart = std::max<int64_t>(0, oh * s.strideHeight - s.padTop);
      const int64_t rowEnd = std::min<int64_t>(s.inHeight, oh * s.strideHeight - s.padTop + s.filterHeight);
      for (int64_t ow = 0; ow < s.outWidth; ow++, pooled += channels) {
        const int64_t colStart = std::max<int64_t>(0, ow * s.strideWidth - s.padLeft);
        const int64_t colEnd = std::min<int64_t>(s.inWidth, ow * s.strideWidth - s.padLeft + s.filterWidth);
        std::fill(pooled, pooled + channels, -std::numeric_limits<float>::infinity());
        for (int64_t row = rowStart; row < rowEnd; row++) {
          for (int64_t col = colStart; col < colEnd; col++) {
            const float* values = image + row * rowStride + col * channels;
            for (int64_t c = 0; c < channels; c++) pooled[c] = std::max(pooled[c], values[c]);
          }
        }
      }
    }
  }
}

// ddy[n, oh, ow, c] = ddx[argmax of window (oh, ow) in channel c], the argmax chosen as in
// maxPoolGrad (first maximum in row-major window order, windows clipped to the image): the
// adjoint of maxPoolGrad, i.e. the gradient of a max pool's gradient with respect to its dy.
// Every output entry is written (0 for a window entirely in the padding).
void maxPoolSelect(const ConvShape& s, const float* x, const float* ddx, float* ddy) {
  const int64_t rowStride = s.inWidth * s.inChannels;
  const int64_t imageSize = s.inHeight * rowStride;
#pragma omp parallel for schedule(static) if (s.batch * imageSize >= kParallelMinFloats)
  for (int64_t n = 0; n < s.batch; n++) {
    const float* image = x + n * imageSize;
    const float* incoming = ddx + n * imageSize;
    float* selected = ddy + n * s.outHeight * s.outWidth * s.inChannels;
    for (int64_t oh = 0; oh < s.outHeight; oh++) {
      const int64_t rowStart = std::max<int64_t>(0, oh * s.strideHeight - s.padTop);
      const int64_t rowEnd = std::min<int64_t>(s.inHeight, oh * s.strideHeight - s.padTop + s.filterHeight);
      for (int64_t ow = 0; ow < s.outWidth; ow++, selected += s.inChannels) {
        const int64_t colStart = std::max<int64_t>(0, ow * s.strideWidth - s.padLeft);
        const int64_t colEnd = std::min<int64_t>(s.inWidth, ow * s.strideWidth - s.padLeft + s.filterWidth);
        if (rowEnd <= rowStart || colEnd <= colStart) {
          std::fill(selected, selected + s.inChannels, 0.0f);
          continue;
        }
        for (int64_t c = 0; c < s.inChannels; c++) {
          int64_t bestAt = rowStart * rowStride + colStart * s.inChannels + c;
          float best = image[bestAt];
          for (int64_t row = rowStart; row < rowEnd; row++) {
            int64_t at = row * rowStride + colStart * s.inChannels + c;
            for (int64_t col = colStart; col < colEnd; col++, at += s.inChannels) {
              if (image[at] > best) {
                best = image[at];
                bestAt = at;
              }
            }
          }
          selected[c] = incoming[bestAt];
        }
      }
    }
  }
}

// out[c] = scale · Σ_{i<rows} x[i, c], accumulated in float64: each thread sums a contiguous block
// of rows, and the per-thread partial sums are added in thread order (the same result for the
// same thread count).
void columnSums(int64_t rows, int64_t cols, const float* x, double scale, float* out) {
  const int threads =
      rows * cols < kParallelMinFloats ? 1 : std::max(1, std::min<int>(omp_get_max_threads(), static_cast<int>(rows)));
  std::vector<double> partial(static_cast<size_t>(threads) * cols, 0.0);
#pragma omp parallel for num_threads(threads) schedule(static, 1)
  for (int t = 0; t < threads; t++) {
    const int64_t begin = rows * t / threads, end = rows * (t + 1) / threads;
    double* totals = partial.data() + static_cast<int64_t>(t) * cols;
    for (int64_t i = begin; i < end; i++) {
      const float* row = x + i * cols;
      for (int64_t c = 0; c < cols; c++) totals[c] += row[c];
    }
  }
  for (int64_t c = 0; c < cols; c++) {
    double total = 0.0;
    for (int t = 0; t < threads; t++) total += partial[static_cast<size_t>(t) * cols + c];
    out[c] = static_cast<float>(total * scale);
  }
}

// Batch normalization with given statistics, channels last (x as [rows, channels]):
//   y[i, c] = (x[i, c] − mean[c]) · a[c] + offset[c],   a[c] = scale[c] / √(variance[c] + ε)
// (scale 1 and offset 0 when absent), as tfjs's FusedBatchNorm kernel computes it.
void batchNorm(int64_t rows, int64_t channels, const float* x, const float* mean, const float* variance,
               const float* offset, const float* scale, float epsilon, float* y) {
  std::vector<float> factor(channels), shift(channels), center(channels);
  for (int64_t c = 0; c < channels; c++) {
    factor[c] = (scale ? scale[c] : 1.0f) / std::sqrt(variance[c] + epsilon);
    shift[c] = offset ? offset[c] : 0.0f;
    center[c] = mean[c];
  }
  const float* a = factor.data();
  const float* b = shift.data();
  const float* m = center.data();
#pragma omp parallel for schedule(static) if (rows * channels >= kParallelMinFloats)
  for (int64_t i = 0; i < rows; i++) {
    const float* in = x + i * channels;
    float* out = y + i * channels;
    for (int64_t c = 0; c < channels; c++) out[c] = (in[c] - m[c]) * a[c] + b[c];
  }
}

// out[o, c] = scale · Σ_i x[o, i, c]: a reduction over a middle block of axes (the per-example sums
// over positions of Tr(F)'s layer cells, [B, P, C] → [B, C]). One block is columnSums; several are
// split between the threads, each block summed in float64 on one thread.
// out[o] = scale · Σ_i x[o, i] (cols = 1: the last axes reduced, or all of them), in float64 with
// eight running sums so the loop vectorizes, on the calling thread (memory-bound).
void rowSums(int64_t outer, int64_t rows, const float* x, double scale, float* out) {
  for (int64_t o = 0; o < outer; o++) {
    const float* row = x + o * rows;
    double partial[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 8 <= rows; i += 8)
      for (int k = 0; k < 8; k++) partial[k] += row[i + k];
    double total = 0;
    for (; i < rows; i++) total += row[i];
    for (int k = 0; k < 8; k++) total += partial[k];
    out[o] = static_cast<float>(total * scale);
  }
}

void blockColumnSums(int64_t outer, int64_t rows, int64_t cols, const float* x, double scale, float* out) {
  if (cols == 1) return rowSums(outer, rows, x, scale, out);
  if (outer == 1) return columnSums(rows, cols, x, scale, out);
#pragma omp parallel if (outer * rows * cols >= kParallelMinFloats)
  {
    std::vector<double> totals(static_cast<size_t>(cols));
#pragma omp for schedule(static)
    for (int64_t o = 0; o < outer; o++) {
      std::fill(totals.begin(), totals.end(), 0.0);
      const float* block = x + o * rows * cols;
      for (int64_t i = 0; i < rows; i++) {
        const float* row = block + i * cols;
        for (int64_t c = 0; c < cols; c++) totals[c] += row[c];
      }
      for (int64_t c = 0; c < cols; c++) out[o * cols + c] = static_cast<float>(totals[c] * scale);
    }
  }
}

// ---- Element-wise ops (the native backend's, where tfjs's cpu kernels are scalar JS loops) -------
//
// Binary ops broadcast as tfjs does. JS collapses the broadcast into `rank` dims (innermost last)
// with one element stride per operand and dim (0 where the operand is broadcast along it). The
// values are the cpu backend's floats (see binaryValue).
//
// Runs body(begin, end) over [0, size) split in contiguous chunks, one per OpenMP thread when the
// loop is large enough. The loops stay in ordinary functions with restrict pointers: with an OpenMP
// pragma on the loop itself GCC did not vectorize it (the outlined body reads x, y and alpha through
// pointers it cannot prove distinct; Step took 90 ms for 8M floats against 7 ms).
template <typename Body>
void inChunks(int64_t size, Body body) {
  const int threads = size < kParallelMinFloats ? 1 : omp_get_max_threads();
  if (threads <= 1) return body(int64_t{0}, size);
#pragma omp parallel for schedule(static, 1) num_threads(threads)
  for (int t = 0; t < threads; t++) body(size * t / threads, size * (t + 1) / threads);
}

enum BinaryOp { kAdd = 0, kSub = 1, kMul = 2, kDiv = 3, kSquaredDifference = 4, kMaximum = 5, kMinimum = 6 };
enum UnaryOp {
  kRelu = 0, kStep = 1, kNeg = 2, kSquare = 3, kSqrt = 4, kRsqrt = 5, kExp = 6, kLog = 7, kAbs = 8,
  kReciprocal = 9, kSigmoid = 10,
};

template <int Op>
inline float binaryValue(float a, float b) {
  // One IEEE operation on two floats rounds the same in float as in float64 then float (53 ≥ 2·24 + 2
  // bits: double rounding is innocuous for +, −, ×, ÷), so these compute in float, which vectorizes
  // without conversions. The squared difference is two operations: float64, rounded once.
  if constexpr (Op == kAdd) return a + b;
  if constexpr (Op == kSub) return a - b;
  if constexpr (Op == kMul) return a * b;
  if constexpr (Op == kDiv) return a / b;
  if constexpr (Op == kSquaredDifference) {
    const double d = static_cast<double>(a) - b;
    return static_cast<float>(d * d);
  }
  // Math.max / Math.min: NaN wins.
  if constexpr (Op == kMaximum) return std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b);
  if constexpr (Op == kMinimum) return std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b);
  return 0.0f;
}

// out[j] = a[j·ia] op b[j·ib] for j < n, strides 0 or 1 in the common cases.
template <int Op>
void binaryRun(int64_t n, const float* __restrict pa, int64_t ia, const float* __restrict pb, int64_t ib,
               float* __restrict po) {
  if (ia == 1 && ib == 1) {
    for (int64_t j = 0; j < n; j++) po[j] = binaryValue<Op>(pa[j], pb[j]);
  } else if (ia == 0 && ib == 1) {
    const float va = pa[0];
    for (int64_t j = 0; j < n; j++) po[j] = binaryValue<Op>(va, pb[j]);
  } else if (ia == 1 && ib == 0) {
    const float vb = pb[0];
    for (int64_t j = 0; j < n; j++) po[j] = binaryValue<Op>(pa[j], vb);
  } else {
    for (int64_t j = 0; j < n; j++) po[j] = binaryValue<Op>(pa[j * ia], pb[j * ib]);
  }
}

template <int Op>
void binaryRows(const std::vector<int64_t>& shape, const std::vector<int64_t>& aStrides,
                const std::vector<int64_t>& bStrides, const float* a, const float* b, float* out) {
  const size_t rank = shape.size();
  const int64_t inner = shape[rank - 1];
  const int64_t ia = aStrides[rank - 1], ib = bStrides[rank - 1];
  int64_t rows = 1;
  for (size_t d = 0; d + 1 < rank; d++) rows *= shape[d];
  if (rows == 1) {
    // One row (same shapes, or a scalar against a tensor): split the row itself.
    return inChunks(inner, [&](int64_t begin, int64_t end) {
      binaryRun<Op>(end - begin, a + begin * ia, ia, b + begin * ib, ib, out + begin);
    });
  }
  inChunks(rows * inner, [&](int64_t beginFloat, int64_t endFloat) {
  const int64_t rowBegin = beginFloat / inner, rowEnd = endFloat / inner;
  for (int64_t r = rowBegin; r < rowEnd; r++) {
    int64_t offsetA = 0, offsetB = 0, rest = r;
    for (size_t d = rank - 1; d-- > 0;) {
      const int64_t index = rest % shape[d];
      rest /= shape[d];
      offsetA += index * aStrides[d];
      offsetB += index * bStrides[d];
    }
    binaryRun<Op>(inner, a + offsetA, ia, b + offsetB, ib, out + r * inner);
  }
  });
}

void binary(int op, const std::vector<int64_t>& shape, const std::vector<int64_t>& aStrides,
            const std::vector<int64_t>& bStrides, const float* a, const float* b, float* out) {
  switch (op) {
    case kAdd: return binaryRows<kAdd>(shape, aStrides, bStrides, a, b, out);
    case kSub: return binaryRows<kSub>(shape, aStrides, bStrides, a, b, out);
    case kMul: return binaryRows<kMul>(shape, aStrides, bStrides, a, b, out);
    case kDiv: return binaryRows<kDiv>(shape, aStrides, bStrides, a, b, out);
    case kSquaredDifference: return binaryRows<kSquaredDifference>(shape, aStrides, bStrides, a, b, out);
    case kMaximum: return binaryRows<kMaximum>(shape, aStrides, bStrides, a, b, out);
    case kMinimum: return binaryRows<kMinimum>(shape, aStrides, bStrides, a, b, out);
    default: throw std::invalid_argument("unknown binary op " + std::to_string(op));
  }
}

// The cpu backend's formulas, in float64 (JS numbers) and rounded once.
template <int Op>
void unaryLoop(int64_t size, const float* x, double alpha, float* y) {
  for (int64_t i = 0; i < size; i++) {
    const double v = x[i];
    double r;
    if constexpr (Op == kRelu) r = v < 0 ? 0.0 : v;
    if constexpr (Op == kNeg) r = -v;
    if constexpr (Op == kSquare) r = v * v;
    if constexpr (Op == kSqrt) r = std::sqrt(v);
    if constexpr (Op == kRsqrt) r = 1.0 / std::sqrt(v);
    if constexpr (Op == kExp) r = std::exp(v);
    if constexpr (Op == kLog) r = std::log(v);
    if constexpr (Op == kAbs) r = std::fabs(v);
    if constexpr (Op == kReciprocal) r = 1.0 / v;
    if constexpr (Op == kSigmoid) r = 1.0 / (1.0 + std::exp(-v));
    y[i] = static_cast<float>(r);
  }
}

// Step in float, so that the compiler vectorizes its two selects: the double form compiles to a
// branch, which mispredicts on half of the random signs of activations (10x slower).
void stepLoop(int64_t size, const float* __restrict x, float alpha, float* __restrict y) {
  for (int64_t i = 0; i < size; i++) {
    const float f = x[i];
    const float chosen = f > 0.0f ? 1.0f : alpha;
    y[i] = f != f ? f : chosen;
  }
}

// The single-operation unary ops in float (exact as above; Relu keeps NaN and −0 as `x < 0 ? 0 : x`).
template <int Op>
void floatUnaryLoop(int64_t size, const float* __restrict x, float* __restrict y) {
  for (int64_t i = 0; i < size; i++) {
    const float v = x[i];
    if constexpr (Op == kRelu) y[i] = v < 0.0f ? 0.0f : v;
    if constexpr (Op == kNeg) y[i] = -v;
    if constexpr (Op == kSquare) y[i] = v * v;
    if constexpr (Op == kSqrt) y[i] = std::sqrt(v);
    if constexpr (Op == kAbs) y[i] = std::fabs(v);
    if constexpr (Op == kReciprocal) y[i] = 1.0f / v;
  }
}

void unaryRange(int op, int64_t size, const float* x, double alpha, float* y) {
  if (op == kStep) return stepLoop(size, x, static_cast<float>(alpha), y);
  switch (op) {
    case kRelu: return floatUnaryLoop<kRelu>(size, x, y);
    case kNeg: return floatUnaryLoop<kNeg>(size, x, y);
    case kSquare: return floatUnaryLoop<kSquare>(size, x, y);
    case kSqrt: return floatUnaryLoop<kSqrt>(size, x, y);
    case kAbs: return floatUnaryLoop<kAbs>(size, x, y);
    case kReciprocal: return floatUnaryLoop<kReciprocal>(size, x, y);
    default: break;
  }
  switch (op) {
    case kRelu: return unaryLoop<kRelu>(size, x, alpha, y);
    case kNeg: return unaryLoop<kNeg>(size, x, alpha, y);
    case kSquare: return unaryLoop<kSquare>(size, x, alpha, y);
    case kSqrt: return unaryLoop<kSqrt>(size, x, alpha, y);
    case kRsqrt: return unaryLoop<kRsqrt>(size, x, alpha, y);
    case kExp: return unaryLoop<kExp>(size, x, alpha, y);
    case kLog: return unaryLoop<kLog>(size, x, alpha, y);
    case kAbs: return unaryLoop<kAbs>(size, x, alpha, y);
    case kReciprocal: return unaryLoop<kReciprocal>(size, x, alpha, y);
    case kSigmoid: return unaryLoop<kSigmoid>(size, x, alpha, y);
    default: break;
  }
}

void unary(int op, int64_t size, const float* x, double alpha, float* y) {
  if (op < kRelu || op > kSigmoid) throw std::invalid_argument("unknown unary op " + std::to_string(op));
  inChunks(size, [&](int64_t begin, int64_t end) { unaryRange(op, end - begin, x + begin, alpha, y + begin); });
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
    const SingleThreadIf small(2 * batch * m * n * k < kParallelMinFlops);
    MatmulPrimitives& p = matmulFor(batchA, batchB, m, n, k, transposeA, transposeB, bias != nullptr, relu);
    auto& engine = cpuEngine();
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, memory(p.a, engine, ab[0])},
                                         {DNNL_ARG_WEIGHTS, memory(p.b, engine, ab[1])},
                                         {DNNL_ARG_DST, memory(p.c, engine, c)}};
    if (bias) args.emplace(DNNL_ARG_BIAS, memory(p.bias, engine, bias));
    p.prim.execute(cpuStream(), args);
    cpuStream().wait();
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
    convCache.clear();
    matmulCache.clear();
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

// releaseScratch(): frees the cached primitives (and the scratch memory they hold).
napi_value ReleaseScratch(napi_env env, napi_callback_info) {
  convCache.clear();
  matmulCache.clear();
  unsafeShapes.clear();
  return undefinedValue(env);
}

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
      {"columnSums", nullptr, ColumnSums, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"binary", nullptr, Binary, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"unary", nullptr, Unary, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"library", nullptr, Library, nullptr, nullptr, nullptr, napi_default_method, nullptr},
      {"releaseScratch", nullptr, ReleaseScratch, nullptr, nullptr, nullptr, napi_default_method, nullptr},
  };
  napi_define_properties(env, exports, sizeof(methods) / sizeof(methods[0]), methods);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
