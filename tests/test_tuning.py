"""Settings chosen on validation data: the best grid point wins, and bad grids fail before any work."""

import numpy as np
import pytest

from greedy.learning.config import TrainConfig
from greedy.learning.data import resampled_blobs
from greedy.learning.jax_engine import end_to_end
from greedy.learning.records import to_frame
from greedy.learning.tuning import settings_grid, tune


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
