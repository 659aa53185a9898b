// Convolutions as oneDNN primitives, NHWC activations, hwio filters (see fisherlab_native.h).
#include "fisherlab_native.h"

namespace fisherlab {

namespace {

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

thread_local std::unordered_map<std::string, std::unique_ptr<ConvPrimitives>> convCache;

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

}  // namespace

void clearConvPrimitives() { convCache.clear(); }

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
      float* operand = const_cast<float*>(a);
      matmul(count, count, positions, positions, k, false, true, operand, operand, nullptr, false, c);
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

}  // namespace fisherlab
