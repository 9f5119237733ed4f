"""The tutorial's blobs (its fixed split, or resampled from the generative model) and the Bayes-optimal rule."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from sklearn.datasets import make_blobs

from greedy.learning.config import check_positive_float, check_positive_int, check_seeds
from greedy.learning.data.dataset import Dataset, from_arrays


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
