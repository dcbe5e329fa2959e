"""Recomputes a dashboard step's numbers from the store with h5py + numpy (+ torch to read the
model and probe files) and compares them with the product's datasets and the pages' data files.

usage: check_dashboard.py STORE LABEL --unit feature|neuron|probe --source LABEL[:HOOK]
       [--correlation LABEL] [--logits LABEL:DATASET] [--sae DIR] [--model PTH] [--probe PTH]
       [--probe-direction mine|blank]
"""
import argparse
import json
import os
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "analysis"))
from common import board_states, check, features_dense  # noqa: E402

CENTRE = (27, 28, 35, 36)
TOKEN_SQUARES = [s for s in range(64) if s not in CENTRE]  # token t (1..60) -> TOKEN_SQUARES[t-1]


def close(a, b, rtol, atol, what):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    check(a.shape == b.shape, f"{what}: shape {a.shape} != {b.shape}")
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    check((nan_a == nan_b).all(), f"{what}: NaN at different places")
    ok = np.isclose(a[~nan_a], b[~nan_b], rtol=rtol, atol=atol)
    if not ok.all():
        i = np.flatnonzero(~ok)[0]
        check(False, f"{what}: {a[~nan_a][i]} != {b[~nan_b][i]} (first of {int((~ok).sum())})")


def read_js(path, prefix):
    text = open(path, encoding="utf-8").read()
    check(text.startswith(prefix + "(") and text.rstrip().endswith(");"), f"{path}: not a data file")
    return json.loads(text[len(prefix) + 1:text.rstrip().rindex(")")])


def nulls(values):
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def read_safetensors(path):
    """{name: float64 array} of a safetensors file (8-byte header size, JSON header, raw data)."""
    raw = open(path, "rb").read()
    size = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + size])
    types = {"F32": np.float32, "F64": np.float64, "F16": np.float16}
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        data = np.frombuffer(raw[8 + size + begin:8 + size + end], dtype=types[info["dtype"]])
        out[name] = data.reshape(info["shape"]).astype(np.float64)
    return out


def collapse_probe(path, normalise):
    """blank_dir, mine_dir [d_model, 64] float32, with othrun's float32 operations in its order
    (so projections on them can be compared bit for bit)."""
    import torch
    full = torch.load(path, map_location="cpu")
    if isinstance(full, dict):
        full = next(v for v in full.values() if hasattr(v, "shape"))
    p = full.float().numpy()  # [3, d_model, 8, 8, 3]
    d = p.shape[1]
    half = np.float32(0.5)
    blank = half * (p[0, ..., 0] + p[1, ..., 0])
    theirs = half * (p[0, ..., 1] + p[1, ..., 2])
    mine = half * (p[0, ..., 2] + p[1, ..., 1])
    blank_dir = (blank - theirs * half - mine * half).reshape(d, 64)
    mine_dir = (mine - theirs).reshape(d, 64)
    check(not normalise, "normalised probes are not checked here")
    return blank_dir, mine_dir


def unit_values(store, args):
    """[units, rows] float32, the span (first, count), and the unit directions (or None)."""
    label, _, hook = args.source.partition(":")
    if args.unit == "feature":
        g = store[label]["features"]
        dense = features_dense(g)
        first = int(g.attrs["positions_start"])
        count = int(g.attrs["positions_stop"]) - first
        return dense.T.copy(), first, count, int(g.attrs["games"])
    x = store[label][hook]
    first = int(x.attrs["positions_start"])
    count = int(x.attrs["positions_stop"]) - first
    games = x.shape[0]
    acts = x[:].astype(np.float32).reshape(games * count, -1)
    if args.unit == "neuron":
        return acts.T.copy(), first, count, games
    blank_dir, mine_dir = collapse_probe(args.probe, False)
    d = blank_dir if args.probe_direction == "blank" else mine_dir
    # Summed in double in the order othrun sums (cumsum is sequential), then rounded to float32.
    x = acts.astype(np.float64)
    out = np.empty((64, x.shape[0]), dtype=np.float32)
    for s in range(64):
        out[s] = np.cumsum(x * d[:, s].astype(np.float64), axis=1)[:, -1].astype(np.float32)
    return out, first, count, games


def directions(args, units, width):
    import torch
    if args.unit == "feature":
        if not args.sae:
            return None
        return read_safetensors(os.path.join(args.sae, "sae_weights.safetensors"))["W_dec"]
    if args.unit == "probe":
        blank_dir, mine_dir = collapse_probe(args.probe, False)
        return (blank_dir if args.probe_direction == "blank" else mine_dir).T
    hook = args.source.partition(":")[2]
    if hook.endswith(".mlp.hook_post"):
        if not args.model:
            return None
        layer = int(hook.split(".")[1])
        sd = torch.load(args.model, map_location="cpu")
        return sd[f"blocks.{layer}.mlp.W_out"].double().numpy()
    if hook.split(".")[-1] in ("hook_resid_pre", "hook_resid_mid", "hook_resid_post",
                               "hook_attn_out", "hook_mlp_out"):
        return np.eye(width)
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("store")
    ap.add_argument("label")
    ap.add_argument("--unit", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--games", default="games")
    ap.add_argument("--correlation")
    ap.add_argument("--logits")
    ap.add_argument("--sae")
    ap.add_argument("--model")
    ap.add_argument("--probe")
    ap.add_argument("--probe-direction", default="mine")
    args = ap.parse_args()

    store = h5py.File(args.store, "r")
    d = store[args.label]
    values, first, count, n_games = unit_values(store, args)
    units, rows = values.shape
    check(int(d.attrs["units"]) == units, f"units {d.attrs['units']} != {units}")

    games = store[args.games]
    length = games["length"][:n_games].astype(np.int64)
    positions = np.arange(first, first + count)
    keep = (positions[None, :] < length[:, None]).reshape(-1)
    state, mine = board_states(games, n_games, 60)
    state = state.reshape(n_games, 60, 64)[:, first:first + count].reshape(-1, 64)
    mine = mine.reshape(n_games, 60)[:, first:first + count].reshape(-1)
    codes = np.where(state == 0, 0, np.where(state == mine[:, None], 2, 1))
    onehot = np.zeros((rows, 192), dtype=np.float64)
    for s in range(64):
        for k in range(3):
            onehot[:, s * 3 + k] = codes[:, s] == k
    kept_onehot = onehot[keep]
    tokens = games["tokens"][:n_games]
    prefix = [tokens[g, :t + 1].tobytes() for g in range(n_games) for t in positions]
    prefix_count = {}
    for r in np.flatnonzero(keep):
        prefix_count[prefix[r]] = prefix_count.get(prefix[r], 0) + 1
    n = float(keep.sum())

    opts = dict(bins=d["histogram/counts"].shape[1], groups=d["groups/bounds"].shape[1] - 1,
                per_unit=d["examples/game"].shape[1], ranks=d["states/square"].shape[1])
    ex_game = d["examples/game"][:]
    ex_pos = d["examples/position"][:]
    ex_val = d["examples/value"][:]
    ex_grp = d["examples/group"][:]
    top_examples = int((ex_grp[0] == -1).sum()) if units else 0
    corr = store[args.correlation] if args.correlation else None

    dens, means, mins, maxs = [], [], [], []
    for u in range(units):
        v = values[u][keep].astype(np.float64)
        rows_kept = np.flatnonzero(keep)
        dens.append((v > 0).mean())
        means.append(v.mean())
        mins.append(v.min())
        maxs.append(v.max())
        nz = v != 0
        # Histogram of the non-zero values, the plugin's bin formula (numpy's differs at edges).
        nzv = v[nz]
        if len(nzv):
            lo, hi = nzv.min(), nzv.max()
            if lo == hi:
                lo, hi = lo - 0.5, hi + 0.5
            b = np.clip(np.floor((nzv - lo) / (hi - lo) * opts["bins"]), 0, opts["bins"] - 1)
            counts = np.bincount(b.astype(np.int64), minlength=opts["bins"])
            check((counts == d["histogram/counts"][u]).all(), f"unit {u}: histogram counts")
            edges = lo + (hi - lo) * np.arange(opts["bins"] + 1) / opts["bins"]
            close(d["histogram/edges"][u], edges, 1e-12, 0, f"unit {u}: histogram edges")
        # Top examples: largest non-zero values, ties by row, one per sequence of moves so far.
        nz_rows = rows_kept[nz]
        order = np.lexsort((nz_rows, -nzv))
        top, seen = [], set()
        for r in nz_rows[order]:
            if len(top) == top_examples:
                break
            if prefix[r] not in seen:
                seen.add(prefix[r])
                top.append(r)
        got = ex_game[u][ex_grp[u] == -1] * count + (ex_pos[u][ex_grp[u] == -1] - first)
        check(list(got) == list(top), f"unit {u}: top examples {list(got)} != {list(top)}")
        # Quantile groups: equal-count groups of the active values; examples lie in their group.
        active = np.sort(v[v > 0])
        m = len(active)
        if m:
            g = opts["groups"]
            bounds = [active[min(k * m // g, m - 1)] for k in range(g)] + [active[-1]]
            close(d["groups/bounds"][u], bounds, 0, 0, f"unit {u}: group bounds")
            chosen = set()
            for j in range(opts["per_unit"]):
                if ex_game[u][j] < 0:
                    continue
                row = ex_game[u][j] * count + (ex_pos[u][j] - first)
                check(prefix[row] not in chosen, f"unit {u}: two examples with the moves of row {row}")
                chosen.add(prefix[row])
                check(values[u][row] == ex_val[u][j], f"unit {u}: example value")
                grp = ex_grp[u][j]
                if grp >= 0:
                    lo_i, hi_i = grp * m // g, (grp + 1) * m // g
                    check(active[lo_i] <= ex_val[u][j] <= active[hi_i - 1],
                          f"unit {u}: example {j} outside group {grp}")
        # Board states.
        sq = d["states/square"][u]
        st = d["states/state"][u]
        cols = sq * 3 + st
        if corr is not None:
            fc = corr["firing_corr"][u].reshape(-1)
            for name in ("firing_corr", "act_corr", "f1", "auroc"):
                close(d["states/" + name][u], corr[name][u].reshape(-1)[cols], 0, 0,
                      f"unit {u}: states/{name} from {args.correlation}")
        else:
            fired = (v > 0).astype(np.float64)
            c = kept_onehot.sum(0)
            mx, mv, mf = c / n, v.mean(), fired.mean()
            var_x, var_v, var_f = mx * (1 - mx), v.var(), mf * (1 - mf)
            with np.errstate(invalid="ignore", divide="ignore"):
                act = np.where((var_x > 0) & (var_v > 0),
                               ((v @ kept_onehot) / n - mv * mx) / np.sqrt(var_v * var_x), 0)
                both = fired @ kept_onehot
                fc = np.where((var_x > 0) & (var_f > 0),
                              (both / n - mf * mx) / np.sqrt(var_f * var_x), 0)
                f1 = np.where(fired.sum() + c > 0, 2 * both / (fired.sum() + c), 0)
            # Rounding (float32 results of double sums) may reorder near-ties: check values and
            # that the listed states are a top-k by the recomputed firing correlation.
            tol = 1e-5  # float32 rounding of a correlation in [-1, 1], plus summation order
            close(d["states/firing_corr"][u], fc[cols], 0, tol, f"unit {u}: firing_corr")
            close(d["states/act_corr"][u], act[cols], 0, tol, f"unit {u}: act_corr")
            close(d["states/f1"][u], f1[cols], 0, tol, f"unit {u}: f1")
            kth = np.sort(fc)[::-1][len(cols) - 1]
            check(fc[cols].min() >= kth - tol, f"unit {u}: states are not the top by firing_corr")
            uniq, inv, cnt = np.unique(v, return_inverse=True, return_counts=True)
            rank = (np.cumsum(cnt) - (cnt - 1) / 2.0)[inv]
            for j, col in enumerate(cols):
                lab = kept_onehot[:, col] > 0
                cpos = lab.sum()
                want = (np.nan if cpos in (0, len(v)) else
                        (rank[lab].sum() - cpos * (cpos + 1) / 2) / (cpos * (len(v) - cpos)))
                close([d["states/auroc"][u][j]], [want], 0, 1e-6, f"unit {u}: auroc of column {col}")
    close(d["units/density"][:], dens, 1e-12, 0, "density")
    close(d["units/mean"][:], means, 1e-9, 1e-12, "mean")
    close(d["units/min"][:], mins, 0, 0, "min")
    close(d["units/max"][:], maxs, 0, 0, "max")

    # Directions: direct effect and probe cosines.
    dirs = directions(args, units, values.shape[0])
    if args.model and dirs is not None:
        import torch
        sd = torch.load(args.model, map_location="cpu")
        W_U = sd["unembed.W_U"].double().numpy()
        w = sd["ln_final.w"].double().numpy() if "ln_final.w" in sd else np.ones(W_U.shape[0])
        dd = np.asarray(dirs, dtype=np.float64)
        logits = ((dd - dd.mean(1, keepdims=True)) * w) @ W_U
        moves = logits[:, 1:] - logits[:, 1:].mean(1, keepdims=True)
        effect = np.full((units, 64), np.nan)
        effect[:, TOKEN_SQUARES] = moves
        scale = np.nanmax(np.abs(effect))
        close(d["direct_effect"][:], effect, 1e-5, 1e-6 * scale, "direct effect")
    else:
        check("direct_effect" not in d, "a direct effect without model or direction")
    if args.probe and dirs is not None:
        blank_dir, mine_dir = collapse_probe(args.probe, False)
        dd = np.asarray(dirs, dtype=np.float64)
        for name, pd in (("blank", blank_dir), ("mine", mine_dir)):
            cos = (dd @ pd) / np.outer(np.linalg.norm(dd, axis=1), np.linalg.norm(pd, axis=0))
            close(d["cosine/" + name][:], np.nan_to_num(cos), 1e-5, 1e-6, f"cosine/{name}")

    # The pages' data files against the product and the store.
    folder = os.path.join(os.path.dirname(os.path.abspath(args.store)),
                          os.path.basename(args.store)[:-3] + ".d", d.attrs["dashboard_index"])
    folder = os.path.dirname(folder)
    check(os.path.isfile(os.path.join(folder, "index.html")), f"no index.html in {folder}")
    index = read_js(os.path.join(folder, "data", "index.js"), "othrunDashboard.index")
    close(nulls(index["density"]), d["units/density"][:], 1e-4, 1e-12, "index.js density")
    check(index["square"] == [int(x) for x in d["states/square"][:, 0]], "index.js top squares")
    close(nulls(index["f1"]), d["states/f1"][:, 0], 1e-4, 1e-7, "index.js F1")
    close(nulls(index["auroc"]), d["states/auroc"][:, 0], 1e-4, 1e-7, "index.js AUROC")
    lp = None
    if args.logits:
        lab, _, name = args.logits.partition(":")
        lp_ds = store[lab][name]
        lp_first = int(lp_ds.attrs["positions_start"])
        lp = (lp_ds, lp_first, name)
    black = games["black"][:n_games].astype(np.uint64)
    white = games["white"][:n_games].astype(np.uint64)
    squares = games["squares"][:n_games]
    bits = np.arange(64, dtype=np.uint64)
    meta = read_js(os.path.join(folder, "data", "meta.js"), "othrunDashboard.meta")
    per_file = meta["units_per_file"]
    files = {}
    for u in range(units):
        if u // per_file not in files:
            files[u // per_file] = read_js(os.path.join(folder, "data", "u", f"{u // per_file}.js"),
                                           "othrunDashboard.units")
        page = files[u // per_file][u % per_file]
        check(page["index"] == u, f"unit {u}: data file holds unit {page['index']} in its place")
        close([page["density"], page["max"]], [d["units/density"][u], d["units/max"][u]], 1e-4,
              1e-12, f"u/{u}.js stats")
        check(page["counts"] == [int(x) for x in d["histogram/counts"][u]], f"u/{u}.js counts")
        exs = page["examples"]
        check(len(exs) == int((ex_game[u] >= 0).sum()), f"u/{u}.js: example count")
        for j, e in enumerate(exs):
            g, t = e["game"], e["position"]
            check(g == ex_game[u][j] and t == ex_pos[u][j], f"u/{u}.js example {j}: place")
            b = ((black[g, t] >> bits) & np.uint64(1)).astype(bool)
            w = ((white[g, t] >> bits) & np.uint64(1)).astype(bool)
            want = "".join("b" if b[s] else "w" if w[s] else "." for s in range(64))
            check(e["board"] == want, f"u/{u}.js example {j}: board")
            check(e["move"] == squares[g, t], f"u/{u}.js example {j}: move")
            spark = values[u].reshape(n_games, count)[g].astype(np.float64)
            spark[~keep.reshape(n_games, count)[g]] = np.nan
            # 4 significant digits in the page: relative error <= 5e-4
            close(nulls(e["spark"]), spark, 5e-4, 1e-9, f"u/{u}.js example {j}: sparkline")
            same = prefix_count[prefix[g * count + t - first]]
            check(e["repeats"] == same - 1, f"u/{u}.js example {j}: repeats {e['repeats']} != {same - 1}")
            if lp is not None:
                row = lp[0][g, t - lp[1]].astype(np.float64)
                p = np.exp(row) if lp[2] == "log_probs" else np.exp(row - row.max()) / np.exp(
                    row - row.max()).sum()
                want_p = np.full(64, np.nan)
                want_p[TOKEN_SQUARES] = p[1:]
                # Stored rounded to units of 1e-4: absolute error <= 5e-5 (+ float32 exp).
                close(nulls(e["probs"]) / 1e4, want_p, 0, 5.1e-5, f"u/{u}.js example {j}: probs")
            else:
                check(e["probs"] is None, f"u/{u}.js example {j}: probs without logits")
        if "direct_effect" in d:
            close(nulls(page["effect"]), d["direct_effect"][u], 1e-4, 1e-7, f"u/{u}.js effect")
    print(f"OK {args.label}: {units} units, {n_games} games, positions {first}..{first + count - 1}")


if __name__ == "__main__":
    main()
