"""Recomputes probe_projection with torch as the notebook collapses and applies the probe."""
import sys

import numpy as np
import torch

from common import board_states, check, open_store

store = open_store(sys.argv[1])
full = torch.load(sys.argv[2])
W = torch.load(sys.argv[3])["W_in"]
probe = torch.zeros(8, 8, 8, 3)
probe[..., 0] = 0.5 * (full[0, ..., 0] + full[1, ..., 0])
probe[..., 1] = 0.5 * (full[0, ..., 1] + full[1, ..., 2])
probe[..., 2] = 0.5 * (full[0, ..., 2] + full[1, ..., 1])
x = torch.tensor(store["acts8"]["blocks.6.hook_resid_post"][:].astype(np.float32))
n, pos = x.shape[:2]
scores = torch.einsum("gpd,drco->gprco", x, probe).reshape(n, pos, 64, 3)
p = store["probe"]
d = np.abs(p["scores"][:] - scores.numpy()).max()
check(np.allclose(p["scores"][:], scores.numpy(), atol=1e-4, rtol=1e-4), f"scores max diff {d}")
argmax = scores.argmax(-1).numpy()
check((p["argmax"][:] == argmax).mean() > 0.999, "argmax")
state, mine = board_states(store["games"], n, pos)
rel = (state * mine[:, None]).reshape(n, pos, 64)
truth = np.where(rel == 0, 0, np.where(rel < 0, 1, 2))
got = p["argmax"][:]
sel = slice(5, 54)
acc_sq = (got[:, sel] == truth[:, sel]).mean(axis=(0, 1))
check(np.allclose(p["accuracy/per_square"][:].reshape(64), acc_sq), "accuracy per square")
acc_pos = (got == truth).mean(axis=(0, 2))
check(np.allclose(p["accuracy/per_position"][5:54], acc_pos[5:54]), "accuracy per position")
check(np.isnan(p["accuracy/per_position"][0]), "positions outside the range are NaN")
blank = (probe[..., 0] - 0.5 * probe[..., 1] - 0.5 * probe[..., 2]).reshape(8, 64)
mine_dir = (probe[..., 2] - probe[..., 1]).reshape(8, 64)
cos_b = torch.nn.functional.normalize(W.T, dim=1) @ torch.nn.functional.normalize(blank, dim=0)
cos_m = torch.nn.functional.normalize(W.T, dim=1) @ torch.nn.functional.normalize(mine_dir, dim=0)
check(np.allclose(p["cosine/directions/blank"][:], cos_b.numpy(), atol=1e-5), "cosine blank")
check(np.allclose(p["cosine/directions/mine"][:], cos_m.numpy(), atol=1e-5), "cosine mine")
check(p["cosine/random/max_abs"].shape == (5,), "random baseline")
print("probe OK")
