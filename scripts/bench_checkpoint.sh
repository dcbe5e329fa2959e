#!/usr/bin/env bash
# Checkpoint load throughput (docs/checkpoints.md): othrun::load_pth on a ~100 MB torch.save state
# dict shaped like Othello-GPT's (TransformerLens names, 8 layers, d_model 512, ~25M float32
# parameters), against a plain read() of the same file and load_safetensors of the same tensors.
# Medians of several repetitions. The file is made with Debian's python3-torch in a temporary
# folder and removed afterwards.
#
# Usage: scripts/bench_checkpoint.sh [BUILD_DIR] [REPETITIONS]
#   BUILD_DIR    a Release build (default: build); the bench_checkpoint target is built in it
#   REPETITIONS  default 7
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
repetitions=${2:-7}
python=/usr/bin/python3
"$python" -c 'import torch' 2>/dev/null || { echo "bench_checkpoint: $python lacks torch" >&2; exit 2; }

cmake --build "$build" --target bench_checkpoint >/dev/null
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

"$python" - "$scratch/othello_gpt_state_dict.pth" <<'PY'
import collections, sys, torch
torch.manual_seed(0)
L, D, H, DH, MLP, V, CTX = 8, 512, 8, 64, 2048, 61, 59
sd = collections.OrderedDict()
sd["embed.W_E"] = torch.randn(V, D)
sd["pos_embed.W_pos"] = torch.randn(CTX, D)
for i in range(L):
    p = f"blocks.{i}."
    for ln in ("ln1", "ln2"):
        sd[p + ln + ".w"] = torch.ones(D)
        sd[p + ln + ".b"] = torch.zeros(D)
    for w in ("W_Q", "W_K", "W_V"):
        sd[p + "attn." + w] = torch.randn(H, D, DH)
    sd[p + "attn.W_O"] = torch.randn(H, DH, D)
    for b in ("b_Q", "b_K", "b_V"):
        sd[p + "attn." + b] = torch.zeros(H, DH)
    sd[p + "attn.b_O"] = torch.zeros(D)
    sd[p + "attn.mask"] = torch.tril(torch.ones(CTX, CTX, dtype=torch.bool))
    sd[p + "attn.IGNORE"] = torch.tensor(-1e5)
    sd[p + "mlp.W_in"] = torch.randn(D, MLP)
    sd[p + "mlp.b_in"] = torch.zeros(MLP)
    sd[p + "mlp.W_out"] = torch.randn(MLP, D)
    sd[p + "mlp.b_out"] = torch.zeros(D)
sd["ln_final.w"] = torch.ones(D)
sd["ln_final.b"] = torch.zeros(D)
sd["unembed.W_U"] = torch.randn(D, V)
sd["unembed.b_U"] = torch.zeros(V)
torch.save(sd, sys.argv[1])
PY

echo "bench_checkpoint: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
"$build/tests/bench/bench_checkpoint" "$scratch/othello_gpt_state_dict.pth" "$repetitions"

# For reference: torch.load of the same file in Python (same medians, same warm page cache).
"$python" - "$scratch/othello_gpt_state_dict.pth" "$repetitions" <<'PY'
import os, statistics, sys, time, torch
path, repetitions = sys.argv[1], int(sys.argv[2])
torch.load(path)
times = []
for _ in range(repetitions):
    start = time.perf_counter()
    torch.load(path)
    times.append(time.perf_counter() - start)
t = statistics.median(times)
mb = os.path.getsize(path) / 1e6
print(f"  {'torch.load (Python, for reference)':38s} {t * 1e3:8.1f} ms  {mb / t:7.0f} MB/s")
PY
