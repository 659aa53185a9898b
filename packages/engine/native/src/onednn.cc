// The oneDNN engine and stream (one per JS thread) and the layout helper the primitives share.
#include "fisherlab_native.h"

namespace fisherlab {

dnnl::engine& cpuEngine() {
  thread_local dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& cpuStream() {
  thread_local dnnl::stream stream(cpuEngine());
  return stream;
}

thread_local std::unordered_set<std::string> unsafeShapes;

// `user` as the layout `wanted`: itself when they agree, else a reordered copy.
memory inLayout(memory user, const memory::desc& wanted) {
  if (user.get_desc() == wanted) return user;
  memory converted(wanted, cpuEngine());
  dnnl::reorder(user, converted).execute(cpuStream(), user, converted);
  return converted;
}

}  // namespace fisherlab
