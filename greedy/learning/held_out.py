"""Tuning data that shares no input row with any evaluation split.

MNIST-1D is procedural: its tuning data are fresh draws of its generator (seeds the published data
does not use), checked to share no input row with the published 5,000 rows that every evaluation
split re-splits. Digits is one fixed set of 1,797 images: a stratified third of them, drawn once, is
the tuning pool, and the evaluation seeds split only the other two thirds (half and half).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from greedy.learning.config import check_choice, check_positive_int, check_seeds
from greedy.learning.data import PER_SEED_DATASETS, Dataset, from_arrays, mnist1d, per_seed_splits, standardized

# MNIST-1D generator seeds of the tuning draws (the published data is seed 42).
TUNING_DRAW_START = 1_000
DIGITS_TUNING_FRACTION = 1 / 3
DIGITS_POOL_SEED = 0  # the one draw of the digits tuning pool


def check_disjoint(tuning: Sequence[Dataset], evaluation: Sequence[Dataset]) -> None:
    """Refuse tuning data that shares an input row with any evaluation data (rows compared as raw inputs)."""
    seen = {row.tobytes() for d in evaluation for x in (d.x_train, d.x_test) for row in np.asarray(x, np.float64)}
    for data in tuning:
        for x in (data.x_train, data.x_test):
            shared = sum(row.tobytes() in seen for row in np.asarray(x, np.float64))
            if shared:
                raise ValueError(f"tuning data {data.name} shares {shared} input rows with the evaluation data")


def mnist1d_tuning_draws(n_draws: int) -> list[Dataset]:
    """``n_draws`` fresh samples of MNIST-1D's generator, checked disjoint from the published data, standardized."""
    check_positive_int("n_tuning_draws", n_draws)
    draws = [mnist1d(seed=TUNING_DRAW_START + i) for i in range(n_draws)]
    check_disjoint(draws, [mnist1d()])
    return [standardized(d) for d in draws]


def _digits_raw(seeds: Sequence[int], tuning_seeds: Sequence[int]) -> tuple[list[Dataset], list[Dataset]]:
    """Unstandardized digits splits: evaluation seeds from the evaluation pool, tuning seeds from the tuning pool."""
    x, y = load_digits(return_X_y=True)
    x_eval, x_tune, y_eval, y_tune = train_test_split(
        x, y, test_size=DIGITS_TUNING_FRACTION, stratify=y, random_state=DIGITS_POOL_SEED
    )

    def splits(x, y, seeds, name):
        parts = [train_test_split(x, y, test_size=0.5, stratify=y, random_state=s) for s in seeds]
        return [from_arrays(x_tr, y_tr, x_te, y_te, name=name) for x_tr, x_te, y_tr, y_te in parts]

    return splits(x_eval, y_eval, seeds, "digits"), splits(x_tune, y_tune, tuning_seeds, "digits[tuning pool]")


def evaluation_and_tuning(
    name: str, seeds: Sequence[int], tuning_seeds: Sequence[int]
) -> tuple[list[Dataset], list[Dataset]]:
    """One standardized evaluation split per seed and one tuning data set per tuning seed, sharing no
    input row (checked): "mnist1d" as ``per_seed_splits`` with fresh generator draws for tuning,
    "digits" split from two disjoint pools (two thirds for evaluation, a third for tuning)."""
    check_choice("name", name, PER_SEED_DATASETS)
    seeds, tuning_seeds = check_seeds(seeds), check_seeds(tuning_seeds)
    if name == "mnist1d":
        return per_seed_splits("mnist1d", seeds), mnist1d_tuning_draws(len(tuning_seeds))
    evaluation, tuning = _digits_raw(seeds, tuning_seeds)
    check_disjoint(tuning, evaluation)
    return [standardized(d) for d in evaluation], [standardized(d) for d in tuning]
