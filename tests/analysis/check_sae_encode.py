"""Recomputes sae_encode's product with torch from the activations and the sae_training file."""
import sys

import numpy as np
import torch

from common import check, features_dense, open_store, sae_training_stub

store = open_store(sys.argv[1])
sae_training_stub()
sd = torch.load(sys.argv[2])["state_dict"]
prod = store["features"]
x = torch.tensor(store["acts"]["blocks.6.hook_resid_pre"][:]).reshape(-1, sd["W_enc"].shape[0])
pre = (x - sd["b_dec"]) @ sd["W_enc"] + sd["b_enc"]
acts = torch.relu(pre)
out = acts @ sd["W_dec"] + sd["b_dec"]
dense = features_dense(prod["features"])
check(np.allclose(dense, acts.numpy(), atol=1e-5), "feature activations differ")
m = prod["metrics"].attrs
mse = ((out - x) ** 2).mean().item()
check(abs(m["mse"] - mse) < 1e-6 * max(1, mse), f"mse {m['mse']} vs {mse}")
x_centred = x - x.mean(dim=0, keepdim=True)  # one batch: all 40 games fit in chunk_games = 64
mse_st = (torch.pow(out - x, 2) / (x_centred ** 2).sum(dim=-1, keepdim=True).sqrt()).mean().item()
check(abs(m["mse_sae_training"] - mse_st) < 1e-5 * max(1, mse_st), f"sae_training mse {m['mse_sae_training']} vs {mse_st}")
ev = 1 - ((x - out) ** 2).sum().item() / ((x - x.mean(0)) ** 2).sum().item()
check(abs(m["explained_variance"] - ev) < 1e-5, f"explained variance {m['explained_variance']} vs {ev}")
# othrun's BLAS kernel sums the pre-activations in another order than torch's: they agree within
# the 1e-5 asserted above, so an entry within 1e-5 of zero may fire in one and not in the other.
# Counts may differ by those entries only; othrun's own metrics must agree with its counts exactly.
fired = (acts > 0).sum(0).numpy()
near_zero = (pre.abs() <= 1e-5).numpy()
got_fired = prod["metrics/fired"][:]
check(np.all(np.abs(got_fired - fired) <= near_zero.sum(0)), "fired counts")
rows = x.shape[0]
l0_torch = (acts > 0).sum(1).double().mean().item()
check(abs(m["l0"] - l0_torch) <= near_zero.sum() / rows + 1e-9, f"l0 {m['l0']} vs {l0_torch}")
check(abs(m["l0"] - got_fired.sum() / rows) < 1e-9, "l0 vs fired counts")
check(m["dead_features"] == int((got_fired == 0).sum()), "dead features")
print("sae_encode OK")
