"""Tuning data that shares no input row with any evaluation split, on both per-seed data sets."""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from greedy.learning import held_out
from greedy.learning.data import mnist1d, resplit


def _rows(*arrays) -> set[bytes]:
    return {row.tobytes() for x in arrays for row in np.asarray(x, np.float64)}


def test_no_mnist1d_tuning_row_is_ever_an_evaluation_test_row():
    published = mnist1d()
    draws = [mnist1d(seed=held_out.TUNING_DRAW_START + i) for i in range(2)]
    assert [d.name for d in draws] == ["mnist1d[draw 1000]", "mnist1d[draw 1001]"]
    held_out.check_disjoint(draws, [published])  # every evaluation split's rows come from the published ones
    evaluation_test_rows = _rows(*(resplit(published, seed).x_test for seed in range(3)))
    assert not _rows(*(x for d in draws for x in (d.x_train, d.x_test))) & evaluation_test_rows
    # The same distribution: ten classes, the published shapes.
    assert all(d.x_train.shape == published.x_train.shape and set(d.y_train) == set(range(10)) for d in draws)


def test_tuning_data_sharing_an_evaluation_row_is_refused(monkeypatch):
    published = mnist1d()
    leaky = resplit(published, 0)  # a "draw" made of published rows
    with pytest.raises(ValueError, match=r"shares 4000 input rows with the evaluation data"):
        held_out.check_disjoint([leaky], [published])
    monkeypatch.setattr(held_out, "mnist1d", lambda seed=42: published)
    with pytest.raises(ValueError, match="shares"):
        held_out.mnist1d_tuning_draws(1)


def test_digits_tuning_pool_is_a_third_no_evaluation_split_ever_holds():
    evaluation, tuning = held_out._digits_raw(range(4), range(10_000, 10_003))
    tuning_rows = _rows(*(x for d in tuning for x in (d.x_train, d.x_test)))
    evaluation_rows = _rows(*(x for d in evaluation for x in (d.x_train, d.x_test)))
    x, y = load_digits(return_X_y=True)
    assert not tuning_rows & evaluation_rows
    assert len(tuning_rows) == 599 and len(evaluation_rows) == 1198 and _rows(x) == tuning_rows | evaluation_rows
    # The one pool the published study tuned on: scikit-learn's stratified third drawn with random_state 0.
    assert tuning_rows == _rows(train_test_split(x, test_size=1 / 3, stratify=y, random_state=0)[1])
    # Each evaluation seed its own half-and-half split of the same two thirds, every class in both halves.
    assert all(len(d.y_train) == 599 and len(d.y_test) == 599 and set(d.y_test) == set(range(10)) for d in evaluation)
    assert len({d.x_test.tobytes() for d in evaluation}) == 4


def test_evaluation_and_tuning_are_standardized_and_checked(monkeypatch):
    evaluation, tuning = held_out.evaluation_and_tuning("digits", [0, 1], [5])
    assert len(evaluation) == 2 and len(tuning) == 1
    for d in [*evaluation, *tuning]:
        assert np.allclose(d.x_train.mean(axis=0), 0, atol=1e-5)
    real_raw = held_out._digits_raw

    def leaky(seeds, tuning_seeds):
        evaluation, _ = real_raw(seeds, tuning_seeds)
        return evaluation, evaluation[:1]

    monkeypatch.setattr(held_out, "_digits_raw", leaky)
    with pytest.raises(ValueError, match="shares"):
        held_out.evaluation_and_tuning("digits", [0], [5])


def test_bad_names_and_seeds_are_refused_by_name():
    with pytest.raises(ValueError, match="name"):
        held_out.evaluation_and_tuning("mnist", [0], [1])
    with pytest.raises(ValueError, match="seeds"):
        held_out.evaluation_and_tuning("digits", [], [1])
    with pytest.raises(ValueError, match="n_tuning_draws"):
        held_out.mnist1d_tuning_draws(0)


def test_each_tuning_draw_is_a_generator_seed_of_its_own(monkeypatch):
    from greedy.learning.data import from_arrays

    def fake_mnist1d(seed=42):  # a tiny stand-in whose rows say which seed drew them
        rng = np.random.default_rng(seed)
        x = rng.normal(size=(20, 3))
        y = np.arange(20) % 2
        return from_arrays(x[:10], y[:10], x[10:], y[10:], name=f"draw {seed}")

    monkeypatch.setattr(held_out, "mnist1d", fake_mnist1d)
    draws = held_out.mnist1d_tuning_draws(10)
    assert [d.name.split("[")[0] for d in draws] == [f"draw {held_out.TUNING_DRAW_START + i}" for i in range(10)]


def test_mnist1d_evaluation_splits_are_the_published_rows_and_tuning_the_fresh_draws():
    evaluation, tuning = held_out.evaluation_and_tuning("mnist1d", [0], [7])
    assert evaluation[0].name.startswith("mnist1d[split 0]") and tuning[0].name.startswith("mnist1d[draw 1000]")
