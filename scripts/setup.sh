#!/usr/bin/env bash
# Installs every Debian 12 package othrun needs to build, test and run. Idempotent: packages already
# present are skipped, so a second run costs a few seconds and needs no network.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost-dev libboost-program-options-dev
  libhdf5-dev libyaml-cpp-dev libgtest-dev nlohmann-json3-dev libfmt-dev
  libtorch-dev libopenblas0-pthread
  python3-torch python3-h5py python3-numpy
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
