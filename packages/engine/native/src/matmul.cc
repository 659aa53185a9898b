// Batched matrix products as oneDNN's matmul primitive (not dnnl_sgemm: Debian's oneDNN 2.6.3 sgemm
// corrupts the C heap on its AVX2 and AVX-512 paths, reproduced in a 20-line C loop; the matmul
// primitive's brgemm and jit-gemm paths do not).
#include "fisherlab_native.h"

namespace fisherlab {

namespace {

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

}  // namespace

void clearMatmulPrimitives() { matmulCache.clear(); }

void matmul(int64_t batchA, int64_t batchB, int64_t m, int64_t n, int64_t k, bool transposeA, bool transposeB,
            float* a, float* b, float* bias, bool relu, float* c) {
  const int64_t batch = std::max(batchA, batchB);
  const SingleThreadIf small(2 * batch * m * n * k < kParallelMinFlops);
  MatmulPrimitives& p = matmulFor(batchA, batchB, m, n, k, transposeA, transposeB, bias != nullptr, relu);
  auto& engine = cpuEngine();
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, memory(p.a, engine, a)},
                                       {DNNL_ARG_WEIGHTS, memory(p.b, engine, b)},
                                       {DNNL_ARG_DST, memory(p.c, engine, c)}};
  if (bias) args.emplace(DNNL_ARG_BIAS, memory(p.bias, engine, bias));
  p.prim.execute(cpuStream(), args);
  cpuStream().wait();
}

}  // namespace fisherlab
