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

}  // namespace fisherlab
