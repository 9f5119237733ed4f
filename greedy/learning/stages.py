"""What both engines share about a procedure's stages: the depths to train, and the record of a stage."""

from __future__ import annotations

import math
from collections.abc import Mapping

from greedy.learning.config import TrainConfig
from greedy.learning.records import StageRecord, method_parts


def check_depths(depths: object, config: TrainConfig) -> list[int]:
    """End-to-end depths (Dense layers incl. the output): every depth of the greedy stack by default."""
    if depths is None:
        return list(range(2, config.n_added_layers + 3))
    if isinstance(depths, str | bytes) or not hasattr(depths, "__iter__"):
        raise ValueError(f"depths must be a list of integers >= 2 (Dense layers incl. the output), got {depths!r}")
    out = list(depths)  # type: ignore[call-overload]
    for d in out:
        if isinstance(d, bool) or not isinstance(d, int) or d < 2:
            raise ValueError(f"depths must be integers >= 2 (Dense layers incl. the output), got {d!r}")
    return out


def stage_record(
    *,
    method: str,
    depth: int,
    seed: int,
    final_loss: float,
    seconds: float,
    backend: str,
    engine: str,
    dataset: str,
    diverged_epoch: int | None,
    scores: Mapping[str, float],
    config: TrainConfig,
) -> StageRecord:
    """The record of one stage for one seed, with the settings ``config`` trained it with; a diverged
    stage keeps none of its scores."""
    values = {} if diverged_epoch is not None else dict(scores)
    if method_parts(method)["fine_tuned"]:
        values |= {
            "fine_tune_learning_rate": config.fine_tune_learning_rate,
            "fine_tune_epochs": config.fine_tune_epochs,
        }
    return StageRecord(
        method=method,
        depth=depth,
        seed=seed,
        train_accuracy=values.pop("train_accuracy", math.nan),
        test_accuracy=values.pop("test_accuracy", math.nan),
        final_loss=final_loss,
        wall_seconds=seconds,
        backend=backend,
        engine=engine,
        status="ok" if diverged_epoch is None else "diverged",
        diverged_epoch=diverged_epoch,
        dataset=dataset,
        optimizer=config.optimizer,
        learning_rate=config.learning_rate,
        epochs=config.epochs,
        **values,
    )
