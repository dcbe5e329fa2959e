"""Recomputes sae_correlation with numpy/torch from the store: the notebook's exact formulas for
`corr_nb` (notebook_compat) and the corrected analysis for `corr`."""
import sys

import numpy as np
import torch

from common import board_states, check, features_dense, open_store

store = open_store(sys.argv[1])
acts = features_dense(store["features/features"])
rows, d_sae = acts.shape
positions = int(store["features/features"].attrs["positions"])
state, mine = board_states(store["games"], rows // positions, positions)

# ---- notebook: docs/analyses.md "What the seed notebook computes", line by line ----
feature_acts = torch.tensor(acts)
focus_is_empty = torch.tensor(state < 0).float()
combined = torch.cat(((feature_acts == 0).float(), focus_is_empty), dim=1)
corr = torch.corrcoef(combined.T)[:d_sae, d_sae:d_sae + 64]
corr = torch.where(torch.isnan(corr), torch.zeros_like(corr), corr)
vals, idxs = corr.flatten().topk(10)
nb = store["corr_nb/notebook"]
check(np.allclose(nb["corr"][:], corr.numpy(), atol=2e-5), "notebook corr matrix")
got = nb["top_pairs"]
check(np.allclose(got["score"][:], vals.numpy(), atol=2e-5), "notebook top values")
stoi = list(range(27)) + list(range(29, 35)) + list(range(37, 64))
labels = [f"{'ABCDEFGH'[i // 8]}{i % 8}" for i in stoi]
for i, (f, s) in enumerate(zip(got["feature"][:], got["square"][:])):
    check(abs(corr[f, s].item() - got["score"][i]) < 2e-5, f"pair {i} score")
    empty = state[:, s] == 0
    counts = got["counts"][i]
    expect = [[(acts[~empty, f] <= 0).sum(), (acts[~empty, f] > 0).sum()],
              [(acts[empty, f] <= 0).sum(), (acts[empty, f] > 0).sum()]]
    check(np.array_equal(counts, expect), f"pair {i} 2x2 {counts} vs {expect}")
    label = got.attrs["notebook_square_label"][i]
    check(label == (labels[s] if s < 60 else f"<IndexError: {s}>"), f"label {label}")

# ---- corrected analysis ----
rel = state * mine[:, None]  # +1 mine, -1 theirs
code = np.where(rel == 0, 0, np.where(rel < 0, 1, 2))
onehot = np.zeros((rows, 64, 3))
onehot[np.arange(rows)[:, None], np.arange(64)[None, :], code] = 1
y = onehot.reshape(rows, 192)


def pearson(x, y):
    x = x - x.mean(0)
    y = y - y.mean(0)
    num = x.T @ y
    den = np.sqrt((x ** 2).sum(0))[:, None] * np.sqrt((y ** 2).sum(0))[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        r = num / den
    return np.where(den > 0, r, 0.0)


c = store["corr"]
fired = (acts > 0).astype(np.float64)
check(np.allclose(c["firing_corr"][:].reshape(d_sae, 192), pearson(fired, y), atol=1e-6), "firing_corr")
check(np.allclose(c["act_corr"][:].reshape(d_sae, 192), pearson(acts.astype(np.float64), y), atol=1e-6), "act_corr")
tp = fired.T @ y
f1 = np.where(fired.sum(0)[:, None] + y.sum(0)[None, :] > 0,
              2 * tp / np.maximum(fired.sum(0)[:, None] + y.sum(0)[None, :], 1), 0)
check(np.allclose(c["f1"][:].reshape(d_sae, 192), f1, atol=1e-6), "f1")
check(np.array_equal(c["fired_class"][:].reshape(d_sae, 192), tp.astype(np.int64)), "fired_class")
# exact AUROC (average ranks for ties) vs the binned one, within its stored bound
order = np.argsort(acts, axis=0, kind="stable")
ranks = np.empty_like(acts, dtype=np.float64)
for f in range(d_sae):
    v = acts[order[:, f], f]
    r = np.arange(1, rows + 1, dtype=np.float64)
    uniq, start, cnt = np.unique(v, return_index=True, return_counts=True)
    avg = start + (cnt + 1) / 2.0
    r = np.repeat(avg, cnt)
    ranks[order[:, f], f] = r
P = y.sum(0)
N = rows - P
with np.errstate(invalid="ignore", divide="ignore"):
    auc = (ranks.T @ y - P * (P + 1) / 2) / (P * N)
got_auc = c["auroc"][:].reshape(d_sae, 192)
bound = c["auroc_tie_bound"][:].reshape(d_sae, 192)
ok = np.isnan(auc) == np.isnan(got_auc)
diff = np.abs(np.nan_to_num(auc) - np.nan_to_num(got_auc)) <= np.nan_to_num(bound) + 1e-5
check(ok.all() and diff.all(), f"auroc beyond its bound: {np.argwhere(~diff)[:5]}")
# top pairs: best firing_corr values and their 2x2 counts
flat = pearson(fired, y).flatten()
best = np.sort(flat)[::-1][:10]
check(np.allclose(c["top_pairs/score"][:], best, atol=1e-6), "top pair scores")
for i, (f, s, st) in enumerate(zip(c["top_pairs/feature"][:], c["top_pairs/square"][:], c["top_pairs/state"][:])):
    inside = code[:, s] == st
    expect = [[(acts[~inside, f] <= 0).sum(), (acts[~inside, f] > 0).sum()],
              [(acts[inside, f] <= 0).sum(), (acts[inside, f] > 0).sum()]]
    check(np.array_equal(c["top_pairs/counts"][i], expect), f"top pair {i} counts")
print("sae_correlation OK")
