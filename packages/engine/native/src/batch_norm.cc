// Batch normalization over channels-last activations viewed as [rows, channels].
#include "fisherlab_native.h"

namespace fisherlab {

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


// ---- Training mode: batch statistics, one kernel each for forward, backward and the backward's
// derivatives (the Fisher penalty's double backprop). Per channel c over its N = rows values:
//   μ = ⟨x⟩, σ² = ⟨(x − μ)²⟩ (biased, as tf.moments), s = (σ² + ε)^(−½), x̂ = (x − μ)·s,
//   y = γ·x̂ + β.
// Every sum runs in float64 in one read pass (per-thread partial sums added in thread order, so the
// same thread count gives the same floats); the moments use Σ(x − K) and Σ(x − K)² with K the
// channel's first value, which keeps E[(x−K)²] − E[x−K]² clear of cancellation unless |μ − K| is
// far above σ. μ and σ² are rounded to float once and every kernel derives s and x̂ from those
// floats, so the three kernels see the statistics the forward pass reported.

namespace {

// Per-channel float64 sums of `Terms` quantities: accumulate(begin, end, sums) adds rows
// [begin, end) into sums[term · channels + c]; totals gets the sums over all rows.
template <int Terms, typename Accumulate>
void channelSums(int64_t rows, int64_t channels, Accumulate accumulate, double* totals) {
  const int threads = rows * channels < kParallelMinFloats
                          ? 1
                          : std::max(1, std::min<int>(omp_get_max_threads(), static_cast<int>(rows)));
  const int64_t width = Terms * channels;
  std::vector<double> partial(static_cast<size_t>(threads * width), 0.0);
#pragma omp parallel for num_threads(threads) schedule(static, 1)
  for (int t = 0; t < threads; t++) accumulate(rows * t / threads, rows * (t + 1) / threads, partial.data() + t * width);
  for (int64_t k = 0; k < width; k++) {
    double total = 0.0;
    for (int t = 0; t < threads; t++) total += partial[static_cast<size_t>(t * width + k)];
    totals[k] = total;
  }
}

// sums[0·C + c] += Σ (x − K), sums[1·C + c] += Σ (x − K)², and with `g`: sums[2·C + c] += Σ g,
// sums[3·C + c] += Σ g·(x − K); with `a` also Σ a, Σ a·(x − K), Σ a·g (terms 4-6): Terms 2, 4 or 7.
//
// Rows go in tiles that stay in cache, and within a tile the channels go in blocks of Block whose
// sums stay in registers across the tile's rows (a row at a time, every channel's sums were loaded
// and stored once per row: WRN-16-4's 64-channel statistics pass took 28 ms of the forward's 32 for
// 33.5M floats). Each channel still adds its rows in row order, so the sums are the same floats.
template <int Terms, int Block>
void accumulateBlock(int64_t first, int64_t last, int64_t channels, int64_t c0, const float* __restrict x,
                     const float* __restrict shift, const float* __restrict g, const float* __restrict a,
                     double* __restrict sums) {
  double acc[Terms][Block];
  for (int t = 0; t < Terms; t++)
    for (int k = 0; k < Block; k++) acc[t][k] = sums[t * channels + c0 + k];
  float center[Block];
  for (int k = 0; k < Block; k++) center[k] = shift[c0 + k];
  for (int64_t i = first; i < last; i++) {
    const int64_t o = i * channels + c0;
    for (int k = 0; k < Block; k++) {
      const double d = x[o + k] - center[k];
      acc[0][k] += d;
      acc[1][k] += d * d;
      if constexpr (Terms >= 4) {
        acc[2][k] += g[o + k];
        acc[3][k] += g[o + k] * d;
      }
      if constexpr (Terms == 7) {
        const double gv = g[o + k], av = a[o + k];
        acc[4][k] += av;
        acc[5][k] += av * d;
        acc[6][k] += av * gv;
      }
    }
  }
  for (int t = 0; t < Terms; t++)
    for (int k = 0; k < Block; k++) sums[t * channels + c0 + k] = acc[t][k];
}

template <int Terms>
void accumulateMoments(int64_t begin, int64_t end, int64_t channels, const float* x, const float* shift,
                       const float* g, const float* a, double* sums) {
  // Sums in registers: 16 doubles per block (8 SSE registers), fewer for seven terms.
  constexpr int Block = Terms == 2 ? 8 : Terms == 4 ? 4 : 2;
  constexpr int64_t kTileRows = 64;
  for (int64_t first = begin; first < end; first += kTileRows) {
    const int64_t last = std::min(end, first + kTileRows);
    int64_t c0 = 0;
    for (; c0 + Block <= channels; c0 += Block)
      accumulateBlock<Terms, Block>(first, last, channels, c0, x, shift, g, a, sums);
    for (; c0 < channels; c0++) accumulateBlock<Terms, 1>(first, last, channels, c0, x, shift, g, a, sums);
  }
}

// One read pass over x (and g, a when given): the channels' sums as accumulateMoments lists them,
// with the moments turned into the float mean and variance.
struct ChannelStatistics {
  std::vector<float> mean, variance;
  std::vector<double> sums;  // [terms, channels], moments relative to the shift
  std::vector<float> shift;
};

template <int Terms>
ChannelStatistics channelStatistics(int64_t rows, int64_t channels, const float* x, const float* g, const float* a) {
  ChannelStatistics stats{std::vector<float>(channels), std::vector<float>(channels),
                          std::vector<double>(static_cast<size_t>(Terms * channels)),
                          std::vector<float>(x, x + channels)};
  const float* shift = stats.shift.data();
  channelSums<Terms>(
      rows, channels,
      [&](int64_t begin, int64_t end, double* sums) {
        accumulateMoments<Terms>(begin, end, channels, x, shift, g, a, sums);
      },
      stats.sums.data());
  for (int64_t c = 0; c < channels; c++) {
    const double centered = stats.sums[c] / rows;
    stats.mean[c] = static_cast<float>(shift[c] + centered);
    stats.variance[c] = static_cast<float>(std::max(0.0, stats.sums[channels + c] / rows - centered * centered));
  }
  return stats;
}

// Σ v·(x − μ) from Σ v and Σ v·(x − K), μ the float mean.
inline double centeredSum(const ChannelStatistics& st, int64_t c, double sumV, double sumVShifted) {
  return sumVShifted - (static_cast<double>(st.mean[c]) - st.shift[c]) * sumV;
}

inline double inverseStd(const ChannelStatistics& st, int64_t c, double epsilon) {
  return 1.0 / std::sqrt(static_cast<double>(st.variance[c]) + epsilon);
}

// out = p·u + q·(x − μ) + r per channel (u optional), and out2 = p2·u + q2·(x − μ) + r2 + t2·w when
// out2 is given: the write passes of the backward kernels, as float loops over rows.
struct Affine {
  std::vector<float> p, q, r;
};

void writeAffine(int64_t rows, int64_t channels, const float* u, const float* x, const float* mean, const Affine& f,
                 float* out, const float* w = nullptr, const Affine* f2 = nullptr, const float* t2 = nullptr,
                 float* out2 = nullptr) {
  inChunks(rows * channels, [&](int64_t beginFloat, int64_t endFloat) {
    const int64_t first = beginFloat / channels, last = endFloat / channels;
    for (int64_t i = first; i < last; i++) {
      const int64_t o = i * channels;
      const float* __restrict ur = u + o;
      const float* __restrict xr = x + o;
      float* __restrict yr = out + o;
      for (int64_t c = 0; c < channels; c++) yr[c] = f.p[c] * ur[c] + f.q[c] * (xr[c] - mean[c]) + f.r[c];
      if (!out2) continue;
      const float* __restrict wr = w + o;
      float* __restrict zr = out2 + o;
      for (int64_t c = 0; c < channels; c++)
        zr[c] = f2->p[c] * ur[c] + f2->q[c] * (xr[c] - mean[c]) + f2->r[c] + t2[c] * wr[c];
    }
  });
}

}  // namespace

void batchNormTraining(int64_t rows, int64_t channels, const float* x, const float* scale, const float* offset,
                       float epsilon, float* y, float* mean, float* variance) {
  const ChannelStatistics st = channelStatistics<2>(rows, channels, x, nullptr, nullptr);
  std::copy(st.mean.begin(), st.mean.end(), mean);
  std::copy(st.variance.begin(), st.variance.end(), variance);
  batchNorm(rows, channels, x, mean, variance, offset, scale, epsilon, y);
}

// dy → (dx, dγ, dβ), with the gradients dμ, dσ² flowing into the statistics outputs:
//   dβ = Σ dy,  dγ = Σ dy·x̂,
//   dx = γ s (dy − dβ/N − x̂ dγ/N) + dμ/N + 2 dσ² (x − μ)/N.
void batchNormTrainingGrad(int64_t rows, int64_t channels, const float* dy, const float* x, const float* scale,
                           const float* dmean, const float* dvariance, float epsilon, float* dx, float* dscale,
                           float* doffset) {
  const ChannelStatistics st = channelStatistics<4>(rows, channels, x, dy, nullptr);
  Affine f{std::vector<float>(channels), std::vector<float>(channels), std::vector<float>(channels)};
  const double n = static_cast<double>(rows);
  for (int64_t c = 0; c < channels; c++) {
    const double s = inverseStd(st, c, epsilon), gamma = scale[c];
    const double sumG = st.sums[2 * channels + c];
    const double sumGXHat = s * centeredSum(st, c, sumG, st.sums[3 * channels + c]);
    dscale[c] = static_cast<float>(sumGXHat);
    doffset[c] = static_cast<float>(sumG);
    f.p[c] = static_cast<float>(gamma * s);
    f.q[c] = static_cast<float>(-gamma * s * s * sumGXHat / n + 2.0 * dvariance[c] / n);
    f.r[c] = static_cast<float>(-gamma * s * sumG / n + dmean[c] / n);
  }
  writeAffine(rows, channels, dy, x, st.mean.data(), f, dx);
}

// The derivatives of batchNormTrainingGrad's outputs (dx, dγ, dβ) paired with their adjoints
// (a = ∂L/∂dx, b = ∂L/∂dγ, c = ∂L/∂dβ), with respect to its inputs dy, x, γ, dμ, dσ². With
// P = Σ a·x̂, Q = Σ dy·x̂, A = Σ a·dy − Σa·Σdy/N (per channel):
//   ∂dy = γ s (a − ⟨a⟩ − x̂ P/N) + b x̂ + c
//   ∂x  = (b s − γ s² P/N)·dy + (2dσ²/N − γ s² Q/N)·a
//         + (3γ s² PQ/N² − γ s² A/N − b s Q/N)·x̂ + γ s² (P Σdy + Q Σa)/N² − b s Σdy/N − 2dσ² Σa/N²
//   ∂γ  = s (A − PQ/N),   ∂dμ = Σa/N,   ∂dσ² = 2 P/(s N)
// (x̂ and s depend on x through μ and σ²: ∂x̂ᵢ/∂xⱼ = s(δᵢⱼ − 1/N − x̂ᵢx̂ⱼ/N), ∂s/∂xⱼ = −s² x̂ⱼ/N.)
void batchNormTrainingGradGrad(int64_t rows, int64_t channels, const float* dy, const float* x, const float* scale,
                               const float* dvariance, const float* a, const float* b, const float* cAdjoint,
                               float epsilon, float* ddy, float* dx, float* dscale, float* ddmean,
                               float* ddvariance) {
  const ChannelStatistics st = channelStatistics<7>(rows, channels, x, dy, a);
  auto zeros = [&] { return std::vector<float>(channels); };
  Affine toDy{zeros(), zeros(), zeros()}, toX{zeros(), zeros(), zeros()};
  std::vector<float> xOnDy(channels);
  const double n = static_cast<double>(rows);
  for (int64_t c = 0; c < channels; c++) {
    const double s = inverseStd(st, c, epsilon), gamma = scale[c], bc = b[c], cc = cAdjoint[c];
    const double dv = dvariance[c];
    const double sumG = st.sums[2 * channels + c], sumA = st.sums[4 * channels + c];
    const double q = s * centeredSum(st, c, sumG, st.sums[3 * channels + c]);
    const double p = s * centeredSum(st, c, sumA, st.sums[5 * channels + c]);
    const double adjusted = st.sums[6 * channels + c] - sumA * sumG / n;
    const double gs2 = gamma * s * s;
    // ∂dy = γs·a + (b s − γ s² P/N)(x − μ) + (c − γ s Σa/N)
    toDy.p[c] = static_cast<float>(gamma * s);
    toDy.q[c] = static_cast<float>(bc * s - gs2 * p / n);
    toDy.r[c] = static_cast<float>(cc - gamma * s * sumA / n);
    // ∂x = (coefficient of a)·a + s·(coefficient of x̂)·(x − μ) + constant + (coefficient of dy)·dy
    toX.p[c] = static_cast<float>(2.0 * dv / n - gs2 * q / n);
    toX.q[c] = static_cast<float>(s * (3.0 * gs2 * p * q / (n * n) - gs2 * adjusted / n - bc * s * q / n));
    toX.r[c] = static_cast<float>(gs2 * (p * sumG + q * sumA) / (n * n) - bc * s * sumG / n - 2.0 * dv * sumA / (n * n));
    xOnDy[c] = static_cast<float>(bc * s - gs2 * p / n);
    dscale[c] = static_cast<float>(s * (adjusted - p * q / n));
    ddmean[c] = static_cast<float>(sumA / n);
    ddvariance[c] = static_cast<float>(2.0 * p / (s * n));
  }
  writeAffine(rows, channels, a, x, st.mean.data(), toDy, ddy, dy, &toX, xOnDy.data(), dx);
}

}  // namespace fisherlab
