"""Networks on the fast engine as pure functions: initialize, forward, score a batch (leading axis = seed).

Networks are plain MLPs, or (end to end only) MLPs with batch normalization or residual
connections: a hidden layer's parameters are ``(w, b)``, or ``(w, beta, gamma)`` with batch
normalization.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from greedy.learning.config import SMALL_UNIFORM_LIMIT
from greedy.learning.jax_engine.programs import program_cache
from greedy.learning.mlp import LEAKY_SLOPE

Params = list[tuple[jax.Array, ...]]

ARCHITECTURES = ("plain", "batch_norm", "residual")
# An autoencoder stage with tied weights: params [(w, b), (b_decoder,)], decoded as h @ w.T + b_decoder.
TIED_AUTOENCODER = "tied_autoencoder"
# Keras' default, so that both engines' batch normalization is the same algorithm.
BATCH_NORM_EPSILON = 1e-3


def _activate(z: jax.Array, activation: str) -> jax.Array:
    if activation == "relu":
        return jax.nn.relu(z)
    if activation == "leaky_relu":
        return jnp.where(z > 0, z, LEAKY_SLOPE * z)
    if activation == "tanh":
        return jnp.tanh(z)
    if activation == "sigmoid":
        return jax.nn.sigmoid(z)
    raise ValueError(f"activation={activation!r} is not known")


def _init_dense(key: jax.Array, fan_in: int, fan_out: int, initializer: str) -> tuple[jax.Array, jax.Array]:
    if initializer == "he_uniform":
        limit = math.sqrt(6 / fan_in)
    elif initializer == "glorot_uniform":
        limit = math.sqrt(6 / (fan_in + fan_out))
    elif initializer == "standard_uniform":
        limit = 1 / math.sqrt(fan_in)
    else:
        limit = SMALL_UNIFORM_LIMIT
    w = jax.random.uniform(key, (fan_in, fan_out), jnp.float32, -limit, limit)
    return w, jnp.zeros((fan_out,), jnp.float32)


def init_batch(keys: jax.Array, fan_in: int, fan_out: int, initializer: str) -> tuple[jax.Array, jax.Array]:
    """One freshly initialized Dense layer per key."""
    return jax.vmap(lambda k: _init_dense(k, fan_in, fan_out, initializer))(keys)


# The layout of a network's activations. XLA's CPU matmul is fast on (fan_out x fan_in) @ (fan_in x
# rows), long in the rows, and slow on rows x fan_in @ fan_in x fan_out when the layers are
# narrow: with the tutorial's 10 units, holding activations units x rows scores a population
# sample 4.7x faster and trains a depth-12 network 30% faster (the same networks, different
# rounding). From 32 units on the usual rows x units layout is the faster one (MNIST-1D-sized fits
# 7-15%), so a network's layout follows its widest layer.
NARROW_UNITS = 16


@dataclass(frozen=True)
class _Layout:
    """Where a network's activations keep their units: first (units x rows) or last (rows x units)."""

    units_first: bool

    @classmethod
    def of(cls, widths: list[int]) -> _Layout:
        """The layout for a network whose layers have these widths (hidden units, head inputs)."""
        return cls(units_first=max(widths, default=0) <= NARROW_UNITS)

    def enter(self, x: jax.Array) -> jax.Array:
        """The network's activations from inputs of rows x features."""
        return x.T if self.units_first else x

    def leave(self, h: jax.Array) -> jax.Array:
        """Rows x units again."""
        return h.T if self.units_first else h

    def per_unit(self, v: jax.Array) -> jax.Array:
        """A per-unit vector, broadcast against the activations."""
        return v[:, None] if self.units_first else v

    def matmul(self, w: jax.Array, h: jax.Array) -> jax.Array:
        """``h`` through kernel ``w`` (fan_in x fan_out), without bias."""
        return w.T @ h if self.units_first else h @ w

    def dense(self, w: jax.Array, b: jax.Array, h: jax.Array) -> jax.Array:
        return self.matmul(w, h) + self.per_unit(b)

    def units(self, h: jax.Array) -> int:
        return h.shape[0] if self.units_first else h.shape[-1]

    def moments(self, z: jax.Array, rows: jax.Array | None = None) -> tuple[jax.Array, jax.Array]:
        """Per-unit mean and (biased) variance over the rows of z, or over the rows whose weight is 1."""
        axis = 1 if self.units_first else 0
        if rows is None:
            return jnp.mean(z, axis), jnp.var(z, axis)
        w = (rows[None, :] if self.units_first else rows[:, None]) / jnp.sum(rows)
        mean = jnp.sum(w * z, axis)
        return mean, jnp.sum(w * (z - self.per_unit(mean)) ** 2, axis)

    def standardize(self, z: jax.Array, stats: tuple[jax.Array, jax.Array]) -> jax.Array:
        mean, var = stats
        return (z - self.per_unit(mean)) / jnp.sqrt(self.per_unit(var) + BATCH_NORM_EPSILON)


def hidden_features(hidden: Params, x: jax.Array, activation: str) -> jax.Array:
    """The output of one network's hidden layers."""
    layout = _Layout.of([w.shape[-1] for w, _ in hidden])
    h = layout.enter(x)
    for w, b in hidden:
        h = _activate(layout.dense(w, b, h), activation)
    return layout.leave(h)


def forward(
    params: Params,
    x: jax.Array,
    activation: str,
    frozen: int,
    architecture: str = "plain",
    rows: jax.Array | None = None,
    reference: jax.Array | None = None,
) -> jax.Array:
    """Output pre-activations of hidden layers + a linear head; the first ``frozen`` layers get no gradient.

    With batch normalization, each hidden layer standardizes its pre-activations with the
    statistics of this batch (training; ``rows`` weights the padded batch's rows) or, when
    ``reference`` is given, of the network's pass over those inputs (the whole training set,
    so a trained network is scored deterministically, without running averages).
    """
    if architecture == TIED_AUTOENCODER:
        (w, b), (b_decoder,) = params
        layout = _Layout.of([w.shape[-1]])
        code = _activate(layout.dense(w, b, layout.enter(x)), activation)
        return layout.leave(layout.matmul(w.T, code) + layout.per_unit(b_decoder))
    layout = _Layout.of([layer[0].shape[-1] for layer in params[:-1]] + [params[-1][0].shape[0]])
    x = layout.enter(x)
    reference = None if reference is None else layout.enter(reference)
    for i, layer in enumerate(params[:-1]):
        if i < frozen:
            layer = jax.tree_util.tree_map(jax.lax.stop_gradient, layer)
        if architecture == "batch_norm":
            w, beta, gamma = (layout.per_unit(v) if v.ndim == 1 else v for v in layer)
            z = layout.matmul(w, x)
            if reference is None:
                stats = layout.moments(z, rows)
            else:
                z_ref = layout.matmul(w, reference)
                stats = layout.moments(z_ref)
                reference = _activate(gamma * layout.standardize(z_ref, stats) + beta, activation)
            h = _activate(gamma * layout.standardize(z, stats) + beta, activation)
        else:
            h = _activate(layout.dense(*layer, x), activation)
        # A residual block adds its input back wherever the widths match (every hidden layer but the first).
        x = x + h if architecture == "residual" and layout.units(x) == layout.units(h) else h
    return layout.leave(layout.dense(*params[-1], x))


def _in_axis(x: jax.Array) -> int | None:
    """Inputs shared by every seed are 2-D; per-seed inputs are 3-D, seed first."""
    return 0 if x.ndim == 3 else None


def _check_reference(architecture: str, reference: jax.Array | None) -> None:
    if architecture == "batch_norm" and reference is None:
        raise ValueError("a batch-normalized network is scored with its training inputs' statistics: pass reference")


def forward_batch(
    params: Params, x: jax.Array, activation: str, architecture: str = "plain", reference: jax.Array | None = None
) -> jax.Array:
    """Output pre-activations of a batch of networks on shared or per-seed inputs.

    Batch-normalized networks need ``reference``: the training inputs whose statistics they use.
    """
    _check_reference(architecture, reference)
    ref_axis = None if reference is None else _in_axis(reference)
    return jax.vmap(
        lambda p, xx, rr: forward(p, xx, activation, 0, architecture, reference=rr),
        in_axes=(0, _in_axis(x), ref_axis),
    )(params, x, reference)


@program_cache
def _correct_counter(activation: str, architecture: str, x_per_seed: bool, ref_per_seed: bool, block: int):
    """A jitted count of correct predictions per network, over row blocks of ``block`` rows."""

    def count_one(params, x, y, reference):
        blocks = (x.reshape(-1, block, x.shape[-1]), y.reshape(-1, block))

        def correct(args):
            xb, yb = args
            logits = forward(params, xb, activation, 0, architecture, reference=reference)
            return jnp.sum(jnp.argmax(logits, -1) == yb)

        return jnp.sum(jax.lax.map(correct, blocks))

    seed_axis = 0 if x_per_seed else None
    return jax.jit(jax.vmap(count_one, in_axes=(0, seed_axis, seed_axis, 0 if ref_per_seed else None)))


def correct_counts(
    params: Params,
    x: jax.Array,
    y: np.ndarray,
    activation: str,
    architecture: str = "plain",
    reference: jax.Array | None = None,
    block: int = 2048,
) -> np.ndarray:
    """Per network, how many rows of a large sample it classifies correctly.

    The same arithmetic as ``forward_batch``, compiled and in row blocks: scoring a population
    sample 200 times the test split's size op by op cost more than training the networks.
    Padding rows carry the label -1, which no prediction equals.
    """
    pad = -x.shape[-2] % block
    widths = [(0, 0)] * (x.ndim - 2)
    x = jnp.pad(x, [*widths, (0, pad), (0, 0)])
    y = jnp.pad(jnp.asarray(y), [*widths, (0, pad)], constant_values=-1)
    _check_reference(architecture, reference)
    ref_per_seed = reference is not None and reference.ndim == 3
    return np.asarray(
        _correct_counter(activation, architecture, x.ndim == 3, ref_per_seed, block)(params, x, y, reference)
    )


def features_batch(hidden: Params, x: jax.Array, activation: str) -> jax.Array:
    """Hidden-layer output of a batch of networks on shared or per-seed inputs."""
    return jax.vmap(lambda p, xx: hidden_features(p, xx, activation), in_axes=(0, _in_axis(x)))(hidden, x)


def linear_batch(layer: tuple[jax.Array, jax.Array], features: jax.Array) -> jax.Array:
    """A batch of linear layers applied to per-seed features."""
    return jax.vmap(lambda h, f: f @ h[0] + h[1])(layer, features)
