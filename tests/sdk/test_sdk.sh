#!/usr/bin/env bash
# Installs othrun into a temporary prefix, builds the example plugin OUT OF TREE against the
# installed SDK (find_package(othrun) + othrun_add_plugin), and runs it through the installed othrun.
# Usage: test_sdk.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
source_dir=$1
build_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build_dir" --prefix "$work/prefix" >"$work/install.log"

# A copy outside the source tree proves nothing but the installed SDK is used.
cp -r "$source_dir/plugins/random_directions" "$work/plugin-src"
cmake -S "$work/plugin-src" -B "$work/plugin-build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$work/prefix" >"$work/configure.log"
cmake --build "$work/plugin-build" >"$work/build.log"
test -f "$work/plugin-build/plugins/random_directions.so"

cat >"$work/experiment.yaml" <<'YAML'
name: sdk
store: store.h5
seed: 7
steps:
  - plugin: random_directions
    count: 5
    dim: 4
YAML

othrun="$work/prefix/bin/othrun"
"$othrun" --plugin-path "$work/plugin-build/plugins" --list | grep -q "$work/plugin-build/plugins/random_directions.so"
"$othrun" --plugin-path "$work/plugin-build/plugins" "$work/experiment.yaml" 2>"$work/run.log"
test -f "$work/store.d/random_directions.h5"
grep -q "step 'random_directions' (random_directions): done" "$work/run.log"

# The installed othrun finds the installed plugins without any --plugin-path.
"$othrun" --list | grep -q "$work/prefix/lib/othrun/plugins/random_directions.so"
echo "sdk: out-of-tree plugin built against $work/prefix and run: OK"
