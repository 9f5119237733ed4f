"""Does greedy pretraining help a well-trained network? MNIST-1D with every label.

Well-trained networks follow MNIST-1D's published MLP recipe (Greydanus & Kobak, 2024): ReLU units,
He initialization, Adam, batches of 100; plain, batch-normalized, residual, or regularized (weight
decay and early stopping on held-out labeled rows). The published reference MLP (two hidden layers
of 100, the second residual, Adam at 0.01 for 150 epochs) is a row of its own, untuned. Pretrained
networks are the plain ones initialized by a greedy procedure (supervised, autoencoder, denoising or
stacked denoising), then fine-tuned. Every learning rate is tuned at the depth it is reported at, on
fresh draws of MNIST-1D's generator that share no row with the published data (``held_out``);
evaluation seeds split the published 5,000 rows again. Each pretrained network is compared, paired
by seed, with the best well-trained network of its depth (chosen on validation rows, never on test
rows) and with the plain network it initializes; those tests are one family, Holm-adjusted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from greedy.analysis.families import FAMILIES, scored_as
from greedy.analysis.glue import keyed_numbers
from greedy.analysis.semi_supervised import REGULARIZED_WEIGHT_DECAY, early_stopped_end_to_end
from greedy.analysis.stats import holm_direction, paired_comparison, seed_summary, simultaneous_level, with_holm
from greedy.analysis.tables import labels_in_words
from greedy.learning import jax_engine
from greedy.learning.config import TrainConfig, check_positive_int
from greedy.learning.held_out import TUNING_DRAW_START, evaluation_and_tuning
from greedy.learning.procedures import Method
from greedy.learning.records import to_frame
from greedy.learning.stages import check_depths
from greedy.learning.tuning import tune_extending

# Adam's stated grids, extended one step at a time past an edge the choice lands on (tune_extending).
LEARNING_RATES = [0.001, 0.003, 0.01]
FINE_TUNE_RATES = [0.0003, 0.001, 0.003]
MAX_EXTENSIONS = 2
# A network "at chance" scores below twice chance (0.2 with ten classes): it failed to train.
FAILURE_FACTOR = 2
# What a Holm-decided direction (stats.holm_direction) says of pretraining.
OUTCOMES = {1: "pretraining ahead", -1: "pretraining behind", 0: "no difference detected"}

WELL_TRAINED = {
    "plain": Method("ReLU MLP", jax_engine.end_to_end),
    "batch_norm": Method("ReLU MLP + batch norm", jax_engine.end_to_end, {"architecture": "batch_norm"}),
    "residual": Method("ReLU MLP + residual", jax_engine.end_to_end, {"architecture": "residual"}),
    # The few-labels chapter's regularized network: weight decay, early stopping on held-out labeled rows.
    "regularized": Method(
        f"ReLU MLP + weight decay {REGULARIZED_WEIGHT_DECAY:g} + early stopping",
        early_stopped_end_to_end,
        {},
        {"weight_decay": REGULARIZED_WEIGHT_DECAY},
    ),
}
# Every gradient-trained family of the families chapter (an RBM's units are sigmoid: not these networks).
PRETRAINED = {
    key: replace(FAMILIES[key], label=f"{FAMILIES[key].label} + fine-tuning")
    for key in ("supervised", "autoencoder", "denoising", "stacked_denoising")
}
# The pretrained networks whose greedy stages learn from inputs alone, not the labels.
UNSUPERVISED = frozenset(key for key, method in PRETRAINED.items() if method.run is jax_engine.autoencoder_greedy)
# A residual connection needs a hidden layer below of the same width: at depth 2 the residual network
# would be the plain one, so it starts at depth 3.
MIN_DEPTH = {"residual": 3}
# The published reference MLP, trained as its authors did (not tuned here).
REFERENCE = Method("published reference MLP", jax_engine.end_to_end, {"architecture": "residual"})
REFERENCE_SETTINGS = {"width": 100, "depth": 3, "learning_rate": 0.01, "epochs": 150}


def recipe(width: int, epochs: int) -> TrainConfig:
    """The published MNIST-1D MLP's training recipe at a width and a number of epochs per fit."""
    return TrainConfig(
        width=width, activation="relu", initializer="he_uniform", optimizer="adam", batch_size=100,
        epochs=epochs, head_epochs=epochs, fine_tune_epochs=epochs,
    )  # fmt: skip


def sharing_stages(method: Method, stages: jax_engine.PretrainedStages) -> Method:
    """``method`` (an unsupervised greedy one) learning each stage once across every run given the same
    ``stages``: tuning points that differ only in the fine-tuning rate, depths, label counts. Records unchanged."""
    return replace(method, options={**method.options, "pretrained": stages})


def tuned_well_trained(family, evaluation, seeds, tuning, tuning_seeds, config, depth):
    """A well-trained network's records at ``depth``, its learning rate tuned on ``tuning`` (and the tuning table)."""
    config = config.with_(**family.settings)
    result = tune_extending(
        family.run, tuning, config, tuning_seeds, "learning_rate", LEARNING_RATES, depth=depth, depths=[depth],
        max_extensions=MAX_EXTENSIONS,
        **family.options,
    )  # fmt: skip
    records = to_frame(family.run(evaluation, result.config, seeds, depths=[depth], **family.options))
    table = result.table.assign(stage="training")
    return records, table


def tuned_pretrained(family, evaluation, seeds, tuning, tuning_seeds, config, depth):
    """A pretrained + fine-tuned network's records at ``depth``: its pretraining rate tuned with the stack
    frozen, then its fine-tuning rate (both tables returned, by ``stage``)."""
    config = config.with_(n_added_layers=depth - 2, **family.settings)
    frozen = tune_extending(
        family.run,
        tuning,
        config,
        tuning_seeds,
        "learning_rate",
        LEARNING_RATES,
        depth=depth,
        max_extensions=MAX_EXTENSIONS,
        **family.options,
    )
    tuned = tune_extending(
        family.run, tuning, frozen.config, tuning_seeds, "fine_tune_learning_rate", FINE_TUNE_RATES, depth=depth,
        max_extensions=MAX_EXTENSIONS, fine_tune="last", **family.options,
    )  # fmt: skip
    records = to_frame(family.run(evaluation, tuned.config, seeds, fine_tune="last", **family.options))
    records = records[(records.depth == depth) & records.method.str.endswith("+fine_tune")]
    tables = [
        frozen.table.assign(stage="pretraining"),
        tuned.table.rename(columns={"fine_tune_learning_rate": "learning_rate"}).assign(stage="fine-tuning"),
    ]
    return records, pd.concat(tables, ignore_index=True)


def well_trained_study(
    n_seeds: int, n_tuning_draws: int, width: int, epochs: int, depths: Sequence[int], pretrained_depths: Sequence[int]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every well-trained and pretrained network at its tuned learning rates, and the reference MLP.

    Records are labelled ``contender`` (a WELL_TRAINED or PRETRAINED key, or ``reference``), ``kind``
    and ``label``; each carries the optimizer, learning rate(s) and epochs it was trained with.
    Returns the records and the tuning table (every point tried, per contender and depth, ``chosen`` marked).
    """
    check_positive_int("n_seeds", n_seeds)
    config = recipe(width, epochs)
    depths = check_depths(list(depths), config)
    pretrained_depths = check_depths(list(pretrained_depths), config)
    if min(pretrained_depths) < 3:
        raise ValueError(f"pretrained_depths must be >= 3 (a greedy stack adds layers to one), got {pretrained_depths}")
    check_positive_int("n_tuning_draws", n_tuning_draws)
    # Tuning networks get seeds of their own too (initializations no evaluation network shares).
    seeds = list(range(n_seeds))
    tuning_seeds = list(range(TUNING_DRAW_START, TUNING_DRAW_START + n_tuning_draws))
    evaluation, tuning = evaluation_and_tuning("mnist1d", seeds, tuning_seeds)
    frames, tables = [], []
    arms = [
        ("well-trained", WELL_TRAINED, depths, tuned_well_trained),
        ("pretrained", PRETRAINED, pretrained_depths, tuned_pretrained),
    ]
    stages = jax_engine.PretrainedStages()
    for kind, families, at, run in arms:
        for key, family in families.items():
            family = sharing_stages(family, stages) if key in UNSUPERVISED else family
            for depth in [d for d in at if d >= MIN_DEPTH.get(key, 2)]:
                records, table = run(family, evaluation, seeds, tuning, tuning_seeds, config, depth)
                frames.append(records.assign(contender=key, kind=kind, label=family.label))
                tables.append(table.assign(contender=key, kind=kind, depth=depth))
    reference = REFERENCE_SETTINGS
    ref_config = recipe(reference["width"], reference["epochs"]).with_(learning_rate=reference["learning_rate"])
    records = to_frame(REFERENCE.run(evaluation, ref_config, seeds, depths=[reference["depth"]], **REFERENCE.options))
    frames.append(records.assign(contender="reference", kind="reference", label=REFERENCE.label))
    out = pd.concat(frames, ignore_index=True)
    return out.assign(scored=out.method.map(scored_as)), pd.concat(tables, ignore_index=True)


def best_well_trained(tuning: pd.DataFrame, by: str = "depth") -> pd.DataFrame:
    """Per value of ``by`` (the depth, or the label count), the well-trained network with the best
    validation accuracy at its chosen rate (never test rows)."""
    chosen = tuning[(tuning.kind == "well-trained") & tuning.chosen]
    best = chosen.loc[chosen.groupby(by).validation_accuracy.idxmax()]
    return best[[by, "contender", "learning_rate", "validation_accuracy", "standard_error"]].reset_index(drop=True)


def failures(records: pd.DataFrame, n_classes: int = 10) -> pd.Series:
    """Whether each network failed to train: diverged, or test accuracy below ``FAILURE_FACTOR`` times chance."""
    return (records.status != "ok") | (records.test_accuracy < FAILURE_FACTOR / n_classes)


def summary(records: pd.DataFrame, by: str = "depth") -> pd.DataFrame:
    """Per contender and value of ``by`` (the depth, or the label count): seeds, failures, mean test accuracy
    with its 95% CI, training accuracy, rates."""
    rows = []
    for (kind, label, at), group in records.groupby(["kind", "label", by], sort=False):
        rows.append(
            {
                "kind": kind,
                "network": label,
                by: at,
                **seed_summary(group, "test_accuracy"),
                "failed": int(failures(group).sum()),
                "learning rate": group.learning_rate.iloc[0],
                "fine-tuning rate": group.get("fine_tune_learning_rate", pd.Series([np.nan])).iloc[0],
                "epochs": group.epochs.iloc[0],
                "fine-tuning epochs": group.get("fine_tune_epochs", pd.Series([np.nan])).iloc[0],
            }
        )
    return pd.DataFrame(rows)


# How glue keys and verdicts name a value of the column comparisons are made at.
KEY_PREFIX = {"depth": "depth", "labeled_per_class": "k"}
AT_WORD = {"depth": "depth", "labeled_per_class": "label count"}


def _at_in_words(by: str, at: object) -> str:
    return f"depth {at}" if by == "depth" else labels_in_words(at)


def against_well_trained(
    records: pd.DataFrame, best: pd.DataFrame, level: float = 0.95, by: str = "depth"
) -> pd.DataFrame:
    """Each pretrained network minus the best well-trained network at its value of ``by`` (its depth, or
    its label count) and minus the plain network it initializes, paired by seed: one family of tests,
    Holm-adjusted, with simultaneous intervals.

    Intervals are Bonferroni's at ``level`` for the whole family (they hold together); ``p (Holm)``
    decides. ``failed`` counts networks at chance on each side; ``median`` is the median paired difference.
    ``key`` names each row for glue: ``{pretrained}_depth{d}_minus_{best|plain}`` (``_k{k}_`` by label count).
    """
    best_at = dict(zip(best[by], best.contender, strict=True))
    pairs = []
    for (key, at), _ in records[records.kind == "pretrained"].groupby(["contender", by], sort=False):
        for minus in dict.fromkeys([best_at[at], "plain"]):
            pairs.append((key, at, minus))
    per_interval = simultaneous_level(len(pairs), level)
    rows = []
    for key, at, minus in pairs:
        part = records[(records[by] == at) & records.contender.isin([key, minus])]
        c = paired_comparison(part, "test_accuracy", "contender", key, minus, level=per_interval)
        diff = part.pivot(index="seed", columns="contender", values="test_accuracy").dropna()
        failed = [int(failures(part[part.contender == arm]).sum()) for arm in (key, minus)]
        rows.append(
            {
                "key": f"{key}_{KEY_PREFIX[by]}{at}_minus_{'best' if minus == best_at[at] else minus}",
                by: at,
                "network": PRETRAINED[key].label,
                "minus": WELL_TRAINED[minus].label + (f" (best at this {AT_WORD[by]})" if minus == best_at[at] else ""),
                **c.test_row(a="pretrained", b="compared"),
                "median": float((diff[key] - diff[minus]).median()),
                "failed (pretrained, well-trained)": f"{failed[0]}, {failed[1]}",
            }
        )
    return with_holm(pd.DataFrame(rows)).assign(interval_level=per_interval)


def verdict(comparisons: pd.DataFrame, alpha: float = 0.05, by: str = "depth") -> str:
    """One sentence per pretrained network and value of ``by``, from the Holm-adjusted p-values."""
    outcomes = holm_direction(comparisons, alpha).map(OUTCOMES)
    sentences = []
    for row, outcome in zip(comparisons.to_dict("records"), outcomes, strict=True):
        sentences.append(
            f"- {_at_in_words(by, row[by])}, {row['network']} minus {row['minus']}: {row['difference']:+.3f} "
            f"({100 * row['interval_level']:.2f}% CI {row['CI low']:+.3f} to {row['CI high']:+.3f}, n = {row['n']}, "
            f"Holm p = {row['p (Holm)']:.3g}): **{outcome}**."
        )
    return "\n".join(sentences)


def comparison_numbers(comparisons: pd.DataFrame, alpha: float = 0.05) -> dict[str, float]:
    """Glue numbers per comparison: ``{key}_diff``, ``_low``, ``_high``, ``_p_holm``, ``_n``, and how many
    comparisons put pretraining ahead or behind at Holm-adjusted p below ``alpha``."""
    columns = {"diff": "difference", "low": "CI low", "high": "CI high", "p_holm": "p (Holm)", "n": "n"}
    numbers = keyed_numbers(comparisons, columns)
    direction = holm_direction(comparisons, alpha)
    numbers["n_ahead"] = int((direction > 0).sum())
    numbers["n_behind"] = int((direction < 0).sum())
    return numbers
