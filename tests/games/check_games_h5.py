#!/usr/bin/python3
"""Checks a games product with h5py, using exactly the unpacking recipe of docs/games.md.

Usage: check_games_h5.py STORE.h5 LABEL EXPECTED_BOARDS.npy
EXPECTED_BOARDS.npy: int8 [N, 60, 64], +1 black / -1 white, as the C++ engine (or the fixture
script's Python Othello) computes them. Exit status 0 when everything matches.
"""
import sys

import h5py
import numpy as np


def unpack(bitboards):
    """uint64 [...] -> uint8 [..., 8, 8]: bit s of a board is square s = row * 8 + col."""
    as_bytes = bitboards[..., None].astype("<u8").view(np.uint8)
    bits = np.unpackbits(as_bytes, axis=-1, bitorder="little")
    return bits.reshape(*bitboards.shape, 8, 8)


def main():
    store, label, expected_path = sys.argv[1:4]
    games = h5py.File(store, "r")[label]
    assert games.attrs["format"] == "othrun.games", games.attrs["format"]
    expected = np.load(expected_path).reshape(-1, 60, 8, 8)

    black, white = unpack(games["black"][:]), unpack(games["white"][:])
    board = black.astype(np.int8) - white.astype(np.int8)  # +1 black, -1 white, 0 empty
    assert board.shape == expected.shape, (board.shape, expected.shape)
    assert np.array_equal(board, expected), "black/white boards differ"

    relative = board * games["mine"][:][..., None, None]  # +1 mine, -1 theirs
    length = games["length"][:]
    for g in range(len(length)):
        n = length[g]
        assert (games["tokens"][g, n:] == 0).all() and (games["tokens"][g, :n] > 0).all()
        # Every played square is the mover's colour right after its move.
        squares = games["squares"][g, :n]
        mover = games["mover"][g, :n]
        assert (board[g, np.arange(n), squares // 8, squares % 8] == mover).all()
    if games.attrs["dense"]:
        assert np.array_equal(games["dense/board"][:], board), "dense/board differs"
        assert np.array_equal(games["dense/relative"][:], relative), "dense/relative differs"
        assert np.array_equal(games["dense/valid"][:], unpack(games["valid"][:])), "dense/valid"
    print(f"ok: {len(length)} games")


if __name__ == "__main__":
    main()
