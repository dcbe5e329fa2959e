#!/usr/bin/python3
"""Benchmark: othrun's inference plugin against the same forward in Python torch eager.

Caches blocks.6.hook_resid_pre of the full-size (random) Othello-GPT for N games into the store
with `othrun`, and runs the TransformerLens-style forward in Python torch eager (torch.inference_mode,
same thread count, same batch size, same games) in the same run. Prints a table of medians.
Used by scripts/bench_inference.sh (docs/inference.md); needs /usr/bin/python3 with torch and h5py.
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


def python_forward(w, cfg, tokens, stop_layer):
    """TransformerLens' forward up to blocks.<stop_layer>.hook_resid_pre (LNPre, processed)."""
    B, P = tokens.shape
    resid = w["embed.W_E"][tokens] + w["pos_embed.W_pos"][:P]
    mask = torch.triu(torch.ones(P, P, dtype=torch.bool), diagonal=1)

    def ln(x):
        x = x - x.mean(-1, keepdim=True)
        return x / (x.pow(2).mean(-1, keepdim=True) + 1e-5).sqrt()

    for l in range(stop_layer):
        p = f"blocks.{l}."
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
    return resid


def run_python(w, cfg, tokens, batch, stop_layer):
    start = time.perf_counter()
    with torch.inference_mode():
        for first in range(0, tokens.shape[0], batch):
            python_forward(w, cfg, tokens[first:first + batch], stop_layer).numpy().copy()
    return time.perf_counter() - start


def run_othrun(exe, plugins, work, model, games, batch, threads):
    yaml = os.path.join(work, "bench.yaml")
    with open(yaml, "w") as f:
        f.write(f"name: bench\nstore: bench.h5\nseed: 1\nsteps:\n"
                f"  - plugin: games\n    games: {games}\n"
                f"  - plugin: inference\n    label: cache\n    model: {model}\n"
                f"    hooks: [blocks.6.hook_resid_pre]\n    batch_games: {batch}\n"
                f"    board_moves: 0\n")
    subprocess.run([exe, "--plugin-path", plugins, "--threads", str(threads), "--force", yaml],
                   check=True, capture_output=True)
    with h5py.File(os.path.join(work, "bench.h5"), "r") as f:
        a = f["cache"].attrs
        return float(a["seconds_total"]), float(a["seconds_store"]), f["games/tokens"][:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--othrun", required=True)
    ap.add_argument("--plugins", required=True)
    ap.add_argument("--games", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg = reference_gpt.SIZES["full"]
    with tempfile.TemporaryDirectory() as work:
        gen = torch.Generator().manual_seed(1)
        w = {k: v.float() for k, v in reference_gpt.random_weights(cfg, gen).items()}
        model = os.path.join(work, "model.pth")
        torch.save(w, model)
        # Python runs the processed model too, as the plugin does by default.
        wp = {k: v.float() for k, v in reference_gpt.process(
            {k: v.double() for k, v in w.items()}, cfg).items()}
        cpp, store, py6, py8 = [], [], [], []
        tokens = None
        for _ in range(args.repeats):
            total, in_store, games = run_othrun(args.othrun, args.plugins, work, model,
                                                args.games, args.batch, args.threads)
            cpp.append(total)
            store.append(in_store)
            tokens = torch.from_numpy(games[:, :-1].astype("int64"))
            py6.append(run_python(wp, cfg, tokens, args.batch, 6))
            py8.append(run_python(wp, cfg, tokens, args.batch, 8))
        n_tokens = tokens.numel()
        med = statistics.median
        print(f"{args.games} games x 59 positions = {n_tokens} tokens, batch {args.batch}, "
              f"{args.threads} threads, torch {torch.__version__}, median of {args.repeats}")
        print(f"{'run':58s} {'seconds':>8s} {'tokens/s':>10s} {'vs py':>6s}")
        rows = [("othrun inference -> store (layers 0-5, incl. store write)", med(cpp)),
                ("python eager, same forward up to blocks.6.hook_resid_pre", med(py6)),
                ("python eager, all 8 layers (what run_with_cache computes)", med(py8))]
        for name, sec in rows:
            print(f"{name:58s} {sec:8.2f} {n_tokens / sec:10.0f} {med(py6) / sec:5.2f}x")
        print(f"share of othrun's time writing the store: {100 * med(store) / med(cpp):.1f}%")


if __name__ == "__main__":
    main()
