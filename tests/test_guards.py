"""Properties a reader of the records relies on, each checked against values computed apart from
the code under test (each test here kills a realistic mutant that the other tests let through)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

from greedy.analysis.diagnostics import input_variance
from greedy.learning import jax_engine
from greedy.learning.config import TrainConfig
from greedy.learning.jax_engine import baseline, runs, scores, supervised, unsupervised
from greedy.learning.jax_engine.fit import train
from greedy.learning.records import StageRecord
from greedy.learning.tuning import tune

TINY = TrainConfig(n_added_layers=1, epochs=3, head_epochs=3, fine_tune_epochs=4, fine_tune_learning_rate=0.05)


@pytest.fixture
def train_calls(monkeypatch):
    """Every call the procedures make to ``train``: (params in, params out, keyword arguments)."""
    calls = []

    def spy(params, x, y, keys, **kw):
        out, losses = train(params, x, y, keys, **kw)
        calls.append((params, out, (x, y, keys), kw))
        return out, losses

    for module in (runs, supervised, unsupervised, baseline):  # every module of the engine that calls it
        monkeypatch.setattr(module, "train", spy)
    return calls


def _same(a, b) -> bool:
    return all(
        np.array_equal(np.asarray(u), np.asarray(v))
        for u, v in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True)
    )


def test_fine_tuning_trains_every_layer_as_an_unfrozen_fit_does(blob_data, train_calls):
    jax_engine.supervised_greedy(blob_data, TINY, seeds=[0, 1], fine_tune="last")
    [(before, after, args, kw)] = [c for c in train_calls if c[3]["epochs"] == TINY.fine_tune_epochs]
    assert len(before) == 3 and kw["learning_rate"] == TINY.fine_tune_learning_rate
    # The lower (pretrained) layers moved: the whole stack was trained, not only its head.
    for layer in range(len(before) - 1):
        assert not _same(before[layer], after[layer]), f"layer {layer} did not change in fine-tuning"
    # And they moved exactly as a fit with nothing frozen moves them.
    reference, _ = train(before, *args, **{**kw, "frozen": 0})
    assert _same(after, reference)


def test_the_raw_input_decoder_is_carried_from_stage_to_stage(blob_data, train_calls):
    cfg = TINY.with_(reconstruction_target="raw_input")
    jax_engine.autoencoder_greedy(blob_data, cfg, seeds=[0, 1])
    stages = [c for c in train_calls if c[3]["loss"] == "mse"]
    assert len(stages) == 2
    (_, first_out, _, _), (second_in, _, _, _) = stages
    # The second stage starts from the decoder the first stage trained, not from a new one.
    assert _same(second_in[1], first_out[1])


def test_input_variance_is_the_mean_of_the_columns_variances():
    x = np.array([[-1.0, -math.sqrt(3)], [1.0, math.sqrt(3)]])  # column variances 1 and 3
    assert input_variance(x) == pytest.approx(2.0)


def test_non_finite_final_weights_are_a_divergence_though_the_losses_are_finite():
    losses = np.ones((3, 5), np.float32)
    w = np.ones((3, 2, 2), np.float32)
    w[1, 0, 0], w[2, 1, 1] = np.nan, np.inf
    params = [(jnp.asarray(w), jnp.zeros((3, 2)))]
    assert scores.divergence(losses, params) == [None, 5, 5]


def test_a_divergence_is_the_first_non_finite_epoch_counted_from_one():
    nan, inf = np.nan, np.inf
    losses = np.array([[1, nan, 1, inf, 1], [inf, 1, 1, 1, 1], [1, 1, 1, 1, nan], [1, 1, 1, 1, 1]], np.float32)
    w = np.ones((4, 2, 2), np.float32)
    w[1, 0, 0] = np.nan  # a loss that diverged first dates the divergence, not the final weights
    assert scores.divergence(losses, [(jnp.asarray(w), jnp.zeros((4, 2)))]) == [2, 1, 5, None]


def _record(seed: int, accuracy: float, status: str = "ok") -> StageRecord:
    return StageRecord("spy", 2, seed, accuracy, accuracy, 0.1, 0.0, "jax", "fast", status=status)


def test_a_setting_that_diverges_on_some_seeds_loses_tuning_to_a_steady_one(blob_data):
    def procedure(data, config, seeds):
        if config.learning_rate == 0.1:  # a fragile setting: very good on one seed, diverged on the others
            return [_record(0, 0.95), *[_record(s, math.nan, "diverged") for s in seeds[1:]]]
        return [_record(s, 0.6) for s in seeds]

    grid = [{"learning_rate": 0.1}, {"learning_rate": 0.01}]
    result = tune(procedure, blob_data, TrainConfig(), seeds=[0, 1, 2, 3], grid=grid, depth=2)
    chance = 1 / 3
    expected = pd.Series([(0.95 + 3 * chance) / 4, 0.6])
    np.testing.assert_allclose(result.table.validation_accuracy, expected)
    assert result.chosen == {"learning_rate": 0.01} and list(result.table.diverged) == [3, 0]


def test_tuning_at_a_depth_the_procedure_never_trains_is_refused_unless_its_seeds_diverged_before_it(blob_data):
    def trains_depth_2(data, config, seeds):
        return [_record(s, 0.6) for s in seeds]

    with pytest.raises(ValueError, match="no depth-3 network"):
        tune(trains_depth_2, blob_data, TrainConfig(), seeds=[0, 1], grid=[{"learning_rate": 0.01}], depth=3)

    def diverges_before_depth_3(data, config, seeds):
        return [_record(s, math.nan, "diverged") for s in seeds]

    result = tune(diverges_before_depth_3, blob_data, TrainConfig(), seeds=[0, 1], grid=[{}], depth=3)
    assert list(result.table.validation_accuracy) == [1 / 3] and list(result.table.diverged) == [2]
