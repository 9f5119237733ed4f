"""Per-stage records: one row per (method, depth, seed), tidy, a DataFrame in one call."""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import pandas as pd

from greedy.learning.files import default_file_mode


@dataclass(frozen=True)
class StageRecord:
    """What one stage of a procedure measured.

    ``depth`` counts Dense layers as the tutorial does (hidden layers + output layer).
    Accuracies are NaN when the stage diverged: a diverged stage is never scored.
    """

    method: str
    depth: int
    seed: int
    train_accuracy: float
    test_accuracy: float
    final_loss: float
    wall_seconds: float
    backend: str
    engine: str
    status: str = "ok"
    diverged_epoch: int | None = None
    train_mse: float = math.nan
    test_mse: float = math.nan
    dataset: str = "blobs"
    # Accuracy on a large sample of the data's generative model, where the data set has one.
    population_accuracy: float = math.nan


COLUMNS = [f.name for f in fields(StageRecord)]


def to_frame(records: list[StageRecord]) -> pd.DataFrame:
    """Records as a tidy DataFrame with stable column order and dtypes."""
    df = pd.DataFrame([asdict(r) for r in records], columns=COLUMNS)
    return df.astype({"depth": "int64", "seed": "int64", "diverged_epoch": "Int64"})


def save_frame(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write CSV or Parquet atomically: readers see the old file or the complete new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    os.close(fd)
    try:
        if path.suffix == ".parquet":
            df.to_parquet(tmp, index=False)
        elif path.suffix == ".csv":
            df.to_csv(tmp, index=False)
        else:
            raise ValueError(f"path must end in .csv or .parquet, got {path.name!r}")
        os.chmod(tmp, default_file_mode())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def load_frame(path: str | os.PathLike[str]) -> pd.DataFrame:
    path = Path(path)
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".csv":
        return pd.read_csv(path)
    raise ValueError(f"path must end in .csv or .parquet, got {path.name!r}")
