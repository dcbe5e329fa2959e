#!/usr/bin/python3
"""Independent reference for othrun's HookedTransformer (tests/inference).

Written from docs/inference.md "The model" (TransformerLens semantics), not from the C++ code: it makes a
random Othello-GPT-shaped model, saves it in the layouts othrun reads, runs a float64 forward with
every hook and saves the expected activations with torch.save. Run with Debian's /usr/bin/python3
(python3-torch 1.13). Deterministic for a given seed.

  reference_gpt.py OUT_DIR --size small|full --games N [--seed S]

Writes into OUT_DIR:
  tl.pth          TransformerLens state dict with LN weights (random w, b, b_U)
  tl_nobias.pth   the same with b_U = 0: the twin of mingpt.pth
  mingpt.pth      minGPT state dict of the same weights (+ attn.mask buffers)
  lnpre.pth       tl.pth after fold_ln only, LNPre (no ln keys), plus the attn.mask / attn.IGNORE
                  buffers that synthetic_model.pth may hold
  tokens.pth      int64 [games, 59] random tokens 1..60
  expected_raw.pth        {hook: activation} of tl.pth, unprocessed, plus logits and log_probs
  expected_processed.pth  the same after fold_ln, center_writing_weights, center_unembed and
                          fold_value_biases
  bad_missing.pth, bad_extra.pth, bad_shape.pth, bad_mingpt_missing.pth: broken checkpoints
With --minimal only tl.pth, mingpt.pth, tokens.pth and the expected files.
"""
import argparse
import collections
import math
import os

import torch

SIZES = {
    "small": dict(n_layers=2, d_model=32, n_heads=4, d_head=8, d_mlp=64, d_vocab=61,
                  d_vocab_out=61, n_ctx=59),
    "full": dict(n_layers=8, d_model=512, n_heads=8, d_head=64, d_mlp=2048, d_vocab=61,
                 d_vocab_out=61, n_ctx=59),
}
EPS = 1e-5


def random_weights(cfg, gen):
    """TransformerLens-layout weights; scales chosen so attention is far from uniform."""
    L, D, H, E, M = cfg["n_layers"], cfg["d_model"], cfg["n_heads"], cfg["d_head"], cfg["d_mlp"]
    V, VO, N = cfg["d_vocab"], cfg["d_vocab_out"], cfg["n_ctx"]

    def rnd(*shape, std=1.0, mean=0.0):
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * std + mean

    w = collections.OrderedDict()
    w["embed.W_E"] = rnd(V, D)
    w["pos_embed.W_pos"] = rnd(N, D, std=0.5)
    for l in range(L):
        p = f"blocks.{l}."
        w[p + "ln1.w"] = rnd(D, std=0.2, mean=1.0)
        w[p + "ln1.b"] = rnd(D, std=0.2)
        w[p + "ln2.w"] = rnd(D, std=0.2, mean=1.0)
        w[p + "ln2.b"] = rnd(D, std=0.2)
        for x in "QKV":
            w[p + f"attn.W_{x}"] = rnd(H, D, E, std=1.5 / math.sqrt(D))
        w[p + "attn.W_O"] = rnd(H, E, D, std=1.0 / math.sqrt(H * E))
        for x in "QKV":
            w[p + f"attn.b_{x}"] = rnd(H, E, std=0.3)
        w[p + "attn.b_O"] = rnd(D, std=0.3)
        w[p + "mlp.W_in"] = rnd(D, M, std=1.0 / math.sqrt(D))
        w[p + "mlp.b_in"] = rnd(M, std=0.3)
        w[p + "mlp.W_out"] = rnd(M, D, std=1.0 / math.sqrt(M))
        w[p + "mlp.b_out"] = rnd(D, std=0.3)
    w["ln_final.w"] = rnd(D, std=0.2, mean=1.0)
    w["ln_final.b"] = rnd(D, std=0.2)
    w["unembed.W_U"] = rnd(D, VO, std=1.0 / math.sqrt(D))
    w["unembed.b_U"] = rnd(VO, std=0.3)
    return w


def to_mingpt(w, cfg):
    """The minGPT state dict TransformerLens' conversion turns back into `w` (b_U dropped)."""
    H, E, D = cfg["n_heads"], cfg["d_head"], cfg["d_model"]
    m = collections.OrderedDict()
    m["pos_emb"] = w["pos_embed.W_pos"].unsqueeze(0)
    m["tok_emb.weight"] = w["embed.W_E"]
    for l in range(cfg["n_layers"]):
        p = f"blocks.{l}."
        m[p + "ln1.weight"] = w[p + "ln1.w"]
        m[p + "ln1.bias"] = w[p + "ln1.b"]
        m[p + "ln2.weight"] = w[p + "ln2.w"]
        m[p + "ln2.bias"] = w[p + "ln2.b"]
        for name, x in (("key", "K"), ("query", "Q"), ("value", "V")):
            # [head, d_model, d_head] -> [(head d_head), d_model]
            m[p + f"attn.{name}.weight"] = w[p + f"attn.W_{x}"].permute(0, 2, 1).reshape(H * E, D)
            m[p + f"attn.{name}.bias"] = w[p + f"attn.b_{x}"].reshape(H * E)
        # [head, d_head, d_model] -> [d_model, (head d_head)]
        m[p + "attn.proj.weight"] = w[p + "attn.W_O"].reshape(H * E, D).t()
        m[p + "attn.proj.bias"] = w[p + "attn.b_O"]
        n = cfg["n_ctx"]
        m[p + "attn.mask"] = torch.tril(torch.ones(n, n)).view(1, 1, n, n)
        m[p + "mlp.0.weight"] = w[p + "mlp.W_in"].t()
        m[p + "mlp.0.bias"] = w[p + "mlp.b_in"]
        m[p + "mlp.2.weight"] = w[p + "mlp.W_out"].t()
        m[p + "mlp.2.bias"] = w[p + "mlp.b_out"]
    m["ln_f.weight"] = w["ln_final.w"]
    m["ln_f.bias"] = w["ln_final.b"]
    m["head.weight"] = w["unembed.W_U"].t()
    return m


# ---- weight processing, from the docs/inference.md description ----

def fold_ln(w, cfg):
    w = collections.OrderedDict((k, v.clone()) for k, v in w.items())

    for l in range(cfg["n_layers"]):
        p = f"blocks.{l}."
        lw, lb = w.pop(p + "ln1.w"), w.pop(p + "ln1.b")
        for x in "QKV":
            W = w[p + f"attn.W_{x}"]  # [head, d_model, d_head]
            w[p + f"attn.b_{x}"] = w[p + f"attn.b_{x}"] + torch.einsum("hde,d->he", W, lb)
            W = W * lw[None, :, None]
            w[p + f"attn.W_{x}"] = W - W.mean(dim=1, keepdim=True)
        lw, lb = w.pop(p + "ln2.w"), w.pop(p + "ln2.b")
        W = w[p + "mlp.W_in"]
        w[p + "mlp.b_in"] = w[p + "mlp.b_in"] + lb @ W
        W = W * lw[:, None]
        w[p + "mlp.W_in"] = W - W.mean(dim=0, keepdim=True)
    lw, lb = w.pop("ln_final.w"), w.pop("ln_final.b")
    W = w["unembed.W_U"]
    w["unembed.b_U"] = w["unembed.b_U"] + lb @ W
    W = W * lw[:, None]
    w["unembed.W_U"] = W - W.mean(dim=0, keepdim=True)
    return w


def center_writing_weights(w, cfg):
    w = collections.OrderedDict(w)
    keys = ["embed.W_E", "pos_embed.W_pos"]
    for l in range(cfg["n_layers"]):
        keys += [f"blocks.{l}.attn.W_O", f"blocks.{l}.attn.b_O", f"blocks.{l}.mlp.W_out",
                 f"blocks.{l}.mlp.b_out"]
    for k in keys:
        w[k] = w[k] - w[k].mean(dim=-1, keepdim=True)
    return w


def center_unembed(w):
    w = collections.OrderedDict(w)
    w["unembed.W_U"] = w["unembed.W_U"] - w["unembed.W_U"].mean(dim=-1, keepdim=True)
    w["unembed.b_U"] = w["unembed.b_U"] - w["unembed.b_U"].mean()
    return w


def fold_value_biases(w, cfg):
    w = collections.OrderedDict(w)
    for l in range(cfg["n_layers"]):
        p = f"blocks.{l}.attn."
        w[p + "b_O"] = w[p + "b_O"] + torch.einsum("he,hed->d", w[p + "b_V"], w[p + "W_O"])
        w[p + "b_V"] = torch.zeros_like(w[p + "b_V"])
    return w


def process(w, cfg):
    return fold_value_biases(center_unembed(center_writing_weights(fold_ln(w, cfg), cfg)), cfg)


# ---- the forward ----

def layer_norm(x, w, prefix, cache):
    x = x - x.mean(dim=-1, keepdim=True)
    scale = torch.sqrt((x * x).mean(dim=-1, keepdim=True) + EPS)
    cache[prefix + ".hook_scale"] = scale
    x = x / scale
    if prefix + ".w" in w:
        x = x * w[prefix + ".w"] + w[prefix + ".b"]
    cache[prefix + ".hook_normalized"] = x
    return x


def forward(w, cfg, tokens):
    """Every hook of TransformerLens' HookedTransformer, in float64."""
    cache = {}
    B, P = tokens.shape
    embed = w["embed.W_E"][tokens]
    pos = w["pos_embed.W_pos"][:P].unsqueeze(0).expand(B, P, -1)
    cache["hook_embed"], cache["hook_pos_embed"] = embed, pos
    resid = embed + pos
    causal = torch.triu(torch.ones(P, P, dtype=torch.bool), diagonal=1)
    for l in range(cfg["n_layers"]):
        p = f"blocks.{l}."
        cache[p + "hook_resid_pre"] = resid
        x = layer_norm(resid, w, p + "ln1", cache)
        q = torch.einsum("bpd,hde->bphe", x, w[p + "attn.W_Q"]) + w[p + "attn.b_Q"]
        k = torch.einsum("bpd,hde->bphe", x, w[p + "attn.W_K"]) + w[p + "attn.b_K"]
        v = torch.einsum("bpd,hde->bphe", x, w[p + "attn.W_V"]) + w[p + "attn.b_V"]
        cache[p + "attn.hook_q"], cache[p + "attn.hook_k"], cache[p + "attn.hook_v"] = q, k, v
        scores = torch.einsum("bqhe,bkhe->bhqk", q, k) / math.sqrt(cfg["d_head"])
        scores = scores.masked_fill(causal, float("-inf"))
        cache[p + "attn.hook_attn_scores"] = scores
        pattern = torch.softmax(scores, dim=-1)
        cache[p + "attn.hook_pattern"] = pattern
        z = torch.einsum("bhqk,bkhe->bqhe", pattern, v)
        cache[p + "attn.hook_z"] = z
        attn_out = torch.einsum("bqhe,hed->bqd", z, w[p + "attn.W_O"]) + w[p + "attn.b_O"]
        cache[p + "hook_attn_out"] = attn_out
        resid_mid = resid + attn_out
        cache[p + "hook_resid_mid"] = resid_mid
        x = layer_norm(resid_mid, w, p + "ln2", cache)
        pre = x @ w[p + "mlp.W_in"] + w[p + "mlp.b_in"]
        cache[p + "mlp.hook_pre"] = pre
        post = 0.5 * pre * (1.0 + torch.erf(pre / math.sqrt(2.0)))  # exact GELU
        cache[p + "mlp.hook_post"] = post
        mlp_out = post @ w[p + "mlp.W_out"] + w[p + "mlp.b_out"]
        cache[p + "hook_mlp_out"] = mlp_out
        resid = resid_mid + mlp_out
        cache[p + "hook_resid_post"] = resid
    x = layer_norm(resid, w, "ln_final", cache)
    logits = x @ w["unembed.W_U"] + w["unembed.b_U"]
    cache["logits"] = logits
    cache["log_probs"] = torch.log_softmax(logits, dim=-1)
    return cache


def save_f32(path, tensors):
    torch.save(collections.OrderedDict((k, v.to(torch.float32).contiguous())
                                       for k, v in tensors.items()), path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--size", choices=SIZES, default="small")
    ap.add_argument("--games", type=int, default=6)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--minimal", action="store_true",
                    help="only tl.pth, mingpt.pth, tokens and the expected activations")
    args = ap.parse_args()
    cfg = SIZES[args.size]
    os.makedirs(args.out, exist_ok=True)
    gen = torch.Generator().manual_seed(args.seed)
    # Round the weights to float32 first: the files hold float32, and the reference must use the
    # exact values the C++ reads.
    w = collections.OrderedDict((k, v.float().double()) for k, v in random_weights(cfg, gen).items())
    tokens = torch.randint(1, 61, (args.games, cfg["n_ctx"]), generator=gen)
    out = lambda name: os.path.join(args.out, name)

    save_f32(out("tl.pth"), w)
    save_f32(out("mingpt.pth"), to_mingpt(w, cfg))
    torch.save(tokens, out("tokens.pth"))
    save_f32(out("expected_raw.pth"), forward(w, cfg, tokens))
    save_f32(out("expected_processed.pth"), forward(process(w, cfg), cfg, tokens))
    if args.minimal:
        return
    nobias = collections.OrderedDict(w)
    nobias["unembed.b_U"] = torch.zeros_like(w["unembed.b_U"])
    save_f32(out("tl_nobias.pth"), nobias)
    lnpre = fold_ln(w, cfg)
    with_buffers = collections.OrderedDict()
    for k, v in lnpre.items():
        with_buffers[k] = v
        if k.endswith("attn.b_O"):
            n = cfg["n_ctx"]
            with_buffers[k.replace("b_O", "mask")] = torch.tril(torch.ones(n, n, dtype=torch.bool))
            with_buffers[k.replace("b_O", "IGNORE")] = torch.tensor(-1e5)
    save_f32(out("lnpre.pth"), with_buffers)

    bad = collections.OrderedDict(w)
    del bad["blocks.1.attn.W_K"]
    save_f32(out("bad_missing.pth"), bad)
    bad = collections.OrderedDict(w)
    bad["blocks.0.attn.W_X"] = torch.zeros(3)
    save_f32(out("bad_extra.pth"), bad)
    bad = collections.OrderedDict(w)
    bad["blocks.1.mlp.b_in"] = torch.zeros(cfg["d_mlp"] + 1)
    save_f32(out("bad_shape.pth"), bad)
    bad = to_mingpt(w, cfg)
    del bad["blocks.0.attn.proj.bias"]
    save_f32(out("bad_mingpt_missing.pth"), bad)


if __name__ == "__main__":
    main()
