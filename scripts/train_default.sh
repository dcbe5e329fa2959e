#!/bin/sh
# Trains the shipped default Othello-GPT (experiments/train_model.yaml, about 2 hours on 2 cores),
# then its probe and SAE (experiments/train_probe_sae.yaml). Interrupting and rerunning resumes
# from the last checkpoint. Usage: scripts/train_default.sh [build dir, default build]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-"$root/build"}
"$build/bin/othrun" "$root/experiments/train_model.yaml"
"$build/bin/othrun" "$root/experiments/train_probe_sae.yaml"
