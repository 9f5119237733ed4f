"""What a procedure hands back: one record per (method, depth, seed), tidy, a DataFrame in one call,
and the trained networks themselves where asked for."""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import pandas as pd

from greedy.learning.files import default_file_mode
from greedy.learning.mlp import Layer

GREEDY_METHODS = ("supervised_greedy", "autoencoder_greedy", "rbm_greedy")
FINE_TUNED = "fine_tune"


def fine_tuned_name(method: str) -> str:
    """The record method of a greedy method's fine-tuned stack: ``METHOD+fine_tune``."""
    return f"{method}+{FINE_TUNED}"


def method_parts(method: str) -> dict[str, object]:
    """What a record's ``method`` says, as columns: ``pretraining`` (a greedy method, or "none"),
    ``fine_tuned`` (the pretrained stack's every weight trained afterwards) and ``variant`` (what else
    the method adds to a plain network: "batch_norm", "residual", "regularized"; "none" otherwise).

    >>> method_parts("supervised_greedy+fine_tune")
    {'pretraining': 'supervised_greedy', 'fine_tuned': True, 'variant': 'none'}
    """
    base, _, suffix = method.partition("+")
    pretrained = base in GREEDY_METHODS
    fine_tuned = pretrained and suffix == FINE_TUNED
    return {
        "pretraining": base if pretrained else "none",
        "fine_tuned": fine_tuned,
        "variant": "none" if fine_tuned or not suffix else suffix,
    }


@dataclass(frozen=True)
class StageRecord:
    """What one stage of a procedure measured.

    ``depth`` counts Dense layers as the tutorial does (hidden layers + output layer).
    Accuracies are NaN when the stage diverged: a diverged stage is never scored.
    ``pretraining``, ``fine_tuned`` and ``variant`` are ``method`` in columns (``method_parts``).
    ``optimizer``, ``learning_rate`` and ``epochs`` are the settings of the network's training (a
    greedy stage's pretraining fit, or the end-to-end fit); a fine-tuned stack's fine-tuning fit has
    its own ``fine_tune_learning_rate`` and ``fine_tune_epochs`` (NaN on every other record).
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
    optimizer: str | None = None
    learning_rate: float = math.nan
    epochs: int | None = None
    fine_tune_learning_rate: float = math.nan
    fine_tune_epochs: int | None = None
    pretraining: str = field(init=False)
    fine_tuned: bool = field(init=False)
    variant: str = field(init=False)

    def __post_init__(self) -> None:
        for name, value in method_parts(self.method).items():
            object.__setattr__(self, name, value)


COLUMNS = [f.name for f in fields(StageRecord)]

Networks = dict[int, dict[int, list[Layer]]]  # [depth][seed] -> the network's layers


@dataclass(frozen=True)
class Trained:
    """What a procedure trained, as values: its records and, where asked for, its networks.

    ``networks`` maps a record's method (``supervised_greedy``, ``supervised_greedy+fine_tune``,
    ``end_to_end``, ...) to {depth: {seed: layers}}: each greedy stage's frozen stack with its head,
    each fine-tuned stack, each end-to-end network. A seed's entries stop where it diverged.
    """

    records: list[StageRecord]
    networks: dict[str, Networks] = field(default_factory=dict)

    def __add__(self, other: Trained) -> Trained:
        """Both runs' records, in order, and their networks together."""
        if not isinstance(other, Trained):
            return NotImplemented
        return Trained.join([self, other])

    @staticmethod
    def join(runs: Iterable[Trained]) -> Trained:
        """Every run's records, in order, and their networks together (built once, whatever the count)."""
        records: list[StageRecord] = []
        networks: dict[str, Networks] = {}
        for run in runs:
            records += run.records
            for method, nets in run.networks.items():
                for depth, by_seed in nets.items():
                    networks.setdefault(method, {}).setdefault(depth, {}).update(by_seed)
        return Trained(records, networks)

    def network(self, method: str, depth: int, seed: int) -> list[Layer]:
        """The layers of one kept network; a clear error names what was kept."""
        try:
            return self.networks[method][depth][seed]
        except KeyError:
            kept = {m: sorted(nets) for m, nets in self.networks.items()}
            raise KeyError(
                f"no network kept for method={method!r}, depth={depth}, seed={seed}; kept (method: depths): {kept} "
                "(pass keep_networks=True to keep them; a diverged seed keeps none after it diverged)"
            ) from None


def to_frame(records: list[StageRecord] | Trained) -> pd.DataFrame:
    """Records (a list, or a procedure's ``Trained``) as a tidy DataFrame with stable column order and dtypes."""
    if isinstance(records, Trained):
        records = records.records
    df = pd.DataFrame([asdict(r) for r in records], columns=COLUMNS)
    return df.astype(
        {"depth": "int64", "seed": "int64", "diverged_epoch": "Int64", "epochs": "Int64", "fine_tune_epochs": "Int64"}
    )


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
