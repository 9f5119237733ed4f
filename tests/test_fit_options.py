"""The fast engine's optimizers and architectures against Keras 3 and plain NumPy.

Full-batch fits (one batch of every row) make the order of rows irrelevant, so the fast engine and
Keras must produce the same weights up to float rounding.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from greedy.learning.config import TrainConfig
from greedy.learning.jax_engine import end_to_end
from greedy.learning.jax_engine.fit import train
from greedy.learning.jax_engine.network import BATCH_NORM_EPSILON, forward, forward_batch
from greedy.learning.records import to_frame


def _keras_fit(x, y_hot, layers, optimizer, epochs):
    import keras

    model = keras.Sequential(
        [
            keras.Input((x.shape[1],)),
            keras.layers.Dense(layers[0][0].shape[1], activation="tanh"),
            keras.layers.Dense(3),
        ]
    )
    for layer, (w, b) in zip(model.layers, layers, strict=True):
        layer.set_weights([np.asarray(w), np.asarray(b)])
    model.compile(optimizer=optimizer, loss=keras.losses.CategoricalCrossentropy(from_logits=True))
    model.fit(x, y_hot, batch_size=len(x), epochs=epochs, shuffle=False, verbose=0)
    return [[np.asarray(v) for v in layer.get_weights()] for layer in model.layers]


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_optimizers_take_the_same_steps_as_keras(blob_data, optimizer):
    import keras

    x, y = blob_data.x_train[:64], blob_data.y_train[:64]
    y_hot = blob_data.one_hot(y)
    rng = np.random.default_rng(0)
    layers = [
        (rng.uniform(-0.5, 0.5, (2, 8)).astype(np.float32), rng.uniform(-0.1, 0.1, 8).astype(np.float32)),
        (rng.uniform(-0.5, 0.5, (8, 3)).astype(np.float32), np.zeros(3, np.float32)),
    ]
    lr, epochs = 0.05, 5
    keras_opt = keras.optimizers.Adam(lr) if optimizer == "adam" else keras.optimizers.SGD(lr, momentum=0.9)
    expected = _keras_fit(x, y_hot, layers, keras_opt, epochs)
    params = [(jnp.asarray(w)[None], jnp.asarray(b)[None]) for w, b in layers]
    trained, _ = train(
        params,
        jnp.asarray(x),
        jnp.asarray(y_hot),
        jax.random.PRNGKey(0)[None],
        activation="tanh",
        loss="ce",
        learning_rate=lr,
        momentum=0.9,
        epochs=epochs,
        batch_size=len(x),
        optimizer=optimizer,
    )
    for (w, b), (kw, kb) in zip(trained, expected, strict=True):
        np.testing.assert_allclose(np.asarray(w[0]), kw, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(np.asarray(b[0]), kb, rtol=1e-4, atol=1e-5)
    # The steps are not trivial: the weights moved.
    assert not np.allclose(expected[0][0], layers[0][0], atol=1e-3)


def _numpy_forward(layers, x, architecture, stats_from):
    h, ref = x.astype(np.float64), stats_from.astype(np.float64)
    for layer in layers[:-1]:
        w = layer[0].astype(np.float64)
        if architecture == "batch_norm":
            z, zr = h @ w, ref @ w
            mean, var = zr.mean(0), zr.var(0)
            out = np.maximum(layer[2] * (z - mean) / np.sqrt(var + BATCH_NORM_EPSILON) + layer[1], 0)
            ref = np.maximum(layer[2] * (zr - mean) / np.sqrt(var + BATCH_NORM_EPSILON) + layer[1], 0)
        else:
            out = np.maximum(h @ w + layer[1], 0)
            if architecture == "residual" and h.shape[1] == out.shape[1]:
                out = h + out
        h = out
    return h @ layers[-1][0] + layers[-1][1]


@pytest.mark.parametrize("architecture", ["plain", "batch_norm", "residual"])
def test_architectures_compute_what_they_say(architecture):
    rng = np.random.default_rng(1)
    x, ref = rng.normal(size=(7, 3)).astype(np.float32), rng.normal(size=(11, 3)).astype(np.float32)
    shapes = [(3, 5), (5, 5), (5, 5), (5, 2)]
    layers = []
    for i, (a, b) in enumerate(shapes):
        w, bias = rng.normal(size=(a, b)).astype(np.float32), rng.normal(size=b).astype(np.float32)
        gamma = rng.uniform(0.5, 1.5, b).astype(np.float32)
        hidden = i < len(shapes) - 1
        layers.append((w, bias, gamma) if hidden and architecture == "batch_norm" else (w, bias))
    expected = _numpy_forward(layers, x, architecture, ref)
    batch = [tuple(jnp.asarray(p)[None] for p in layer) for layer in layers]
    got = forward_batch(batch, jnp.asarray(x), "relu", architecture, reference=jnp.asarray(ref))
    np.testing.assert_allclose(np.asarray(got[0]), expected, rtol=1e-4, atol=1e-4)


def test_batch_norm_in_training_uses_the_batch_and_matches_keras():
    import keras

    rng = np.random.default_rng(2)
    x = rng.normal(size=(16, 3)).astype(np.float32)
    w = rng.normal(size=(3, 4)).astype(np.float32)
    beta, gamma = rng.normal(size=4).astype(np.float32), rng.uniform(0.5, 1.5, 4).astype(np.float32)
    head = (rng.normal(size=(4, 2)).astype(np.float32), np.zeros(2, np.float32))
    model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(4, use_bias=False),
            keras.layers.BatchNormalization(),
            keras.layers.Activation("tanh"),
            keras.layers.Dense(2),
        ]
    )
    model.layers[0].set_weights([w])
    bn = model.layers[1]
    bn.set_weights([gamma, beta, *[np.asarray(v) for v in bn.get_weights()[2:]]])
    model.layers[3].set_weights(list(head))
    expected = np.asarray(model(x, training=True))
    params = [(jnp.asarray(w), jnp.asarray(beta), jnp.asarray(gamma)), tuple(map(jnp.asarray, head))]
    got = forward(params, jnp.asarray(x), "tanh", 0, "batch_norm", rows=jnp.ones(16))
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-4, atol=1e-5)
    # The padded rows of a last, partial batch weigh nothing in its statistics.
    padded = forward(
        params,
        jnp.asarray(np.vstack([x, x[:5] * 100])),
        "tanh",
        0,
        "batch_norm",
        rows=jnp.r_[jnp.ones(16), jnp.zeros(5)],
    )
    np.testing.assert_allclose(np.asarray(padded[:16]), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("architecture", ["batch_norm", "residual"])
def test_modern_baselines_train_deep_sigmoid_networks(blob_data, architecture):
    """Depth 8 sigmoid + Glorot end to end stalls as a plain MLP; either remedy trains it."""
    config = TrainConfig(activation="sigmoid", initializer="glorot_uniform", epochs=40)
    plain = to_frame(end_to_end(blob_data, config, range(4), depths=[8]))
    modern = to_frame(end_to_end(blob_data, config, range(4), depths=[8], architecture=architecture))
    assert set(modern.method) == {f"end_to_end+{architecture}"}
    assert plain.test_accuracy.mean() < 0.5
    assert modern.test_accuracy.mean() > 0.75


@pytest.mark.parametrize("architecture", ["batch_norm", "residual"])
def test_modern_networks_cannot_be_kept_as_plain_layers(blob_data, architecture):
    with pytest.raises(ValueError, match=f"architecture='{architecture}'"):
        end_to_end(blob_data, TrainConfig(), [0], depths=[3], architecture=architecture, keep_networks=True)
    with pytest.raises(ValueError, match="architecture"):
        end_to_end(blob_data, TrainConfig(), [0], depths=[3], architecture="dense")


def test_standard_initialization_limit():
    from greedy.learning.jax_engine.network import init_batch

    w, _ = init_batch(jax.random.split(jax.random.PRNGKey(0), 2), 25, 400, "standard_uniform")
    assert float(jnp.abs(w).max()) <= 1 / 5 + 1e-7
    assert float(jnp.abs(w).max()) > 0.19  # the limit is reached, not a smaller one
    assert float(w.min()) < -0.19 and float(w.max()) > 0.19  # on both sides of zero


@pytest.mark.parametrize("architecture", ["plain", "batch_norm"])
@pytest.mark.parametrize("per_seed", [False, True])
def test_correct_counts_equal_the_forward_pass_in_any_block_size(architecture, per_seed):
    from greedy.learning.jax_engine import initial_network
    from greedy.learning.jax_engine.network import correct_counts

    rng = np.random.default_rng(3)
    keys = jax.vmap(jax.random.PRNGKey)(jnp.arange(3))
    params = initial_network(keys, 2, 3, 4, TrainConfig(), architecture)
    shape = (3, 1000, 2) if per_seed else (1000, 2)
    x = jnp.asarray(rng.normal(size=shape).astype(np.float32))
    y = rng.integers(0, 3, size=shape[:-1])
    reference = jnp.asarray(rng.normal(size=(3, 50, 2) if per_seed else (50, 2)).astype(np.float32))
    logits = forward_batch(params, x, "relu", architecture, reference=reference)
    expected = (np.asarray(jnp.argmax(logits, -1)) == y).sum(-1)
    for block in (64, 999, 4096):  # padded, barely padded, one block larger than the sample
        counts = correct_counts(params, x, y, "relu", architecture, reference, block=block)
        np.testing.assert_array_equal(counts, expected)


def test_zero_corruption_reproduces_the_plain_autoencoder_exactly(blob_data):
    from greedy.learning.data import standardized
    from greedy.learning.jax_engine import autoencoder_greedy

    data = standardized(blob_data)
    config = TrainConfig(n_added_layers=1, epochs=5, head_epochs=5)
    numbers = ["train_accuracy", "test_accuracy", "final_loss", "train_mse", "test_mse"]
    plain = to_frame(autoencoder_greedy(data, config, range(3)))[numbers]
    for corruption in ("masking", "gaussian"):
        zero = to_frame(autoencoder_greedy(data, config.with_(corruption=corruption), range(3)))[numbers]
        assert zero.equals(plain), corruption
        noisy = to_frame(autoencoder_greedy(data, config.with_(corruption=corruption, corruption_level=0.3), range(3)))
        assert not noisy[numbers].equals(plain), corruption


def test_corruptions_mask_and_noise_as_stated():
    from greedy.learning.jax_engine.fit import _corrupt

    x = jnp.ones((200, 500))
    masked = np.asarray(_corrupt(x, jax.random.PRNGKey(0), "masking", jnp.float32(0.3)))
    assert set(np.unique(masked)) == {0.0, 1.0}
    assert abs((masked == 0).mean() - 0.3) < 0.01
    noised = np.asarray(_corrupt(x, jax.random.PRNGKey(0), "gaussian", jnp.float32(0.5))) - 1
    assert abs(noised.mean()) < 0.01 and abs(noised.std() - 0.5) < 0.01


def test_corruption_settings_are_checked():
    with pytest.raises(ValueError, match="corruption="):
        TrainConfig(corruption="dropout")
    with pytest.raises(ValueError, match="probability"):
        TrainConfig(corruption="masking", corruption_level=1.0)
    with pytest.raises(ValueError, match="needs corruption"):
        TrainConfig(corruption_level=0.2)


def test_the_keras_engine_refuses_corruption_before_any_work(blob_data):
    from greedy.learning import keras_engine

    with pytest.raises(ValueError, match="fast engine"):
        keras_engine.autoencoder_greedy(blob_data, TrainConfig(corruption="masking", corruption_level=0.2))


def test_reviving_dead_units_replaces_exactly_the_dead_ones(blob_data):
    """With revive_dead_units, a stage's units dead on the pretraining inputs are fresh units in the
    stack the next stage trains on; live units keep their trained weights; the stage itself is kept as trained.
    Two added layers: the second revival must feed the third stage the revived second layer's output."""
    from greedy.learning import keras_engine
    from greedy.learning.jax_engine import autoencoder_greedy
    from greedy.learning.jax_engine.keys import KeyPurpose, purpose_keys
    from greedy.learning.jax_engine.network import init_batch

    config = TrainConfig(epochs=30, head_epochs=5, n_added_layers=2)
    plain = autoencoder_greedy(blob_data, config, range(6), keep_networks=True)
    revived = autoencoder_greedy(blob_data, config.with_(revive_dead_units=True), range(6), keep_networks=True)
    plain_kept, revived_kept = plain.networks["autoencoder_greedy"], revived.networks["autoencoder_greedy"]
    keys = jax.vmap(jax.random.PRNGKey)(jnp.arange(6))
    fresh_w, _ = init_batch(purpose_keys(keys, 0, KeyPurpose.REVIVE_INIT), 2, 10, "he_uniform")
    n_revived = 0
    for seed in plain_kept[2]:
        trained = plain_kept[2][seed][0]
        np.testing.assert_array_equal(revived_kept[2][seed][0].kernel, trained.kernel)
        x = blob_data.x_pretrain.astype(np.float32)
        dead = ~np.any(np.maximum(x @ trained.kernel + trained.bias, 0) != 0, axis=0)
        got = revived_kept[3][seed][0]  # the first layer of the depth-3 stack
        np.testing.assert_array_equal(got.kernel[:, ~dead], trained.kernel[:, ~dead])
        np.testing.assert_allclose(got.kernel[:, dead], np.asarray(fresh_w[seed])[:, dead])
        assert np.all(got.bias[dead] == 0)
        n_revived += int(dead.sum())
    assert n_revived > 0, "no unit died: the test checks nothing"
    with pytest.raises(ValueError, match="revive_dead_units"):
        TrainConfig(revive_dead_units="yes")
    with pytest.raises(ValueError, match="fast engine"):
        keras_engine.autoencoder_greedy(blob_data, TrainConfig(revive_dead_units=True))


def _gradient_descent(loss, params, learning_rate: float, steps: int) -> list:
    """Plain full-batch gradient descent on ``loss`` by hand: the parameters after each step."""
    path = []
    for _ in range(steps):
        params = jax.tree_util.tree_map(lambda p, g: p - learning_rate * g, params, jax.grad(loss)(params))
        path.append(params)
    return path


def test_a_tied_autoencoder_fit_takes_the_gradient_steps_of_its_loss():
    """Full-batch SGD on a tied autoencoder equals plain gradient descent on the explicit loss
    mean((sigmoid(x W + b) W^T + c - x)^2): the decoder is the encoder's transpose, not a copy."""
    from greedy.learning.jax_engine.network import TIED_AUTOENCODER

    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(size=(16, 5)), jnp.float32)
    w = jnp.asarray(rng.normal(scale=0.3, size=(5, 3)), jnp.float32)
    params = [(w[None], jnp.zeros((1, 3))), (jnp.zeros((1, 5)),)]
    trained, _ = train(
        params, x, x, jax.random.PRNGKey(0)[None], activation="sigmoid", loss="mse", learning_rate=0.5,
        momentum=0.0, epochs=3, batch_size=16, architecture=TIED_AUTOENCODER,
    )  # fmt: skip

    def loss(p):
        (w_, b_), c_ = p
        return jnp.mean((jax.nn.sigmoid(x @ w_ + b_) @ w_.T + c_ - x) ** 2)

    expected = _gradient_descent(loss, ((w, jnp.zeros(3)), jnp.zeros(5)), 0.5, 3)[-1]
    np.testing.assert_allclose(trained[0][0][0], expected[0][0], atol=1e-6)
    np.testing.assert_allclose(trained[0][1][0], expected[0][1], atol=1e-6)
    np.testing.assert_allclose(trained[1][0][0], expected[1], atol=1e-6)
    assert len(trained) == 2 and len(trained[1]) == 1  # no decoder weight matrix of its own


def test_stacked_autoencoder_stages_reconstruct_their_own_input(blob_data):
    """reconstruction_target='stage_input': the first stage is the tutorial's (same target, same keys);
    later stages reconstruct the layer below's output, which the recorded error measures; tied weights
    learn too (their reconstruction error falls below the untrained decoder's)."""
    from greedy.learning.data import standardized
    from greedy.learning.jax_engine import autoencoder_greedy

    data = standardized(blob_data)
    config = TrainConfig(activation="sigmoid", initializer="glorot_uniform", n_added_layers=2, epochs=20, head_epochs=5)
    numbers = ["train_accuracy", "test_accuracy", "final_loss", "train_mse", "test_mse"]
    tutorial = to_frame(autoencoder_greedy(data, config, range(3)))
    stacked = to_frame(autoencoder_greedy(data, config.with_(reconstruction_target="stage_input"), range(3)))
    assert stacked[stacked.depth == 2][numbers].equals(tutorial[tutorial.depth == 2][numbers])
    assert not stacked[stacked.depth == 4][numbers].equals(tutorial[tutorial.depth == 4][numbers])
    # A sigmoid layer's outputs vary far less than standardized inputs: its own input is easier to reconstruct.
    assert (stacked[stacked.depth == 4].train_mse < tutorial[tutorial.depth == 4].train_mse).all()
    tied_config = config.with_(reconstruction_target="stage_input", tied_weights=True)
    tied = to_frame(autoencoder_greedy(data, tied_config, range(3)))
    untrained = to_frame(autoencoder_greedy(data, tied_config.with_(epochs=1, learning_rate=1e-9), range(3)))
    for depth in (2, 3, 4):
        assert (tied[tied.depth == depth].train_mse.values < untrained[untrained.depth == depth].train_mse.values).all()


def test_tied_weights_and_stage_input_settings_are_checked(blob_data):
    from greedy.learning import keras_engine

    with pytest.raises(ValueError, match="reconstruction_target="):
        TrainConfig(reconstruction_target="hidden")
    with pytest.raises(ValueError, match="tied_weights=True needs reconstruction_target='stage_input'"):
        TrainConfig(tied_weights=True)
    with pytest.raises(ValueError, match="fast engine"):
        keras_engine.autoencoder_greedy(blob_data, TrainConfig(reconstruction_target="stage_input"))


def test_early_stopping_and_weight_decay_take_the_reference_steps():
    """Full-batch gradient descent on cross-entropy + decay * sum of squared kernels, by hand; early
    stopping returns the parameters of the epoch with the lowest validation loss."""
    rng = np.random.default_rng(3)
    x, x_val = (jnp.asarray(rng.normal(size=(24, 4)), jnp.float32) for _ in range(2))
    rule = rng.normal(size=(4, 3))
    # Validation labels follow a linear rule; training labels are that rule's with half of them shuffled.
    y_val = jnp.asarray(np.eye(3)[np.argmax(np.asarray(x_val) @ rule, 1)], jnp.float32)
    labels = np.argmax(np.asarray(x) @ rule, 1)
    labels[:12] = rng.permutation(labels[:12])
    y = jnp.asarray(np.eye(3)[labels], jnp.float32)
    params = [
        tuple(jnp.asarray(rng.normal(scale=0.5, size=s), jnp.float32) for s in ((4, 16), (16,))),
        tuple(jnp.asarray(rng.normal(scale=0.5, size=s), jnp.float32) for s in ((16, 3), (3,))),
    ]

    def ce(p, xx, yy):
        logits = jnp.tanh(xx @ p[0][0] + p[0][1]) @ p[1][0] + p[1][1]
        return jnp.mean(-jnp.sum(yy * jax.nn.log_softmax(logits), -1))

    def loss(p):
        return ce(p, x, y) + 0.01 * (jnp.sum(p[0][0] ** 2) + jnp.sum(p[1][0] ** 2))

    epochs, lr = 150, 1.0
    path = _gradient_descent(loss, params, lr, epochs)
    best = int(np.argmin([float(ce(p, x_val, y_val)) for p in path]))
    assert 0 < best < epochs - 1  # the check below tells the epochs apart
    batched = jax.tree_util.tree_map(lambda a: a[None], params)
    fit = dict(activation="tanh", loss="ce", learning_rate=lr, momentum=0.0, epochs=epochs, batch_size=24)
    keys = jax.random.PRNGKey(0)[None]
    validation = (x_val[None], y_val[None])
    stopped, stopped_losses = train(batched, x, y, keys, **fit, weight_decay=0.01, validation=validation)
    last, losses = train(batched, x, y, keys, **fit, weight_decay=0.01)
    # Each epoch's loss is the (full) batch's loss before its step; early stopping does not change the path.
    before_each_step = [float(loss(p)) for p in [params, *path[:-1]]]
    np.testing.assert_allclose(losses[0], before_each_step, rtol=1e-4)
    np.testing.assert_allclose(stopped_losses[0], before_each_step, rtol=1e-4)
    leaves = jax.tree_util.tree_leaves
    for got, want in zip(leaves(stopped), leaves(path[best]), strict=True):
        np.testing.assert_allclose(got[0], want, atol=1e-5)
    for got, want in zip(leaves(last), leaves(path[-1]), strict=True):
        np.testing.assert_allclose(got[0], want, atol=1e-5)


def test_early_stopping_needs_validation_rows_and_a_plain_network(blob_data):
    from greedy.learning.data import standardized, with_validation

    with pytest.raises(ValueError, match="with_validation"):
        end_to_end(blob_data, TrainConfig(epochs=2), range(2), depths=[2], early_stopping=True)
    with pytest.raises(ValueError, match="architecture='plain'"):
        end_to_end(
            with_validation(blob_data), TrainConfig(epochs=2), range(2), architecture="residual", early_stopping=True
        )
    with pytest.raises(ValueError, match="weight_decay"):
        TrainConfig(weight_decay=-1.0)
    held_out = with_validation(standardized(blob_data))
    config = TrainConfig(activation="tanh", initializer="glorot_uniform", epochs=20, weight_decay=1e-3)
    records = to_frame(end_to_end(held_out, config, range(3), depths=[3], early_stopping=True))
    assert (records.status == "ok").all() and (records.test_accuracy > 0.7).all()


def test_a_shared_pretraining_serves_every_label_count_unchanged(blob_data):
    """autoencoder_greedy with a shared ``PretrainedStages``: the same records as without it, and the
    second label count trains no stage of its own."""
    from greedy.learning.data import standardized, with_labeled_per_class
    from greedy.learning.jax_engine import PretrainedStages, autoencoder_greedy

    data = standardized(blob_data)
    config = TrainConfig(n_added_layers=1, epochs=5, head_epochs=5)
    numbers = ["train_accuracy", "test_accuracy", "final_loss", "train_mse", "test_mse", "status"]
    shared = PretrainedStages()
    for k in (2, 20):
        parts = [with_labeled_per_class(data, k, random_state=s) for s in range(3)]
        alone = to_frame(autoencoder_greedy(parts, config, range(3), fine_tune="last"))[numbers]
        reused = to_frame(autoencoder_greedy(parts, config, range(3), fine_tune="last", pretrained=shared))[numbers]
        assert reused.equals(alone), k
        assert len(shared) == 2  # one entry per stage, made by the first label count


def test_runs_that_differ_only_in_settings_no_stage_reads_share_their_stages(blob_data):
    """Fine-tuning and probe settings and the stack's depth do not change a learned stage: runs that
    differ only in them learn each stage once, with the same records as alone; a stage setting does."""
    from dataclasses import fields

    from greedy.learning.data import standardized
    from greedy.learning.jax_engine import PretrainedStages, autoencoder_greedy
    from greedy.learning.jax_engine.reuse import NOT_READ_BY_STAGES

    assert set(NOT_READ_BY_STAGES) <= {f.name for f in fields(TrainConfig)}
    data = standardized(blob_data)
    base = TrainConfig(n_added_layers=1, epochs=5, head_epochs=5, fine_tune_epochs=5)
    numbers = ["depth", "train_accuracy", "test_accuracy", "final_loss", "train_mse", "test_mse", "status"]
    shared = PretrainedStages()
    variants = [
        (base, 2),
        (base.with_(fine_tune_learning_rate=0.01), 2),
        (base.with_(head_epochs=7, fine_tune_epochs=3), 2),
        (base.with_(n_added_layers=2), 3),  # the deeper stack learns its third stage only
        (base.with_(learning_rate=0.02), 5),  # another pretraining rate: stages of its own
    ]
    for config, cached in variants:
        alone = to_frame(autoencoder_greedy(data, config, range(2), fine_tune="last"))[numbers]
        reused = to_frame(autoencoder_greedy(data, config, range(2), fine_tune="last", pretrained=shared))[numbers]
        assert reused.equals(alone), config
        assert len(shared) == cached, config
