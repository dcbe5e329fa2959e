#!/usr/bin/env bash
# Installs every Debian 12 package othrun needs to build, test and run. Idempotent: packages already
# present are skipped, so a second run costs a few seconds and needs no network.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost-dev libboost-program-options-dev
  libhdf5-dev libyaml-cpp-dev libgtest-dev nlohmann-json3-dev libfmt-dev
  openmpi-bin libopenmpi-dev  # mpirun -n N othrun (docs/scale.md)
  libcurl4-openssl-dev  # fetching hf:// and https:// references (docs/fetch.md)
  libtorch-dev libopenblas0-pthread libblas-dev
  python3-torch python3-h5py python3-numpy
  chromium  # the report tests open report.html in headless Chromium
)
# npm fetches plotly.js for the reports (below); a Node.js that ships its own npm is fine too.
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
else
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -q
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# plotly.js, pinned, inlined into every HTML report (docs/report.md; cmake/Plotly.cmake finds it).
plotly_version=2.35.3
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
plotly_dir="$repo_root/third_party/node_modules/plotly.js-dist-min"
if [ -f "$plotly_dir/plotly.min.js" ] &&
   grep -q "\"version\": \"$plotly_version\"" "$plotly_dir/package.json"; then
  echo "setup: plotly.js $plotly_version already installed"
else
  echo "setup: installing plotly.js $plotly_version into third_party/"
  mkdir -p "$repo_root/third_party"
  npm install --prefix "$repo_root/third_party" --no-save --no-audit --no-fund \
    "plotly.js-dist-min@$plotly_version"
fi
