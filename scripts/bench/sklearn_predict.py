"""Prediction latency and batch throughput of scikit-learn on the Telco rows,
to compare with `cargo bench -p mlops-serve --bench predict`.

    pip install scikit-learn pandas numpy
    python scripts/bench/sklearn_predict.py [--reps N]

Same data and preprocessing as the Rust side and as scripts/bench/sklearn_fit.py:
80/20 stratified split (random_state=42), median impute + standard scale
numeric, most-frequent impute + one-hot categoricals (unknown ignored), all in
one fitted Pipeline with LogisticRegression() or
RandomForestClassifier(100, n_jobs=2).

Timed:
- one row: `pipe.predict_proba(row_df)` on a one-row DataFrame (what a
  service does per request), cycling through the test rows; median and p99
  of N calls (default 2,000; 300 for the forest).
- batch: `pipe.predict_proba(test_df)` on the 1,409 test rows; rows/s of the
  median of 10 calls.
"""
import argparse
import pathlib
import statistics
import time

import numpy as np
import pandas as pd
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

ROOT = pathlib.Path(__file__).resolve().parents[2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=2000)
    args = ap.parse_args()
    df = pd.read_csv(ROOT / "examples" / "data" / "telco_churn.csv")
    df["TotalCharges"] = pd.to_numeric(df["TotalCharges"], errors="coerce")
    y = (df.pop("Churn") == "Yes").astype(int)
    df = df.drop(columns=["customerID"])
    numeric = ["SeniorCitizen", "tenure", "MonthlyCharges", "TotalCharges"]
    categorical = [c for c in df.columns if c not in numeric]
    pre = ColumnTransformer([
        ("num", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), numeric),
        ("cat", Pipeline([("impute", SimpleImputer(strategy="most_frequent")),
                          ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False))]), categorical),
    ])
    x_tr, x_te, y_tr, _ = train_test_split(df, y, test_size=0.2, stratify=y, random_state=42)
    print(f"scikit-learn {sklearn.__version__}, numpy {np.__version__}, {len(x_te)} test rows")
    models = {
        "logistic": (LogisticRegression(), args.reps),
        "forest_100 (n_jobs=2)": (RandomForestClassifier(n_estimators=100, n_jobs=2, random_state=42),
                                  max(50, args.reps // 7)),
    }
    rows = [x_te.iloc[[i]] for i in range(len(x_te))]
    for name, (model, reps) in models.items():
        pipe = Pipeline([("pre", pre), ("model", model)]).fit(x_tr, y_tr)
        for r in rows[:20]:  # warm-up
            pipe.predict_proba(r)
        times = []
        for i in range(reps):
            r = rows[i % len(rows)]
            t0 = time.perf_counter()
            pipe.predict_proba(r)
            times.append(time.perf_counter() - t0)
        times.sort()
        p50 = statistics.median(times) * 1e3
        p99 = times[int(0.99 * (len(times) - 1))] * 1e3
        batch = []
        for _ in range(10):
            t0 = time.perf_counter()
            pipe.predict_proba(x_te)
            batch.append(time.perf_counter() - t0)
        rate = len(x_te) / statistics.median(batch)
        print(f"{name}: one row p50 {p50:.2f} ms, p99 {p99:.2f} ms ({reps} calls); "
              f"batch {len(x_te)} rows: {rate:,.0f} rows/s")


if __name__ == "__main__":
    main()
