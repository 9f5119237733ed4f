"""Benchmark data sets: scikit-learn's digits and MNIST-1D, each seed its own split where the study asks."""

from __future__ import annotations

import functools
import random
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from greedy.learning.config import check_choice, check_positive_float, check_positive_int, check_seeds
from greedy.learning.data.dataset import Dataset, from_arrays
from greedy.learning.data.splits import standardized


def digits(test_size: float = 0.5, random_state: int = 0) -> Dataset:
    """scikit-learn's 8x8 digits (shipped offline), standardized, stratified train/test split."""
    check_positive_float("test_size", test_size)
    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be in (0, 1), got {test_size}")
    x, y = load_digits(return_X_y=True)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=test_size, stratify=y, random_state=random_state)
    scaler = StandardScaler().fit(x_tr)
    return from_arrays(scaler.transform(x_tr), y_tr, scaler.transform(x_te), y_te, name="digits")


# SHA-256 of MNIST-1D as generated here (x_train, y_train, x_test, y_test, as stored by
# ``dataset_checksum``): a NumPy or SciPy that generates other arrays is noticed by the tests.
MNIST1D_SHA256 = "45d275bdfa7dbc904f7aa8600fdcb98a9fec7077f6ac80a8093a85bd0fbb73d3"


def mnist1d(seed: int = 42) -> Dataset:
    """MNIST-1D (Greydanus, 2020): 10 classes of 40-point signals, 4,000 train and 1,000 test.

    Generated offline by the pinned ``mnist1d`` package's ``make_dataset`` with its standard
    arguments (never its download path, which unpickles a file from the web), with the package's
    own split and scaling. ``seed`` is the generator's: the default, 42, gives the published data;
    any other draws a fresh sample of the same distribution (named ``mnist1d[draw SEED]``), for
    tuning data apart from every test row (``held_out.check_disjoint`` checks it). The package
    seeds the global ``random`` and NumPy generators; their states are restored afterwards, so
    calling this changes no one else's random numbers. A draw is generated once per process and
    handed out again, its arrays read-only.
    """
    check_positive_int("seed", seed, allow_zero=True)
    return _generated_mnist1d(int(seed))


@functools.lru_cache(maxsize=8)
def _generated_mnist1d(seed: int) -> Dataset:
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.seed = seed
    py_state, np_state = random.getstate(), np.random.get_state()
    try:
        raw = make_dataset(args)
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
    name = "mnist1d" if seed == 42 else f"mnist1d[draw {seed}]"  # 42: the package's own, the published data
    data = from_arrays(raw["x"], raw["y"], raw["x_test"], raw["y_test"], name=name)
    for array in (data.x_train, data.y_train, data.x_test, data.y_test):
        array.flags.writeable = False  # shared by every caller: nobody may change it in place
    return data


def resplit(data: Dataset, random_state: int) -> Dataset:
    """The train and test rows pooled and split again, stratified, into parts of the same sizes.

    For a data set without a generative model to draw from, each seed gets its own split, so
    intervals over seeds cover which rows were held out.
    """
    if not isinstance(data, Dataset):
        raise ValueError(f"data must be a greedy.Dataset (see greedy.from_arrays), got {type(data).__name__}")
    check_positive_int("random_state", random_state, allow_zero=True)
    x = np.concatenate([data.x_train, data.x_test])
    y = np.concatenate([data.y_train, data.y_test])
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=len(data.y_test), stratify=y, random_state=random_state)
    return replace(
        data,
        name=f"{data.name}[split {random_state}]",
        x_train=x_tr,
        y_train=y_tr,
        x_test=x_te,
        y_test=y_te,
        x_pool=None,
        x_validation=None,
        y_validation=None,
    )


PER_SEED_DATASETS = ("mnist1d", "digits")
DATASET_TITLES = {"mnist1d": "MNIST-1D", "digits": "digits"}  # as the book names them


def per_seed_splits(name: str, seeds: Sequence[int]) -> list[Dataset]:
    """One standardized data set per seed, each its own stratified train/test split (seeded by the seed).

    ``name``: "mnist1d" (the published 4,000 + 1,000 rows pooled and split again per seed) or
    "digits" (50/50).
    """
    check_choice("name", name, PER_SEED_DATASETS)
    seeds = check_seeds(seeds)
    if name == "mnist1d":
        pooled = mnist1d()
        return [standardized(resplit(pooled, seed)) for seed in seeds]
    return [digits(random_state=seed) for seed in seeds]
