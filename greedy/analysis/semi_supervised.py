"""What a practitioner would try first with few labels: scikit-learn baselines on the same labeled subsets.

Each baseline sees exactly what the pretrained networks see at a seed: the ``k`` labeled
training examples per class, and (where it can use them) every other training input without
its label. Settings are scikit-learn's defaults unless stated here; with one label per class
there is nothing to tune them on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.semi_supervised import LabelSpreading, SelfTrainingClassifier
from threadpoolctl import threadpool_limits

from greedy.analysis.glue import keyed_numbers
from greedy.analysis.stats import Estimate, holm_outcome, paired_comparison, slope_over_seeds, with_holm
from greedy.analysis.tables import labels_in_words
from greedy.learning import jax_engine
from greedy.learning.config import TrainConfig
from greedy.learning.data import Dataset, can_hold_out_validation, one_per_seed, with_validation
from greedy.learning.records import Trained, to_frame

PCA_COMPONENTS = 20  # fitted on every training input, labeled or not: the unsupervised step
LABEL_SPREADING_NEIGHBOURS = 10

# The regularized end-to-end baseline of the few-labels chapter: weight decay (an L2 penalty on the
# kernels) and early stopping on a held-out fifth of the labeled examples (at least one per class).
REGULARIZED_WEIGHT_DECAY = 1e-3
REGULARIZED_VALIDATION_FRACTION = 0.2
REGULARIZED = "end_to_end+regularized"


def early_stopped_end_to_end(
    data: Dataset | Sequence[Dataset], config: TrainConfig, seeds: Sequence[int], **options: object
) -> Trained:
    """The network trained end to end (``jax_engine.end_to_end``, any of its ``options``) with early
    stopping on a held-out stratified fifth of each seed's labeled rows, where every class has the two
    labeled examples to spare one (``can_hold_out_validation``), and without it elsewhere; recorded as
    method ``end_to_end+regularized``. Its weight decay is the config's."""
    seeds = list(seeds)
    parts = one_per_seed(data, len(seeds))
    early = all(can_hold_out_validation(d) for d in parts)
    if early:
        parts = [
            with_validation(d, REGULARIZED_VALIDATION_FRACTION, random_state=s)
            for d, s in zip(parts, seeds, strict=True)
        ]
    trained = jax_engine.end_to_end(parts, config, seeds, early_stopping=early, **options)
    return Trained([replace(r, method=REGULARIZED) for r in trained.records])


def regularized_end_to_end(parts: list[Dataset], config: TrainConfig, seeds: list[int], depth: int) -> pd.DataFrame:
    """The same network trained end to end with weight decay and, where every class has two labeled
    examples to spare one, early stopping on held-out labeled rows (column ``early_stopping``)."""
    config = config.with_(weight_decay=REGULARIZED_WEIGHT_DECAY)
    early = all(can_hold_out_validation(d) for d in parts)
    return to_frame(early_stopped_end_to_end(parts, config, seeds, depths=[depth])).assign(early_stopping=early)


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


def against_references(
    records: pd.DataFrame, pretrained: str, references: Mapping[str, str], alpha: float = 0.05
) -> pd.DataFrame:
    """``pretrained`` minus each method of ``references`` (method -> its name in words, column
    ``against``), paired by seed, at each data set and label count where both ran: one family of tests
    over the whole table, Holm-adjusted (``p (Holm)``), each row's ``outcome`` ahead / behind / no
    difference detected at ``alpha``. No reference is singled out: picking the best baseline by its test
    accuracy would favour the baselines, and the chapter tunes none.

    ``records`` has ``data``, ``labeled_per_class``, ``method``, ``seed`` and ``test_accuracy``; each
    row's ``key`` (``{data}_k{count}_minus_{method}``) names its numbers for glue (``comparison_numbers``).
    """
    rows = []
    for (data, k), part in records.groupby(["data", "labeled_per_class"], sort=False):
        for method, label in references.items():
            if {pretrained, method} <= set(part.method):
                c = paired_comparison(part, "test_accuracy", "method", pretrained, method)
                rows.append(
                    {
                        "key": f"{data}_k{k}_minus_{method.replace('+', '_')}",
                        "data": data,
                        "labels per class": k,
                        "against": label,
                        **c.test_row(a="pretrained", b="reference"),
                    }
                )
    table = with_holm(pd.DataFrame(rows))
    return table.assign(outcome=holm_outcome(table, alpha))


def comparison_numbers(table: pd.DataFrame) -> dict[str, float]:
    """Glue numbers of an ``against_references`` table: ``{key}_diff`` (and ``_low``, ``_high``), ``_a``,
    ``_b``, ``_n`` and ``_p_holm``."""
    columns = {
        "diff": "difference",
        "diff_low": "CI low",
        "diff_high": "CI high",
        "a": "pretrained",
        "b": "reference",
        "n": "n",
        "p_holm": "p (Holm)",
    }
    return keyed_numbers(table, columns)


def baselines_verdict(table: pd.DataFrame, data: str, title: str, pretrained_label: str) -> str:
    """Markdown: for one data set, a table of label counts (rows) by baselines (columns), each cell whether
    ``pretrained_label`` is ahead of, behind or level with that baseline (``against_references``)."""
    part = table[table.data == data]
    counts = list(dict.fromkeys(part["labels per class"]))
    baselines = list(dict.fromkeys(part.against))
    lines = [
        f"**{title}.** {pretrained_label} against each baseline (Holm-adjusted over the chapter's {len(table)} tests):",
        "",
        "| labels per class | " + " | ".join(baselines) + " |",
        "|---|" + "---|" * len(baselines),
    ]
    for k in counts:
        at = part[part["labels per class"] == k].set_index("against").outcome
        lines.append(f"| {k} | " + " | ".join(str(at.get(b, "not run")) for b in baselines) + " |")
    return "\n".join(lines)


def _counts_in_words(counts: list[object]) -> str:
    """Label counts as a reader says them: ``1, 3 and 10 per class, and every label``; ``none`` for none."""
    numbers = [str(k) for k in counts if str(k) != "all"]
    parts = []
    if numbers:
        listed = numbers[0] if len(numbers) == 1 else ", ".join(numbers[:-1]) + " and " + numbers[-1]
        parts.append(f"{listed} per class")
    if len(numbers) < len(counts):
        parts.append("every label")
    return ", and ".join(parts) or "none"


def gain_trend(
    records: pd.DataFrame, data: str, pretrained: str, reference: str, every_label: float, level: float = 0.95
) -> tuple[Estimate, float]:
    """How pretraining's gain over ``reference`` changes with the label count, as a trend over every count
    (``stats.slope_over_seeds``): per seed that ran every count, the least-squares slope of the paired gain
    against log10 of the labels per class, "all" counting as ``every_label`` (the training rows per class).
    Returns the slopes' mean (the change per tenfold more labels) with its ``level`` interval, and its p."""
    part = records[(records.data == data) & records.method.isin([pretrained, reference])]
    accuracy = part.pivot_table(index=["labeled_per_class", "seed"], columns="method", values="test_accuracy")
    gain = (accuracy[pretrained] - accuracy[reference]).rename("gain").reset_index()
    gain["per_class"] = [every_label if str(k) == "all" else float(k) for k in gain.labeled_per_class]
    return slope_over_seeds(gain, "gain", "per_class", level=level)


def gains_verdict(table: pd.DataFrame, trend: Estimate, data: str, title: str, level: float = 0.95) -> str:
    """Markdown for one data set: where pretraining is ahead of, behind or level with the same network from
    random initialization (``against_references``), where its gain is largest, and whether the gain
    changes with the label count (``gain_trend``: its ``level`` interval excludes zero)."""
    part = table[table.data == data]

    def at(outcome: str) -> str:
        return _counts_in_words(list(part[part.outcome == outcome]["labels per class"]))

    largest = part.loc[part.difference.idxmax()]
    if trend.high < 0:
        words = "it **shrinks** as labels become plentiful"
    elif trend.low > 0:
        words = "it **grows** as labels become plentiful"
    else:
        words = "**no trend detected**"
    return (
        f"**{title}.** Against the same network trained from random initialization, pretraining is ahead with "
        f"{at('ahead')}; behind with {at('behind')}; no difference detected with {at('no difference detected')} "
        f"(Holm-adjusted over the chapter's {len(table)} tests of this kind). The gain is largest with "
        f"{labels_in_words(largest['labels per class'])} ({largest.difference:+.3f}). Over every label count, "
        f"per tenfold more labels it changes by {trend.mean:+.3f} ({100 * level:g}% interval {trend.low:+.3f} to "
        f"{trend.high:+.3f}, over the {trend.n} seeds that ran every count): {words}."
    )
