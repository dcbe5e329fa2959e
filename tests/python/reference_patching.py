#!/usr/bin/python3
"""Independent float64 reference for the activation_patching plugin (tests/patching).

Written from docs/interventions.md ("activation_patching") and docs/inference.md ("The model"),
not from the C++ code. For each product named on the command line it reads the pairs the plugin
stored (clean and corrupted model inputs, metric positions, answer squares, valid moves), runs the
model in float64 from the embedding with a TransformerLens-style hook that replaces one activation
by the clean run's (one position of a hook, or one head's z at every position), computes the metric
and compares it with the stored values.

  reference_patching.py STORE.h5 MODEL.pth PROCESS(0|1) LABEL [LABEL...]

Prints the largest error of each product relative to the scale S = the largest |logit| of the
reference's clean and corrupted runs at the metric positions, and exits 1 when one exceeds TOL.
"""
import math
import os
import sys

import h5py
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_gpt  # noqa: E402  (random weights' layout and weight processing only)

# The bound asserted on |othrun - reference| / S; see tests/patching/test_patching.cpp.
TOL = 1e-5
EPS = 1e-5


def token_of(square):
    """Square 0..63 -> model token 1..60 (docs/games.md)."""
    return square + 1 - (2 if square > 28 else 0) - (2 if square > 36 else 0)


def hook_name(kind, layer):
    return f"blocks.{layer}.attn.hook_z" if kind == "head_out" else f"blocks.{layer}.hook_{kind}"


def ln(x):
    x = x - x.mean(-1, keepdim=True)
    return x / torch.sqrt((x * x).mean(-1, keepdim=True) + EPS)


def forward(w, cfg, tokens, hook=lambda name, x: x):
    """The model in float64; `hook(name, x)` may return a changed activation (run_with_hooks)."""
    B, P = tokens.shape
    resid = w["embed.W_E"][tokens] + w["pos_embed.W_pos"][:P]
    causal = torch.triu(torch.ones(P, P, dtype=torch.bool), diagonal=1)

    def norm(x, prefix):
        x = ln(x)
        return x * w[prefix + ".w"] + w[prefix + ".b"] if prefix + ".w" in w else x

    for l in range(cfg["n_layers"]):
        p = f"blocks.{l}."
        resid = hook(p + "hook_resid_pre", resid)
        x = norm(resid, p + "ln1")
        q = torch.einsum("bpd,hde->bphe", x, w[p + "attn.W_Q"]) + w[p + "attn.b_Q"]
        k = torch.einsum("bpd,hde->bphe", x, w[p + "attn.W_K"]) + w[p + "attn.b_K"]
        v = torch.einsum("bpd,hde->bphe", x, w[p + "attn.W_V"]) + w[p + "attn.b_V"]
        scores = torch.einsum("bqhe,bkhe->bhqk", q, k) / math.sqrt(cfg["d_head"])
        pattern = torch.softmax(scores.masked_fill(causal, float("-inf")), dim=-1)
        z = hook(p + "attn.hook_z", torch.einsum("bhqk,bkhe->bqhe", pattern, v))
        attn_out = hook(p + "hook_attn_out",
                        torch.einsum("bqhe,hed->bqd", z, w[p + "attn.W_O"]) + w[p + "attn.b_O"])
        resid_mid = hook(p + "hook_resid_mid", resid + attn_out)
        pre = norm(resid_mid, p + "ln2") @ w[p + "mlp.W_in"] + w[p + "mlp.b_in"]
        post = 0.5 * pre * (1.0 + torch.erf(pre / math.sqrt(2.0)))
        mlp_out = hook(p + "hook_mlp_out", post @ w[p + "mlp.W_out"] + w[p + "mlp.b_out"])
        resid = hook(p + "hook_resid_post", resid_mid + mlp_out)
    return norm(resid, "ln_final") @ w["unembed.W_U"] + w["unembed.b_U"]


def run_cached(w, cfg, tokens):
    cache = {}

    def keep(name, x):
        cache[name] = x
        return x

    return forward(w, cfg, tokens, keep), cache


def metric(kind, logits, positions, answers, valid):
    """Metric per pair from logits [pairs, pos, vocab] (docs/interventions.md)."""
    n = logits.shape[0]
    rows = logits[torch.arange(n), torch.as_tensor(positions)]
    if kind == "logit_diff":
        plus = torch.tensor([token_of(int(a)) for a in answers[:, 0]])
        minus = torch.tensor([token_of(int(a)) for a in answers[:, 1]])
        return rows[torch.arange(n), plus] - rows[torch.arange(n), minus]
    logp = torch.log_softmax(rows, dim=-1)
    out = torch.empty(n, dtype=torch.float64)
    for i in range(n):
        tokens = [token_of(s) for s in range(64) if (int(valid[i]) >> s) & 1]
        out[i] = logp[i, tokens].mean()
    return out


def check_product(f, label, w, cfg):
    g = f[label]
    kind_metric = g.attrs["metric"]
    kind_metric = kind_metric.decode() if isinstance(kind_metric, bytes) else kind_metric
    pairs = g["pairs"]
    clean_tokens = torch.as_tensor(pairs["clean_tokens"][:].astype(np.int64))
    corrupted_tokens = torch.as_tensor(pairs["corrupted_tokens"][:].astype(np.int64))
    positions = pairs["metric_position"][:].astype(np.int64)
    answers = pairs["answer_squares"][:].astype(np.int64)
    valid = pairs["clean_valid"][:]
    layers = [int(l) for l in g["layers"][:]]
    n, n_pos = clean_tokens.shape

    clean_logits, clean_cache = run_cached(w, cfg, clean_tokens)
    corrupted_logits = forward(w, cfg, corrupted_tokens)
    m_clean = metric(kind_metric, clean_logits, positions, answers, valid)
    m_corr = metric(kind_metric, corrupted_logits, positions, answers, valid)
    at = torch.arange(n)
    scale = max(clean_logits[at, positions].abs().max().item(),
                corrupted_logits[at, positions].abs().max().item())
    errors = {"baseline": max((m_clean - torch.as_tensor(g["baseline/clean"][:])).abs().max().item(),
                              (m_corr - torch.as_tensor(g["baseline/corrupted"][:])).abs().max().item())}
    for kind in ["resid_pre", "resid_mid", "resid_post", "attn_out", "mlp_out", "head_out"]:
        if kind not in g:
            continue
        stored = torch.as_tensor(g[kind]["patched"][:])
        sites = stored.shape[2]
        ref = torch.empty_like(stored)
        for li, layer in enumerate(layers):
            name = hook_name(kind, layer)
            clean = clean_cache[name]
            for s in range(sites):
                def patch(hname, x, s=s, name=name, clean=clean):
                    if hname != name:
                        return x
                    x = x.clone()
                    if kind == "head_out":
                        x[:, :, s] = clean[:, :, s]
                    else:
                        x[:, s] = clean[:, s]
                    return x
                logits = forward(w, cfg, corrupted_tokens, patch)
                ref[:, li, s] = metric(kind_metric, logits, positions, answers, valid)
        errors[kind] = (stored - ref).abs().max().item()
        # The normalised score from the reference's own means.
        score = (ref.mean(0) - m_corr.mean()) / (m_clean.mean() - m_corr.mean())
        got = torch.as_tensor(g[kind]["score"][:])
        span = abs(m_clean.mean().item() - m_corr.mean().item())
        errors[kind + "/score"] = (got - score).abs().max().item() * span
    worst = max(errors.values()) / scale
    print(f"{label}: metric {kind_metric}, {n} pairs, {n_pos} positions, scale S = {scale:.3f}; "
          + ", ".join(f"{k} {v / scale:.2e}" for k, v in errors.items()))
    return worst


def main():
    store, model, process, labels = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4:]
    raw = torch.load(model)
    w = {k: v.double() for k, v in raw.items()}
    n_layers = 1 + max(int(k.split(".")[1]) for k in w if k.startswith("blocks."))
    cfg = dict(reference_gpt.SIZES["small"])
    cfg["n_layers"] = n_layers
    cfg["n_heads"], _, cfg["d_head"] = w["blocks.0.attn.W_Q"].shape
    if process:
        w = reference_gpt.process(w, cfg)
    worst = 0.0
    with h5py.File(store, "r") as f, torch.no_grad():
        for label in labels:
            worst = max(worst, check_product(f, label, w, cfg))
    if worst > TOL:
        print(f"FAIL: largest error {worst:.2e} S > {TOL:.0e} S")
        sys.exit(1)
    print(f"OK: largest error {worst:.2e} S <= {TOL:.0e} S")


if __name__ == "__main__":
    main()
