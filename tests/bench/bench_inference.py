#!/usr/bin/python3
"""Benchmark: othrun's inference plugin against the same forward in Python torch eager.

Caches blocks.6.hook_resid_pre of the full-size (random) Othello-GPT for N games into the store
with `othrun`, and runs the TransformerLens-style forward in Python torch eager (torch.inference_mode,
same thread count, same batch size, same games, same BLAS: the one LibTorch links, with the same
OPENBLAS_CORETYPE) in the same run, the two interleaved repeat by repeat so that both see the same
load. Prints a table of medians, and the sgemm rate measured at the forward's own matrix shapes, so
that each side is also given as a share of this machine's GEMM peak.
Used by scripts/bench_inference.sh (docs/benchmarks.md); needs /usr/bin/python3 with torch and h5py.
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


def forward_flops(cfg, n_games, n_pos, layers):
    """Multiply-adds x 2 of the forward's matrix products (what a GEMM peak applies to)."""
    D, M, H, E = cfg["d_model"], cfg["d_mlp"], cfg["n_heads"], cfg["d_head"]
    rows = n_games * n_pos
    dense = 2 * rows * D * (3 * H * E + H * E + 2 * M)
    attention = 2 * 2 * n_games * H * n_pos * n_pos * E
    return layers * (dense + attention)


def gemm_rates(rows, cfg, repeats=5):
    """sgemm GFLOP/s (median of `repeats`) at the forward's shapes, through torch's BLAS."""
    D, M, H, E = cfg["d_model"], cfg["d_mlp"], cfg["n_heads"], cfg["d_head"]
    rates = {}
    for m, k, n in [(rows, D, 3 * H * E), (rows, H * E, D), (rows, D, M), (rows, M, D)]:
        a, b = torch.randn(m, k), torch.randn(k, n)
        c = torch.empty(m, n)
        torch.mm(a, b, out=c)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            torch.mm(a, b, out=c)
            times.append(time.perf_counter() - start)
        rates[(m, k, n)] = 2 * m * k * n / statistics.median(times) / 1e9
    # The forward's mix: weight each shape by its share of the dense FLOPs.
    flops = {shape: shape[0] * shape[1] * shape[2] for shape in rates}
    mix = sum(flops.values()) / sum(f / rates[s] for s, f in flops.items())
    return rates, mix


def run_othrun(exe, plugins, work, model, games, batch, threads, env=None):
    yaml = os.path.join(work, "bench.yaml")
    with open(yaml, "w") as f:
        f.write(f"name: bench\nstore: bench.h5\nseed: 1\nsteps:\n"
                f"  - plugin: games\n    games: {games}\n"
                f"  - plugin: inference\n    label: cache\n    model: {model}\n"
                f"    hooks: [blocks.6.hook_resid_pre]\n    batch_games: {batch}\n"
                f"    board_moves: 0\n")
    subprocess.run([exe, "--plugin-path", plugins, "--threads", str(threads), "--force", yaml],
                   check=True, capture_output=True, env=env)
    with h5py.File(os.path.join(work, "bench.h5"), "r") as f:
        a = f["cache"].attrs
        return float(a["seconds_total"]), float(a["seconds_store"]), f["games/tokens"][:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--othrun", required=True)
    ap.add_argument("--plugins", required=True)
    ap.add_argument("--games", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--all-layers", action="store_true",
                    help="also time Python running all 8 layers (what run_with_cache computes)")
    ap.add_argument("--before", nargs=3, metavar=("OTHRUN", "PLUGINS", "LIB_DIR"),
                    help="an earlier build to time in the same run (LIB_DIR holds its libothrun*.so)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg = reference_gpt.SIZES["full"]
    stop = 6
    with tempfile.TemporaryDirectory() as work:
        gen = torch.Generator().manual_seed(1)
        w = {k: v.float() for k, v in reference_gpt.random_weights(cfg, gen).items()}
        model = os.path.join(work, "model.pth")
        torch.save(w, model)
        # Python runs the processed model too, as the plugin does by default.
        wp = {k: v.float() for k, v in reference_gpt.process(
            {k: v.double() for k, v in w.items()}, cfg).items()}
        before_env = None
        if args.before:
            before_env = dict(os.environ, LD_LIBRARY_PATH=args.before[2])
        times = {"othrun": [], "before": [], "py": [], "py8": []}
        store = []
        tokens = None
        for r in range(args.repeats):
            # Alternate which side goes first: a neighbour's load then hits both sides alike.
            order = ["othrun", "before", "py", "py8"]
            if r % 2:
                order.reverse()
            for side in order:
                if side == "othrun":
                    total, in_store, games = run_othrun(args.othrun, args.plugins, work, model,
                                                        args.games, args.batch, args.threads)
                    times["othrun"].append(total)
                    store.append(in_store)
                    tokens = torch.from_numpy(games[:, :-1].astype("int64"))
                elif side == "before" and args.before:
                    total, _, _ = run_othrun(args.before[0], args.before[1], work, model,
                                             args.games, args.batch, args.threads, before_env)
                    times["before"].append(total)
                elif side == "py" and tokens is not None:
                    times["py"].append(run_python(wp, cfg, tokens, args.batch, stop))
                elif side == "py8" and args.all_layers and tokens is not None:
                    times["py8"].append(run_python(wp, cfg, tokens, args.batch, 8))
            print(f"repeat {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()
                                                  if len(v) > r), file=sys.stderr, flush=True)
        rates, mix = gemm_rates(args.batch * tokens.shape[1], cfg)
        n_tokens = tokens.numel()
        flops = forward_flops(cfg, tokens.shape[0], tokens.shape[1], stop)
        med = statistics.median
        py = med(times["py"])
        print(f"{args.games} games x {tokens.shape[1]} positions = {n_tokens} tokens, batch "
              f"{args.batch}, {args.threads} threads, torch {torch.__version__}, "
              f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}, "
              f"median of {len(times['py'])} interleaved repeats")
        print("sgemm at the forward's shapes (torch.mm, same BLAS and threads): " +
              ", ".join(f"{m}x{k}x{n} {g:.0f}" for (m, k, n), g in rates.items()) +
              f" GFLOP/s; the forward's mix: {mix:.0f} GFLOP/s")
        print(f"{'run':58s} {'seconds':>8s} {'tokens/s':>10s} {'vs py':>6s} {'GEMM peak':>9s}")
        rows = [("othrun inference -> store (layers 0-5, incl. store write)", "othrun"),
                ("othrun before (the --before build)", "before"),
                ("python eager, same forward up to blocks.6.hook_resid_pre", "py"),
                ("python eager, all 8 layers (what run_with_cache computes)", "py8")]
        for name, key in rows:
            if not times[key]:
                continue
            sec = med(times[key])
            share = "" if key == "py8" else f"{100 * flops / sec / 1e9 / mix:8.0f}%"
            print(f"{name:58s} {sec:8.2f} {n_tokens / sec:10.0f} {py / sec:5.2f}x {share:>9s}")
        print(f"share of othrun's time writing the store: "
              f"{100 * med(store) / med(times['othrun']):.1f}%")
        print("all runs (s): " + "; ".join(f"{k} " + " ".join(f"{t:.2f}" for t in v)
                                          for k, v in times.items() if v))


if __name__ == "__main__":
    main()
