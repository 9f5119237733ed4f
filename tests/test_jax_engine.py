"""The fast engine: exact where it claims to be, and training the same models as Keras."""

import inspect
import json
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from greedy.analysis.stats import mean_ci
from greedy.learning import jax_engine
from greedy.learning.config import TrainConfig
from greedy.learning.data import with_labeled_per_class
from greedy.learning.jax_engine import fit, network
from greedy.learning.mlp import accuracy
from greedy.learning.records import to_frame

SHORT = TrainConfig(n_added_layers=2, epochs=10, head_epochs=10, fine_tune_epochs=10)


def test_precomputed_features_equal_training_the_frozen_stack(blob_data):
    """A greedy stage on precomputed features == the full stack trained with lower layers frozen."""
    cfg = SHORT
    keys = jax.vmap(jax.random.PRNGKey)(jnp.arange(3))
    net = jax_engine.initial_network(keys, 2, 3, 4, cfg)  # 3 hidden + head
    x, y = jnp.asarray(blob_data.x_train), jnp.asarray(blob_data.one_hot(blob_data.y_train))
    kw = dict(activation="relu", loss="ce", learning_rate=0.01, momentum=0.9, epochs=10, batch_size=32)
    full, full_losses = fit.train(net, x, y, keys, frozen=2, **kw)
    feats = jax.vmap(lambda p: network.hidden_features(p, x, "relu"))(net[:2])
    short, short_losses = fit.train(net[2:], feats, y, keys, **kw)
    for (wf, bf), (w0, b0) in zip(full[:2], net[:2], strict=True):
        assert np.array_equal(np.asarray(wf), np.asarray(w0)) and np.array_equal(np.asarray(bf), np.asarray(b0))
    for (wf, bf), (ws, bs) in zip(full[2:], short, strict=True):
        np.testing.assert_allclose(np.asarray(wf), np.asarray(ws), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(np.asarray(bf), np.asarray(bs), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(full_losses, short_losses, rtol=1e-5)


@pytest.fixture(scope="module")
def kept(blob_data):
    trained = jax_engine.supervised_greedy(blob_data, SHORT, seeds=[0, 1, 2], keep_networks=True)
    return trained.records, trained.networks["supervised_greedy"]


def test_each_added_layer_is_one_stage(kept):
    # The 1-hidden-layer MLP (depth 2: a hidden layer and the head) and SHORT's 2 added layers: 3 stages per seed.
    records, layers = kept
    for seed in range(3):
        assert sorted(r.depth for r in records if r.seed == seed) == [2, 3, 4]
    assert sorted(layers) == [2, 3, 4]


@pytest.mark.parametrize("method", sorted(jax_engine.PROCEDURES))
def test_every_procedure_names_data_config_and_seeds_and_takes_its_options_by_name_only(method):
    # data, config and seeds go by position or by name; every option must be named, so that a misplaced
    # positional argument cannot set one silently.
    params = list(inspect.signature(jax_engine.PROCEDURES[method]).parameters.values())
    assert [p.name for p in params[:3]] == ["data", "config", "seeds"]
    assert all(p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD for p in params[:3])
    assert len(params) > 3 and all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params[3:])


def test_accuracy_is_a_fresh_forward_pass_and_frozen_layers_do_not_move(blob_data, kept):
    records, layers = kept
    for rec in records:
        net = layers[rec.depth][rec.seed]
        assert rec.test_accuracy == pytest.approx(accuracy(net, blob_data.x_test, blob_data.y_test), abs=1e-9)
        assert rec.train_accuracy == pytest.approx(accuracy(net, blob_data.x_train, blob_data.y_train), abs=1e-9)
    for s in range(3):
        for depth in (3, 4):
            prev, cur = layers[depth - 1][s], layers[depth][s]
            for i in range(depth - 2):
                assert np.array_equal(prev[i].kernel, cur[i].kernel), "a frozen layer changed"
            assert cur[depth - 2].kernel.shape == (10, 10)


def test_deterministic_and_seed_dependent(blob_data, kept):
    again = to_frame(jax_engine.supervised_greedy(blob_data, SHORT, seeds=[0, 1, 2]))
    first = to_frame(kept[0])
    cols = ["seed", "depth", "train_accuracy", "test_accuracy", "final_loss"]
    assert again[cols].equals(first[cols])
    by_seed = first.pivot(index="depth", columns="seed", values="final_loss")
    assert by_seed[0].ne(by_seed[1]).all()


def test_sharding_does_not_change_a_seeds_numbers(blob_data):
    cfg = SHORT.with_(n_added_layers=1)
    whole = to_frame(jax_engine.supervised_greedy(blob_data, cfg, seeds=list(range(6)), chunk_size=4))
    part = to_frame(jax_engine.supervised_greedy(blob_data, cfg, seeds=[4, 5], chunk_size=4))
    cols = ["train_accuracy", "test_accuracy", "final_loss"]
    assert whole[whole.seed >= 4][cols].reset_index(drop=True).equals(part[cols])


def test_divergence_stops_the_seed(blob_data):
    df = to_frame(jax_engine.autoencoder_greedy(blob_data, SHORT.with_(learning_rate=50.0), seeds=[0, 1]))
    assert (df.status == "diverged").all() and df.depth.tolist() == [2, 2]
    assert df.test_accuracy.isna().all() and df.diverged_epoch.notna().all()


def test_autoencoder_and_fine_tune_and_baseline(blob_data):
    ae = to_frame(
        jax_engine.autoencoder_greedy(blob_data, TrainConfig(n_added_layers=0), seeds=list(range(8)), fine_tune="last")
    )
    ok = ae[(ae.method == "autoencoder_greedy") & (ae.status == "ok")]
    assert len(ok) >= 4 and (ok.test_mse < 0.05).all() and (ok.test_accuracy > 0.7).all()
    assert set(ae.method) >= {"autoencoder_greedy+fine_tune"}
    e2e = to_frame(jax_engine.end_to_end(blob_data, SHORT, seeds=[0, 1], depths=[2, 5]))
    assert sorted(zip(e2e.seed, e2e.depth, strict=True)) == [(0, 2), (0, 5), (1, 2), (1, 5)]


def test_an_end_to_end_network_of_depth_d_has_d_dense_layers(blob_data):
    trained = jax_engine.end_to_end(blob_data, SHORT.with_(epochs=2), seeds=[0, 1], depths=[2, 4], keep_networks=True)
    networks = trained.networks["end_to_end"]
    n_features, width, n_classes = blob_data.x_train.shape[1], SHORT.width, blob_data.n_classes
    for depth in (2, 4):
        expected = [(n_features, width), *[(width, width)] * (depth - 2), (width, n_classes)]
        for seed in (0, 1):
            assert [layer.kernel.shape for layer in networks[depth][seed]] == expected


def test_tutorial_defaults_land_at_the_ceiling(blob_data):
    df = to_frame(jax_engine.supervised_greedy(blob_data, TrainConfig(n_added_layers=2), seeds=list(range(10))))
    assert df.test_accuracy.between(0.80, 0.85).all()


@pytest.mark.slow
def test_same_models_as_the_keras_reference_in_distribution(blob_data):
    """Per-seed test accuracy over 20 seeds: the engines' means lie within each other's CIs."""
    from greedy.learning import keras_engine

    cfg = TrainConfig(n_added_layers=1)
    seeds = list(range(20))
    fast = to_frame(jax_engine.supervised_greedy(blob_data, cfg, seeds=seeds))
    ref = to_frame([r for s in seeds for r in keras_engine.supervised_greedy(blob_data, cfg, seed=s)])
    for depth in (2, 3):
        a = mean_ci(fast[fast.depth == depth].test_accuracy)
        b = mean_ci(ref[ref.depth == depth].test_accuracy)
        assert b.low <= a.mean <= b.high or a.low <= b.mean <= a.high, (depth, a, b)
        assert abs(a.mean - b.mean) < 0.01


@pytest.mark.parametrize("n", [1, 2, 3, 500, 1797, 70_000])
def test_shuffled_indices_is_a_permutation(n):
    orders = [np.asarray(fit.shuffled_indices(jax.random.PRNGKey(k), n)) for k in range(3)]
    for order in orders:
        assert order.dtype == np.int32
        assert np.array_equal(np.sort(order), np.arange(n))
    if n > 2:
        assert not np.array_equal(orders[0], orders[1])


def test_shuffled_indices_is_uniform_over_positions():
    # Where element 0 lands, over 4000 shuffles of 8: chi-square against uniform (df 7; 0.999 quantile 24.3).
    keys = jax.random.split(jax.random.PRNGKey(0), 4000)
    orders = np.asarray(jax.vmap(lambda k: fit.shuffled_indices(k, 8))(keys))
    counts = np.bincount(np.argmax(orders == 0, axis=1), minlength=8)
    expected = len(keys) / 8
    assert ((counts - expected) ** 2 / expected).sum() < 24.3


@pytest.mark.parametrize("n", [8, 500, 1797])
def test_shuffled_indices_is_the_stable_order_of_random_high_bits(n):
    """Every committed record depends on the exact shuffle: the rows in the order of the high bits of
    one random uint32 each, ties kept in row order (NumPy's stable argsort, computed apart)."""
    key = jax.random.PRNGKey(7)
    high = np.asarray(jax.random.bits(key, (n,), jnp.uint32)) >> (n - 1).bit_length()
    np.testing.assert_array_equal(np.asarray(fit.shuffled_indices(key, n)), np.argsort(high, kind="stable"))


def test_an_end_to_end_networks_layers_are_drawn_from_the_keys_of_their_purpose():
    """Hidden layer i of a depth-d network is drawn from the seed's key folded with d and
    NETWORK_HIDDEN_INIT + i (He uniform), its output layer with NETWORK_OUTPUT_INIT (Glorot uniform):
    the scheme ``KeyPurpose`` documents, rebuilt here from ``jax.random`` alone."""
    from greedy.learning.jax_engine.keys import KeyPurpose

    depth, width = 4, 5
    keys = jax.vmap(jax.random.PRNGKey)(jnp.arange(2))
    net = jax_engine.initial_network(keys, 2, 3, depth, TrainConfig(width=width, initializer="he_uniform"))
    for seed in range(2):

        def drawn(purpose, shape, limit, seed=seed):
            key = jax.random.fold_in(jax.random.fold_in(jax.random.PRNGKey(seed), depth), purpose)
            return np.asarray(jax.random.uniform(key, shape, jnp.float32, -limit, limit))

        fan_in = 2
        for i in range(depth - 1):
            want = drawn(KeyPurpose.NETWORK_HIDDEN_INIT + i, (fan_in, width), np.sqrt(6 / fan_in))
            np.testing.assert_array_equal(np.asarray(net[i][0][seed]), want)
            fan_in = width
        want = drawn(KeyPurpose.NETWORK_OUTPUT_INIT, (width, 3), np.sqrt(6 / (width + 3)))
        np.testing.assert_array_equal(np.asarray(net[-1][0][seed]), want)


def test_kept_layers_are_keyed_by_seed_across_chunks(blob_data):
    # At learning rate 0.02 seeds 0 and 1 train every stage while 2 and 3 diverge at once, so
    # with one seed per chunk the later chunks stop early: entries must stay with their seed.
    cfg = SHORT.with_(learning_rate=0.02)
    trained = jax_engine.autoencoder_greedy(blob_data, cfg, seeds=[2, 0, 3, 1], chunk_size=1, keep_networks=True)
    df, kept = to_frame(trained), trained.networks["autoencoder_greedy"]
    assert sorted(kept[2]) == [0, 1, 2, 3]
    assert sorted(kept[4]) == [0, 1] == sorted(df[(df.depth == 4) & (df.status == "ok")].seed)
    for seed in (0, 1):
        assert accuracy(kept[4][seed], blob_data.x_test, blob_data.y_test) == pytest.approx(
            df[(df.depth == 4) & (df.seed == seed)].test_accuracy.item(), abs=1e-9
        )


NUMBERS = ["method", "seed", "depth", "train_accuracy", "test_accuracy", "final_loss", "status", "dataset"]


def test_per_seed_data_trains_each_seed_on_its_own_data(blob_data):
    """Seeds batched with one data set each give what each seed gives alone on its own data."""
    seeds = [0, 1, 2]
    parts = [with_labeled_per_class(blob_data, 5, random_state=s) for s in seeds]
    runs = [
        lambda d, s: jax_engine.end_to_end(d, SHORT, s, depths=[3], chunk_size=2),
        lambda d, s: jax_engine.supervised_greedy(d, SHORT, s, fine_tune="last", chunk_size=2),
        lambda d, s: jax_engine.autoencoder_greedy(d, SHORT, s, fine_tune="last", chunk_size=2),
    ]
    for run in runs:
        together = to_frame(run(parts, seeds))
        for part, seed in zip(parts, seeds, strict=True):
            alone = to_frame(run([part], [seed]))
            mine = together[together.seed == seed].reset_index(drop=True)
            assert len(alone) > 0 and mine[NUMBERS].equals(alone[NUMBERS])
    # The data is the seed's own: seed 0 on seed 1's labeled subset trains another network.
    own, other = (to_frame(runs[0]([p], [0])) for p in parts[:2])
    assert own.final_loss.iloc[0] != other.final_loss.iloc[0]


def test_per_seed_data_is_checked_before_any_work(blob_data):
    parts = [with_labeled_per_class(blob_data, k, random_state=0) for k in (5, 6)]
    with pytest.raises(ValueError, match="one Dataset per seed: got 2 for 3 seeds"):
        jax_engine.end_to_end(parts, SHORT, [0, 1, 2])
    with pytest.raises(ValueError, match=r"data\[1\] has shapes .* equal shapes"):
        jax_engine.supervised_greedy(parts, SHORT, [0, 1])
    with pytest.raises(ValueError, match="data must be a greedy.Dataset or a list of them"):
        jax_engine.autoencoder_greedy([blob_data, "blobs"], SHORT, [0, 1])


def test_population_accuracy_is_the_networks_accuracy_on_the_shared_population(blob_data):
    from greedy.learning.data import resampled_blobs

    data = resampled_blobs([0, 1, 2], n_population=3000)
    runs = {
        "end_to_end": lambda: jax_engine.end_to_end(data, SHORT, [0, 1, 2], depths=[3], keep_networks=True),
        "supervised_greedy": lambda: jax_engine.supervised_greedy(data, SHORT, [0, 1, 2], keep_networks=True),
        "autoencoder_greedy": lambda: jax_engine.autoencoder_greedy(data, SHORT, [0, 1, 2], keep_networks=True),
    }
    for method, run in runs.items():
        trained = run()
        df = to_frame(trained)
        row = df[(df.depth == 3) & (df.seed == 1)].iloc[0]
        network = trained.network(method, 3, 1)
        assert row.population_accuracy == accuracy(network, data[1].x_population, data[1].y_population), method
        assert row.test_accuracy == accuracy(network, data[1].x_test, data[1].y_test), method
    # Without a population, the column is empty.
    assert to_frame(jax_engine.end_to_end(blob_data, SHORT, [0], depths=[2])).population_accuracy.isna().all()


PINNED_RUN = """
import json, os, sys
os.sched_setaffinity(0, json.loads(sys.argv[1]))  # before JAX starts its threads
import greedy
from greedy.learning import jax_engine
from greedy.learning.jax_engine import fit, programs
data = greedy.digits()
parts = [greedy.with_labeled_per_class(data, 3, random_state=s) for s in (0, 1)]
cfg = greedy.TrainConfig(width=32, epochs=3, head_epochs=3, n_added_layers=1, fine_tune_epochs=3)
records = jax_engine.autoencoder_greedy(parts, cfg, [0, 1], fine_tune="last", chunk_size=2)
records += jax_engine.end_to_end(parts, cfg, [0, 1], depths=[3], chunk_size=2)
# The fair comparison's batch-normalized networks, scored on a population sample in row blocks.
blobs = greedy.resampled_blobs(range(2), n_population=30000)
bn = greedy.TrainConfig(epochs=3, n_added_layers=3)
records += jax_engine.end_to_end(blobs, bn, [0, 1], depths=[5], architecture="batch_norm")
print(json.dumps(greedy.to_frame(records).drop(columns="wall_seconds").to_dict("records")))
"""


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2, reason="needs two cores")
def test_numbers_do_not_depend_on_how_many_cores_the_process_has():
    """The study pins each Dask worker to a core; nbval and serial runs use every core."""
    cores = sorted(os.sched_getaffinity(0))

    def run(allowed: list[int]) -> list:
        out = subprocess.run(
            [sys.executable, "-c", PINNED_RUN, json.dumps(allowed)], capture_output=True, text=True, check=True
        )
        return json.loads(out.stdout.strip().splitlines()[-1])

    assert run(cores[:1]) == run(cores)
