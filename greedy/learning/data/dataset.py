"""A classification problem as the engines take it, from a user's arrays, checked; and its checksum."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Dataset:
    """A classification problem split into train and test; labels are integers 0..C-1."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    # Examples without labels, used only by unsupervised pretraining (may be empty).
    x_unlabeled: np.ndarray | None = None
    # A large sample of the generative model, where there is one: networks are also scored on it
    # (population accuracy). Shared, not copied, by the per-seed data sets of one run.
    x_population: np.ndarray | None = None
    y_population: np.ndarray | None = None
    # Labeled rows held out of training for early stopping (with_validation); never scored as a result.
    x_validation: np.ndarray | None = None
    y_validation: np.ndarray | None = None
    # Every training input in its original order, where the labeled rows were picked from it
    # (with_labeled_per_class): pretraining sees the same rows in the same order whatever the
    # label count, so one pretrained stack can serve every count.
    x_pool: np.ndarray | None = None

    @property
    def n_features(self) -> int:
        return int(self.x_train.shape[1])

    def one_hot(self, y: np.ndarray) -> np.ndarray:
        return np.eye(self.n_classes, dtype=np.float32)[y]

    @property
    def x_pretrain(self) -> np.ndarray:
        """Inputs available to unsupervised pretraining: labeled and unlabeled training rows."""
        if self.x_pool is not None:
            return self.x_pool
        if self.x_unlabeled is None or len(self.x_unlabeled) == 0:
            return self.x_train
        return np.concatenate([self.x_train, self.x_unlabeled])


def one_per_seed(data: Dataset | Sequence[Dataset], n_seeds: int) -> list[Dataset]:
    """One data set per seed: ``data`` for every seed, or the given list (one per seed, checked)."""
    per_seed = [data] * n_seeds if isinstance(data, Dataset) else list(data)
    if len(per_seed) != n_seeds:
        raise ValueError(f"data must hold one Dataset per seed: got {len(per_seed)} for {n_seeds} seeds")
    return per_seed


def _check_xy(x: object, y: object, what: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        x = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"X{what} must hold numbers only; it has values that are not numbers") from None
    y = np.asarray(y)
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"X{what} must be a non-empty 2-D array (rows, features), got shape {x.shape}")
    if y.ndim != 1:
        raise ValueError(f"y{what} must be a 1-D array of class labels, got shape {y.shape}")
    if len(x) != len(y):
        raise ValueError(f"X{what} and y{what} must have the same length, got {len(x)} and {len(y)}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"X{what} contains NaN or inf; only finite values are accepted")
    if np.abs(x).max() > np.finfo(np.float32).max:
        raise ValueError(f"X{what} has values beyond float32's range (|x| > 3.4e38); scale the inputs first")
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise ValueError(f"y{what} contains NaN or inf; every row needs a class label")
    if y.dtype.kind == "O" and any(v is None or (isinstance(v, float) and not np.isfinite(v)) for v in y):
        raise ValueError(f"y{what} contains a missing label (None or NaN); every row needs a class label")
    if y.dtype.kind == "f" and not np.all(y == np.round(y)):
        example = float(y[y != np.round(y)][0])
        raise ValueError(
            f"y{what} holds numbers that are not whole (e.g. {example!r}): a classifier needs class labels "
            "(integers or strings), not a continuous target"
        )
    if y.dtype.kind == "O" and len({type(v) is str for v in y}) > 1:
        raise ValueError(f"y{what} mixes numbers and strings; give every label the same type")
    return x, y


def from_arrays(
    x_train: object,
    y_train: object,
    x_test: object,
    y_test: object,
    *,
    name: str = "user",
) -> Dataset:
    """A user's tabular data, validated; labels may be any hashable values."""
    x_train, y_train = _check_xy(x_train, y_train, "_train")
    x_test, y_test = _check_xy(x_test, y_test, "_test")
    if x_train.shape[1] != x_test.shape[1]:
        raise ValueError(
            f"X_train and X_test must have the same number of features, got {x_train.shape[1]} and {x_test.shape[1]}"
        )
    classes = np.unique(y_train)
    if len(classes) < 2:
        raise ValueError(f"y_train must contain at least two classes, got {classes.tolist()}")
    unseen = set(np.unique(y_test).tolist()) - set(classes.tolist())
    if unseen:
        raise ValueError(f"y_test has classes not in y_train: {sorted(unseen)}")
    return Dataset(
        name=name,
        x_train=x_train.astype(np.float32),
        y_train=np.searchsorted(classes, y_train).astype(np.int64),
        x_test=x_test.astype(np.float32),
        y_test=np.searchsorted(classes, y_test).astype(np.int64),
        n_classes=len(classes),
    )


def dataset_checksum(data: Dataset) -> str:
    """SHA-256 over a data set's train and test arrays (inputs as float32, labels as int64)."""
    digest = hashlib.sha256()
    for array in (data.x_train, data.y_train, data.x_test, data.y_test):
        a = np.ascontiguousarray(array, dtype=np.float32 if array.ndim == 2 else np.int64)
        digest.update(str(a.shape).encode())
        digest.update(a.tobytes())
    return digest.hexdigest()
