#!/usr/bin/env python3
"""Checks the report's "SAEs compared" table against the store, read with h5py.

Usage: check_sae_table.py STORE.h5 REPORT.html EXPECTED_ROWS [--loss]

Every row of the table (one per sae_encode product) must show the metrics that product stores:
d_sae on its root, rows / mse / explained_variance / l0 / dead_features on its metrics group, and
the loss increase loss_spliced - loss_clean where it stores both. With --loss every product must
store them (sae_encode ran with `model`); a row with them shows both losses and the games in its
text. The report writes each value in full (%.17g) in data-value; a decimal round trip of a double
is exact, so the comparison is exact. Prints what it compared; exits 1 on any difference.
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
        self.texts = {}  # step: the loss cell's text
        self.key = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("class") == "sae-comparison":
            self.inside = True
        elif self.inside and tag == "tr" and "data-step" in attrs:
            self.step = attrs["data-step"]
            self.rows[self.step] = {}
        elif self.inside and tag == "td" and "data-key" in attrs and self.step:
            self.rows[self.step][attrs["data-key"]] = float(attrs["data-value"])
            self.key = attrs["data-key"]

    def handle_data(self, data):
        if self.inside and self.step and getattr(self, "key", None) == "loss_increase":
            self.texts[self.step] = self.texts.get(self.step, "") + data

    def handle_endtag(self, tag):
        if tag == "table":
            self.inside = False
        elif tag == "td":
            self.key = None


def main():
    store, report, expected = sys.argv[1], sys.argv[2], int(sys.argv[3])
    need_loss = sys.argv[4:] == ["--loss"]
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
                clean, spliced = float(metrics["loss_clean"]), float(metrics["loss_spliced"])
                stored["loss_increase"] = spliced - clean
                # The cell's text: "+0.1838 (2.3514 → 2.5352, 50 games)".
                text = parser.texts.get(label, "")
                shown_text = [f"{spliced - clean:+.4f}", f"{clean:.4f}", f"{spliced:.4f}"]
                if "loss_games" in metrics:
                    shown_text.append(f"{int(metrics['loss_games'])} games")
                for value in shown_text:
                    if value not in text:
                        errors.append(f"{label}: loss cell {text!r} lacks {value}")
            elif need_loss:
                errors.append(f"{label}: stores no loss_clean / loss_spliced")
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
