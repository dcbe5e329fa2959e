"""Recomputes max_activation and neuron_spectrum with torch/numpy as the notebook does."""
import sys

import numpy as np
import torch

from common import board_states, check, features_dense, open_store

store = open_store(sys.argv[1])
x = store["acts"]["blocks.6.hook_resid_pre"][:]
n_games, positions = x.shape[:2]
state, mine = board_states(store["games"], n_games, positions)

# max_activation, notebook rule and parity convention
v = torch.tensor(x[:, :, 3]).flatten()
top = v > v.quantile(0.99)
alternating = np.array([-1 if i % 2 == 0 else 1 for i in range(positions)])
flipped = (state.reshape(n_games, positions, 64) * alternating[None, :, None]).reshape(-1, 64)
m = store["max_nb"]
check(m.attrs["selected"] == int(top.sum()), f"selected {m.attrs['selected']} vs {int(top.sum())}")
check(abs(m.attrs["threshold"] - v.quantile(0.99).item()) < 1e-6, "threshold")
check(np.allclose(m["mean_board"][:].reshape(64), flipped[top.numpy()].mean(0)), "mean board")
check(np.allclose(m["mean_abs_board"][:].reshape(64), np.abs(flipped[top.numpy()]).mean(0)), "mean abs board")
rows = m["examples/game"][:] * positions + m["examples/position"][:]
check(set(rows.tolist()) == set(np.nonzero(top.numpy())[0].tolist()), "examples")
squares = store["games"]["squares"][:n_games, :positions].reshape(-1)
active = v.numpy() > 0
counts = np.bincount(squares[active], minlength=64)
check(np.array_equal(m["active_moves/counts"][:], counts), "active move counts")

# max_activation of a feature, top k = 25, real mine/theirs
acts = features_dense(store["features/features"])[:, 2]
order = np.argsort(-acts, kind="stable")[:25]
mf = store["max_feature"]
check(np.allclose(np.sort(mf["examples/value"][:]), np.sort(acts[order])), "feature top-k values")
rel = state * mine[:, None]
check(np.allclose(mf["mean_board"][:].reshape(64), rel[order].mean(0)), "feature mean board (real)")


def auroc(score, label):
    from itertools import groupby
    order = np.argsort(score, kind="stable")
    s = score[order]
    ranks = np.empty(len(s))
    i = 0
    while i < len(s):
        j = i
        while j < len(s) and s[j] == s[i]:
            j += 1
        ranks[i:j] = (i + 1 + j) / 2
        i = j
    r = np.empty(len(s))
    r[order] = ranks
    p = label.sum()
    return (r[label].sum() - p * (p + 1) / 2) / (p * (len(s) - p))


# neuron_spectrum: current move == E0, and square 19 == mine
vals = x[:, :, 3].reshape(-1)
for name, label, bins in [("spectrum", squares == 32, 100), ("spectrum_state", rel[:, 19] == 1, 30)]:
    s = store[name]
    edges = np.linspace(vals.min(), vals.max(), bins + 1)
    check(np.allclose(s["edges"][:], edges, atol=1e-6), f"{name} edges")
    for l in (0, 1):
        h, _ = np.histogram(vals[label == bool(l)].astype(np.float64), bins=s["edges"][:])
        check(np.array_equal(s["counts"][l], h), f"{name} counts label {l}: {s['counts'][l]} vs {h}")
        check(np.allclose(s["percent"][l], 100 * h / max(1, h.sum())), f"{name} percent")
        sel = vals[label == bool(l)].astype(np.float64)
        check(np.allclose(s["summary"][l], [len(sel), sel.mean(), sel.std(), sel.min(), sel.max()], atol=1e-6), f"{name} summary")
    check(abs(s.attrs["auroc"] - auroc(vals, label)) < 1e-9, f"{name} auroc")
print("units OK")
