"""Fit time of scikit-learn on the Telco training split, to compare with
`cargo bench -p mlops-train --bench fit`.

    pip install scikit-learn pandas numpy
    python scripts/bench/sklearn_fit.py

Same preprocessing as the Rust side (median impute + standard scale numeric,
one-hot categoricals, fitted on the training rows) applied once before timing:
only `fit` is timed, plus the\nwhole Pipeline.fit (preprocessing + logistic regression). LogisticRegression defaults (lbfgs, C=1);
RandomForestClassifier(100, n_jobs=2); DecisionTreeClassifier unlimited and
max_depth=6. Prints the median of 10 fits.
"""
import pathlib
import statistics
import time

import pandas as pd
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier

ROOT = pathlib.Path(__file__).resolve().parents[2]


def main():
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
    x_tr, _, y_tr, _ = train_test_split(df, y, test_size=0.2, stratify=y, random_state=42)
    x = pre.fit_transform(x_tr)
    print(f"scikit-learn {sklearn.__version__}, train matrix {x.shape}")
    models = {
        "logistic_regression": lambda: LogisticRegression(),
        "random_forest_100 (n_jobs=2)": lambda: RandomForestClassifier(n_estimators=100, n_jobs=2, random_state=42),
        "decision_tree": lambda: DecisionTreeClassifier(random_state=42),
        "decision_tree_depth6": lambda: DecisionTreeClassifier(max_depth=6, random_state=42),
    }
    times = []
    for _ in range(10):
        pipe = Pipeline([("pre", pre), ("model", LogisticRegression())])
        t0 = time.perf_counter()
        pipe.fit(x_tr, y_tr)
        times.append(time.perf_counter() - t0)
    print(f"pipeline (preprocessing + logistic_regression): median {statistics.median(times) * 1000:.1f} ms")
    for name, make in models.items():
        times = []
        for _ in range(10):
            model = make()
            t0 = time.perf_counter()
            model.fit(x, y_tr)
            times.append(time.perf_counter() - t0)
        print(f"{name}: median {statistics.median(times) * 1000:.1f} ms, min {min(times) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
