#!/usr/bin/python3
"""Which layer-0 MLP neuron reads "the move just played" most cleanly? (How experiments/l6_sae.yaml
picked its neuron; the notebook's L0 N774 / E0 is the public model's.)

Usage: scripts/pick_neuron.py runs/l6_sae.h5 [cache label, default cache] [games label, default games]
Reads blocks.0.mlp.hook_pre of the cache and the games' squares through h5py; for every neuron and
square, scores how well the neuron separates "move just played == square" from the rest by the
AUROC of its pre-activation, and prints the best pairs.
"""
import sys

import h5py
import numpy as np


def auroc(values, positive):
    """Exact AUROC with ties counted half (Mann-Whitney U)."""
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values))
    sorted_values = values[order]
    # Average ranks over ties.
    _, first, counts = np.unique(sorted_values, return_index=True, return_counts=True)
    average = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(average, counts)
    n_pos = positive.sum()
    n_neg = len(values) - n_pos
    return (ranks[positive].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)


def main():
    store = sys.argv[1]
    cache = sys.argv[2] if len(sys.argv) > 2 else "cache"
    games = sys.argv[3] if len(sys.argv) > 3 else "games"
    with h5py.File(store, "r") as f:
        pre = f[cache]["blocks.0.mlp.hook_pre"][...]  # [games, positions, d_mlp]
        start = int(f[cache]["blocks.0.mlp.hook_pre"].attrs["positions_start"])
        squares = f[games]["squares"][...]  # [games, 60]; position p has just played move p
    positions = pre.shape[1]
    played = squares[:, start:start + positions].reshape(-1)
    values = pre.reshape(-1, pre.shape[2])
    # Screen with the difference of means in units of the overall std, then rank by exact AUROC.
    std = values.std(axis=0) + 1e-12
    candidates = []
    for square in np.unique(played[played >= 0]):
        mask = played == square
        score = (values[mask].mean(axis=0) - values[~mask].mean(axis=0)) / std
        for neuron in np.argsort(-score)[:3]:
            candidates.append((neuron, square, mask))
    results = sorted(((auroc(values[:, n], m), n, s) for n, s, m in candidates), reverse=True)
    print("neuron  square  label  AUROC(move just played == square)")
    for score, neuron, square in results[:10]:
        label = "ABCDEFGH"[square // 8] + str(square % 8)
        print(f"{neuron:6d}  {square:6d}  {label:5s}  {score:.4f}")


if __name__ == "__main__":
    main()
