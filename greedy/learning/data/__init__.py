"""Data sets: the tutorial's blobs (its fixed split, or resampled from the generative model per seed),
the Bayes-optimal reference, scikit-learn's digits, MNIST-1D, user data, and data sets made from them.

- ``dataset``: ``Dataset`` and ``from_arrays`` (a user's arrays, checked);
- ``synthetic``: the tutorial's problem and its Bayes-optimal classifier;
- ``benchmarks``: digits and MNIST-1D, each seed its own split;
- ``splits``: labeled subsets, validation and tuning rows held out, standardized inputs.
"""

from greedy.learning.data.benchmarks import (
    DATASET_TITLES,
    MNIST1D_SHA256,
    PER_SEED_DATASETS,
    digits,
    mnist1d,
    per_seed_splits,
    resplit,
)
from greedy.learning.data.dataset import Dataset, dataset_checksum, from_arrays, one_per_seed
from greedy.learning.data.splits import (
    can_hold_out_validation,
    standardized,
    tuning_split,
    with_labeled_per_class,
    with_validation,
)
from greedy.learning.data.synthetic import (
    bayes_accuracy,
    bayes_population_accuracy,
    bayes_predict,
    blob_centers,
    blob_population,
    blobs,
    resampled_blobs,
)

__all__ = [
    "DATASET_TITLES",
    "Dataset",
    "MNIST1D_SHA256",
    "PER_SEED_DATASETS",
    "bayes_accuracy",
    "bayes_population_accuracy",
    "bayes_predict",
    "blob_centers",
    "blob_population",
    "blobs",
    "can_hold_out_validation",
    "dataset_checksum",
    "digits",
    "from_arrays",
    "mnist1d",
    "one_per_seed",
    "per_seed_splits",
    "resampled_blobs",
    "resplit",
    "standardized",
    "tuning_split",
    "with_labeled_per_class",
    "with_validation",
]
