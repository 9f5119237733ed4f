import numpy as np
import pytest

from greedy.learning.data import (
    bayes_accuracy,
    bayes_population_accuracy,
    blob_centers,
    blobs,
    digits,
    from_arrays,
    with_labeled_per_class,
)


def test_blobs_is_the_tutorials_split(blob_data):
    assert blob_data.x_train.shape == (500, 2) and blob_data.x_test.shape == (500, 2)
    assert blob_data.n_classes == 3
    assert blob_data.one_hot(blob_data.y_train).shape == (500, 3)
    np.testing.assert_allclose(blob_centers()[0], [-1.280, -9.481], atol=1e-3)


def test_blobs_settings_are_overridable():
    d = blobs(n_samples=300, centers=4, n_features=5, n_train=200, random_state=7)
    assert d.x_train.shape == (200, 5) and d.x_test.shape == (100, 5) and d.n_classes == 4


def test_bayes_ceiling_matches_known_values(blob_data):
    c = blob_centers()
    assert bayes_accuracy(blob_data.x_test, blob_data.y_test, c) == pytest.approx(0.840)
    assert bayes_accuracy(blob_data.x_train, blob_data.y_train, c) == pytest.approx(0.824)
    p, se = bayes_population_accuracy(c, n_draws=400_000)
    assert abs(p - 0.8223) < 4 * se + 5e-4


def test_digits_scaled_and_stratified():
    d = digits()
    assert d.n_features == 64 and d.n_classes == 10
    assert abs(d.x_train.mean()) < 1e-5
    counts_train, counts_test = np.bincount(d.y_train), np.bincount(d.y_test)
    assert np.all(np.abs(counts_train - counts_test) <= 1)


def test_labeled_split_keeps_k_per_class_and_the_rest_unlabeled():
    d = digits()
    k = with_labeled_per_class(d, 3, random_state=1)
    assert np.all(np.bincount(k.y_train) == 3)
    assert len(k.x_unlabeled) + len(k.x_train) == len(d.x_train)
    assert len(k.x_pretrain) == len(d.x_train)
    assert with_labeled_per_class(d, None) is d


def test_user_labels_are_encoded():
    x = np.arange(12, dtype=float).reshape(6, 2)
    d = from_arrays(x, ["b", "a", "c", "a", "b", "c"], x[:3], ["a", "c", "b"])
    assert d.n_classes == 3 and d.y_train.tolist() == [1, 0, 2, 0, 1, 2] and d.y_test.tolist() == [0, 2, 1]
