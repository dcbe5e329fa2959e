#!/usr/bin/env bash
# Configures and builds othrun in ./build (Release, Ninja, ccache when present). Extra arguments go
# to the CMake configure step, e.g. scripts/build.sh -DOTHRUN_WITH_TORCH=OFF
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >build-configure.log 2>&1 ||
  { cat build-configure.log; exit 1; }
cmake --build build -j"$(nproc)"
