// FisherLab's native addon (build/fisherlab_native.node), shared declarations.
//
// The addon holds the hot kernels of the engine's `native` backend, which is tfjs's cpu backend
// with these over its slow kernels, working in place on the tensors' own Float32Arrays in JS
// memory; the native tier under wasm runs the same entry points on views of the wasm heap. Every
// entry point computes synchronously on the calling JS thread; oneDNN and the loops here add
// OpenMP worker threads (setThreads). One file per kernel family:
//   onednn.cc       the oneDNN engine, stream and the guard against its unsafe jit-gemm paths
//   conv.cc         NHWC convolution forward (bias and relu fused), backward data, backward weights,
//                   and each example's filter-gradient norm (Tr(F) without per-example gradients)
//   matmul.cc       batched matrix products as oneDNN's matmul primitive (bias and relu fused)
//   pool.cc         max pooling, its gradient, and the gradient's adjoint (max-pool select)
//   batch_norm.cc   batch norm with given statistics; training-mode batch norm with batch
//                   statistics, its backward and the backward's own derivatives (double backprop)
//   reductions.cc   column, row and block sums in float64 (Sum and Mean)
//   elementwise.cc  broadcast binary ops and unary ops with the cpu backend's float results
//   napi.cc         the N-API glue: argument checks, errors, the exported functions and op codes
//
// Shapes are row-major, activations channels-last: x [N, H, W, Cin], filter [KH, KW, Cin, Cout]
// (oneDNN's "hwio"), y/dy [N, OH, OW, Cout]. Weights are reordered to the layout the chosen oneDNN
// implementation wants on each call (they change every training step), and weight gradients back.
//
// The op codes of binary() and unary() are defined once, below (FISHERLAB_BINARY_OPS,
// FISHERLAB_UNARY_OPS); the addon exports them as `binaryOps` and `unaryOps`, which the TypeScript
// side (kernels/native/elementwise.ts) reads by name.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace fisherlab {

using dnnl::memory;
using Tag = memory::format_tag;
using Type = memory::data_type;

// Below this many floats a loop runs on the calling thread: waking OpenMP workers costs more than
// the loop, and far more when another process holds the other core.
constexpr int64_t kParallelMinFloats = int64_t{1} << 18;

// ---- Op codes (exported to JS by name) ------------------------------------------------------------
// X(enumerator, code, JS name)
#define FISHERLAB_BINARY_OPS(X)                 \
  X(kAdd, 0, "add")                             \
  X(kSub, 1, "sub")                             \
  X(kMul, 2, "mul")                             \
  X(kDiv, 3, "div")                             \
  X(kSquaredDifference, 4, "squaredDifference") \
  X(kMaximum, 5, "maximum")                     \
  X(kMinimum, 6, "minimum")                     \
  X(kReluGrad, 7, "reluGrad")

#define FISHERLAB_UNARY_OPS(X)   \
  X(kRelu, 0, "relu")            \
  X(kStep, 1, "step")            \
  X(kNeg, 2, "neg")              \
  X(kSquare, 3, "square")        \
  X(kSqrt, 4, "sqrt")            \
  X(kRsqrt, 5, "rsqrt")          \
  X(kExp, 6, "exp")              \
  X(kLog, 7, "log")              \
  X(kAbs, 8, "abs")              \
  X(kReciprocal, 9, "reciprocal") \
  X(kSigmoid, 10, "sigmoid")

#define FISHERLAB_ENUMERATOR(name, code, js) name = code,
enum BinaryOp { FISHERLAB_BINARY_OPS(FISHERLAB_ENUMERATOR) };
enum UnaryOp { FISHERLAB_UNARY_OPS(FISHERLAB_ENUMERATOR) };
#undef FISHERLAB_ENUMERATOR

// ---- Shapes ---------------------------------------------------------------------------------------
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

// ---- oneDNN (onednn.cc) --------------------------------------------------------------------------
// Per JS thread (the addon may be loaded by several worker_threads): a oneDNN stream and the
// primitive cache must not be shared by threads that run at the same time.
dnnl::engine& cpuEngine();
dnnl::stream& cpuStream();

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

// Shapes found to have no safe implementation, so the search is not repeated on every call.
extern thread_local std::unordered_set<std::string> unsafeShapes;

// Bounded: a model has a few dozen convolution shapes; an unbounded stream of new shapes clears it.
constexpr size_t kMaxCachedShapes = 256;

inline memory::dims dimsOf(std::initializer_list<int64_t> values) { return memory::dims(values); }

// `user` as the layout `wanted`: itself when they agree, else a reordered copy.
memory inLayout(memory user, const memory::desc& wanted);

// Drops the cached convolution and matmul primitives (built for the thread count in effect), and
// with `unsafeShapes` also the record of shapes without a safe implementation.
void clearConvPrimitives();
void clearMatmulPrimitives();

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

// ---- Kernels (each family's file says how it computes) --------------------------------------------

// conv.cc
void conv2dForward(const ConvShape& s, float* x, float* filter, float* bias, bool relu, float* y);
void conv2dBackpropInput(const ConvShape& s, float* dy, float* filter, float* dx);
void conv2dBackpropFilter(const ConvShape& s, float* x, float* dy, float* dw);
void perExampleConv2dFilterSquaredNorms(const ConvShape& s, float* x, float* dy, float* out);

// matmul.cc: c[i] = act(op(a[i or 0]) · op(b[i or 0]) + bias).
void matmul(int64_t batchA, int64_t batchB, int64_t m, int64_t n, int64_t k, bool transposeA, bool transposeB,
            float* a, float* b, float* bias, bool relu, float* c);

// pool.cc (shape as for a convolution with Cout = Cin)
void maxPoolGrad(const ConvShape& s, const float* x, const float* dy, float* dx);
void maxPool(const ConvShape& s, const float* x, float* y);
void maxPoolSelect(const ConvShape& s, const float* x, const float* ddx, float* ddy);

// batch_norm.cc (x as [rows, channels])
void batchNorm(int64_t rows, int64_t channels, const float* x, const float* mean, const float* variance,
               const float* offset, const float* scale, float epsilon, float* y);
void batchNormTraining(int64_t rows, int64_t channels, const float* x, const float* scale, const float* offset,
                       float epsilon, float* y, float* mean, float* variance);
void batchNormTrainingGrad(int64_t rows, int64_t channels, const float* dy, const float* x, const float* scale,
                           const float* dmean, const float* dvariance, float epsilon, float* dx, float* dscale,
                           float* doffset);
void batchNormTrainingGradGrad(int64_t rows, int64_t channels, const float* dy, const float* x, const float* scale,
                               const float* dvariance, const float* a, const float* b, const float* cAdjoint,
                               float epsilon, float* ddy, float* dx, float* dscale, float* ddmean,
                               float* ddvariance);

// reductions.cc
void columnSums(int64_t rows, int64_t cols, const float* x, double scale, float* out);
void blockColumnSums(int64_t outer, int64_t rows, int64_t cols, const float* x, double scale, float* out);

// elementwise.cc
void binary(int op, const std::vector<int64_t>& shape, const std::vector<int64_t>& aStrides,
            const std::vector<int64_t>& bStrides, const float* a, const float* b, float* out);
void unary(int op, int64_t size, const float* x, double alpha, float* y);

}  // namespace fisherlab
