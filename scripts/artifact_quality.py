#!/usr/bin/python3
"""Prints the quality of the shipped artifacts as the README's markdown tables, from the stores
that trained them: runs/train_model.h5 (experiments/train_model.yaml) and runs/train_probe_sae.h5
(experiments/train_probe_sae.yaml).
Usage: scripts/artifact_quality.py [STORE ...]   (default: runs/train_model.h5 runs/train_probe_sae.h5)
Each product (model_*, probe, sae_*) is taken from the first store that holds it."""
import sys

import h5py
import numpy as np

SQUARES = [row + str(col) for row in "ABCDEFGH" for col in range(8)]


def model_table(phases):
    """phases: the train_model products in training order; the last one is the shipped model."""
    final = phases[-1].attrs
    config = dict(line.split(": ", 1) for line in final["othrun.config"].splitlines() if ": " in line)
    print("Model (`models/othello_gpt_default.pth`, experiments/train_model.yaml):\n")
    print("| | |\n|---|---|")
    print(f"| top-1 legal-move rate, {config['eval_games']} held-out games | "
          f"{100 * float(final['final_legal_rate']):.2f}% |")
    print(f"| next-move loss, held out | {float(final['final_eval_loss']):.4f} |")
    for phase in phases:
        a = phase.attrs
        curve = ", ".join(f"{int(s)}: {100 * r:.2f}%"
                          for s, r in zip(phase["eval/step"][...], phase["eval/legal_rate"][...]))
        print(f"| phase `{a['othrun.label']}` | {int(a['steps'])} steps, "
              f"{float(a['othrun.seconds']) / 60:.0f} min, {float(a['tokens_per_second']):.0f} "
              f"tokens/s; legal-move rate by step: {curve} |")
    print()


def probe_table(probe):
    accuracy = probe["accuracy"][...]  # [mode, 64]
    print("Probe (`models/linear_probe_l6.pth`, blocks.6.hook_resid_post, positions 5..53, "
          "held-out games):\n")
    print("| mode | mean accuracy | worst square |\n|---|---|---|")
    for mode, name in enumerate(["black to play", "white to play", "all"]):
        worst = int(np.argmin(accuracy[mode]))
        print(f"| {mode} ({name}) | {100 * accuracy[mode].mean():.2f}% | "
              f"{SQUARES[worst]} {100 * accuracy[mode][worst]:.2f}% |")
    print("\nPer-square accuracy, mode 2 (rows A-H, columns 0-7):\n")
    print("| | " + " | ".join(str(c) for c in range(8)) + " |")
    print("|---" * 9 + "|")
    for row in range(8):
        cells = " | ".join(f"{100 * accuracy[2][row * 8 + c]:.1f}" for c in range(8))
        print(f"| {'ABCDEFGH'[row]} | {cells} |")
    print()


def sae_table(saes):
    print("SAEs (`models/sae_l6_resid_pre_<n>/`, blocks.6.hook_resid_pre, held-out games; loss "
          "increase: next-move loss with the reconstruction spliced in at positions 5..53):\n")
    print("| features | MSE | explained variance | L0 | dead | next-move loss: clean -> spliced |")
    print("|---|---|---|---|---|---|")
    for label in sorted(saes, key=lambda k: int(k[4:])):
        a = saes[label].attrs
        print(f"| {label[4:]} | {float(a['mse']):.4f} | {float(a['explained_variance']):.4f} | "
              f"{float(a['l0']):.1f} | {int(a['dead_features'])} | "
              f"{float(a['loss_clean']):.4f} -> {float(a['loss_spliced']):.4f} "
              f"(+{float(a['loss_increase']):.4f}) |")
    print()


def main():
    stores = sys.argv[1:] or ["runs/train_model.h5", "runs/train_probe_sae.h5"]
    products = {}
    for store in stores:
        f = h5py.File(store, "r")
        for label in f:
            products.setdefault(label, f[label])
    # The shipped model is the last training phase: the model product written last.
    phases = [p for p in products.values() if "final_legal_rate" in p.attrs]
    model_table(sorted(phases, key=lambda p: p.attrs["othrun.finished"]))
    probe_table(products["probe"])
    sae_table({label: p for label, p in products.items() if label.startswith("sae_")})


if __name__ == "__main__":
    main()
