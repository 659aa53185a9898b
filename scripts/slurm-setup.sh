#!/usr/bin/env bash
# Installs what the Slurm test (packages/sweeps/src/slurm.test.ts) needs: Debian's Slurm 22.05
# (slurmctld, slurmd, slurm-client) and munge. The test starts its own one-node cluster with a
# generated slurm.conf and a private munge key and socket under a temporary directory, so nothing
# here is configured or started. Safe to run again; does nothing where the packages are installed
# or where apt-get is missing (the Slurm test then skips, except under CI=true where it fails).
set -euo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v apt-get >/dev/null 2>&1; then
  echo "apt-get not found: install Slurm (slurmctld, slurmd, the client commands) and munge yourself for the Slurm test." >&2
  exit 0
fi
need=()
for package in slurmctld slurmd slurm-client munge; do
  dpkg -s "$package" >/dev/null 2>&1 || need+=("$package")
done
if [ ${#need[@]} -gt 0 ]; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
