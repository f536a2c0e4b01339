"""scikit-learn on the folds of bench/finetune_tabular.ts: median imputation and standardisation fitted
on each fold's training rows, LogisticRegression and RandomForestClassifier (100 trees); writes the
P(class 1) of each fold's validation and test rows. Usage: python3 finetune_sklearn.py in.json out.json"""
import json
import sys

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

inp = json.load(open(sys.argv[1]))
X = np.array([[np.nan if v is None else v for v in r] for r in inp["X"]], dtype=float)
y = np.array(inp["y"])
out = []
for f in inp["folds"]:
    tr, va, te = f["train"], f["val"], f["test"]
    fold = {}
    for name, clf in [
        ("logistic regression", LogisticRegression(max_iter=1000)),
        ("random forest", RandomForestClassifier(n_estimators=100, random_state=inp["seed"])),
    ]:
        m = make_pipeline(SimpleImputer(strategy="median"), StandardScaler(), clf).fit(X[tr], y[tr])
        fold[name] = {"val": m.predict_proba(X[va])[:, 1].tolist(), "test": m.predict_proba(X[te])[:, 1].tolist()}
    out.append(fold)
json.dump(out, open(sys.argv[2], "w"))
