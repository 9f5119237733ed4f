"""RBMs: the contrastive-divergence gradient, what training does to the exact likelihood, the greedy stack."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.neural_network import BernoulliRBM

from greedy.learning.config import VISIBLE_UNITS, TrainConfig
from greedy.learning.data import from_arrays, standardized
from greedy.learning.jax_engine import rbm, rbm_greedy
from greedy.learning.jax_engine.keys import KeyPurpose, purpose_keys
from greedy.learning.records import to_frame

SIGMOID = TrainConfig(
    width=8, activation="sigmoid", initializer="glorot_uniform", learning_rate=0.05, epochs=5, n_added_layers=1
)


def _keys(n: int, start: int = 0) -> jax.Array:
    return jax.vmap(jax.random.PRNGKey)(jnp.arange(start, start + n))


def _random_rbm(key: jax.Array, n_visible: int, n_hidden: int) -> rbm.RBM:
    kw, kb, kc = jax.random.split(key, 3)
    return (
        jax.random.normal(kw, (n_visible, n_hidden)),
        jax.random.normal(kb, (n_visible,)),
        jax.random.normal(kc, (n_hidden,)),
    )


def _one(machines: rbm.RBM, seed: int) -> rbm.RBM:
    """One seed's RBM out of a batch."""
    return jax.tree_util.tree_map(lambda a: a[seed], machines)


def _states(n: int) -> jnp.ndarray:
    return jnp.asarray(list(itertools.product([0.0, 1.0], repeat=n)))


def _log_likelihood(machine: rbm.RBM, v: jnp.ndarray) -> float:
    """Exact mean log p(v) of a Bernoulli RBM, its partition function summed over every visible state."""
    log_z = jax.scipy.special.logsumexp(-rbm.free_energy(machine, _states(machine[1].shape[0]), "bernoulli"))
    return float(jnp.mean(-rbm.free_energy(machine, v, "bernoulli")) - log_z)


def _pseudo_likelihood(machine: rbm.RBM, v: np.ndarray) -> float:
    """Mean over rows of sum_i log p(v_i | v_-i), every bit flipped in turn (binary v)."""
    v = jnp.asarray(v)
    f = rbm.free_energy(machine, v, "bernoulli")
    total = 0.0
    for i in range(v.shape[1]):
        flipped = v.at[:, i].set(1 - v[:, i])
        total += jnp.mean(jax.nn.log_sigmoid(rbm.free_energy(machine, flipped, "bernoulli") - f))
    return float(total)


@pytest.mark.parametrize("visible", VISIBLE_UNITS)
def test_cd_gradient_is_the_free_energy_difference_gradient(visible):
    """Data minus chain statistics == -d/dθ [mean F(v_data) - mean F(v_model)], weights included."""
    k = jax.random.split(jax.random.PRNGKey(0), 4)
    machine = _random_rbm(k[0], 5, 3)
    v_data, v_model = jax.random.normal(k[1], (7, 5)), jax.random.normal(k[2], (7, 5))
    rows = jnp.asarray([1, 1, 0, 1, 1, 0, 1], jnp.float32)

    def objective(m):
        w = rows / rows.sum()
        return w @ rbm.free_energy(m, v_model, visible) - w @ rbm.free_energy(m, v_data, visible)

    expected = jax.grad(objective)(machine)
    for got, want in zip(rbm.cd_gradient(machine, v_data, v_model, rows), expected, strict=True):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-5)


def test_cd1_gradient_matches_its_expectation_enumerated():
    """On a 3x2 RBM, the mean sampled CD-1 gradient is the exact CD-1 expectation (summed over every h0 and v1)."""
    machine = _random_rbm(jax.random.PRNGKey(1), 3, 2)
    v0 = jnp.asarray([[1.0, 0.0, 1.0]])
    ph0 = rbm.hidden_probabilities(machine, v0)[0]
    expected_w = jnp.zeros((3, 2))
    for h0 in _states(2):
        p_h0 = jnp.prod(jnp.where(h0 == 1, ph0, 1 - ph0))
        pv1 = rbm.visible_mean(machine, h0[None], "bernoulli")[0]
        for v1 in _states(3):
            p_v1 = jnp.prod(jnp.where(v1 == 1, pv1, 1 - pv1))
            expected_w += p_h0 * p_v1 * jnp.outer(v1, rbm.hidden_probabilities(machine, v1[None])[0])
    exact = jnp.outer(v0[0], ph0) - expected_w

    n = 200_000
    chains = rbm.gibbs_chain(jax.random.PRNGKey(2), machine, jnp.repeat(v0, n, 0), 1, "bernoulli")
    sampled = rbm.cd_gradient(machine, jnp.repeat(v0, n, 0), chains)[0]
    # Each entry is a mean of n terms bounded by 1: 5e-3 is over four standard errors.
    np.testing.assert_allclose(np.asarray(sampled), np.asarray(exact), atol=5e-3)


def _train_from_scratch(v: np.ndarray, visible: str, n_hidden: int, **fit) -> tuple[rbm.RBM, rbm.RBM, np.ndarray]:
    """Three seeds' RBMs before and after training on ``v``, and their reconstruction errors per epoch."""
    start = rbm.init_rbm(_keys(3), v.shape[1], n_hidden)
    trained, errors = rbm.train_rbm(start, jnp.asarray(v), _keys(3, 10), visible=visible, **fit)
    return start, trained, errors


def _assert_training_raises(log_likelihood, start: rbm.RBM, trained: rbm.RBM, v: np.ndarray) -> None:
    for s in range(3):
        before = log_likelihood(_one(start, s), jnp.asarray(v))
        after = log_likelihood(_one(trained, s), jnp.asarray(v))
        assert after > before + 1.0, (before, after)


@pytest.mark.parametrize("persistent", [False, True])
def test_training_raises_the_exact_log_likelihood(persistent):
    """A 6x4 RBM, partition function enumerated over all 64 visible states: CD-1 and PCD-1 raise log p(data)."""
    rng = np.random.default_rng(0)
    prototypes = np.array([[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1]], np.float32)
    v = prototypes[rng.integers(0, 2, 200)]
    v = np.abs(v - (rng.random(v.shape) < 0.05)).astype(np.float32)
    fit = dict(learning_rate=0.05, momentum=0.0, epochs=100, batch_size=10, persistent=persistent)
    start, trained, errors = _train_from_scratch(v, "bernoulli", 4, **fit)
    # From ~ -6 log 2 towards the two prototypes' ~ -2.3; and the reconstruction error falls.
    _assert_training_raises(_log_likelihood, start, trained, v)
    assert np.all(errors[:, -1] < 0.5 * errors[:, 0])


def test_gaussian_visible_units_learn_standardized_inputs():
    """A Gaussian-Bernoulli RBM on standardized digits: the reconstruction error falls well below the variance."""
    data = standardized(from_arrays(*_digits(), name="digits"))
    trained, errors = rbm.train_rbm(
        rbm.init_rbm(_keys(2), 64, 32),
        jnp.asarray(data.x_train),
        _keys(2, 5),
        visible="gaussian",
        learning_rate=0.003,
        momentum=0.9,
        epochs=10,
        batch_size=32,
    )
    assert np.all(np.isfinite(errors))
    assert np.all(errors[:, -1] < 0.7 * errors[:, 0]), errors[:, [0, -1]]


def _digits():
    x, y = load_digits(return_X_y=True)
    return x[:1000], y[:1000], x[1000:], y[1000:]


def test_pcd_reaches_scikit_learns_pseudo_likelihood():
    """PCD-1 here and scikit-learn's BernoulliRBM (also PCD-1), same data and settings, 5 seeds each:
    the mean pseudo-likelihoods agree within the seeds' noise."""
    x = (load_digits().data[:800] / 16 > 0.5).astype(np.float32)
    settings = dict(n_components=32, learning_rate=0.05, batch_size=20, n_iter=10)
    ours_rbms, _ = rbm.train_rbm(
        rbm.init_rbm(_keys(5), 64, 32),
        jnp.asarray(x),
        _keys(5, 100),
        visible="bernoulli",
        learning_rate=settings["learning_rate"],
        momentum=0.0,
        epochs=settings["n_iter"],
        batch_size=settings["batch_size"],
        persistent=True,
    )
    ours = [_pseudo_likelihood(_one(ours_rbms, s), x) for s in range(5)]
    theirs = []
    for seed in range(5):
        model = BernoulliRBM(random_state=seed, **settings).fit(x)
        machine = (
            jnp.asarray(model.components_.T, jnp.float32),
            jnp.asarray(model.intercept_visible_, jnp.float32),
            jnp.asarray(model.intercept_hidden_, jnp.float32),
        )
        theirs.append(_pseudo_likelihood(machine, x))
    untrained = _pseudo_likelihood(_one(rbm.init_rbm(_keys(1), 64, 32), 0), x)
    noise = np.sqrt(np.var(ours, ddof=1) / 5 + np.var(theirs, ddof=1) / 5)
    assert np.mean(ours) > untrained + 10 and np.mean(theirs) > untrained + 10, (untrained, ours, theirs)
    assert abs(np.mean(ours) - np.mean(theirs)) < 5 * noise, (ours, theirs)  # measured: -23.85 vs -23.92


def test_rbm_greedy_stack_is_the_trained_rbms():
    """Stage 1's hidden layer is an RBM trained directly with the stage's keys: its weights and hidden biases."""
    x, y, xt, yt = _digits()
    data = from_arrays(x / 16, y, xt / 16, yt, name="digits01")
    trained = rbm_greedy(data, SIGMOID, range(3), fine_tune="last", keep_networks=True)
    df, kept = to_frame(trained), trained.networks["rbm_greedy"]
    assert set(zip(df.method, df.depth, strict=True)) == {
        ("rbm_greedy", 2),
        ("rbm_greedy", 3),
        ("rbm_greedy+fine_tune", 3),
    }
    assert (df.status == "ok").all() and df.train_mse.dropna().gt(0).all()

    keys = _keys(3)
    direct, _ = rbm.train_rbm(
        rbm.init_rbm(purpose_keys(keys, 0, KeyPurpose.NEW_LAYER_INIT), 64, 8),
        jnp.asarray(data.x_pretrain),
        purpose_keys(keys, 0, KeyPurpose.FIT),
        visible="bernoulli",
        learning_rate=0.05,
        momentum=0.9,
        epochs=5,
        batch_size=32,
    )
    for s in range(3):
        layer = kept[2][s][0]
        np.testing.assert_allclose(layer.kernel, np.asarray(direct[0][s]), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(layer.bias, np.asarray(direct[2][s]), rtol=1e-5, atol=1e-6)


def test_per_seed_data_trains_each_seed_on_its_own_data(blob_data):
    """Seeds batched with one data set each (per-seed, 3-D features from the second stage on) give what
    each seed gives alone on its own data."""
    from greedy.learning.data import with_labeled_per_class

    seeds = [0, 1, 2]
    parts = [with_labeled_per_class(standardized(blob_data), 5, random_state=s) for s in seeds]

    def run(data, run_seeds):
        return to_frame(rbm_greedy(data, SIGMOID, run_seeds, visible="gaussian", chunk_size=2))

    together = run(parts, seeds)
    numbers = ["seed", "depth", "train_accuracy", "test_accuracy", "final_loss", "train_mse", "status"]
    for part, seed in zip(parts, seeds, strict=True):
        alone = run([part], [seed])
        mine = together[together.seed == seed].reset_index(drop=True)
        assert len(alone) == 2 and mine[numbers].equals(alone[numbers])


def test_only_the_first_rbm_has_gaussian_visible_units():
    """With visible="gaussian", stage 0 is a Gaussian-Bernoulli RBM on the standardized inputs and stage 1 a
    Bernoulli RBM on stage 0's hidden probabilities (which lie in [0, 1]), each trained directly here."""
    data = standardized(from_arrays(*_digits(), name="digits"))
    config = SIGMOID.with_(learning_rate=0.003)
    kept = rbm_greedy(data, config, range(2), visible="gaussian", keep_networks=True).networks["rbm_greedy"]
    keys, x = _keys(2), jnp.asarray(data.x_pretrain)
    settings = {"learning_rate": 0.003, "momentum": 0.9, "epochs": 5, "batch_size": 32}
    first, _ = rbm.train_rbm(
        rbm.init_rbm(purpose_keys(keys, 0, KeyPurpose.NEW_LAYER_INIT), 64, 8),
        x, purpose_keys(keys, 0, KeyPurpose.FIT), visible="gaussian", **settings,
    )  # fmt: skip
    below = jax.vmap(rbm.hidden_probabilities, in_axes=(0, None))(first, x)  # (seed, rows, 8), per seed
    second, _ = rbm.train_rbm(
        rbm.init_rbm(purpose_keys(keys, 1, KeyPurpose.NEW_LAYER_INIT), 8, 8),
        below, purpose_keys(keys, 1, KeyPurpose.FIT), visible="bernoulli", **settings,
    )  # fmt: skip
    for s in range(2):
        for stage, direct in ((0, first), (1, second)):
            layer = kept[3][s][stage]
            np.testing.assert_allclose(layer.kernel, np.asarray(direct[0][s]), rtol=1e-4, atol=1e-5)
            np.testing.assert_allclose(layer.bias, np.asarray(direct[2][s]), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    ("kwargs", "config", "message"),
    [
        ({}, TrainConfig(), "activation='sigmoid'"),
        ({}, SIGMOID.with_(optimizer="adam"), "optimizer must be 'sgd'"),
        ({"visible": "binary"}, SIGMOID, "visible"),
        ({"cd_steps": 0}, SIGMOID, "cd_steps"),
        ({"persistent": "yes"}, SIGMOID, "persistent"),
    ],
)
def test_rbm_greedy_refuses_bad_input_before_training(kwargs, config, message):
    x, y, xt, yt = _digits()
    with pytest.raises(ValueError, match=message):
        rbm_greedy(from_arrays(x / 16, y, xt / 16, yt), config, range(2), **kwargs)


def test_bernoulli_units_refuse_inputs_outside_the_unit_interval():
    data = standardized(from_arrays(*_digits(), name="digits"))
    with pytest.raises(ValueError, match=r"visible='bernoulli' models inputs in \[0, 1\].*visible='gaussian'"):
        rbm_greedy(data, SIGMOID, range(2))
    x, y, xt, yt = _digits()
    for low, high in ((-0.5, 0.5), (0.0, 2.0)):  # below the interval only, and above it only
        outside = from_arrays(low + (high - low) * x / 16, y, xt / 16, yt)
        with pytest.raises(ValueError, match=r"visible='bernoulli' models inputs in \[0, 1\]"):
            rbm_greedy(outside, SIGMOID, range(2))
    assert to_frame(rbm_greedy(data, SIGMOID.with_(learning_rate=0.003), range(2), visible="gaussian")).shape[0] == 4


def _gaussian_log_likelihood(machine: rbm.RBM, v: jnp.ndarray) -> float:
    """Exact mean log p(v) of a Gaussian-Bernoulli RBM with unit-variance visible units.

    Integrating v out of exp(-E(v, h)), E = |v - b|^2 / 2 - c.h - v.W h, leaves
    Z = (2 pi)^(n/2) sum_h exp(c.h + b.W h + |W h|^2 / 2), summed here over every hidden state.
    """
    w, b, c = (np.asarray(a, np.float64) for a in machine)
    h = np.asarray(_states(c.shape[0]), np.float64)
    wh = h @ w.T
    log_z = 0.5 * b.shape[0] * np.log(2 * np.pi) + float(
        jax.scipy.special.logsumexp(jnp.asarray(h @ c + wh @ b + 0.5 * np.sum(wh**2, axis=1)))
    )
    free = np.asarray(rbm.free_energy(tuple(jnp.asarray(a, jnp.float32) for a in (w, b, c)), v, "gaussian"))
    return float(-free.mean() - log_z)


def test_gaussian_visible_samples_have_unit_variance_around_their_mean():
    """p(v | h) is N(b + W h, 1): neither shrunk noise nor the mean itself (mean-field) in place of a sample."""
    w = jnp.asarray([[1.0, -2.0], [0.5, 0.0], [0.0, 3.0]])
    b, c = jnp.asarray([0.5, -1.0, 2.0]), jnp.asarray([50.0, -50.0])  # h = (1, 0) whatever v is
    v0 = jnp.zeros((20000, 3))
    v1 = rbm.gibbs_chain(jax.random.PRNGKey(0), (w, b, c), v0, 1, "gaussian")
    np.testing.assert_allclose(np.asarray(v1.mean(0)), [1.5, -0.5, 2.0], atol=0.03)
    np.testing.assert_allclose(np.asarray(v1.var(0)), [1.0, 1.0, 1.0], atol=0.04)


def test_cd1_raises_a_gaussian_rbms_exact_log_likelihood():
    """A 3x4 Gaussian-Bernoulli RBM on two clusters: CD-1 raises the exact log p(data) (Z summed over 16 h)."""
    rng = np.random.default_rng(1)
    centres = np.array([[2.0, -2.0, 0.0], [-2.0, 2.0, 1.0]], np.float32)
    v = (centres[rng.integers(0, 2, 400)] + rng.normal(size=(400, 3))).astype(np.float32)
    start, trained, _ = _train_from_scratch(
        v, "gaussian", 4, learning_rate=0.01, momentum=0.5, epochs=60, batch_size=20
    )
    _assert_training_raises(_gaussian_log_likelihood, start, trained, v)


def test_a_new_rbm_has_small_normal_weights_and_zero_biases():
    # Hinton's practical guide (2010): weights from N(0, 0.01^2), biases at zero.
    w, b, c = rbm.init_rbm(jax.vmap(jax.random.PRNGKey)(jnp.arange(2)), 60, 50)
    assert w.shape == (2, 60, 50) and b.shape == (2, 60) and c.shape == (2, 50)
    assert np.std(np.asarray(w)) == pytest.approx(0.01, rel=0.05) and abs(float(np.mean(w))) < 1e-3
    assert not np.any(np.asarray(b)) and not np.any(np.asarray(c))


@pytest.mark.parametrize("visible", VISIBLE_UNITS)
def test_reconstruction_error_is_the_mean_squared_error_of_the_mean_field_reconstruction(visible):
    generator = np.random.default_rng(0)
    w, b, c = generator.normal(0, 0.5, (5, 4)), generator.normal(0, 0.5, 5), generator.normal(0, 0.5, 4)
    v = generator.uniform(0, 1, (7, 5))
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    z = sigmoid(v @ w + c) @ w.T + b
    expected = np.mean(((sigmoid(z) if visible == "bernoulli" else z) - v) ** 2, axis=-1)
    machine = tuple(jnp.asarray(a, jnp.float32) for a in (w, b, c))
    got = rbm.reconstruction_error(machine, jnp.asarray(v, jnp.float32), "".join(visible))  # a string built at run time
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-5)
