"""Choosing a method's training settings on validation data carved from the training data.

The test split and the population are never seen: every seed's training rows are split
(stratified) into train and validation, the procedure is run at each point of a stated grid,
and the point with the best mean validation accuracy at the chosen depth wins.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd

from greedy.learning.config import TrainConfig, check_positive_int, check_seeds
from greedy.learning.data import Dataset, one_per_seed, tuning_split
from greedy.learning.records import Trained, to_frame

Procedure = Callable[..., Trained]


def settings_grid(**values: Sequence[object]) -> list[dict[str, object]]:
    """Every combination of the given settings: ``settings_grid(learning_rate=[0.01, 0.1], optimizer=["sgd"])``."""
    if not values:
        raise ValueError("settings_grid needs at least one setting, e.g. learning_rate=[0.003, 0.01, 0.03]")
    for name, options in values.items():
        if isinstance(options, str | bytes) or not isinstance(options, Sequence) or not options:
            raise ValueError(f"{name} must be a non-empty list of values to try, got {options!r}")
    names = list(values)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values.values())]


@dataclass(frozen=True)
class Tuning:
    """The chosen settings, the config they make, and every grid point's validation score."""

    chosen: dict[str, object]
    config: TrainConfig
    table: pd.DataFrame  # one row per grid point: its settings, mean validation accuracy, seeds, diverged, chosen


def tune(
    procedure: Procedure,
    data: Dataset | Sequence[Dataset],
    config: TrainConfig,
    seeds: Sequence[int],
    grid: list[dict[str, object]],
    *,
    depth: int,
    fraction: float = 0.2,
    **procedure_kwargs: object,
) -> Tuning:
    """Run ``procedure`` (a fast-engine procedure such as ``jax_engine.end_to_end``) at every grid point.

    ``data`` is one data set or one per seed (each seed carves its own validation split); the
    score is the mean over seeds of the validation accuracy of the depth-``depth`` network, a
    seed that diverged on the way counting at chance (1 / classes). Ties go to the earlier grid point.
    """
    seed_list = check_seeds(seeds)
    check_positive_int("depth", depth)
    if not grid:
        raise ValueError("grid must hold at least one point (see settings_grid)")
    configs = [config.with_(**point) for point in grid]  # every point checked before any work
    per_seed = one_per_seed(data, len(seed_list))
    validation = [tuning_split(d, fraction, random_state=s) for d, s in zip(per_seed, seed_list, strict=True)]
    chance = 1 / validation[0].n_classes
    rows = []
    for point, point_config in zip(grid, configs, strict=True):
        df = to_frame(procedure(validation, point_config, seed_list, **procedure_kwargs))
        at_depth = df[df.depth == depth]
        if at_depth.empty and not (df.status == "diverged").any():
            raise ValueError(f"the procedure trained no depth-{depth} network; choose a depth it trains")
        # A seed that diverged (at this depth, or earlier in a greedy stack) counts at chance.
        by_seed = at_depth.groupby("seed").test_accuracy.last().reindex(seed_list).fillna(chance)
        failed = len(seed_list) - int(at_depth[at_depth.status == "ok"].seed.nunique())
        sd = float(by_seed.std(ddof=1)) if len(by_seed) > 1 else math.nan
        rows.append(
            {
                **point,
                "validation_accuracy": float(by_seed.mean()),
                "standard_error": sd / math.sqrt(len(by_seed)),
                "n_seeds": len(by_seed),
                "diverged": failed,
            }
        )
    table = pd.DataFrame(rows)
    best = int(table.validation_accuracy.to_numpy().argmax())
    table["chosen"] = table.index == best
    return Tuning(chosen=dict(grid[best]), config=configs[best], table=table)


def _geometric_grid(values: Sequence[float]) -> tuple[list[float], float]:
    """The values in order, and the ratio of the grid's first step."""
    grid = sorted(float(v) for v in values)
    if len(grid) < 2 or grid[0] <= 0:
        raise ValueError(f"values must be at least two positive numbers (a geometric grid), got {list(values)}")
    return grid, grid[1] / grid[0]


def tune_extending(
    procedure: Procedure,
    data: Dataset | Sequence[Dataset],
    config: TrainConfig,
    seeds: Sequence[int],
    setting: str,
    values: Sequence[float],
    *,
    depth: int,
    max_extensions: int = 2,
    fraction: float = 0.2,
    **procedure_kwargs: object,
) -> Tuning:
    """``tune`` over one numeric ``setting`` on a geometric grid that grows where the choice lands on its edge.

    While the best value is the grid's lowest or highest, the grid is extended one step (its own
    ratio) past that edge, at most ``max_extensions`` times per side; the table marks each point's
    ``extension`` (0 = the stated grid) and whether the chosen value still sits on an edge (``on_edge``).
    """
    grid, ratio = _geometric_grid(values)
    check_positive_int("max_extensions", max_extensions, allow_zero=True)
    config.with_(**{setting: grid[0]}), config.with_(**{setting: grid[-1]})  # both ends checked before any work
    rows: dict[float, dict] = {}
    step = {"low": 0, "high": 0}

    def run(points: list[float], extension: int) -> None:
        result = tune(
            procedure, data, config, seeds, settings_grid(**{setting: points}), depth=depth, fraction=fraction,
            **procedure_kwargs,
        )  # fmt: skip
        for row in result.table.drop(columns="chosen").to_dict("records"):
            rows[float(row[setting])] = {**row, "extension": extension}

    run(grid, 0)
    while True:
        table = pd.DataFrame([rows[v] for v in sorted(rows)])
        best = int(table.validation_accuracy.to_numpy().argmax())
        side = "low" if best == 0 else "high" if best == len(table) - 1 else None
        if side is None or step[side] == max_extensions:
            break
        step[side] += 1
        edge = float(table[setting].iloc[best])
        beyond = edge / ratio if side == "low" else edge * ratio
        run([float(f"{beyond:.3g}")], step[side])  # 3 significant digits: 0.001, not 0.0009999999
    table["chosen"] = table.index == best
    table["on_edge"] = table.chosen & (side is not None)
    chosen = {setting: float(table[setting].iloc[best])}
    return Tuning(chosen=chosen, config=config.with_(**chosen), table=table)
