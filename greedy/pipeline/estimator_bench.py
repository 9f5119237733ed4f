"""Benchmark: ``GreedyPretrainedClassifier`` against scikit-learn's ``MLPClassifier``, each with its
defaults, in cross-validation on the data sets scikit-learn ships, side by side in one run.

Both sit behind a ``StandardScaler`` in a ``Pipeline``, as a practitioner would use either. Prints
figures; asserts nothing (these machines are noisy). Run as ``greedy bench --estimator``.
"""

from __future__ import annotations

import time

import numpy as np

from greedy.pipeline.targets import ESTIMATOR

# scikit-learn's shipped classification data sets, smallest first.
DATASETS = ("iris", "wine", "breast_cancer", "digits")


def _load(name: str):
    from sklearn import datasets

    return getattr(datasets, f"load_{name}")(return_X_y=True)


def _cross_validated(estimator, x, y, folds: int) -> tuple[float, np.ndarray]:
    """Seconds for a ``folds``-fold cross-validation (every fit and score) and each fold's accuracy."""
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pipeline = make_pipeline(StandardScaler(), clone(estimator))
    start = time.perf_counter()
    scores = cross_val_score(pipeline, x, y, cv=StratifiedKFold(folds, shuffle=True, random_state=0))
    return time.perf_counter() - start, scores


def report(quick: bool = False) -> list[dict]:
    """Print, per data set, both estimators' cross-validation time and accuracy, and return the rows."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    from greedy.learning.estimator import GreedyPretrainedClassifier

    names, folds = (DATASETS[:1], 2) if quick else (DATASETS, 5)
    contenders = {"greedy": GreedyPretrainedClassifier(), "sklearn": MLPClassifier(random_state=0)}
    print(f"greedy bench (estimator): {folds}-fold cross-validation, StandardScaler + each estimator's defaults")
    header = f"{'greedy s':>9s} {'MLP s':>8s} {'ratio':>6s}  {'greedy accuracy':>15s}  {'MLP accuracy':>15s}"
    print(f"{'data set':14s} {header}")
    rows = []
    for name in names:
        x, y = _load(name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # MLPClassifier's default 200 iterations
            measured = {key: _cross_validated(est, x, y, folds) for key, est in contenders.items()}
        (ours, our_scores), (theirs, their_scores) = measured["greedy"], measured["sklearn"]
        row = {
            "dataset": name,
            "greedy_seconds": ours,
            "sklearn_seconds": theirs,
            "ratio": ours / theirs,
            "greedy_accuracy": float(our_scores.mean()),
            "sklearn_accuracy": float(their_scores.mean()),
            "greedy_sd": float(our_scores.std(ddof=1)),
            "sklearn_sd": float(their_scores.std(ddof=1)),
        }
        rows.append(row)
        print(
            f"{name:14s} {ours:9.2f} {theirs:8.2f} {row['ratio']:6.2f}  "
            f"{row['greedy_accuracy']:7.3f} ± {row['greedy_sd']:.3f}  "
            f"{row['sklearn_accuracy']:7.3f} ± {row['sklearn_sd']:.3f}"
        )
    print("ratio: greedy's time over MLPClassifier's; ± is the standard deviation over folds")
    if not quick:
        print(ESTIMATOR.verdict(max(row["ratio"] for row in rows)))
    return rows
