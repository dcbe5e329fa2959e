#!/usr/bin/env bash
# What the dashboards add to the main job: runs experiments/l6_sae.yaml without and with its
# dashboard steps into two scratch stores, REPEATS times interleaved, and prints the median wall,
# user and system seconds of each and of the dashboard steps alone (docs/dashboards.md).
#   scripts/bench_dashboard.sh BUILD_DIR [REPEATS]      e.g. scripts/bench_dashboard.sh build 3
set -euo pipefail
build=${1:?usage: bench_dashboard.sh BUILD_DIR [REPEATS]}
repeats=${2:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
othrun=$(cd "$build" && pwd)/bin/othrun
work=$(mktemp -d /tmp/othrun-bench-dashboard.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The experiment with absolute model paths, once whole and once without its dashboard steps.
sed "s|\.\./models|$root/models|g" "$root/experiments/l6_sae.yaml" >"$work/with.yaml"
awk '/^  - plugin: dashboard/ {skip = 1; next} /^  - plugin:/ {skip = 0} !skip' \
  "$work/with.yaml" >"$work/without.yaml"

measure() {  # measure NAME: one fresh run, appends "wall user sys" to $work/NAME.times
  local name=$1
  rm -rf "$work/runs_$name"
  sed "s|^store: .*|store: $work/runs_$name/l6_sae.h5|" "$work/$name.yaml" >"$work/run_$name.yaml"
  /usr/bin/time -f "%e %U %S" -o "$work/time" "$othrun" "$work/run_$name.yaml" >"$work/$name.log" 2>&1
  cat "$work/time" >>"$work/$name.times"
  grep -o "step 'dash_[a-z0-9_]*' (dashboard): done in [0-9.]* s" "$work/$name.log" >>"$work/steps" || true
}
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

for ((i = 0; i < repeats; ++i)); do
  measure without
  measure with
done
echo "main job (experiments/l6_sae.yaml), $repeats runs each, medians, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for name in without with; do
  printf '%-22s wall %6ss  user %6ss  sys %6ss\n' "$name dashboards" \
    "$(cut -d' ' -f1 "$work/$name.times" | median)" "$(cut -d' ' -f2 "$work/$name.times" | median)" \
    "$(cut -d' ' -f3 "$work/$name.times" | median)"
done
for step in dash_sae_1024 dash_l0_mlp; do
  printf '%-22s wall %6ss (the step alone)\n' "$step" \
    "$(grep "'$step'" "$work/steps" | grep -o '[0-9.]* s$' | cut -d' ' -f1 | median)"
done
du -sh "$work/runs_with/l6_sae.d/dashboards"/* | sed 's|/.*/dashboards/|pages: |'
