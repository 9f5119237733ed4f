"""Data sets: the tutorial's blobs (its fixed split, or resampled from the generative model per seed),
the Bayes-optimal reference, scikit-learn's digits, MNIST-1D, user data."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from sklearn.datasets import load_digits, make_blobs
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from greedy.learning.config import check_choice, check_positive_float, check_positive_int, check_seeds


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


def blobs(
    n_samples: int = 1000,
    centers: int = 3,
    n_features: int = 2,
    cluster_std: float = 2.0,
    random_state: int = 2,
    n_train: int = 500,
) -> Dataset:
    """The tutorial's problem: the first ``n_train`` rows train, the rest test."""
    check_positive_int("n_samples", n_samples)
    check_positive_int("centers", centers)
    check_positive_int("n_features", n_features)
    check_positive_float("cluster_std", cluster_std)
    check_positive_int("random_state", random_state, allow_zero=True)
    check_positive_int("n_train", n_train)
    if centers < 2:
        raise ValueError(f"centers must be >= 2 (a classification needs two classes), got {centers}")
    if n_train >= n_samples:
        raise ValueError(f"n_train must be < n_samples={n_samples}, got {n_train}")
    x, y = make_blobs(
        n_samples=n_samples,
        centers=centers,
        n_features=n_features,
        cluster_std=cluster_std,
        random_state=random_state,
    )
    return from_arrays(x[:n_train], y[:n_train], x[n_train:], y[n_train:], name="blobs")


def resampled_blobs(
    seeds: object,
    n_population: int = 100_000,
    population_seed: int = 10**6,
    n_samples: int = 1000,
    n_train: int = 500,
    cluster_std: float = 2.0,
    random_state: int = 2,
) -> list[Dataset]:
    """The tutorial's problem with its data noise: one data set per seed, each drawn afresh.

    The generative model is the tutorial's (the centres ``make_blobs`` draws for ``random_state``,
    isotropic spread ``cluster_std``, equal class sizes). Seed s draws its own ``n_samples`` points
    (the first ``n_train`` train, the rest test); every data set shares one population sample of
    ``n_population`` points, drawn once with ``population_seed`` (not a training seed's draw);
    ``n_population=0`` draws none (nothing is then scored on one).
    """
    seed_list = check_seeds(seeds)
    check_positive_int("n_population", n_population, allow_zero=True)
    if population_seed in seed_list:
        raise ValueError(f"population_seed={population_seed} is one of the seeds; the population must be a fresh draw")
    if n_train >= n_samples:
        raise ValueError(f"n_train must be < n_samples={n_samples}, got {n_train}")
    centers = blob_centers(n_samples, cluster_std=cluster_std, random_state=random_state)
    # One population array for every seed (never copied): a run scores it once per chunk.
    x_pop, y_pop = (None, None)
    if n_population:
        x_pop, y_pop = blob_population(n_population, population_seed, cluster_std, random_state)
    out = []
    for seed in seed_list:
        x, y = make_blobs(n_samples=n_samples, centers=centers, cluster_std=cluster_std, random_state=seed)
        d = from_arrays(x[:n_train], y[:n_train], x[n_train:], y[n_train:], name=f"blobs[seed {seed}]")
        out.append(replace(d, x_population=x_pop, y_population=y_pop))
    return out


def blob_population(
    n_population: int = 100_000, population_seed: int = 10**6, cluster_std: float = 2.0, random_state: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """A large sample of the tutorial's generative model (float32 inputs, int64 labels)."""
    check_positive_int("n_population", n_population)
    check_positive_int("population_seed", population_seed, allow_zero=True)
    centers = blob_centers(cluster_std=cluster_std, random_state=random_state)
    x, y = make_blobs(n_samples=n_population, centers=centers, cluster_std=cluster_std, random_state=population_seed)
    return x.astype(np.float32), y.astype(np.int64)


def blob_centers(
    n_samples: int = 1000, centers: int = 3, n_features: int = 2, cluster_std: float = 2.0, random_state: int = 2
) -> np.ndarray:
    """The true centres make_blobs drew for these settings."""
    _, _, c = make_blobs(
        n_samples=n_samples,
        centers=centers,
        n_features=n_features,
        cluster_std=cluster_std,
        random_state=random_state,
        return_centers=True,
    )
    return c


def bayes_predict(x: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Bayes-optimal class for equal priors and equal isotropic spread: the nearest true centre."""
    d = ((np.asarray(x)[:, None, :] - centers[None, :, :]) ** 2).sum(-1)
    return d.argmin(1)


def bayes_accuracy(x: np.ndarray, y: np.ndarray, centers: np.ndarray) -> float:
    return float((bayes_predict(x, centers) == np.asarray(y)).mean())


def bayes_population_accuracy(
    centers: np.ndarray, cluster_std: float = 2.0, n_draws: int = 1_000_000, random_state: int = 0
) -> tuple[float, float]:
    """Monte Carlo estimate of the Bayes rate for equal-prior isotropic Gaussians, with its standard error."""
    rng = np.random.default_rng(random_state)
    k, d = centers.shape
    labels = rng.integers(0, k, size=n_draws)
    x = centers[labels] + cluster_std * rng.standard_normal((n_draws, d))
    correct = bayes_predict(x, centers) == labels
    p = float(correct.mean())
    return p, float(np.sqrt(p * (1 - p) / n_draws))


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
    calling this changes no one else's random numbers.
    """
    from mnist1d.data import get_dataset_args, make_dataset

    check_positive_int("seed", seed, allow_zero=True)
    args = get_dataset_args()
    args.seed = int(seed)
    py_state, np_state = random.getstate(), np.random.get_state()
    try:
        raw = make_dataset(args)
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
    name = "mnist1d" if seed == 42 else f"mnist1d[draw {seed}]"  # 42: the package's own, the published data
    return from_arrays(raw["x"], raw["y"], raw["x_test"], raw["y_test"], name=name)


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


def dataset_checksum(data: Dataset) -> str:
    """SHA-256 over a data set's train and test arrays (inputs as float32, labels as int64)."""
    digest = hashlib.sha256()
    for array in (data.x_train, data.y_train, data.x_test, data.y_test):
        a = np.ascontiguousarray(array, dtype=np.float32 if array.ndim == 2 else np.int64)
        digest.update(str(a.shape).encode())
        digest.update(a.tobytes())
    return digest.hexdigest()


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
