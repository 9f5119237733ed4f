"""Greedy pretraining against fair baselines: tuned settings, equal budgets, modern networks.

Every contender is trained on each seed's own data and scored on the same population sample.
A contender's learning rate and optimizer are chosen on validation splits of separate tuning
seeds' training data (``greedy.learning.tuning``), at the deepest depth, from one stated grid.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from greedy.analysis.stats import paired_comparison, seed_summary
from greedy.learning import jax_engine
from greedy.learning.config import TrainConfig
from greedy.learning.data import Dataset
from greedy.learning.procedures import Method
from greedy.learning.records import to_frame
from greedy.learning.tuning import settings_grid, tune

# The stated grid: every contender's learning rate and optimizer come from it.
GRID = settings_grid(optimizer=["sgd", "adam"], learning_rate=[0.001, 0.003, 0.01, 0.03, 0.1])


CONTENDERS = {
    "supervised_greedy": Method("supervised greedy", jax_engine.supervised_greedy),
    "end_to_end": Method("end to end", jax_engine.end_to_end),
    "batch_norm": Method("end to end + batch norm", jax_engine.end_to_end, {"architecture": "batch_norm"}),
    "residual": Method("end to end + residual", jax_engine.end_to_end, {"architecture": "residual"}),
}


def _options(contender: Method, depths: list[int]) -> dict:
    """The procedure's keyword arguments: end-to-end networks are trained at ``depths`` only."""
    return {**contender.options, "depths": depths} if contender.run is jax_engine.end_to_end else contender.options


def _records(contender: Method, data, config: TrainConfig, seeds, depths: list[int]) -> pd.DataFrame:
    df = to_frame(contender.run(data, config, seeds, **_options(contender, depths)))
    return df[df.depth.isin(depths)]


def equal_budget_end_to_end(data, config: TrainConfig, seeds, depths, fits: Callable[[int], int]) -> pd.DataFrame:
    """End to end at each depth with as many epochs over the labeled data as the greedy procedure it
    is compared with: ``fits(depth)`` times the epochs of one fit."""
    frames = [
        to_frame(jax_engine.end_to_end(data, config.with_(epochs=fits(depth) * config.epochs), seeds, depths=[depth]))
        for depth in depths
    ]
    return pd.concat(frames, ignore_index=True)


def fair_comparison(
    data: Sequence[Dataset],
    configs: dict[str, TrainConfig],
    seeds: Sequence[int],
    tuning_data: Sequence[Dataset],
    tuning_seeds: Sequence[int],
    depths: Sequence[int],
    grid: list[dict] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per named config: every contender at its tuned settings, and the tutorial's two at the config's own.

    Rows are labelled ``config``, ``contender`` (a CONTENDERS key, or ``end_to_end_equal_budget``:
    the tuned end-to-end network given the greedy stack's total number of updates to its depth),
    ``settings`` ("tutorial" or "tuned") and ``label``. Settings are tuned at the deepest depth.
    Returns the records and the tuning table (every grid point's validation score, ``chosen`` marked).
    """
    depths = sorted(depths)
    grid = GRID if grid is None else grid
    frames, tables = [], []
    for name, config in configs.items():
        config = config.with_(n_added_layers=depths[-1] - 2)  # the greedy stack stops at the deepest depth
        for key, contender in CONTENDERS.items():
            options = _options(contender, depths[-1:])
            result = tune(contender.run, tuning_data, config, tuning_seeds, grid, depth=depths[-1], **options)
            tables.append(result.table.assign(config=name, contender=key))
            runs = [("tuned", result.config)]
            if key in ("supervised_greedy", "end_to_end"):  # the tutorial's own settings, for reference
                runs.append(("tutorial", config))
            for settings, run_config in runs:
                df = _records(contender, data, run_config, seeds, depths)
                frames.append(df.assign(config=name, contender=key, settings=settings))
            if key == "end_to_end":
                # The greedy stack to a depth trains (depth - 1) stages of one fit's epochs.
                df = equal_budget_end_to_end(data, result.config, seeds, depths, fits=lambda depth: depth - 1)
                frames.append(df.assign(config=name, contender="end_to_end_equal_budget", settings="tuned"))
    records = pd.concat(frames, ignore_index=True)
    return records.assign(label=records.contender.map(LABELS) + " (" + records.settings + ")"), pd.concat(
        tables, ignore_index=True
    )


LABELS = {key: c.label for key, c in CONTENDERS.items()} | {"end_to_end_equal_budget": "end to end, equal budget"}

# Short names of (contender, settings) pairs, for glued numbers' keys.
KEYS = {
    ("supervised_greedy", "tuned"): "greedy_tuned",
    ("supervised_greedy", "tutorial"): "greedy_tutorial",
    ("end_to_end", "tuned"): "e2e_tuned",
    ("end_to_end", "tutorial"): "e2e_tutorial",
    ("end_to_end_equal_budget", "tuned"): "e2e_equal_budget",
    ("batch_norm", "tuned"): "batch_norm",
    ("residual", "tuned"): "residual",
}


def at_depth_summary(records: pd.DataFrame, depth: int, ceiling: float, value: str = "population_accuracy"):
    """Per config and contender at ``depth``: seeds, diverged, mean and 95% CI of ``value``, its gap to
    ``ceiling``, and the mean training accuracy (the gap between the two shows overfitting)."""
    rows = []
    part = records[records.depth == depth]
    for (config, contender, settings), group in part.groupby(["config", "contender", "settings"], sort=False):
        row = seed_summary(group, value)
        rows.append(
            {
                "config": config,
                "key": KEYS[(contender, settings)],
                "label": group.label.iloc[0],
                **row,
                "gap to ceiling": row["mean"] - ceiling,
            }
        )
    return pd.DataFrame(rows)


def against(
    records: pd.DataFrame, depth: int, reference: str, value: str = "population_accuracy"
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Paired (by seed: the same data) differences ``reference`` minus each other contender at ``depth``.

    ``reference`` is a KEYS value. Returns a table and the glue numbers
    ``{config_key}_{reference}_minus_{other}_*`` (see ``Comparison.glue_numbers``).
    """
    part = records[records.depth == depth]
    part = part.assign(key=[KEYS[pair] for pair in zip(part.contender, part.settings, strict=True)])
    rows, numbers = [], {}
    for config, group in part.groupby("config", sort=False):
        for other in dict.fromkeys(group.key):
            if other == reference:
                continue
            c = paired_comparison(group, value, "key", reference, other)
            numbers.update(c.glue_numbers(f"{CONFIG_KEYS[config]}_{reference}_minus_{other}"))
            label = group.label[group.key == other].iloc[0]
            rows.append({"config": config, "minus": other, "label": label, **c.table_row(a=reference, b="other")})
    return pd.DataFrame(rows), numbers


# Short names of the configurations, for glued numbers' keys.
CONFIG_KEYS = {
    "relu + he_uniform": "relu_he",
    "tanh + glorot_uniform": "tanh_glorot",
    "tanh + standard_uniform": "tanh_standard",
    "sigmoid + glorot_uniform": "sigmoid_glorot",
    "sigmoid + standard_uniform": "sigmoid_standard",
}


def initialization_comparison(
    data: Sequence[Dataset],
    seeds: Sequence[int],
    depths: Sequence[int],
    base: TrainConfig,
    activations=("tanh", "sigmoid"),
) -> pd.DataFrame:
    """End to end at the tutorial's settings, Glorot & Bengio's normalized against their standard initialization."""
    frames = []
    for activation in activations:
        for initializer in ("glorot_uniform", "standard_uniform"):
            config = base.with_(activation=activation, initializer=initializer)
            df = to_frame(jax_engine.end_to_end(data, config, seeds, depths=list(depths)))
            frames.append(
                df.assign(config=f"{activation} + {initializer}", activation=activation, initializer=initializer)
            )
    return pd.concat(frames, ignore_index=True)


def summary_numbers(summary: pd.DataFrame) -> dict[str, float]:
    """Glue numbers of ``at_depth_summary``, keyed ``{config_key}_{key}_{name}``.

    Names: mean, low, high, n_ok, train (mean training accuracy), and below, below_low, below_high
    (the ceiling minus the mean, with its 95% CI).
    """
    numbers = {}
    for row in summary.to_dict("records"):
        prefix = f"{CONFIG_KEYS[row['config']]}_{row['key']}"
        ceiling = row["mean"] - row["gap to ceiling"]  # scored on the same sample: no noise of its own here
        numbers |= {
            f"{prefix}_mean": row["mean"],
            f"{prefix}_low": row["CI low"],
            f"{prefix}_high": row["CI high"],
            f"{prefix}_n_ok": row["n"] - row["diverged"],
            f"{prefix}_below": ceiling - row["mean"],
            f"{prefix}_below_low": ceiling - row["CI high"],
            f"{prefix}_below_high": ceiling - row["CI low"],
            f"{prefix}_train": row["train accuracy"],
        }
    return numbers
