#include <cstring>

#include "fisherlab_native.h"

namespace fisherlab {

// ---- Element-wise ops (the native backend's, where tfjs's cpu kernels are scalar JS loops) -------
//
// Binary ops broadcast as tfjs does. JS collapses the broadcast into `rank` dims (innermost last)
// with one element stride per operand and dim (0 where the operand is broadcast along it). The
// values are the cpu backend's floats (see binaryValue).

namespace {

inline float floatOfBits(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

inline uint32_t bitsOfFloat(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

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
  // Relu's gradient, dy · step(x) as tfjs's stock gradient computes it (NaN where x is NaN), in one
  // pass. The two selects are masks on the bits: written as float selects, the compiler may not
  // compute the product on both sides (under trapping math a multiply may raise a flag), so it
  // branched on every element and did not vectorize (88 ms against Multiply's 7 for 33.5M floats).
  if constexpr (Op == kReluGrad) {
    const uint32_t positive = 0u - static_cast<uint32_t>(b > 0.0f);
    const float product = a * floatOfBits(positive & bitsOfFloat(1.0f));
    const uint32_t nan = 0u - static_cast<uint32_t>(b != b);
    return floatOfBits((bitsOfFloat(b) & nan) | (bitsOfFloat(product) & ~nan));
  }
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

}  // namespace

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
    case kReluGrad: return binaryRows<kReluGrad>(shape, aStrides, bStrides, a, b, out);
    default: throw std::invalid_argument("unknown binary op " + std::to_string(op));
  }
}

namespace {

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

}  // namespace

void unary(int op, int64_t size, const float* x, double alpha, float* y) {
  if (op < kRelu || op > kSigmoid) throw std::invalid_argument("unknown unary op " + std::to_string(op));
  inChunks(size, [&](int64_t begin, int64_t end) { unaryRange(op, end - begin, x + begin, alpha, y + begin); });
}

}  // namespace fisherlab
