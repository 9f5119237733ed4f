"""Does greedy pretraining help a well-trained network when few labels are known? MNIST-1D.

The well-trained chapter's networks (``well_trained``: ReLU, He, Adam, batches of 100; plain, batch
normalization, residual, regularized) and its pretrained ones (supervised, autoencoder, denoising,
stacked denoising, then fine-tuned), at one depth, each seed keeping ``k`` labeled training rows per
class. The other training rows keep their inputs without their labels: the autoencoder families
pretrain on every training input, as a practitioner with unlabeled data would. Every fit on labeled
rows takes the same number of Adam updates at every ``k`` (``epochs_for``): with ten labeled rows
an epoch is one update, and 30 epochs would leave the network untrained.

Tuning never sees a test row: each learning rate is chosen at its label count on fresh draws of
MNIST-1D's generator (``held_out``), each draw keeping ``k`` labeled rows per class of its training
rows (the draw's own seed picks them) and scoring on a held-out fifth of them. Each pretrained network
is compared, paired by seed, with the best well-trained network at its label count (chosen on those
validation rows) and with the plain network it initializes: one family of tests, Holm-adjusted.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from greedy.analysis.families import scored_as
from greedy.analysis.stats import holm_direction, slope_over_seeds, with_holm
from greedy.analysis.well_trained import (
    MIN_DEPTH,
    PRETRAINED,
    UNSUPERVISED,
    WELL_TRAINED,
    recipe,
    sharing_stages,
    tuned_pretrained,
    tuned_well_trained,
)
from greedy.learning import jax_engine
from greedy.learning.config import check_positive_int
from greedy.learning.data import Dataset, one_per_seed, tuning_split, with_labeled_per_class
from greedy.learning.held_out import TUNING_DRAW_START, evaluation_and_tuning
from greedy.learning.procedures import Method
from greedy.learning.records import Trained
from greedy.learning.stages import check_depths

BY = "labeled_per_class"
TUNING_FRACTION = 0.2  # of a tuning draw's training rows held out to score on: tune_extending's default
# What a Holm-decided trend of pretraining's gain over label counts says.
TRENDS = {1: "grows with more labels", -1: "shrinks with more labels", 0: "no trend detected"}


def epochs_for(n_labeled: int, updates: int, batch_size: int) -> int:
    """The epochs that give ``updates`` Adam updates (at least) over ``n_labeled`` rows in batches of ``batch_size``."""
    return math.ceil(updates / math.ceil(n_labeled / batch_size))


def at_labels(method: Method, k: int) -> Method:
    """``method`` trained on ``k`` labeled rows per class of each seed's training rows (the seed picks
    them); the other training rows are kept as unlabeled inputs, for the methods that pretrain on them."""

    def run(data: Dataset | Sequence[Dataset], config, seeds: Sequence[int], **options: object) -> Trained:
        seeds = list(seeds)
        parts = [
            with_labeled_per_class(d, k, random_state=s)
            for d, s in zip(one_per_seed(data, len(seeds)), seeds, strict=True)
        ]
        return method.run(parts, config, seeds, **options)

    return replace(method, run=run)


def _check_label_counts(labeled_per_class: Sequence[int], data: Sequence[Dataset]) -> list[int]:
    if isinstance(labeled_per_class, str) or not labeled_per_class:
        raise ValueError(f"labeled_per_class must be a non-empty list of integers >= 1, got {labeled_per_class!r}")
    counts = [check_positive_int("labeled_per_class", k) for k in labeled_per_class]
    smallest = min(int(np.bincount(d.y_train).min()) for d in data)
    if max(counts) > smallest:
        raise ValueError(
            f"labeled_per_class must be at most {smallest} (the smallest class of a training split), got {max(counts)}"
        )
    return counts


def few_labels_study(
    n_seeds: int,
    n_tuning_draws: int,
    width: int,
    depth: int,
    labeled_per_class: Sequence[int],
    updates: int,
    pretraining_epochs: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every well-trained and pretrained network of ``depth`` at each label count, its rates tuned there.

    Each fit on labeled rows takes ``updates`` Adam updates (``epochs_for``); each autoencoder stage
    trains ``pretraining_epochs`` epochs over every training input. Records and the tuning table (every
    point tried, ``chosen`` marked) are labelled ``contender``, ``kind``, ``label`` and ``labeled_per_class``.
    """
    check_positive_int("n_seeds", n_seeds)
    check_positive_int("n_tuning_draws", n_tuning_draws)
    check_positive_int("updates", updates)
    check_positive_int("pretraining_epochs", pretraining_epochs)
    config = recipe(width, pretraining_epochs)
    [depth] = check_depths([depth], config)
    if depth < 3:
        raise ValueError(f"depth must be >= 3 (a greedy stack adds layers to one), got {depth}")
    seeds = list(range(n_seeds))
    tuning_seeds = list(range(TUNING_DRAW_START, TUNING_DRAW_START + n_tuning_draws))
    evaluation, tuning = evaluation_and_tuning("mnist1d", seeds, tuning_seeds)
    # The labeled rows of a tuning draw come from the training part that tuning keeps (``tuning_split``).
    kept = [tuning_split(d, TUNING_FRACTION, random_state=s) for d, s in zip(tuning, tuning_seeds, strict=True)]
    counts = _check_label_counts(labeled_per_class, evaluation + kept)
    frames, tables = [], []
    arms: list[tuple[str, dict[str, Method], Callable]] = [
        ("well-trained", WELL_TRAINED, tuned_well_trained),
        ("pretrained", PRETRAINED, tuned_pretrained),
    ]
    # Autoencoder stages learn from every training input, whatever k: each is learned once for all counts.
    stages = jax_engine.PretrainedStages()
    for k in counts:
        epochs = epochs_for(k * evaluation[0].n_classes, updates, config.batch_size)
        labeled = config.with_(head_epochs=epochs, fine_tune_epochs=epochs)
        for kind, methods, tuned in arms:
            for key, method in methods.items():
                if depth < MIN_DEPTH.get(key, 2):
                    continue
                # The autoencoder stages keep their epochs over every training input; the rest learn from labels.
                at = labeled if key in UNSUPERVISED else labeled.with_(epochs=epochs)
                method = sharing_stages(method, stages) if key in UNSUPERVISED else method
                records, table = tuned(at_labels(method, k), evaluation, seeds, tuning, tuning_seeds, at, depth)
                tag = {"contender": key, "kind": kind, BY: k}
                frames.append(records.assign(label=method.label, **tag))
                tables.append(table.assign(depth=depth, **tag))
    out = pd.concat(frames, ignore_index=True)
    return out.assign(scored=out.method.map(scored_as)), pd.concat(tables, ignore_index=True)


def gain_trends(records: pd.DataFrame, best: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Whether each pretrained network's gain over the best well-trained network changes with the label
    count, tested as a trend over every count (``stats.slope_over_seeds``): per seed with every count, the
    least-squares slope of the paired difference against log10 of the label count; the slopes' mean over
    seeds (per tenfold more labels) with its 95% CI and one-sample t-test. The networks' tests are one
    family, Holm-adjusted (``trend`` in words)."""
    best_at = dict(zip(best[BY], best.contender, strict=True))
    accuracy = records.pivot_table(index=[BY, "seed"], columns="contender", values="test_accuracy")
    best_accuracy = pd.Series(
        [accuracy.loc[(k, s), best_at[k]] for k, s in accuracy.index], index=accuracy.index, dtype=float
    )
    rows = []
    for key in dict.fromkeys(records[records.kind == "pretrained"].contender):
        gain = (accuracy[key] - best_accuracy).rename("gain").reset_index()
        est, p = slope_over_seeds(gain, "gain", BY)
        rows.append(
            {
                "key": f"{key}_trend",
                "network": PRETRAINED[key].label,
                "difference": est.mean,
                "CI low": est.low,
                "CI high": est.high,
                "n": est.n,
                "p": p,
            }
        )
    table = with_holm(pd.DataFrame(rows))
    return table.assign(trend=holm_direction(table, alpha).map(TRENDS))
