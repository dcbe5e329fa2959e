#!/usr/bin/python3
"""Prints the quality of the shipped artifacts as the README's markdown tables, from the stores
that trained them: runs/train_model.h5 (experiments/train_model.yaml) and runs/train_probe_sae.h5
(experiments/train_probe_sae.yaml). Usage: scripts/artifact_quality.py [runs folder]"""
import sys

import h5py
import numpy as np

SQUARES = [row + str(col) for row in "ABCDEFGH" for col in range(8)]


def model_table(store):
    with h5py.File(store, "r") as f:
        model = f["model"]
        a = model.attrs
        config = dict(line.split(": ", 1) for line in a["othrun.config"].splitlines() if ": " in line)
        steps = model["eval/step"][...]
        legal = model["eval/legal_rate"][...]
        print("Model (`models/othello_gpt_default.pth`, experiments/train_model.yaml):\n")
        print("| | |\n|---|---|")
        print(f"| top-1 legal-move rate, {config['eval_games']} held-out games | "
              f"{100 * float(a['final_legal_rate']):.2f}% |")
        print(f"| next-move loss, held out | {float(a['final_eval_loss']):.4f} |")
        print(f"| training | {int(a['steps'])} steps x {config['batch_games']} games, "
              f"{float(a['othrun.seconds']) / 60:.0f} min at {float(a['tokens_per_second']):.0f} "
              "tokens/s |")
        curve = ", ".join(f"{int(s)}: {100 * r:.1f}%" for s, r in zip(steps, legal))
        print(f"| legal-move rate during training | {curve} |\n")


def probe_table(f):
    probe = f["probe"]
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


def sae_table(f):
    print("SAEs (`models/sae_l6_resid_pre_<n>/`, blocks.6.hook_resid_pre, held-out games; loss "
          "increase: next-move loss with the reconstruction spliced in at positions 5..53):\n")
    print("| features | MSE | explained variance | L0 | dead | next-move loss: clean -> spliced |")
    print("|---|---|---|---|---|---|")
    for label in sorted((k for k in f if k.startswith("sae_")), key=lambda k: int(k[4:])):
        a = f[label].attrs
        print(f"| {label[4:]} | {float(a['mse']):.4f} | {float(a['explained_variance']):.4f} | "
              f"{float(a['l0']):.1f} | {int(a['dead_features'])} | "
              f"{float(a['loss_clean']):.4f} -> {float(a['loss_spliced']):.4f} "
              f"(+{float(a['loss_increase']):.4f}) |")
    print()


def main():
    runs = sys.argv[1] if len(sys.argv) > 1 else "runs"
    model_table(f"{runs}/train_model.h5")
    with h5py.File(f"{runs}/train_probe_sae.h5", "r") as f:
        probe_table(f)
        sae_table(f)


if __name__ == "__main__":
    main()
