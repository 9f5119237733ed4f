import numpy as np
import pytest

from greedy.learning.data import (
    bayes_accuracy,
    bayes_population_accuracy,
    blob_centers,
    blobs,
    digits,
    from_arrays,
    standardized,
    with_labeled_per_class,
    with_validation,
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


def test_a_class_can_be_labeled_whole_and_unseeded_splits_use_the_documented_defaults():
    from greedy.learning.data import tuning_split

    d = digits()
    smallest = int(np.bincount(d.y_train).min())
    whole = with_labeled_per_class(d, smallest)  # every row of the smallest class: none drawn twice
    assert np.all(np.bincount(whole.y_train) == smallest)
    assert len(whole.x_train) + len(whole.x_unlabeled) == len(d.x_train)
    # A call without a seed is the call with seed 0 (and a fifth held out): notebooks that omit them reproduce.
    for default, explicit in (
        (with_labeled_per_class(d, 3), with_labeled_per_class(d, 3, random_state=0)),
        (with_validation(d), with_validation(d, 0.2, random_state=0)),
        (tuning_split(d), tuning_split(d, 0.2, random_state=0)),
    ):
        np.testing.assert_array_equal(default.x_train, explicit.x_train)
        np.testing.assert_array_equal(default.y_train, explicit.y_train)
    assert not np.array_equal(
        with_labeled_per_class(d, 3, random_state=1).x_train, with_labeled_per_class(d, 3).x_train
    )


def test_pretraining_rows_keep_their_order_whatever_the_label_count():
    d = digits()
    for k in (1, 10):
        np.testing.assert_array_equal(with_labeled_per_class(d, k, random_state=2).x_pretrain, d.x_train)
    held_out = with_validation(with_labeled_per_class(d, 10, random_state=2), 0.2, random_state=3)
    np.testing.assert_array_equal(held_out.x_pretrain, d.x_train)
    np.testing.assert_allclose(standardized(held_out).x_pretrain.mean(0), 0, atol=1e-5)


def test_validation_rows_are_held_out_stratified_at_least_one_per_class():
    d = with_labeled_per_class(digits(), 3, random_state=0)
    v = with_validation(d, 0.2, random_state=0)
    assert np.all(np.bincount(v.y_validation) == 1) and np.all(np.bincount(v.y_train) == 2)
    rows = {r.tobytes() for r in d.x_train}
    assert {r.tobytes() for r in v.x_train} | {r.tobytes() for r in v.x_validation} == rows
    assert not {r.tobytes() for r in v.x_train} & {r.tobytes() for r in v.x_validation}
    assert len(with_validation(digits(), 0.2).y_validation) == round(0.2 * len(digits().y_train))
    with pytest.raises(ValueError, match="at least 2 labeled training examples of every class"):
        with_validation(with_labeled_per_class(digits(), 1), 0.2)
    with pytest.raises(ValueError, match="fraction"):
        with_validation(d, 1.5)


def test_user_labels_are_encoded():
    x = np.arange(12, dtype=float).reshape(6, 2)
    d = from_arrays(x, ["b", "a", "c", "a", "b", "c"], x[:3], ["a", "c", "b"])
    assert d.n_classes == 3 and d.y_train.tolist() == [1, 0, 2, 0, 1, 2] and d.y_test.tolist() == [0, 2, 1]


def test_resampled_blobs_draw_each_seed_from_the_tutorials_model():
    from greedy.learning.data import bayes_accuracy, blob_centers, blob_population, resampled_blobs

    data = resampled_blobs([3, 4], n_population=20_000)
    assert not np.array_equal(data[0].x_train, data[1].x_train)
    assert data[0].x_population is data[1].x_population  # one shared population sample
    assert (data[0].x_train.shape, data[0].x_test.shape) == ((500, 2), (500, 2))
    np.testing.assert_array_equal(np.bincount(np.r_[data[0].y_train, data[0].y_test]), [334, 333, 333])
    # Same centres: the Bayes rule of the tutorial's centres is as good on a fresh draw as on the population.
    centers = blob_centers()
    pop = bayes_accuracy(data[0].x_population, data[0].y_population, centers)
    assert abs(pop - 0.8247) < 0.01
    # The draw is the seed's, whatever else is drawn with it.
    np.testing.assert_array_equal(resampled_blobs([4], n_population=10)[0].x_train, data[1].x_train)
    np.testing.assert_array_equal(blob_population(20_000)[0], data[0].x_population)


def test_resampled_blobs_refuse_a_population_that_is_a_training_draw():
    from greedy.learning.data import resampled_blobs

    with pytest.raises(ValueError, match="population_seed=7"):
        resampled_blobs([7], population_seed=7)
    with pytest.raises(ValueError, match="seeds"):
        resampled_blobs(3)


def test_tuning_split_never_holds_test_or_population_rows():
    from greedy.learning.data import resampled_blobs, tuning_split

    d = resampled_blobs([0], n_population=100)[0]
    v = tuning_split(d, 0.2, random_state=0)
    assert (len(v.x_train), len(v.x_test)) == (400, 100)
    assert v.x_population is None
    rows = {tuple(r) for r in d.x_train.tolist()}
    assert all(tuple(r) in rows for r in v.x_test.tolist())
    assert not {tuple(r) for r in v.x_train.tolist()} & {tuple(r) for r in v.x_test.tolist()}
    np.testing.assert_array_equal(np.bincount(v.y_test), np.round(np.bincount(d.y_train) * 0.2))
    with pytest.raises(ValueError, match="fraction"):
        tuning_split(d, 1.5)


def test_standardizing_scales_the_population_with_the_training_statistics():
    from greedy.learning.data import resampled_blobs, standardized

    d = resampled_blobs([0], n_population=1000)[0]
    s = standardized(d)
    mean, std = d.x_train.mean(0), d.x_train.std(0)
    np.testing.assert_allclose(s.x_population, (d.x_population - mean) / std, rtol=1e-4, atol=1e-4)


def test_mnist1d_is_generated_offline_as_published_and_leaves_global_random_state_alone():
    import random

    from sklearn.linear_model import LogisticRegression

    from greedy.learning.data import MNIST1D_SHA256, dataset_checksum, mnist1d

    np.random.seed(123)
    random.seed(123)
    before = (np.random.get_state()[1].copy(), random.getstate())
    data = mnist1d()
    assert np.array_equal(np.random.get_state()[1], before[0]) and random.getstate() == before[1]
    assert (data.x_train.shape, data.x_test.shape, data.n_classes) == ((4000, 40), (1000, 40), 10)
    assert dataset_checksum(data) == MNIST1D_SHA256, "MNIST-1D generates other arrays: a changed NumPy or SciPy?"
    # The published reference: logistic regression about 32% on the standard split.
    score = LogisticRegression(max_iter=2000).fit(data.x_train, data.y_train).score(data.x_test, data.y_test)
    assert 0.25 < score < 0.40


def test_mnist1d_never_reaches_the_network(monkeypatch):
    import requests

    from greedy.learning.data import mnist1d

    def refuse(*args, **kwargs):
        raise AssertionError("MNIST-1D must be generated, not downloaded")

    monkeypatch.setattr(requests, "get", refuse)
    monkeypatch.setattr(requests.Session, "request", refuse)
    assert len(mnist1d().x_train) == 4000


def test_an_mnist1d_draw_is_generated_once_per_process_and_handed_out_read_only():
    from greedy.learning.data import mnist1d

    first = mnist1d(0)  # seed 0 is a draw like any other
    assert first.name == "mnist1d[draw 0]" and mnist1d(0) is first
    assert not any(a.flags.writeable for a in (first.x_train, first.y_train, first.x_test, first.y_test))
    with pytest.raises(ValueError, match="seed"):
        mnist1d(-1)


def test_wide_inputs_as_wide_in_both_splits_are_accepted():
    # 784 features, as MNIST's: widths past CPython's small-int cache must compare by value.
    rng = np.random.default_rng(0)
    d = from_arrays(rng.normal(size=(4, 784)), [0, 1, 0, 1], rng.normal(size=(2, 784)), [0, 1])
    assert d.x_train.shape[1] == d.x_test.shape[1] == 784


def test_the_default_population_sample_is_the_published_one():
    from greedy.learning.data import blob_population, resampled_blobs

    # 100,000 points drawn with seed 10**6: the population every blobs chapter scores on.
    [data] = resampled_blobs([0])
    x, y = blob_population(100_000, 10**6)
    np.testing.assert_array_equal(data.x_population, x)
    np.testing.assert_array_equal(data.y_population, y)
