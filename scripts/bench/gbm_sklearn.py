"""Fit and scoring time of scikit-learn's HistGradientBoostingClassifier and
LightGBM, to compare with `cargo bench -p mlops-train --bench gbm`.

    pip install scikit-learn lightgbm pandas numpy
    python scripts/bench/gbm_sklearn.py [ROUNDS_1M]

The Rust bench writes the 1M synthetic rows to target/bench-data/synth_1m.csv
first (run it once, or `mlops data synth --rows 1000000 --seed 7 --out ...`).
Same preprocessing as the Rust side (median impute + standard scale numeric,
one-hot categoricals), applied once before timing: only `fit` is timed.
Settings as the Rust bench: scikit-learn's defaults with early stopping off
(31 leaves, learning rate 0.1, min_samples_leaf 20, no L2), LightGBM with the
same leaves/rate/min_child_samples, 2 threads, no early stopping. Telco: the
seeded stratified 80/20 training split (scikit-learn's own split of the same
size), 100 rounds, median of 10 fits. 1M rows: ROUNDS_1M (default 20) rounds,
median of 3 fits. Scoring: a 200-tree model (fitted on the first 100k rows)
predicting all 1M rows, and one record, median of 5 / 1000.
"""
import pathlib
import statistics
import sys
import time

import numpy as np
import pandas as pd
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

try:
    import lightgbm
except ImportError:  # optional
    lightgbm = None

ROOT = pathlib.Path(__file__).resolve().parents[2]
NUMERIC = ["SeniorCitizen", "tenure", "MonthlyCharges", "TotalCharges"]


def prepare(df):
    df = df.copy()
    df["TotalCharges"] = pd.to_numeric(df["TotalCharges"], errors="coerce")
    y = (df.pop("Churn") == "Yes").astype(int).to_numpy()
    df = df.drop(columns=["customerID"])
    categorical = [c for c in df.columns if c not in NUMERIC]
    pre = ColumnTransformer([
        ("num", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), NUMERIC),
        ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical),
    ])
    return pre, df, y


def models(rounds):
    out = {"sklearn_hgb": lambda: HistGradientBoostingClassifier(
        max_iter=rounds, learning_rate=0.1, max_leaf_nodes=31, min_samples_leaf=20,
        l2_regularization=0.0, early_stopping=False, random_state=0)}
    if lightgbm is not None:
        out["lightgbm"] = lambda: lightgbm.LGBMClassifier(
            n_estimators=rounds, learning_rate=0.1, num_leaves=31, min_child_samples=20,
            reg_lambda=0.0, n_jobs=2, verbose=-1, random_state=0)
    return out


def time_fits(name, make, x, y, repeats):
    times = []
    for _ in range(repeats):
        m = make()
        t0 = time.perf_counter()
        m.fit(x, y)
        times.append(time.perf_counter() - t0)
    print(f"{name}: median {statistics.median(times) * 1000:.1f} ms, "
          f"range {min(times) * 1000:.1f}-{max(times) * 1000:.1f} ms ({repeats} fits)")
    return m


def main():
    rounds_1m = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    print(f"scikit-learn {sklearn.__version__}, lightgbm "
          f"{lightgbm.__version__ if lightgbm else 'not installed'}")
    pre, df, y = prepare(pd.read_csv(ROOT / "examples" / "data" / "telco_churn.csv"))
    x_tr, _, y_tr, _ = train_test_split(df, y, test_size=0.2, stratify=y, random_state=42)
    x = pre.fit_transform(x_tr)
    for name, make in models(100).items():
        time_fits(f"telco 100 rounds {name}", make, x, y_tr, 10)

    path = ROOT / "target" / "bench-data" / "synth_1m.csv"
    if not path.exists():
        print(f"{path} is missing: run `cargo bench -p mlops-train --bench gbm` first")
        return
    pre, df, y = prepare(pd.read_csv(path))
    x = pre.fit_transform(df)
    for name, make in models(rounds_1m).items():
        time_fits(f"synth 1M {rounds_1m} rounds {name}", make, x, y, 3)
    for name, make in models(200).items():
        m = make().fit(x[:100_000], y[:100_000])
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            m.predict_proba(x)
            times.append(time.perf_counter() - t0)
        med = statistics.median(times)
        print(f"score 200 trees {name}: 1M rows median {med * 1000:.0f} ms ({1e6 / med / 1e6:.2f} M rows/s)")
        one = x[:1]
        times = []
        for _ in range(1000):
            t0 = time.perf_counter()
            m.predict_proba(one)
            times.append(time.perf_counter() - t0)
        print(f"score 200 trees {name}: one record median {statistics.median(times) * 1e6:.0f} us")


if __name__ == "__main__":
    main()
