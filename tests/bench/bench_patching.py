#!/usr/bin/python3
"""Benchmark: an activation patching sweep, othrun's activation_patching against Python eager hooks.

The sweep of issue 16: blocks.L.hook_resid_pre patched from the clean run into the corrupted one at
every layer L x position p, for N game pairs, metric logit_diff at each pair's metric position, on
the full-size (random) Othello-GPT. othrun builds the pairs (twins from a games product, the changed move late so that every pair reaches position 58), runs the
sweep and writes the store; Python then takes the same pairs from that store and runs the same sweep
the way TransformerLens' run_with_hooks does it: one clean run caching resid_pre, then for each
(L, p) one forward of the N corrupted games from the embedding with a hook replacing resid_pre[:, p]
at layer L (torch eager float32, torch.inference_mode, same threads, same BLAS). Both are run in
one invocation, alternating which goes first, and their metrics are compared (they must agree to
float32 rounding). Used by scripts/bench_patching.sh (docs/benchmarks.md); needs /usr/bin/python3
with torch and h5py.
"""
import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

import h5py
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))
import reference_gpt  # noqa: E402


def forward(w, cfg, tokens, hook=None):
    """TransformerLens' forward (LNPre, processed weights) with an optional resid_pre hook."""
    B, P = tokens.shape
    resid = w["embed.W_E"][tokens] + w["pos_embed.W_pos"][:P]
    mask = torch.triu(torch.ones(P, P, dtype=torch.bool), diagonal=1)

    def ln(x):
        x = x - x.mean(-1, keepdim=True)
        return x / (x.pow(2).mean(-1, keepdim=True) + 1e-5).sqrt()

    for l in range(cfg["n_layers"]):
        p = f"blocks.{l}."
        if hook is not None:
            resid = hook(l, resid)
        x = ln(resid)
        q = torch.einsum("bpd,hde->bphe", x, w[p + "attn.W_Q"]) + w[p + "attn.b_Q"]
        k = torch.einsum("bpd,hde->bphe", x, w[p + "attn.W_K"]) + w[p + "attn.b_K"]
        v = torch.einsum("bpd,hde->bphe", x, w[p + "attn.W_V"]) + w[p + "attn.b_V"]
        scores = torch.einsum("bqhe,bkhe->bhqk", q, k) / math.sqrt(cfg["d_head"])
        pattern = torch.softmax(scores.masked_fill(mask, float("-inf")), dim=-1)
        z = torch.einsum("bhqk,bkhe->bqhe", pattern, v)
        resid = resid + torch.einsum("bqhe,hed->bqd", z, w[p + "attn.W_O"]) + w[p + "attn.b_O"]
        post = torch.nn.functional.gelu(ln(resid) @ w[p + "mlp.W_in"] + w[p + "mlp.b_in"])
        resid = resid + post @ w[p + "mlp.W_out"] + w[p + "mlp.b_out"]
    return ln(resid) @ w["unembed.W_U"] + w["unembed.b_U"]


def token_of(square):
    return square + 1 - (2 if square > 28 else 0) - (2 if square > 36 else 0)


def python_sweep(w, cfg, pairs):
    """The sweep as run_with_hooks would run it; returns (seconds, patched [n, layers, pos])."""
    clean, corrupted = pairs["clean"], pairs["corrupted"]
    n, n_pos = corrupted.shape
    rows = torch.arange(n)
    at = torch.as_tensor(pairs["position"])
    plus, minus = pairs["plus"], pairs["minus"]
    out = torch.empty(n, cfg["n_layers"], n_pos, dtype=torch.float64)
    start = time.perf_counter()
    with torch.inference_mode():
        cache = {}

        def keep(layer, resid):
            cache[layer] = resid
            return resid

        forward(w, cfg, clean, keep)
        for layer in range(cfg["n_layers"]):
            for pos in range(n_pos):
                def patch(l, resid, layer=layer, pos=pos):
                    if l != layer:
                        return resid
                    resid = resid.clone()
                    resid[:, pos] = cache[layer][:, pos]
                    return resid
                logits = forward(w, cfg, corrupted, patch)[rows, at]
                out[:, layer, pos] = (logits[rows, plus] - logits[rows, minus]).double()
    return time.perf_counter() - start, out


def run_othrun(exe, plugins, work, model, n_games, pairs, threads, skip_layers):
    yaml = os.path.join(work, "bench.yaml")
    with open(yaml, "w") as f:
        f.write(f"name: bench\nstore: bench.h5\nseed: 1\nsteps:\n"
                f"  - plugin: games\n    games: {n_games}\n    full_games_only: true\n"
                f"  - plugin: activation_patching\n    label: patching\n    model: {model}\n"
                f"    pairs: {pairs}\n    corrupt_plies: \"56:58\"\n    patch: [resid_pre]\n"
                f"    skip_unpatched_layers: {'true' if skip_layers else 'false'}\n")
    start = time.perf_counter()
    subprocess.run([exe, "--plugin-path", plugins, "--threads", str(threads), "--force", yaml],
                   check=True, capture_output=True)
    wall = time.perf_counter() - start
    with h5py.File(os.path.join(work, "bench.h5"), "r") as f:
        g = f["patching"]
        p = g["pairs"]
        answers = p["answer_squares"][:]
        pairs_data = {
            "clean": torch.as_tensor(p["clean_tokens"][:].astype("int64")),
            "corrupted": torch.as_tensor(p["corrupted_tokens"][:].astype("int64")),
            "position": p["metric_position"][:].astype("int64"),
            "plus": torch.tensor([token_of(int(s)) for s in answers[:, 0]]),
            "minus": torch.tensor([token_of(int(s)) for s in answers[:, 1]]),
        }
        return (float(g.attrs["seconds_total"]), wall, torch.as_tensor(g["resid_pre/patched"][:]),
                pairs_data)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--othrun", required=True)
    ap.add_argument("--plugins", required=True)
    ap.add_argument("--pairs", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--from-embedding", action="store_true",
                    help="also time othrun with skip_unpatched_layers: false (every patched run "
                         "from the embedding, as Python)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    load_start = os.getloadavg()
    cfg = reference_gpt.SIZES["full"]
    with tempfile.TemporaryDirectory() as work:
        gen = torch.Generator().manual_seed(1)
        w = {k: v.float() for k, v in reference_gpt.random_weights(cfg, gen).items()}
        model = os.path.join(work, "model.pth")
        torch.save(w, model)
        wp = {k: v.float() for k, v in reference_gpt.process(
            {k: v.double() for k, v in w.items()}, cfg).items()}
        times = {"othrun": [], "othrun_full": [], "python": []}
        walls = []
        pairs = None
        diff = 0.0
        sides = ["othrun", "othrun_full", "python"]
        for r in range(args.repeats):
            order = sides if r % 2 == 0 else list(reversed(sides))
            if pairs is None:  # Python needs othrun's pairs
                order = sides
            for side in order:
                if side == "othrun":
                    step, wall, patched, pairs = run_othrun(
                        args.othrun, args.plugins, work, model, 20 * args.pairs, args.pairs,
                        args.threads, True)
                    times["othrun"].append(step)
                    walls.append(wall)
                elif side == "othrun_full" and args.from_embedding:
                    step, _, _, _ = run_othrun(args.othrun, args.plugins, work, model,
                                               20 * args.pairs, args.pairs, args.threads, False)
                    times["othrun_full"].append(step)
                elif side == "python":
                    seconds, ref = python_sweep(wp, cfg, pairs)
                    times["python"].append(seconds)
                    diff = max(diff, (ref - patched).abs().max().item())
            print(f"repeat {r + 1}: " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in times.items()
                                                  if len(v) > r), file=sys.stderr, flush=True)
        n, n_pos = pairs["corrupted"].shape
        cells = cfg["n_layers"] * n_pos
        med = statistics.median
        py = med(times["python"])
        print(f"sweep: {cfg['n_layers']} layers x {n_pos} positions x {n} pairs = {cells} patched "
              f"forwards of {n} games ({cells * n} sequences), resid_pre, logit_diff; "
              f"{args.threads} threads, torch {torch.__version__}, "
              f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}, "
              f"median of {len(times['python'])} repeats; load average (1, 5, 15 min) at start "
              f"{load_start}, at end {os.getloadavg()}")
        print(f"{'run':62s} {'seconds':>8s} {'vs py':>6s}")
        rows = [("othrun activation_patching (step time: pairs + sweep + store)", "othrun"),
                ("othrun, skip_unpatched_layers: false (from the embedding)", "othrun_full"),
                ("python eager hooks (run_with_hooks style), same pairs", "python")]
        for name, key in rows:
            if times[key]:
                sec = med(times[key])
                print(f"{name:62s} {sec:8.1f} {py / sec:5.2f}x")
        print(f"othrun process wall incl. games + model load: {med(walls):.1f} s")
        print(f"max |othrun - python| over the {cells * n} patched metrics: {diff:.2e}")
        print("all runs (s): " + "; ".join(f"{k} " + " ".join(f"{t:.1f}" for t in v)
                                          for k, v in times.items() if v))


if __name__ == "__main__":
    main()
