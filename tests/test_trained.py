"""Procedures hand back what they train as values: records, kept networks, a reuse cache that is an object."""

import pickle

import numpy as np
import pytest

from greedy.learning import jax_engine, keras_engine
from greedy.learning.config import KERAS_METHODS, METHODS, TrainConfig
from greedy.learning.data import from_arrays, standardized
from greedy.learning.mlp import accuracy
from greedy.learning.procedures import procedure
from greedy.learning.records import to_frame

TINY = TrainConfig(n_added_layers=1, epochs=5, head_epochs=5, fine_tune_epochs=5, fine_tune_learning_rate=0.05)


@pytest.fixture(scope="module")
def supervised(blob_data):
    return jax_engine.supervised_greedy(blob_data, TINY, [0, 1], fine_tune="last", keep_networks=True)


def test_kept_fine_tuned_networks_are_the_recorded_ones_and_moved_every_layer(blob_data, supervised):
    df = to_frame(supervised)
    frozen, tuned = supervised.networks["supervised_greedy"], supervised.networks["supervised_greedy+fine_tune"]
    assert sorted(frozen) == [2, 3] and sorted(tuned) == [3]
    for seed in (0, 1):
        row = df[(df.method == "supervised_greedy+fine_tune") & (df.seed == seed)].iloc[0]
        network = supervised.network("supervised_greedy+fine_tune", 3, seed)
        assert row.test_accuracy == accuracy(network, blob_data.x_test, blob_data.y_test)
        assert row.train_accuracy == accuracy(network, blob_data.x_train, blob_data.y_train)
        for before, after in zip(frozen[3][seed], tuned[3][seed], strict=True):
            assert not np.allclose(before.kernel, after.kernel), "fine-tuning left a layer where it was"


def test_networks_are_kept_only_when_asked_for(blob_data):
    assert jax_engine.supervised_greedy(blob_data, TINY, [0]).networks == {}
    with pytest.raises(ValueError, match="keep_networks must be True or False"):
        jax_engine.end_to_end(blob_data, TINY, [0], keep_networks="yes")


def test_a_missing_network_is_named_with_what_was_kept(supervised):
    with pytest.raises(KeyError, match=r"method='end_to_end', depth=3, seed=0.*supervised_greedy"):
        supervised.network("end_to_end", 3, 0)


def test_adding_two_runs_keeps_both_in_order(blob_data):
    first = jax_engine.end_to_end(blob_data, TINY, [0], depths=[2], keep_networks=True)
    second = jax_engine.end_to_end(blob_data, TINY, [1], depths=[2, 3], keep_networks=True)
    both = first + second
    assert [(r.seed, r.depth) for r in both.records] == [(0, 2), (1, 2), (1, 3)]
    assert {depth: sorted(nets) for depth, nets in both.networks["end_to_end"].items()} == {2: [0, 1], 3: [1]}
    assert first.networks["end_to_end"] == {2: {0: first.network("end_to_end", 2, 0)}}  # neither run changed
    assert to_frame(both).equals(to_frame(both.records))


def test_the_reuse_cache_is_an_object_that_travels_empty(blob_data):
    with pytest.raises(ValueError, match="PretrainedStages"):
        jax_engine.autoencoder_greedy(blob_data, TINY, [0], pretrained={})
    cache = jax_engine.PretrainedStages()
    jax_engine.autoencoder_greedy(standardized(blob_data), TINY, [0], pretrained=cache)
    assert len(cache) == 2
    assert len(pickle.loads(pickle.dumps(cache))) == 0


def test_rbm_stacks_are_reused_from_the_cache_unchanged():
    rng = np.random.default_rng(0)
    x, y = rng.uniform(size=(60, 6)), rng.integers(0, 2, 60)
    data = from_arrays(x, y, x[:20], y[:20], name="uniform")
    config = TrainConfig(activation="sigmoid", initializer="glorot_uniform", n_added_layers=1, epochs=3, head_epochs=3)
    cache = jax_engine.PretrainedStages()
    alone = to_frame(jax_engine.rbm_greedy(data, config, [0, 1])).drop(columns="wall_seconds")
    for _ in range(2):
        reused = to_frame(jax_engine.rbm_greedy(data, config, [0, 1], pretrained=cache)).drop(columns="wall_seconds")
        assert reused.equals(alone) and len(cache) == 2


def test_one_registry_names_every_procedure_on_each_engine():
    assert set(jax_engine.PROCEDURES) == set(METHODS)
    assert set(keras_engine.PROCEDURES) == set(KERAS_METHODS)
    assert procedure("rbm_greedy") is jax_engine.rbm_greedy
    with pytest.raises(ValueError, match="runs on the fast engine only"):
        procedure("rbm_greedy", engine="keras")
    with pytest.raises(ValueError, match="method='dbn' is not accepted"):
        procedure("dbn")


def test_a_cached_stage_is_learned_once_and_cannot_be_changed_by_whoever_reads_it():
    from dataclasses import FrozenInstanceError

    from greedy.learning.jax_engine.reuse import LearnedLayer

    cache, learned_now = jax_engine.PretrainedStages(), []

    def learn():
        learned_now.append(1)
        return LearnedLayer(layer=(np.zeros(2),), losses=np.zeros((1, 1)), diverged=[None], reconstruct=len)

    first = cache.learned(("run",), 0, learn)
    assert cache.learned(("run",), 0, learn) is first and learned_now == [1] and len(cache) == 1
    cache.learned(("run",), 1, learn)
    assert learned_now == [1, 1] and len(cache) == 2
    with pytest.raises(FrozenInstanceError):
        first.decoder = (np.ones(2),)


def test_each_record_times_its_own_fit(blob_data):
    """``wall_seconds`` is a fit's duration per seed: never negative, and together no longer than the run."""
    import time

    start = time.perf_counter()
    trained = jax_engine.supervised_greedy(blob_data, TINY, [0, 1], fine_tune="every")
    elapsed = time.perf_counter() - start
    seconds = [r.wall_seconds for r in trained.records]
    assert len(seconds) == 8 and min(seconds) >= 0 and sum(seconds) <= elapsed
