#!/usr/bin/env bash
# The MPI test (ctest -L mpi, docs/scale.md): one experiment (ranks_experiment.yaml: games ->
# inference -> sae_encode -> every analysis) run by 1 process, then by `mpirun -n 2` and `-n 3`;
# every product must be bit-identical to the one-process run's, and read through h5py's view of
# the joined (virtual) datasets. Then a rank is killed in the middle of a step: the step must stay
# uncommitted, and a rerun with another N redoes only it (and what follows it).
# Bit for bit is the property under test and holds on any CPU: all runs are on one machine (one
# BLAS kernel), one thread per process, and every rank computes the same chunks as one process;
# only the number of processes differs.
# usage: check_ranks.sh OTHRUN_EXE WORK_DIR
set -euo pipefail
othrun="$1"
work="$2"
here="$(cd "$(dirname "$0")" && pwd)"
experiment="$here/ranks_experiment.yaml"
python=/usr/bin/python3  # Debian's, with h5py (scripts/setup.sh)
mpirun=(mpirun --oversubscribe --bind-to none)
[ "$(id -u)" -eq 0 ] && mpirun+=(--allow-run-as-root)
rm -rf "$work"
mkdir -p "$work"

run() {  # run N STORE: N = 1 runs without mpirun
  local n="$1" store="$2"
  if [ "$n" -eq 1 ]; then
    "$othrun" "$experiment" --threads 1 --set "store=$store"
  else
    # -x: every rank gets OTHRUN_FAULT (empty unless a test sets it)
    OTHRUN_FAULT="${OTHRUN_FAULT:-}" "${mpirun[@]}" -x OTHRUN_FAULT -n "$n" \
      "$othrun" "$experiment" --threads 1 --set "store=$store"
  fi
}

echo "== 1 process"
run 1 "$work/n1.h5" >"$work/n1.log" 2>&1 || { cat "$work/n1.log"; exit 1; }
for n in 2 3; do
  echo "== $n ranks"
  run "$n" "$work/n$n.h5" >"$work/n$n.log" 2>&1 || { cat "$work/n$n.log"; exit 1; }
  # The data-parallel products with datasets of rows are joined from the ranks' part files.
  "$python" "$here/compare_stores.py" "$work/n1.h5" "$work/n$n.h5" \
    --virtual games --virtual cache --virtual sae --virtual probe
done

echo "== rank 1 killed in the third data-parallel step (sae_encode), then a rerun on 3 ranks"
if OTHRUN_FAULT='rank1.step_ran#3:kill' run 2 "$work/killed.h5" >"$work/killed.log" 2>&1; then
  cat "$work/killed.log"
  echo "FAIL: the run with a killed rank succeeded"
  exit 1
fi
"$python" - "$work/killed.h5" <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    labels = sorted(f)
assert labels == ["cache", "games"], f"after the kill the store holds {labels}, not games, cache"
print("OK: games and cache committed, sae not")
PY
run 3 "$work/killed.h5" >"$work/rerun.log" 2>&1 || { cat "$work/rerun.log"; exit 1; }
for label in games cache; do
  grep -q "step '$label' ([a-z_]*): up to date, skipped" "$work/rerun.log" ||
    { cat "$work/rerun.log"; echo "FAIL: the rerun did not skip $label"; exit 1; }
done
grep -q "step 'sae' (sae_encode): running" "$work/rerun.log" ||
  { cat "$work/rerun.log"; echo "FAIL: the rerun did not run sae"; exit 1; }
"$python" "$here/compare_stores.py" "$work/n1.h5" "$work/killed.h5" --virtual sae
# Nothing of the killed attempt is left: only the parts the committed products map.
leftover=$(find "$work/killed.d" -name '*.partial' | wc -l)
parts=$(ls "$work/killed.d/sae.ranks" | wc -l)
if [ "$leftover" -ne 0 ] || [ "$parts" -ne 3 ]; then
  ls -R "$work/killed.d"
  echo "FAIL: $leftover partial files and $parts parts of sae (3 expected) after the rerun"
  exit 1
fi
echo "OK: 1, 2 and 3 ranks give the same products; a killed rank loses only its step"
