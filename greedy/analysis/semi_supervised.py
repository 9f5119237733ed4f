"""What a practitioner would try first with few labels: scikit-learn baselines on the same labeled subsets.

Each baseline sees exactly what the pretrained networks see at a seed: the ``k`` labeled
training examples per class, and (where it can use them) every other training input without
its label. Settings are scikit-learn's defaults unless stated here; with one label per class
there is nothing to tune them on.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.semi_supervised import LabelSpreading, SelfTrainingClassifier
from threadpoolctl import threadpool_limits

from greedy.analysis.stats import Comparison, paired_comparison
from greedy.learning import jax_engine
from greedy.learning.config import TrainConfig
from greedy.learning.data import Dataset, can_hold_out_validation, with_validation
from greedy.learning.records import to_frame

PCA_COMPONENTS = 20  # fitted on every training input, labeled or not: the unsupervised step
LABEL_SPREADING_NEIGHBOURS = 10

# The regularized end-to-end baseline of the few-labels chapter: weight decay (an L2 penalty on the
# kernels) and early stopping on a held-out fifth of the labeled examples (at least one per class).
REGULARIZED_WEIGHT_DECAY = 1e-3
REGULARIZED_VALIDATION_FRACTION = 0.2
REGULARIZED = "end_to_end+regularized"


def regularized_end_to_end(parts: list[Dataset], config: TrainConfig, seeds: list[int], depth: int) -> pd.DataFrame:
    """The same network trained end to end with weight decay and, where every class has two labeled
    examples to spare one, early stopping on held-out labeled rows (column ``early_stopping``)."""
    config = config.with_(weight_decay=REGULARIZED_WEIGHT_DECAY)
    early = all(can_hold_out_validation(d) for d in parts)
    if early:
        parts = [
            with_validation(d, REGULARIZED_VALIDATION_FRACTION, random_state=s)
            for d, s in zip(parts, seeds, strict=True)
        ]
    records = jax_engine.end_to_end(parts, config, seeds, depths=[depth], early_stopping=early)
    return to_frame(records).assign(method=REGULARIZED, early_stopping=early)


SCIKIT_LEARN_BASELINES = {
    "logistic_regression": "logistic regression",
    "pca_logistic_regression": f"PCA ({PCA_COMPONENTS} components, all inputs) + logistic regression",
    "label_spreading": f"label spreading ({LABEL_SPREADING_NEIGHBOURS}-NN graph)",
    "self_training": "self-training (logistic regression)",
}
# Every baseline the pretrained network is measured against: scikit-learn's and the same network
# trained end to end with the regularization a practitioner would add (below).
BASELINES = {
    **SCIKIT_LEARN_BASELINES,
    REGULARIZED: f"the network end to end, weight decay {REGULARIZED_WEIGHT_DECAY:g} + early stopping",
}


# What the chapter's figure shows, with its legend's words: the networks and three baselines.
FIGURE_METHODS = {
    "end_to_end": "end to end",
    REGULARIZED: "end to end, regularized",
    "supervised_greedy+fine_tune": "supervised greedy + fine-tuning",
    "autoencoder_greedy+fine_tune": "autoencoder greedy + fine-tuning",
    "logistic_regression": "logistic regression",
    "pca_logistic_regression": "PCA + logistic regression",
    "label_spreading": "label spreading",
}

SUPERVISED_BASELINES = ("logistic_regression", "pca_logistic_regression")


def _logistic(seed: int) -> LogisticRegression:
    return LogisticRegression(max_iter=2000, random_state=seed)


def _predict(name: str, data: Dataset, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The fitted baseline's predictions on the labeled training rows and on the test rows."""
    x, y = data.x_train, data.y_train
    unlabeled = data.x_unlabeled if data.x_unlabeled is not None else np.empty((0, x.shape[1]), x.dtype)
    x_all = np.concatenate([x, unlabeled])
    y_all = np.concatenate([y, np.full(len(unlabeled), -1)])  # -1: unlabeled, as scikit-learn marks it
    if name == "logistic_regression":
        model = _logistic(seed).fit(x, y)
    elif name == "pca_logistic_regression":
        # PCA fitted on every training input (a pipeline would refit it on the labeled rows alone).
        pca = PCA(n_components=min(PCA_COMPONENTS, x.shape[1]), random_state=seed).fit(x_all)
        model = _logistic(seed).fit(pca.transform(x), y)
        return model.predict(pca.transform(x)), model.predict(pca.transform(data.x_test))
    elif name == "label_spreading":
        # Rows in a graph component without a labeled row get no label mass (0/0): scikit-learn then
        # predicts class 0 for them, which we keep (they count as the guesses they are).
        with np.errstate(invalid="ignore"):
            model = LabelSpreading(kernel="knn", n_neighbors=LABEL_SPREADING_NEIGHBOURS, max_iter=100)
            model.fit(x_all, y_all)
            return model.predict(x), model.predict(data.x_test)
    elif name == "self_training":
        model = SelfTrainingClassifier(_logistic(seed)).fit(x_all, y_all)
    else:
        raise ValueError(f"baseline must be one of {list(SCIKIT_LEARN_BASELINES)}, got {name!r}")
    return model.predict(x), model.predict(data.x_test)


def baseline_records(parts: Sequence[Dataset], seeds: Sequence[int]) -> pd.DataFrame:
    """One row per seed and baseline (the supervised ones only where no row is unlabeled): ``method``,
    ``seed``, ``train_accuracy`` (on the labeled rows), ``test_accuracy``, ``status`` ("ok"), ``dataset``."""
    rows = []
    # One BLAS/OpenMP thread: these fits are small, more threads only contend (14x slower on this
    # machine's two cores), and one thread gives the same rounding wherever the study runs.
    with threadpool_limits(1):
        for data, seed in zip(parts, seeds, strict=True):
            # With every label there is nothing for the semi-supervised baselines to add.
            unlabeled = data.x_unlabeled is not None and len(data.x_unlabeled) > 0
            for name in SCIKIT_LEARN_BASELINES if unlabeled else SUPERVISED_BASELINES:
                on_train, on_test = _predict(name, data, seed)
                rows.append(
                    {
                        "method": name,
                        "seed": seed,
                        "train_accuracy": float(np.mean(on_train == data.y_train)),
                        "test_accuracy": float(np.mean(on_test == data.y_test)),
                        "status": "ok",
                        "dataset": data.name,
                    }
                )
    return pd.DataFrame(rows)


def against_best_baseline(records: pd.DataFrame, pretrained: str) -> tuple[str, Comparison]:
    """The baseline with the highest mean test accuracy in ``records``, and ``pretrained`` minus it, paired by seed."""
    baselines = records[records.method.isin(list(BASELINES))]
    best = str(baselines.groupby("method").test_accuracy.mean().idxmax())
    return best, paired_comparison(records, "test_accuracy", "method", pretrained, best)


def baseline_verdict(table: pd.DataFrame, pretrained_label: str) -> str:
    """One Markdown sentence from a table with one row per label count: ``labels per class``, ``best
    baseline``, ``CI low``, ``CI high`` (pretrained minus the best baseline, paired by seed)."""
    ahead = [str(r["labels per class"]) for r in table.to_dict("records") if r["CI low"] > 0]
    behind = [str(r["labels per class"]) for r in table.to_dict("records") if r["CI high"] < 0]
    level = [str(r["labels per class"]) for r in table.to_dict("records") if r["CI low"] <= 0 <= r["CI high"]]
    clauses = [
        f"ahead (paired 95% CI above zero) at {_at(ahead)}" if ahead else "never ahead (no paired 95% CI above zero)",
        *([f"behind at {_at(behind)}"] if behind else []),
        *([f"no detectable difference at {_at(level)}"] if level else []),
    ]
    return f"{pretrained_label} against the best baseline at each label count: {'; '.join(clauses)}."


def _at(counts: list[str]) -> str:
    """Label counts in words: "1 label per class", "3, 10 labels per class and with every label", "no label count"."""
    few = [c for c in counts if c != "all"]
    parts = [f"{', '.join(few)} label{'' if few == ['1'] else 's'} per class"] if few else []
    if "all" in counts:
        parts.append("with every label" if few else "every label")
    return " and ".join(parts) or "no label count"
