"""Generates the drift benchmark data of issue 21 from a seed: 15 numeric and
5 categorical columns, reference and current (shifted) CSVs.

    python3 scripts/bench/drift_data.py --rows 1000000 --ref-rows 100000 --out /tmp/mlops-bench
"""
import argparse, os
import numpy as np

def frame(rng, n, shift):
    cols = {}
    for i in range(15):
        if i % 5 == 4:
            cols[f"n{i}"] = rng.integers(0, 40, n).astype(float)  # discrete, many ties
        else:
            cols[f"n{i}"] = np.round(rng.normal(shift * (i % 3), 1.0 + i / 10, n), 4)
    labels = np.array([f"cat{k}" for k in range(12)])
    for i in range(5):
        p = np.linspace(1, 2 + i + shift, 12); p /= p.sum()
        cols[f"c{i}"] = labels[rng.choice(12, n, p=p)]
    return cols

def write(path, cols):
    names = list(cols)
    with open(path, "w") as f:
        f.write(",".join(names) + "\n")
        rows = zip(*[cols[c].astype(str) if cols[c].dtype.kind == "f" else cols[c] for c in names])
        f.writelines(",".join(r) + "\n" for r in rows)

ap = argparse.ArgumentParser()
ap.add_argument("--rows", type=int, default=1_000_000)
ap.add_argument("--ref-rows", type=int, default=100_000)
ap.add_argument("--seed", type=int, default=21)
ap.add_argument("--out", default="/tmp/mlops-bench")
a = ap.parse_args()
os.makedirs(a.out, exist_ok=True)
rng = np.random.default_rng(a.seed)
write(f"{a.out}/drift_ref.csv", frame(rng, a.ref_rows, 0.0))
write(f"{a.out}/drift_cur_{a.rows}.csv", frame(rng, a.rows, 0.1))
