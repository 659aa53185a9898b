#!/usr/bin/env bash
# Sets up the PyTorch reference of FisherLab's benchmark suite (benchmarks/README.md) on Debian or
# Ubuntu: Debian's python3-torch and OpenBLAS (libopenblas0-pthread), which provides the
# libblas.so.3 torch links, and OpenBLAS's OpenMP build (libopenblas0-openmp), which the suite gives
# the PyTorch worker so that its matmuls share torch's OpenMP threads instead of a second pool. Without OpenBLAS that name resolves to the reference BLAS, PyTorch's
# matmuls run ~20-50x slower and the suite refuses to compare against it. Ends by checking what
# the torch worker really loads (`pnpm -C benchmarks bench --check-reference`). Safe to run again.
# Run ./scripts/setup.sh first (pnpm, dependencies, build).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v apt-get >/dev/null 2>&1; then
  echo "apt-get not found: install PyTorch with an optimized BLAS yourself (pip's torch links MKL), then check it with: pnpm -C benchmarks bench --check-reference" >&2
  exit 1
fi

need=()
dpkg -s python3-torch >/dev/null 2>&1 || need+=(python3-torch)
dpkg -s libopenblas0-pthread >/dev/null 2>&1 || need+=(libopenblas0-pthread)
dpkg -s libopenblas0-openmp >/dev/null 2>&1 || need+=(libopenblas0-openmp)
if [ ${#need[@]} -gt 0 ]; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

# Installing OpenBLAS makes it libblas.so.3 (its alternative has the higher priority) unless someone
# chose another BLAS by hand; such a choice stays, and the suite gets OpenBLAS for PyTorch alone.
multiarch=$(/usr/bin/python3 -c "import sysconfig; print(sysconfig.get_config_var('MULTIARCH') or '')" 2>/dev/null || true)
multiarch=${multiarch:-x86_64-linux-gnu}
openblas_dir=/usr/lib/$multiarch/openblas-pthread
blas=$(readlink -f "/usr/lib/$multiarch/libblas.so.3" || true)
case "$blas" in
  "$openblas_dir"/*) echo "libblas.so.3 is OpenBLAS: $blas" ;;
  *)
    echo "libblas.so.3 is $blas (chosen by hand: update-alternatives --query libblas.so.3-$multiarch);" \
      "the suite's PyTorch worker gets OpenBLAS through FISHERLAB_TORCH_LIBRARY_PATH=$openblas_dir instead." \
      "Export it for your bench runs, or make OpenBLAS the system's choice: update-alternatives --auto libblas.so.3-$multiarch"
    export FISHERLAB_TORCH_LIBRARY_PATH=$openblas_dir
    ;;
esac

if [ ! -d benchmarks/node_modules ]; then
  echo "PyTorch and OpenBLAS are installed; run ./scripts/setup.sh, then check with: pnpm -C benchmarks bench --check-reference" >&2
  exit 1
fi
pnpm -C benchmarks --silent bench --check-reference
