"""Helpers of the analysis checks: read a store with h5py the way a user would."""
import sys
import types

import h5py
import numpy as np


def open_store(index):
    return h5py.File(index, "r")


def features_dense(group):
    ptr = group["row_ptr"][:]
    idx = group["index"][:].astype(np.int64)
    val = group["value"][:].astype(np.float32)
    rows = len(ptr) - 1
    dense = np.zeros((rows, int(group.attrs["d_sae"])), dtype=np.float32)
    row_of = np.repeat(np.arange(rows), np.diff(ptr))
    dense[row_of, idx] = val
    return dense


def board_states(games, n_games, positions):
    """[n_games * positions, 64] black/white states (+1/-1/0) and the `mine` colour per row."""
    black = games["black"][:n_games, :positions].astype(np.uint64)
    white = games["white"][:n_games, :positions].astype(np.uint64)
    bits = np.arange(64, dtype=np.uint64)
    b = ((black[..., None] >> bits) & np.uint64(1)).astype(np.int8)
    w = ((white[..., None] >> bits) & np.uint64(1)).astype(np.int8)
    state = (b - w).reshape(-1, 64)
    mine = games["mine"][:n_games, :positions].reshape(-1).astype(np.int8)
    return state, mine


def sae_training_stub():
    """Lets torch.load unpickle the sae_training cfg dataclass without the real package."""
    import dataclasses
    pkg = types.ModuleType("sae_training")
    cfg = types.ModuleType("sae_training.config")

    @dataclasses.dataclass
    class LanguageModelSAERunnerConfig:
        pass
    LanguageModelSAERunnerConfig.__module__ = "sae_training.config"
    cfg.LanguageModelSAERunnerConfig = LanguageModelSAERunnerConfig
    sys.modules["sae_training"] = pkg
    sys.modules["sae_training.config"] = cfg


def check(cond, message):
    if not cond:
        print("FAIL:", message)
        sys.exit(1)
