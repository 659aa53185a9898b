// Max pooling, channels last, windows clipped to the image, as tfjs's cpu backend pools.
#include "fisherlab_native.h"

namespace fisherlab {

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

}  // namespace fisherlab
