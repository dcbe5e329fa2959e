#!/usr/bin/python3
"""GPU benchmark of the CUDA inference forward (scripts/gpu_check.sh, docs/benchmarks.md).

Runs `othrun` with a games step and an inference step on `device: cuda` over the random full-size
Othello-GPT (all 8 layers: logits as log-probs plus blocks.6.hook_resid_pre cached), reads the
product's timing attributes, measures cuBLAS sgemm on the same GPU (bench_cuda_sgemm) and prints
tokens/s, the forward's GFLOP/s as a share of the sgemm peak, and the store-write share.
  bench_cuda_inference.py --othrun EXE --plugins DIR --sgemm EXE [--games N] [--batch B]
  bench_cuda_inference.py --self-test   (the table's arithmetic and layout on made-up inputs)
"""
import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
N_POS = 59


def forward_flops(n_games, n_pos=N_POS, layers=8, d_model=512, d_mlp=2048, n_heads=8, d_head=64,
                  vocab=61):
    """Multiply-adds x 2 of every matrix product of the whole forward (what the peak applies to)."""
    rows = n_games * n_pos
    hd = n_heads * d_head
    dense = 2 * rows * d_model * (3 * hd + hd + 2 * d_mlp)
    attention = 2 * 2 * n_games * n_heads * n_pos * n_pos * d_head
    return layers * (dense + attention) + 2 * rows * d_model * vocab


def parse_sgemm(text):
    out = {"shapes": []}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == "device":
            out["device"] = value
        elif key in ("peak_gflops", "mix_gflops"):
            out[key] = float(value)
        elif key == "shape_gflops":
            shape, rate = value.split()
            out["shapes"].append((shape, float(rate)))
    missing = [k for k in ("device", "peak_gflops", "mix_gflops") if k not in out]
    if missing:
        raise SystemExit(f"bench_cuda_inference: bench_cuda_sgemm printed no {missing}:\n{text}")
    return out


def table(games, batch, timing, sgemm):
    """The result table: one row per measured quantity, each with its unit."""
    total, store, gpu, wait = (timing[k] for k in ("seconds_total", "seconds_store",
                                                   "seconds_gpu", "seconds_wait_gpu"))
    tokens = games * N_POS
    flops = forward_flops(games)
    peak = sgemm["peak_gflops"]
    rows = [
        ("GPU", sgemm["device"], ""),
        ("games x positions (batch)", f"{games} x {N_POS} ({batch})", ""),
        ("cuBLAS sgemm peak (4096/8192 squares)", f"{peak:.0f}", "GFLOP/s"),
        ("cuBLAS sgemm at the forward's shapes (mix)", f"{sgemm['mix_gflops']:.0f}", "GFLOP/s"),
        ("inference step, store writes included", f"{total:.3f}", "s"),
        ("tokens/s", f"{tokens / total:.0f}", "tokens/s"),
        ("whole forward rate (8 layers + unembed)", f"{flops / total / 1e9:.0f}", "GFLOP/s"),
        ("share of the sgemm peak (goal >= 50%)", f"{100 * flops / total / 1e9 / peak:.1f}", "%"),
        ("GPU busy (forward kernels, CUDA events)", f"{gpu:.3f}", "s"),
        ("share of the peak while the GPU computes", f"{100 * flops / gpu / 1e9 / peak:.1f}"
         if gpu > 0 else "-", "%"),
        ("writing the store (overlapped with the GPU)", f"{100 * store / total:.1f}", "% of total"),
        ("host waiting for the GPU", f"{100 * wait / total:.1f}", "% of total"),
    ]
    width = max(len(r[0]) for r in rows)
    lines = [f"{'quantity':{width}s}  {'value':>22s}  unit"]
    lines += [f"{name:{width}s}  {value:>22s}  {unit}" for name, value, unit in rows]
    return "\n".join(lines)


def self_test():
    """Checks the table on made-up inputs (no GPU): not a measurement."""
    sgemm = parse_sgemm("device Made-up GPU\npeak_gflops 40000.0\nshape_gflops 5900x512x1536 "
                        "30000.0\nmix_gflops 35000.0\n")
    timing = {"seconds_total": 2.0, "seconds_store": 0.5, "seconds_gpu": 1.0,
              "seconds_wait_gpu": 1.2}
    text = table(1000, 100, timing, sgemm)
    flops = forward_flops(1000)
    # 1000 games x 59 positions in 2 s; the forward's FLOPs over 2 s against a 40000 GFLOP/s peak.
    assert f" {1000 * 59 / 2:.0f}  tokens/s" in text, text
    assert f" {100 * flops / 2 / 1e9 / 40000:.1f}  %" in text, text
    assert " 25.0  % of total" in text and " 60.0  % of total" in text, text  # 0.5/2, 1.2/2
    assert len(text.splitlines()) == 13, text
    assert len({len(line) - len(line.lstrip()) for line in text.splitlines()}) == 1, text
    print(text)
    print("bench_cuda_inference: self-test passed (made-up inputs; not a measurement)")
    return 0


def read_timing(store):
    import h5py
    with h5py.File(store, "r") as f:
        a = f["cache"].attrs
        device = a["device"]
        device = device.decode() if isinstance(device, bytes) else str(device)
        if not device.startswith("cuda"):
            raise SystemExit(f"bench_cuda_inference: the step ran on '{device}', not cuda")
        return {k: float(a[k]) for k in ("seconds_total", "seconds_store", "seconds_gpu",
                                         "seconds_wait_gpu")}


def write_model(path):
    import torch
    sys.path.insert(0, os.path.join(HERE, "..", "python"))
    import reference_gpt
    gen = torch.Generator().manual_seed(1)
    cfg = reference_gpt.SIZES["full"]
    torch.save({k: v.float() for k, v in reference_gpt.random_weights(cfg, gen).items()}, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--othrun")
    ap.add_argument("--plugins")
    ap.add_argument("--sgemm", help="the bench_cuda_sgemm executable")
    ap.add_argument("--games", type=int, default=20000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    for name in ("othrun", "plugins", "sgemm"):
        if getattr(args, name) is None:
            ap.error(f"--{name} is required (or --self-test)")
    if args.games < 1 or args.batch < 1:
        ap.error("--games and --batch must be >= 1")
    sgemm_run = subprocess.run([args.sgemm, "--batch", str(args.batch)], capture_output=True,
                               text=True)
    if sgemm_run.returncode != 0:
        raise SystemExit(f"bench_cuda_inference: bench_cuda_sgemm failed "
                         f"({sgemm_run.returncode}): {sgemm_run.stderr.strip()}")
    sgemm = parse_sgemm(sgemm_run.stdout)
    with tempfile.TemporaryDirectory() as work:
        model = os.path.join(work, "model.pth")
        write_model(model)
        yaml = os.path.join(work, "bench.yaml")
        with open(yaml, "w") as f:
            f.write(f"name: bench\nstore: bench.h5\nseed: 1\nsteps:\n"
                    f"  - plugin: games\n    games: {args.games}\n"
                    f"  - plugin: inference\n    label: cache\n    model: {model}\n"
                    f"    device: cuda\n    hooks: [blocks.6.hook_resid_pre]\n"
                    f"    logits: log_probs\n    batch_games: {args.batch}\n    board_moves: 0\n")
        run = subprocess.run([args.othrun, "--plugin-path", args.plugins, "--force", yaml],
                             capture_output=True, text=True)
        if run.returncode != 0:
            raise SystemExit(f"bench_cuda_inference: othrun failed:\n{run.stdout}{run.stderr}")
        timing = read_timing(os.path.join(work, "bench.h5"))
    print(table(args.games, args.batch, timing, sgemm))
    return 0


if __name__ == "__main__":
    sys.exit(main())
