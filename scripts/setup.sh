#!/usr/bin/env bash
# Sets up FisherLab on a fresh Debian/Ubuntu machine with Node 20: the Debian packages the tests use
# (Chromium for the report test, real Fashion-MNIST for the loader tests, g++ and oneDNN for the
# engine's native CPU tier), pnpm, the workspace's dependencies, and a build. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "FisherLab needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none))." >&2
  exit 1
fi

if command -v apt-get >/dev/null 2>&1; then
  need=()
  [ -d /usr/share/datasets/fashion-mnist ] || need+=(dataset-fashion-mnist)
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  command -v g++ >/dev/null 2>&1 || need+=(g++)
  dpkg -s libdnnl-dev >/dev/null 2>&1 || need+=(libdnnl-dev)
  if [ ${#need[@]} -gt 0 ]; then
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
  fi
else
  echo "apt-get not found: install Chromium and Fashion-MNIST yourself for the full test suite (the demo needs neither), and g++ with oneDNN (libdnnl-dev) for the native CPU tier (without them the engine runs on wasm alone)." >&2
fi

# Slurm and munge for the test that runs sweeps on a one-node Slurm cluster
./scripts/slurm-setup.sh

command -v pnpm >/dev/null 2>&1 || as_root npm i -g pnpm@12
if [ "${CI:-}" = "true" ]; then pnpm install --frozen-lockfile; else pnpm install; fi
pnpm build
