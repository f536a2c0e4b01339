"""scikit-learn detectors on the splits of `tfjs-lens bench tabular` (src/cli/commands/bench_tabular_run.ts):
per split, standardisation fitted on the training rows (labels unused), then IsolationForest
(n_estimators and max_samples as passed; ADBench/PyOD defaults 100 and min(256, n)), LocalOutlierFactor
(n_neighbors=20, novelty=True: fitted on the training rows, scoring the test rows) and OneClassSVM
(rbf kernel, gamma='auto', nu=0.5: PyOD's defaults, which ADBench runs). Writes, per split, each
detector's test scores with higher = more anomalous (the negated `score_samples`).

Usage: python3 adbench_sklearn.py in.json out.json
in.json: {"X": [[...], ...], "splits": [{"seed": 0, "train": [...], "test": [...]}, ...],
          "detectors": ["sk_iforest", "sk_lof", "sk_ocsvm"], "trees": 100, "max_samples": 256}
out.json: [{"sk_iforest": [...], "sk_lof": [...], "sk_ocsvm": [...]}, ...]  (one object per split)"""
import json
import sys

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.neighbors import LocalOutlierFactor
from sklearn.preprocessing import StandardScaler
from sklearn.svm import OneClassSVM

inp = json.load(open(sys.argv[1]))
X = np.array(inp["X"], dtype=float)
wanted = inp["detectors"]
out = []
for s in inp["splits"]:
    tr, te = np.array(s["train"], dtype=int), np.array(s["test"], dtype=int)
    scaler = StandardScaler().fit(X[tr])
    xtr, xte = scaler.transform(X[tr]), scaler.transform(X[te])
    models = {
        "sk_iforest": lambda: IsolationForest(
            n_estimators=inp["trees"], max_samples=min(inp["max_samples"], len(tr)), random_state=s["seed"]
        ),
        "sk_lof": lambda: LocalOutlierFactor(n_neighbors=min(20, len(tr) - 1), novelty=True),
        "sk_ocsvm": lambda: OneClassSVM(kernel="rbf", gamma="auto", nu=0.5),
    }
    split = {}
    for name in wanted:
        m = models[name]().fit(xtr)
        split[name] = (-m.score_samples(xte)).tolist()
    out.append(split)
json.dump(out, open(sys.argv[2], "w"))
