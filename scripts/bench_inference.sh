#!/bin/sh
# Benchmark of the inference plugin against Python torch eager (docs/inference.md).
#   scripts/bench_inference.sh [BUILD_DIR] [--games N] [--batch B] [--threads T] [--repeats R]
#     [--all-layers] [--before OTHRUN PLUGINS LIB_DIR]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
[ $# -gt 0 ] && shift
exec /usr/bin/python3 "$root/tests/bench/bench_inference.py" \
  --othrun "$build/bin/othrun" --plugins "$build/plugins-out" "$@"
