// Sums over leading, trailing or middle axes, accumulated in float64 (Sum and Mean).
#include "fisherlab_native.h"

namespace fisherlab {

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

// out[o, c] = scale · Σ_i x[o, i, c]: a reduction over a middle block of axes (the per-example sums
// over positions of Tr(F)'s layer cells, [B, P, C] → [B, C]). One block is columnSums; several are
// split between the threads, each block summed in float64 on one thread.
// out[o] = scale · Σ_i x[o, i] (cols = 1: the last axes reduced, or all of them), in float64 with
// eight running sums so the loop vectorizes, on the calling thread (memory-bound).
namespace {

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

}  // namespace

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

}  // namespace fisherlab
