#!/usr/bin/env bash
# Installs every Debian package rnnad's build, tests and Python tools need. Idempotent: when all
# packages are present it only checks (about a second). CUDA is not installed here: the build
# uses /usr/local/cuda/bin/nvcc when it exists and builds the CPU path alone otherwise.
set -euo pipefail
packages=(cmake g++ make libeigen3-dev nlohmann-json3-dev catch2 libcli11-dev libcsv-dev
          python3-torch python3-numpy libopenblas0-pthread libdnnl-dev python3-matplotlib python3-sklearn)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi
echo "setup: installing ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
