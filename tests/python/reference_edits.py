#!/usr/bin/python3
"""Independent float64 reference for othrun's run-with-edits (tests/interventions).

Written from docs/interventions.md ("Edits") and TransformerLens' run_with_hooks semantics, not from
the C++ code. Uses reference_gpt.py's random small model (the inference tests' model) and runs a
float64 forward in which every hook point may change its activation. Run with Debian's
/usr/bin/python3 (python3-torch). Deterministic.

  reference_edits.py OUT_DIR

Writes into OUT_DIR:
  tl.pth        the small random model (TransformerLens layout, LN weights); the C++ loads it with
                the default processing, and the reference edits the processed model likewise
  inputs.pth    tokens [B, 59], tokens_b [B, 59] (a second batch: the patching source),
                the edit parameters (vec_*, dir_*, values_*) and a random standard SAE
                (sae.W_enc [32, 48], sae.b_enc, sae.W_dec [48, 32], sae.b_dec)
  expected.pth  "<case>.log_probs" for every case below, "<case>.<hook>" for an edited hook
"""
import collections
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_gpt as ref  # noqa: E402

B, SEED, D_SAE = 3, 4321, 48


def layer_norm(x, w, prefix, hook):
    x = x - x.mean(dim=-1, keepdim=True)
    scale = hook(prefix + ".hook_scale", torch.sqrt((x * x).mean(dim=-1, keepdim=True) + ref.EPS))
    x = x / scale
    if prefix + ".w" in w:
        x = x * w[prefix + ".w"] + w[prefix + ".b"]
    return hook(prefix + ".hook_normalized", x)


def forward(w, cfg, tokens, edit):
    """Log-probs with `edit(name, x)` applied at every hook; the edited activations in `seen`."""
    seen = {}

    def hook(name, x):
        x = edit(name, x)
        seen[name] = x
        return x

    Bn, P = tokens.shape
    resid = hook("hook_embed", w["embed.W_E"][tokens]) + hook(
        "hook_pos_embed", w["pos_embed.W_pos"][:P].unsqueeze(0).expand(Bn, P, -1))
    causal = torch.triu(torch.ones(P, P, dtype=torch.bool), diagonal=1)
    for l in range(cfg["n_layers"]):
        p = f"blocks.{l}."
        resid = hook(p + "hook_resid_pre", resid)
        x = layer_norm(resid, w, p + "ln1", hook)
        q = hook(p + "attn.hook_q", torch.einsum("bpd,hde->bphe", x, w[p + "attn.W_Q"]) + w[p + "attn.b_Q"])
        k = hook(p + "attn.hook_k", torch.einsum("bpd,hde->bphe", x, w[p + "attn.W_K"]) + w[p + "attn.b_K"])
        v = hook(p + "attn.hook_v", torch.einsum("bpd,hde->bphe", x, w[p + "attn.W_V"]) + w[p + "attn.b_V"])
        scores = torch.einsum("bqhe,bkhe->bhqk", q, k) / math.sqrt(cfg["d_head"])
        scores = hook(p + "attn.hook_attn_scores", scores.masked_fill(causal, float("-inf")))
        pattern = hook(p + "attn.hook_pattern", torch.softmax(scores, dim=-1))
        z = hook(p + "attn.hook_z", torch.einsum("bhqk,bkhe->bqhe", pattern, v))
        attn_out = hook(p + "hook_attn_out",
                        torch.einsum("bqhe,hed->bqd", z, w[p + "attn.W_O"]) + w[p + "attn.b_O"])
        resid_mid = hook(p + "hook_resid_mid", resid + attn_out)
        x = layer_norm(resid_mid, w, p + "ln2", hook)
        pre = hook(p + "mlp.hook_pre", x @ w[p + "mlp.W_in"] + w[p + "mlp.b_in"])
        post = hook(p + "mlp.hook_post", 0.5 * pre * (1.0 + torch.erf(pre / math.sqrt(2.0))))
        mlp_out = hook(p + "hook_mlp_out", post @ w[p + "mlp.W_out"] + w[p + "mlp.b_out"])
        resid = hook(p + "hook_resid_post", resid_mid + mlp_out)
    x = layer_norm(resid, w, "ln_final", hook)
    logits = x @ w["unembed.W_U"] + w["unembed.b_U"]
    return torch.log_softmax(logits, dim=-1), seen


# ---- the edits, one function per kind (docs/interventions.md) ----
# Sites are (row, position); the vector of a site lies on the last axis. Score hooks
# [B, head, query, key] are read with the query axis as positions.

def is_scores(name):
    return name.endswith("hook_attn_scores") or name.endswith("hook_pattern")


def sites_view(x, name):
    """x as [B, P, ...]: a view whose writes reach x."""
    return x.transpose(1, 2) if is_scores(name) else x


def site_mask(Bn, P, positions):
    mask = torch.zeros(Bn, P, dtype=torch.bool)
    if positions is None:
        mask[:] = True
    elif isinstance(positions, dict):  # {"per_row": [...]}
        for r, p in enumerate(positions["per_row"]):
            mask[r, p] = True
    else:
        mask[:, positions] = True
    return mask


def make_edit(kind, hook_names, positions=None, heads=None, vector=None, values=None, source=None,
              sae=None, features=None, keep_error=True):
    def edit(name, x):
        if name not in hook_names:
            return x
        x = x.clone()
        view = sites_view(x, name)  # [B, P, (H,) d]
        mask = site_mask(view.shape[0], view.shape[1], positions)
        for r in range(view.shape[0]):
            for p in range(view.shape[1]):
                if not mask[r, p]:
                    continue
                site = view[r, p]
                if heads is not None:
                    site = site[heads]
                new = edit_site(kind, site, r, name, p, heads, vector, values, source, sae,
                                features, keep_error)
                if heads is not None:
                    view[r, p, heads] = new
                else:
                    view[r, p] = new
        return x
    return edit


def row_of(t, r):
    return t[r] if t.dim() == 2 else t


def edit_site(kind, site, r, name, p, heads, vector, values, source, sae, features, keep_error):
    if kind == "add":
        return site + row_of(vector, r)
    if kind in ("set_along", "scale_along"):
        u = row_of(vector, r)
        u = u / u.norm()
        value = values[r] if len(values) > 1 else values[0]
        c = (site * u).sum(-1, keepdim=True)
        if kind == "set_along":
            return site - c * u + value * u
        return site - c * u + value * c * u
    if kind == "replace":
        src = sites_view(source, name)[r, p]
        return src[heads] if heads is not None else src
    if kind == "sae":
        f = torch.relu((site - sae["b_dec"]) @ sae["W_enc"] + sae["b_enc"])
        f2 = f.clone()
        for feature, op, value in features:
            f2[..., feature] = value if op == "set" else f2[..., feature] * value
        recon2 = f2 @ sae["W_dec"] + sae["b_dec"]
        if not keep_error:
            return recon2
        error = site - (f @ sae["W_dec"] + sae["b_dec"])
        return recon2 + error
    raise ValueError(kind)


def chain(*edits):
    def edit(name, x):
        for e in edits:
            x = e(name, x)
        return x
    return edit


def later(hook, n_layers):
    """hook and the same hook of every later layer."""
    layer = int(hook.split(".")[1])
    rest = ".".join(hook.split(".")[2:])
    return {f"blocks.{l}.{rest}" for l in range(layer, n_layers)}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    cfg = ref.SIZES["small"]
    gen = torch.Generator().manual_seed(SEED)
    w = collections.OrderedDict((k, v.float().double()) for k, v in ref.random_weights(cfg, gen).items())
    ref.save_f32(os.path.join(out, "tl.pth"), w)
    wp = ref.process(w, cfg)
    P, D, L = cfg["n_ctx"], cfg["d_model"], cfg["n_layers"]
    tokens = torch.randint(1, 61, (B, P), generator=gen)
    tokens_b = torch.randint(1, 61, (B, P), generator=gen)

    def f32(t):  # the C++ reads float32: use the rounded values here too
        return t.float().double()

    inputs = collections.OrderedDict()
    inputs["vec_resid"] = f32(torch.randn(D, generator=gen))
    inputs["vec_rows_post"] = f32(torch.randn(B, cfg["d_mlp"], generator=gen) * 0.5)
    inputs["dir_resid"] = f32(torch.randn(D, generator=gen))
    inputs["dir_rows"] = f32(torch.randn(B, D, generator=gen))
    inputs["values_rows"] = f32(torch.tensor([2.5, -1.0, 4.0], dtype=torch.float64))
    inputs["vec_z"] = f32(torch.randn(cfg["d_head"], generator=gen))
    sae = {
        "W_enc": f32(torch.randn(D, D_SAE, generator=gen) * 0.3),
        "b_enc": f32(torch.randn(D_SAE, generator=gen) * 0.2 - 0.1),
        "W_dec": f32(torch.nn.functional.normalize(torch.randn(D_SAE, D, generator=gen), dim=1)),
        "b_dec": f32(torch.randn(D, generator=gen) * 0.2),
    }
    for k, v in sae.items():
        inputs["sae." + k] = v
    _, source_b = forward(wp, cfg, tokens_b, lambda n, x: x)

    features = [(3, "set", 2.0), (7, "set", 0.0), (11, "scale", 3.0), (3, "scale", 0.5)]
    cases = collections.OrderedDict()
    cases["add_resid_pre"] = (make_edit("add", {"blocks.1.hook_resid_pre"}, positions=[3, 10],
                                        vector=inputs["vec_resid"]), "blocks.1.hook_resid_pre")
    cases["add_later"] = (make_edit("add", later("blocks.0.hook_resid_mid", L),
                                    vector=inputs["vec_resid"]), "blocks.1.hook_resid_mid")
    cases["add_rows_post"] = (make_edit("add", {"blocks.0.mlp.hook_post"}, positions=[0, 20, 58],
                                        vector=inputs["vec_rows_post"]), "blocks.0.mlp.hook_post")
    cases["add_z_head"] = (make_edit("add", {"blocks.1.attn.hook_z"}, positions=[7], heads=[2],
                                     vector=inputs["vec_z"]), "blocks.1.attn.hook_z")
    cases["set_along_rows"] = (make_edit("set_along", {"blocks.1.hook_resid_post"},
                                         positions={"per_row": [5, 30, 58]},
                                         vector=inputs["dir_rows"], values=inputs["values_rows"].tolist()),
                               "blocks.1.hook_resid_post")
    cases["reflect_later"] = (make_edit("scale_along", later("blocks.0.hook_resid_pre", L),
                                        vector=inputs["dir_resid"], values=[-1.0]),
                              "blocks.1.hook_resid_pre")
    cases["project_out_attn"] = (make_edit("scale_along", {"blocks.0.hook_attn_out"}, positions=[12],
                                           vector=inputs["dir_resid"], values=[0.0]),
                                 "blocks.0.hook_attn_out")
    cases["replace_z_head"] = (make_edit("replace", {"blocks.1.attn.hook_z"}, positions=[5, 6],
                                         heads=[1, 3], source=source_b["blocks.1.attn.hook_z"]),
                               "blocks.1.attn.hook_z")
    cases["replace_pattern"] = (make_edit("replace", {"blocks.0.attn.hook_pattern"}, heads=[0],
                                          positions=[9, 40],
                                          source=source_b["blocks.0.attn.hook_pattern"]),
                                "blocks.0.attn.hook_pattern")
    cases["replace_resid_rows"] = (make_edit("replace", {"blocks.1.hook_resid_mid"},
                                             positions={"per_row": [0, 17, 44]},
                                             source=source_b["blocks.1.hook_resid_mid"]),
                                   "blocks.1.hook_resid_mid")
    cases["sae_keep_error"] = (make_edit("sae", {"blocks.1.hook_resid_pre"}, positions=[4, 33],
                                         sae=sae, features=features), "blocks.1.hook_resid_pre")
    cases["sae_recon_only"] = (make_edit("sae", {"blocks.1.hook_resid_pre"}, sae=sae,
                                         features=features, keep_error=False),
                               "blocks.1.hook_resid_pre")
    cases["sae_later"] = (make_edit("sae", later("blocks.0.hook_resid_post", L), positions=[20],
                                    sae=sae, features=[(5, "set", 0.0), (9, "scale", 4.0)]),
                          "blocks.1.hook_resid_post")
    cases["chain"] = (chain(make_edit("add", {"blocks.0.hook_resid_post"}, vector=inputs["vec_resid"]),
                            make_edit("scale_along", {"blocks.0.hook_resid_post"},
                                      vector=inputs["dir_resid"], values=[-2.0])),
                      "blocks.0.hook_resid_post")

    expected = collections.OrderedDict()
    clean, _ = forward(wp, cfg, tokens, lambda n, x: x)
    expected["clean.log_probs"] = clean
    for name, (edit, hook) in cases.items():
        log_probs, seen = forward(wp, cfg, tokens, edit)
        expected[name + ".log_probs"] = log_probs
        expected[name + "." + hook] = seen[hook]
        # every case must change the output, or the comparison would prove nothing
        assert (log_probs - clean).abs().max() > 1e-3, name
    inputs["tokens"] = tokens
    inputs["tokens_b"] = tokens_b
    ref.save_f32(os.path.join(out, "expected.pth"), expected)
    torch.save(collections.OrderedDict(
        (k, v if v.dtype == torch.int64 else v.float().contiguous()) for k, v in inputs.items()),
        os.path.join(out, "inputs.pth"))


if __name__ == "__main__":
    main()
