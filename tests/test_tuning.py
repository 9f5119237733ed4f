"""Settings chosen on validation data: the best grid point wins, and bad grids fail before any work."""

import math
import statistics

import numpy as np
import pytest

from greedy.learning.config import TrainConfig
from greedy.learning.data import resampled_blobs
from greedy.learning.jax_engine import end_to_end
from greedy.learning.records import StageRecord, to_frame
from greedy.learning.tuning import settings_grid, tune, tune_extending


def test_settings_grid_is_every_combination():
    grid = settings_grid(optimizer=["sgd", "adam"], learning_rate=[0.01, 0.1])
    assert grid == [
        {"optimizer": "sgd", "learning_rate": 0.01},
        {"optimizer": "sgd", "learning_rate": 0.1},
        {"optimizer": "adam", "learning_rate": 0.01},
        {"optimizer": "adam", "learning_rate": 0.1},
    ]
    with pytest.raises(ValueError, match="learning_rate"):
        settings_grid(learning_rate=0.1)


def test_tune_chooses_the_best_validation_accuracy_and_never_sees_test_data():
    data = resampled_blobs(range(4), n_population=100)
    seen = []

    def spy(datasets, config, seeds, **kw):
        seen.append(datasets)
        return end_to_end(datasets, config, seeds, **kw)

    grid = settings_grid(learning_rate=[1e-5, 0.01])  # 1e-5 barely moves in 20 epochs
    result = tune(spy, data, TrainConfig(epochs=20), range(4), grid, depth=3, depths=[3])
    assert result.chosen == {"learning_rate": 0.01} and result.config.learning_rate == 0.01
    assert list(result.table.learning_rate) == [1e-5, 0.01]
    assert result.table.validation_accuracy.iloc[1] > result.table.validation_accuracy.iloc[0]
    assert (result.table.n_seeds == 4).all()
    test_rows = {tuple(r) for d in data for r in d.x_test.tolist()}
    for datasets in seen:
        assert all(v.x_population is None for v in datasets)
        assert not any(tuple(r) in test_rows for v in datasets for r in np.r_[v.x_train, v.x_test].tolist())
    # The score is the validation accuracy the procedure recorded.
    direct = to_frame(end_to_end(seen[1], result.config, range(4), depths=[3]))
    assert result.table.validation_accuracy.iloc[1] == pytest.approx(direct.test_accuracy.mean())


def test_bad_grid_fails_before_any_work():
    calls = []

    def spy(*a, **k):
        calls.append(1)
        return []

    data = resampled_blobs(range(2), n_population=10)
    with pytest.raises(ValueError, match="learning_rte"):
        tune(spy, data, TrainConfig(), range(2), [{"learning_rate": 0.1}, {"learning_rte": 0.1}], depth=3)
    with pytest.raises(ValueError, match="optimizer"):
        tune(spy, data, TrainConfig(), range(2), settings_grid(optimizer=["rmsprop"]), depth=3)
    with pytest.raises(ValueError, match="one Dataset per seed"):
        tune(spy, data, TrainConfig(), range(3), settings_grid(learning_rate=[0.1]), depth=3)
    assert calls == []


def _peaked_at(best_rate: float, calls: list):
    """A stand-in procedure whose validation accuracy falls with the distance (in log rate) from ``best_rate``."""

    def procedure(datasets, config, seeds, **kw):
        calls.append(config.learning_rate)
        score = 0.9 - 0.1 * abs(np.log10(config.learning_rate / best_rate))
        return [StageRecord("end_to_end", 3, s, score, score, 0.1, 0.0, "jax", "jax") for s in seeds]

    return procedure


def test_a_choice_on_the_grid_edge_extends_the_grid_until_it_is_inside():
    data, calls = resampled_blobs(range(2), n_population=10), []
    result = tune_extending(
        _peaked_at(0.05, calls), data, TrainConfig(), range(2), "learning_rate", [0.001, 0.003, 0.01], depth=3
    )
    # 0.01 was the stated grid's best, on its upper edge; 0.03 is then best, so 0.09 is tried and loses.
    assert calls == [0.001, 0.003, 0.01, 0.03, 0.09]
    assert result.chosen == {"learning_rate": 0.03} and result.config.learning_rate == 0.03
    assert list(result.table.extension) == [0, 0, 0, 1, 2]
    assert not result.table.on_edge.any() and result.table.chosen.sum() == 1


def test_extension_stops_at_its_bound_and_says_the_choice_is_on_the_edge():
    data, calls = resampled_blobs(range(2), n_population=10), []
    result = tune_extending(
        _peaked_at(1e-6, calls), data, TrainConfig(), range(2), "learning_rate", [0.01, 0.1], depth=3,
        max_extensions=1,
    )  # fmt: skip
    assert calls == [0.01, 0.1, 0.001]
    assert result.chosen == {"learning_rate": 0.001} and bool(result.table.on_edge[result.table.chosen].iloc[0])


def test_extending_tuning_refuses_a_grid_it_cannot_extend_before_any_work():
    data, calls = resampled_blobs(range(2), n_population=10), []
    for values in ([0.01], [0.0, 0.1]):
        with pytest.raises(ValueError, match="values"):
            tune_extending(_peaked_at(0.01, calls), data, TrainConfig(), range(2), "learning_rate", values, depth=3)
    with pytest.raises(ValueError, match="momentum"):  # the grid's far end is no momentum at all
        tune_extending(_peaked_at(0.01, calls), data, TrainConfig(), range(2), "momentum", [0.3, 3.0], depth=3)
    assert calls == []


def test_a_grid_points_standard_error_is_its_seeds_sample_sd_over_root_n(blob_data):
    accuracy = {0: 0.5, 1: 0.7, 2: 0.65}

    def procedure(data, config, seeds):
        return [StageRecord("spy", 2, s, accuracy[s], accuracy[s], 0.1, 0.0, "jax", "fast") for s in seeds]

    def table(seeds):
        return tune(procedure, blob_data, TrainConfig(), seeds=seeds, grid=[{"learning_rate": 0.01}], depth=2).table

    three = table([0, 1, 2])
    assert three.standard_error[0] == pytest.approx(statistics.stdev(accuracy.values()) / math.sqrt(3))
    one = table([1])  # one seed: a mean, and no spread to judge it by
    assert one.validation_accuracy[0] == pytest.approx(0.7) and math.isnan(one.standard_error[0])
