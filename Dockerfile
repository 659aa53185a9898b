# syntax=docker/dockerfile:1.10
# FisherLab image for sweeps on Kubernetes (Indexed Jobs) or Slurm (via apptainer/singularity).
# See docs/sweeps.md. packages/sweeps/src/dockerfile.test.ts checks the files copied here and runs
# the image's command lines (ENTRYPOINT/CMD, and the Kubernetes manifest's) on the repository.
#
# CPU (default):
#   docker build -t fisherlab:cpu .
# GPU (tfjs-node-gpu 4.22 links libtensorflow 2.9.1, built for CUDA 11.2 and cuDNN 8.1):
#   docker build -t fisherlab:gpu --build-arg BASE=nvidia/cuda:11.2.2-cudnn8-runtime-ubuntu20.04 .
#
# The install downloads libtensorflow for @tensorflow/tfjs-node and tfjs-node-gpu (their install
# scripts), so the build needs internet access. Where a variant cannot load (no CUDA in the CPU image)
# FisherLab's backend selection falls back to the next one and `fisherlab doctor` says why.
ARG BASE=node:20-bookworm-slim

FROM node:20-bookworm-slim AS node

FROM ${BASE}
# Node 20 from the official image: its binaries need glibc >= 2.28, so they also run on the CUDA base.
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules /usr/local/lib/node_modules
RUN ln -sf ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
  && ln -sf ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
  && node --version

# ca-certificates and python3/make/g++ for packages that fetch or build at install; libdnnl-dev for
# the engine's native CPU tier (oneDNN; without it training runs on wasm alone, several times slower)
RUN apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates python3 make g++ libdnnl-dev \
  && rm -rf /var/lib/apt/lists/*

ENV CI=true TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
RUN npm i -g pnpm@12

WORKDIR /opt/fisherlab
# the workspace without what a developer's checkout has built or installed
COPY --exclude=**/node_modules --exclude=**/dist --exclude=**/.turbo --exclude=.git . .
RUN pnpm install --frozen-lockfile && pnpm build \
  && chmod +x apps/cli/dist/bin.js \
  && ln -s /opt/fisherlab/apps/cli/dist/bin.js /usr/local/bin/fisherlab \
  && fisherlab --version

# Datasets: mount them and set FISHERLAB_DATA (the Kubernetes manifest's --data-pvc does).
# The embedded Fashion-MNIST subset ships inside the image.
ENTRYPOINT ["fisherlab"]
CMD ["--help"]
