#!/usr/bin/env bash
# Scaling over MPI ranks (docs/scale.md): a CPU-bound experiment (inference of the shipped model,
# then sae_encode and sae_correlation on its cache) run by one process and by `mpirun -n 2`, each
# rank on one thread (--threads 1), rounds interleaved; prints the median seconds of each step
# (its product's othrun.seconds: the run on every rank plus rank 0's join and commit), the
# speed-up, and how fast the joined (virtual) dataset reads back compared with a one-file one.
# Usage: scripts/bench_ranks.sh BUILD_DIR [ROUNDS=3] [GAMES=2000]
set -euo pipefail
build=${1:?usage: scripts/bench_ranks.sh BUILD_DIR [ROUNDS] [GAMES]}
rounds=${2:-3}
games=${3:-2000}
repo="$(cd "$(dirname "$0")/.." && pwd)"
othrun="$build/bin/othrun"
[ -x "$othrun" ] || { echo "build $othrun first" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mpirun=(mpirun --oversubscribe --bind-to none)
[ "$(id -u)" -eq 0 ] && mpirun+=(--allow-run-as-root)

cat >"$work/bench.yaml" <<YAML
name: bench_ranks
store: store.h5
seed: 1
steps:
  - {plugin: games, label: games, source: synthetic, games: $games}
  - {plugin: inference, label: cache, games: games, model: $repo/models/othello_gpt_default.pth,
     device: cpu, batch_games: 100, hooks: [blocks.6.hook_resid_pre]}
  - {plugin: sae_encode, label: sae, activations: "cache:blocks.6.hook_resid_pre",
     sae: $repo/models/sae_l6_resid_pre_1024, chunk_games: 100}
  - {plugin: sae_correlation, label: corr, games: games, features: sae, chunk_games: 100}
YAML

seconds() {  # seconds STORE LABEL
  /usr/bin/python3 -c "import h5py,sys; print(h5py.File(sys.argv[1])[sys.argv[2]].attrs['othrun.seconds'])" "$1" "$2"
}
declare -A took
echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 1; r <= rounds; r++)); do
  for n in 1 2; do
    store="$work/n$n.h5"
    if [ "$n" -eq 1 ]; then
      "$othrun" "$work/bench.yaml" --threads 1 --force --set "store=$store" --log-level warn
    else
      "${mpirun[@]}" -n "$n" "$othrun" "$work/bench.yaml" --threads 1 --force \
        --set "store=$store" --log-level warn
    fi
    for label in cache sae corr; do took["$n|$label"]+="$(seconds "$store" "$label") "; done
    echo "round $r, $n rank(s): cache ${took[$n|cache]##* } ..." >&2
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
printf '%-28s %10s %10s %8s\n' "step ($games games)" "1 rank s" "2 ranks s" "speed-up"
for label in cache sae corr; do
  one=$(median <<<"${took[1|$label]}")
  two=$(median <<<"${took[2|$label]}")
  printf '%-28s %10.2f %10.2f %7.2fx\n' "$label" "$one" "$two" "$(echo "$one / $two" | bc -l)"
done
# Reading the cache back: one file (1 rank) against the virtual dataset over 2 part files.
/usr/bin/python3 - "$work/n1.h5" "$work/n2.h5" <<'PY'
import sys, time, h5py, statistics
for path, what in zip(sys.argv[1:], ["one file", "virtual over 2 parts"]):
    times = []
    for _ in range(5):
        with h5py.File(path, "r") as f:
            d = f["cache/blocks.6.hook_resid_pre"]
            t = time.perf_counter()
            for first in range(0, d.shape[0], 100):
                d[first:first + 100]
            times.append(time.perf_counter() - t)
    size = d.shape[0] * d.shape[1] * d.shape[2] * 4 / 2**20
    print(f"read cache ({what}): median {statistics.median(times):.3f} s, "
          f"{size / statistics.median(times):.0f} MiB/s")
PY
