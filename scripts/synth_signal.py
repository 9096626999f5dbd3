#!/usr/bin/env python3
"""Checks the signal of synthetic churn files against the real Telco file: churn rate,
marginals, and the ROC AUC of a scikit-learn logistic regression (80/20 stratified split,
random_state=42, median imputation + scaling + one-hot), the DEPENDENCIES.md baseline.

Usage: pip install pandas scikit-learn
       cargo run -p mlops-cli -- data synth --rows 30000 --seed 1 --out /tmp/synth.csv
       python3 scripts/synth_signal.py examples/data/telco_churn.csv /tmp/synth.csv
"""
import sys, pandas as pd, numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import make_pipeline
from sklearn.impute import SimpleImputer
from sklearn.metrics import roc_auc_score
for f in sys.argv[1:]:
    df = pd.read_csv(f, na_values=[" "])
    y = (df.Churn == "Yes").astype(int)
    X = df.drop(columns=["customerID", "Churn"])
    num = ["SeniorCitizen", "tenure", "MonthlyCharges", "TotalCharges"]
    cat = [c for c in X.columns if c not in num]
    pre = ColumnTransformer([("n", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), num),
                             ("c", OneHotEncoder(handle_unknown="ignore"), cat)])
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, stratify=y, random_state=42)
    m = make_pipeline(pre, LogisticRegression(max_iter=1000)).fit(Xtr, ytr)
    auc = roc_auc_score(yte, m.predict_proba(Xte)[:, 1])
    print(f, "rows", len(df), "churn", round(y.mean(), 3), "AUC", round(auc, 3))
    print(" churn by contract", df.groupby("Contract").Churn.apply(lambda s: round((s=="Yes").mean(),3)).to_dict())
    print(" contract", df.Contract.value_counts(normalize=True).round(3).to_dict())
    print(" internet", df.InternetService.value_counts(normalize=True).round(3).to_dict())
    print(" payment", df.PaymentMethod.value_counts(normalize=True).round(3).to_dict())
    print(" means", df[num].mean().round(2).to_dict())
