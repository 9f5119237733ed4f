import numpy as np
import pytest

from greedy.analysis.diagnostics import dead_unit_fractions, gradient_norms
from greedy.learning.mlp import Layer, kernel_gradients, predict


def _net(rng, head="softmax", act="tanh"):
    return [
        Layer(rng.normal(size=(2, 4)), rng.normal(size=4), act),
        Layer(rng.normal(size=(4, 3)), rng.normal(size=3), act),
        Layer(
            rng.normal(size=(3, 3 if head == "softmax" else 2)), rng.normal(size=3 if head == "softmax" else 2), head
        ),
    ]


def _loss(layers, x, target):
    out = predict(layers, x)
    if layers[-1].activation == "softmax":
        return -np.mean(np.log(out[np.arange(len(x)), target]))
    return np.mean((out - target) ** 2)


@pytest.mark.parametrize(("head", "act"), [("softmax", "tanh"), ("linear", "sigmoid"), ("softmax", "leaky_relu")])
def test_backprop_matches_finite_differences(head, act):
    rng = np.random.default_rng(0)
    layers = _net(rng, head, act)
    x = rng.normal(size=(7, 2))
    target = rng.integers(0, 3, 7) if head == "softmax" else rng.normal(size=(7, 2))
    grads = kernel_gradients(layers, x, target)
    eps = 1e-6
    for li, layer in enumerate(layers):
        for idx in [(0, 0), (1, 1)]:
            k = layer.kernel.copy()
            k[idx] += eps
            plus = [*layers[:li], Layer(k, layer.bias, layer.activation), *layers[li + 1 :]]
            k2 = layer.kernel.copy()
            k2[idx] -= eps
            minus = [*layers[:li], Layer(k2, layer.bias, layer.activation), *layers[li + 1 :]]
            numeric = (_loss(plus, x, target) - _loss(minus, x, target)) / (2 * eps)
            assert grads[li][idx] == pytest.approx(numeric, rel=1e-4, abs=1e-8)


def test_gradient_norms_one_row_per_layer():
    rng = np.random.default_rng(1)
    layers = _net(rng)
    df = gradient_norms(layers, rng.normal(size=(5, 2)), rng.integers(0, 3, 5))
    assert df.layer.tolist() == [1, 2, 3] and (df.gradient_norm > 0).all()


def test_dead_units_counted_per_layer():
    x = np.array([[1.0, 2.0], [3.0, 1.0]])
    layers = [
        # unit 0 always positive, unit 1 always negative (dead)
        Layer(np.array([[1.0, -1.0], [1.0, -1.0]]), np.zeros(2), "relu"),
        Layer(np.eye(2), np.zeros(2), "relu"),
        Layer(np.eye(2), np.zeros(2), "softmax"),
    ]
    df = dead_unit_fractions(layers, x)
    assert df.dead_fraction.tolist() == [0.5, 0.5]
