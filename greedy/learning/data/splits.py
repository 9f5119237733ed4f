"""Data sets made from others: labeled subsets, held-out validation or tuning rows, standardized inputs.

Two kinds of held-out rows, two names: ``with_validation`` keeps validation rows in
``x_validation`` (they stop training early); ``tuning_split`` makes the held-out rows the test split
of a new data set (every procedure scores that split, so settings are chosen on it).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from greedy.learning.config import check_positive_float, check_positive_int
from greedy.learning.data.dataset import Dataset


def with_labeled_per_class(data: Dataset, k: int | None, random_state: int = 0) -> Dataset:
    """Keep ``k`` labeled training examples per class; the other training rows become unlabeled.

    ``k=None`` keeps every label.
    """
    if not isinstance(data, Dataset):
        raise ValueError(f"data must be a greedy.Dataset (see greedy.from_arrays), got {type(data).__name__}")
    if k is None:
        return data
    k = check_positive_int("labeled_per_class", k)
    rng = np.random.default_rng(random_state)
    keep: list[int] = []
    for c in range(data.n_classes):
        idx = np.flatnonzero(data.y_train == c)
        if k > len(idx):
            raise ValueError(
                f"labeled_per_class={k} is more than the {len(idx)} training examples of class {c}; "
                f"accepted: 1..{min(np.bincount(data.y_train))}"
            )
        keep.extend(rng.choice(idx, size=k, replace=False).tolist())
    mask = np.zeros(len(data.y_train), bool)
    mask[np.sort(keep)] = True
    return replace(
        data,
        name=f"{data.name}[k={k}]",
        x_train=data.x_train[mask],
        y_train=data.y_train[mask],
        x_unlabeled=data.x_train[~mask],
        x_pool=data.x_pretrain,
    )


def can_hold_out_validation(data: Dataset) -> bool:
    """Whether every class has the two labeled training examples that ``with_validation`` needs."""
    return int(np.bincount(data.y_train, minlength=data.n_classes).min()) >= 2


def _stratified_hold_out(data: Dataset, fraction: float, random_state: int, *, one_per_class: bool = False):
    """(x_train, x_held, y_train, y_held): a stratified ``fraction`` of the labeled training rows held
    out; with ``one_per_class``, at least one row of every class on each side."""
    if not isinstance(data, Dataset):
        raise ValueError(f"data must be a greedy.Dataset (see greedy.from_arrays), got {type(data).__name__}")
    check_positive_float("fraction", fraction)
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be in (0, 1), got {fraction}")
    size: float | int = fraction
    if one_per_class:
        if not can_hold_out_validation(data):
            smallest = int(np.bincount(data.y_train, minlength=data.n_classes).min())
            raise ValueError(
                f"with_validation needs at least 2 labeled training examples of every class (one to train on, one "
                f"to validate on); the smallest class has {smallest}"
            )
        size = max(data.n_classes, round(fraction * len(data.y_train)))
    return train_test_split(
        data.x_train, data.y_train, test_size=size, stratify=data.y_train, random_state=random_state
    )


def with_validation(data: Dataset, fraction: float = 0.2, random_state: int = 0) -> Dataset:
    """A stratified ``fraction`` of the labeled training rows held out as validation rows (for early
    stopping), at least one per class; their inputs stay available to pretraining."""
    x_tr, x_val, y_tr, y_val = _stratified_hold_out(data, fraction, random_state, one_per_class=True)
    return replace(
        data,
        name=f"{data.name}[validation held out]",
        x_train=x_tr,
        y_train=y_tr,
        x_validation=x_val,
        y_validation=y_val,
        x_pool=data.x_pretrain,
    )


def standardized(data: Dataset) -> Dataset:
    """Inputs scaled to zero mean and unit variance, with the statistics of the training inputs."""
    scaler = StandardScaler().fit(data.x_pretrain)

    def scaled(x: np.ndarray | None) -> np.ndarray | None:
        return None if x is None else scaler.transform(x).astype(np.float32)

    return replace(
        data,
        name=f"{data.name}[standardized]",
        x_train=scaled(data.x_train),
        x_test=scaled(data.x_test),
        x_unlabeled=scaled(data.x_unlabeled),
        x_population=scaled(data.x_population),
        x_validation=scaled(data.x_validation),
        x_pool=scaled(data.x_pool),
    )


def tuning_split(data: Dataset, fraction: float = 0.2, random_state: int = 0) -> Dataset:
    """For choosing settings: the training rows split (stratified) into train and held-out tuning rows,
    which this data set holds as its test split (the split every procedure scores).

    Not to be confused with ``with_validation``, whose validation rows stop training early. The
    original test split and the population are left out, so nothing chosen on this data set has seen them.
    """
    x_tr, x_val, y_tr, y_val = _stratified_hold_out(data, fraction, random_state)
    return Dataset(
        name=f"{data.name}[validation]",
        x_train=x_tr,
        y_train=y_tr,
        x_test=x_val,
        y_test=y_val,
        n_classes=data.n_classes,
        x_unlabeled=data.x_unlabeled,
    )
