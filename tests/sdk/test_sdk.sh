#!/usr/bin/env bash
# Installs othrun into a temporary prefix, builds plugins OUT OF TREE against the installed SDK
# (find_package(othrun) + othrun_add_plugin), and runs them through the installed othrun:
#   - the example plugin random_directions;
#   - sdk_links (tests/sdk/plugin), which links and calls every exported library (with LibTorch);
#   - sdk_missing, which calls othrun::analysis without linking it: its link must fail (-z defs).
# Also checks that every installed plugin exports only its entry point (hidden visibility) and that
# the test-only plugin test_counter is not installed.
# Usage: test_sdk.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
source_dir=$1
build_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() {
  echo "sdk: FAIL: $*" >&2
  exit 1
}

cmake --install "$build_dir" --prefix "$work/prefix" >"$work/install.log"
plugins="$work/prefix/lib/othrun/plugins"
[ ! -e "$plugins/test_counter.so" ] || fail "the test plugin test_counter is installed"

# Hidden visibility: a plugin's dynamic symbol table defines the entry point and nothing else.
for plugin in "$plugins"/*.so; do
  exported=$(nm -D --defined-only "$plugin" | awk '{print $NF}' | sort | tr '\n' ' ')
  [ "$exported" = "othrun_plugin_info " ] || fail "$plugin exports: $exported"
done

# A copy outside the source tree proves nothing but the installed SDK is used.
cp -r "$source_dir/plugins/random_directions" "$work/plugin-src"
cmake -S "$work/plugin-src" -B "$work/plugin-build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$work/prefix" >"$work/configure.log"
cmake --build "$work/plugin-build" >"$work/build.log"
test -f "$work/plugin-build/plugins/random_directions.so"
exported=$(nm -D --defined-only "$work/plugin-build/plugins/random_directions.so" | awk '{print $NF}')
[ "$exported" = "othrun_plugin_info" ] || fail "out-of-tree random_directions.so exports: $exported"

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

# Every exported library. Without LibTorch only othrun::core and othrun::analysis exist.
if [ -n "$(find "$work/prefix" -name 'libothrun_train.so*' -print -quit)" ]; then
  cp -r "$source_dir/tests/sdk/plugin" "$work/links-src"
  cmake -S "$work/links-src" -B "$work/links-build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$work/prefix" >"$work/links-configure.log" 2>&1 ||
    { cat "$work/links-configure.log"; fail "configuring sdk_links"; }
  cmake --build "$work/links-build" --target sdk_links >"$work/links-build.log" 2>&1 ||
    { cat "$work/links-build.log"; fail "building sdk_links"; }
  cat >"$work/links.yaml" <<'YAML'
name: links
store: links.h5
steps:
  - plugin: sdk_links
YAML
  "$othrun" --plugin-path "$work/links-build/plugins" "$work/links.yaml" 2>"$work/links-run.log" ||
    { cat "$work/links-run.log"; fail "running sdk_links"; }
  grep -q "sdk_links: median 2.5 format transformer_lens sum 6 lr 0.5" "$work/links-run.log" ||
    { cat "$work/links-run.log"; fail "sdk_links computed wrong values"; }

  # -z defs: a plugin that does not link a library it calls does not link at all.
  if cmake --build "$work/links-build" --target sdk_missing >"$work/missing.log" 2>&1; then
    fail "sdk_missing linked without othrun::analysis"
  fi
  grep -q "undefined reference to .*othrun::analysis::quantile_linear" "$work/missing.log" ||
    { cat "$work/missing.log"; fail "sdk_missing failed for another reason"; }
  echo "sdk: sdk_links linked othrun::analysis, torch, torch_bridge and train; sdk_missing refused"
else
  echo "sdk: othrun built without LibTorch: sdk_links (torch, torch_bridge, train) not built"
fi
echo "sdk: out-of-tree plugins built against $work/prefix and run: OK"
