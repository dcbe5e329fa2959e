#!/usr/bin/env python3
"""Checks the report's "SAEs compared" table against the store, read with h5py.

Usage: check_sae_table.py STORE.h5 REPORT.html EXPECTED_ROWS

Every row of the table (one per sae_encode product) must show the metrics that product stores:
d_sae on its root, rows / mse / explained_variance / l0 / dead_features on its metrics group. The
report writes each value in full (%.17g) in data-value; a decimal round trip of a double is exact,
so the comparison is exact. Prints what it compared; exits 1 on any difference.
"""
import html.parser
import sys

import h5py


class Table(html.parser.HTMLParser):
    """Collects {step: {key: value}} from <table class="sae-comparison">."""

    def __init__(self):
        super().__init__()
        self.inside = False
        self.step = None
        self.rows = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("class") == "sae-comparison":
            self.inside = True
        elif self.inside and tag == "tr" and "data-step" in attrs:
            self.step = attrs["data-step"]
            self.rows[self.step] = {}
        elif self.inside and tag == "td" and "data-key" in attrs and self.step:
            self.rows[self.step][attrs["data-key"]] = float(attrs["data-value"])

    def handle_endtag(self, tag):
        if tag == "table":
            self.inside = False


def main():
    store, report, expected = sys.argv[1], sys.argv[2], int(sys.argv[3])
    parser = Table()
    with open(report, encoding="utf-8") as page:
        parser.feed(page.read())
    errors = []
    with h5py.File(store, "r") as f:
        encoded = [label for label in f
                   if f[label].attrs.get("othrun.plugin") == "sae_encode"]
        if sorted(encoded) != sorted(parser.rows):
            errors.append(f"table rows {sorted(parser.rows)} != sae_encode products {sorted(encoded)}")
        for label in encoded:
            product = f[label]
            stored = {"d_sae": product.attrs["d_sae"]}
            for key in ("rows", "mse", "explained_variance", "l0", "dead_features"):
                stored[key] = product["metrics"].attrs[key]
            metrics = product["metrics"].attrs
            if "loss_clean" in metrics and "loss_spliced" in metrics:
                stored["loss_increase"] = float(metrics["loss_spliced"]) - float(metrics["loss_clean"])
            shown = parser.rows.get(label, {})
            for key, value in stored.items():
                if key not in shown:
                    errors.append(f"{label}: {key} not in the table")
                elif float(value) != shown[key]:
                    errors.append(f"{label}: {key} shown {shown[key]!r}, stored {float(value)!r}")
                else:
                    print(f"{label}: {key} = {shown[key]!r} (as stored)")
    if len(parser.rows) != expected:
        errors.append(f"{len(parser.rows)} rows, expected {expected}")
    for error in errors:
        print("MISMATCH:", error)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
