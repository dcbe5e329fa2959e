"""Compares the products of two othrun stores bit for bit (tests/mpi/check_ranks.sh).

usage: compare_stores.py REFERENCE.h5 OTHER.h5 [--virtual LABEL ...]

Every dataset and attribute of every product of REFERENCE must be in OTHER with the same values
(NaN equal to NaN), except what differs between any two runs: product ids, times, and the
othrun.* provenance that names them. --virtual LABEL: OTHER's product LABEL must be joined from
several ranks (HDF5 virtual datasets whose part files exist), read here through the index.
"""
import os
import sys

import h5py
import numpy as np

# Provenance that is the same for any two runs of one experiment; the other othrun.* attributes
# (product ids, times, input ids, hashes of them, the ranks) differ by design.
KEPT_OTHRUN = {"othrun.label", "othrun.plugin", "othrun.plugin_version", "othrun.kinds",
               "othrun.config", "othrun.experiment", "othrun.complete", "othrun.step_index"}


def volatile(name):
    if name.startswith("othrun."):
        return name not in KEPT_OTHRUN
    return "seconds" in name  # timings (seconds_total, loss_seconds, ...)


def same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind == "f":
        return np.array_equal(a.view(f"u{a.itemsize}"), b.view(f"u{b.itemsize}")) or \
            np.array_equal(a, b, equal_nan=True)
    return np.array_equal(a, b)


def compare_attrs(where, a, b, problems):
    for name in a.attrs:
        if volatile(name):
            continue
        if name not in b.attrs:
            problems.append(f"{where}: attribute {name} missing")
        elif not same(a.attrs[name], b.attrs[name]):
            problems.append(f"{where}: attribute {name} differs: {a.attrs[name]!r} vs "
                            f"{b.attrs[name]!r}")


def compare(reference, other):
    problems, datasets = [], 0
    for label in reference:
        if label not in other:
            problems.append(f"{label}: missing")
            continue

        def visit(name, obj):
            nonlocal datasets
            where = f"{label}/{name}"
            if name not in other[label]:
                problems.append(f"{where}: missing")
                return
            twin = other[label][name]
            compare_attrs(where, obj, twin, problems)
            if isinstance(obj, h5py.Dataset):
                datasets += 1
                if not same(obj[()], twin[()]):
                    problems.append(f"{where}: values differ")

        compare_attrs(label, reference[label], other[label], problems)
        reference[label].visititems(visit)
    return problems, datasets


def check_virtual(store, label):
    product = store[label]
    joined = []
    product.visititems(lambda name, obj: joined.append(name)
                       if isinstance(obj, h5py.Dataset) and obj.is_virtual else None)
    if not joined:
        return [f"{label}: no virtual dataset (was it written by several ranks?)"]
    folder = os.path.dirname(product.file.filename)
    files = [f.decode() if isinstance(f, bytes) else f for f in product.attrs["othrun.rank_files"]]
    missing = [f for f in files if not os.path.isfile(os.path.join(folder, f))]
    if len(files) < 2 or missing:
        return [f"{label}: rank files {files}, missing {missing}"]
    return []


def main():
    args = sys.argv[1:]
    virtual = [args[i + 1] for i, a in enumerate(args) if a == "--virtual"]
    with h5py.File(args[0], "r") as reference, h5py.File(args[1], "r") as other:
        problems, datasets = compare(reference, other)
        for label in virtual:
            problems += check_virtual(other, label)
    for problem in problems[:40]:
        print("  " + problem)
    if problems:
        print(f"FAIL: {args[1]} differs from {args[0]} ({len(problems)} problems)")
        return 1
    print(f"OK: {args[1]} == {args[0]} ({datasets} datasets compared bit for bit)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
