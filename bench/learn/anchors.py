"""Anchors for `npm run bench -- learn`: writes the fixed 80/20 splits as CSV and trains scikit-learn
and XGBoost on them. Prints one JSON object on stdout. Usage: anchors.py OUT_DIR [--skip-train]"""
import json
import os
import sys
import time

import numpy as np
import sklearn
import xgboost as xgb
from sklearn.datasets import load_breast_cancer, load_digits, make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def datasets():
    bc = load_breast_cancer()
    yield "breast_cancer", bc.data, bc.target
    dg = load_digits()
    yield "digits", dg.data, dg.target
    X, y = make_classification(100000, 50, n_informative=20, random_state=0)
    yield "synthetic_100k", X, y


def write_csv(path, X, y):
    if os.path.exists(path):
        return
    header = ",".join([f"f{i}" for i in range(X.shape[1])] + ["label"])
    np.savetxt(path + ".tmp", np.column_stack([X, y]), delimiter=",", header=header, comments="", fmt="%.17g")
    os.replace(path + ".tmp", path)


def score(model, Xte, yte, n_classes):
    proba = model.predict_proba(Xte)
    pred = proba.argmax(axis=1)
    auc = roc_auc_score(yte, proba[:, 1]) if n_classes == 2 else roc_auc_score(yte, proba, multi_class="ovr")
    return float(accuracy_score(yte, pred)), float(auc)


def timed(make, Xtr, ytr, Xte, yte, n_classes):
    model = make()
    t0 = time.perf_counter()
    c0 = time.process_time()
    model.fit(Xtr, ytr)
    cpu = time.process_time() - c0
    seconds = time.perf_counter() - t0
    acc, auc = score(model, Xte, yte, n_classes)
    # CPU seconds (all threads) next to wall seconds: on a shared, loaded machine wall time of
    # multi-threaded code is inflated most, so both are reported.
    return {"accuracy": acc, "auc": auc, "trainSeconds": seconds, "cpuSeconds": cpu}


def main():
    out = sys.argv[1]
    skip_train = "--skip-train" in sys.argv
    os.makedirs(out, exist_ok=True)
    result = {"sklearn": sklearn.__version__, "xgboost": xgb.__version__, "datasets": {}}
    for name, X, y in datasets():
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)
        write_csv(os.path.join(out, f"learn-{name}-train.csv"), Xtr, ytr)
        write_csv(os.path.join(out, f"learn-{name}-test.csv"), Xte, yte)
        n_classes = int(len(np.unique(y)))
        entry = {"rows": int(X.shape[0]), "cols": int(X.shape[1]), "classes": n_classes, "models": {}}
        if not skip_train:
            models = entry["models"]
            models["sklearn_logreg"] = timed(
                lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
                Xtr, ytr, Xte, yte, n_classes)
            models["sklearn_hgb"] = timed(
                lambda: HistGradientBoostingClassifier(
                    max_iter=200, max_depth=6, max_leaf_nodes=None, learning_rate=0.1, early_stopping=False,
                    random_state=0),
                Xtr, ytr, Xte, yte, n_classes)
            models["xgboost"] = timed(
                lambda: xgb.XGBClassifier(
                    tree_method="hist", n_estimators=200, max_depth=6, learning_rate=0.1, nthread=2,
                    random_state=0),
                Xtr, ytr, Xte, yte, n_classes)
            # Single-threaded XGBoost: the like-for-like CPU comparison for our single-threaded trainer,
            # and free of OpenMP threads competing with other processes on a shared machine.
            models["xgboost_1thread"] = timed(
                lambda: xgb.XGBClassifier(
                    tree_method="hist", n_estimators=200, max_depth=6, learning_rate=0.1, nthread=1,
                    random_state=0),
                Xtr, ytr, Xte, yte, n_classes)
        result["datasets"][name] = entry
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
