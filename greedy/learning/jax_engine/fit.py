"""Pure fitting code: initialize, forward and train a batch of networks (leading axis = seed).

No state, no I/O: every function maps arrays to arrays. A whole fit (shuffling, mini-batches,
SGD with momentum or Adam) is one compiled ``lax.scan``, vmapped over seeds.

Networks are plain MLPs, or (end to end only) MLPs with batch normalization or residual
connections: a hidden layer's parameters are ``(w, b)``, or ``(w, beta, gamma)`` with batch
normalization.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum

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
# Keras' defaults, so that both engines' Adam and batch normalization are the same algorithm.
BATCH_NORM_EPSILON = 1e-3
ADAM_BETA_1, ADAM_BETA_2, ADAM_EPSILON = 0.9, 0.999, 1e-7


class KeyPurpose(IntEnum):
    """What a random key derived from a seed is for. The values are folded into the keys, so they are
    part of every result: changing one changes the numbers."""

    NEW_LAYER_INIT = 0  # a greedy stage's new hidden layer
    FIT = 1  # the shuffling of a stage's (or an end-to-end network's) fit
    HEAD_INIT = 2  # the output (or reconstruction) layer created at the first stage
    PROBE_HEAD_INIT = 3  # the classifier head trained on an autoencoder's frozen encoder
    FINE_TUNE_FIT = 5  # the shuffling of a fine-tuning fit
    PROBE_HEAD_FIT = 13  # the shuffling of that classifier head's fit
    REVIVE_INIT = 17  # fresh units replacing an autoencoder stage's dead ones (revive_dead_units)
    NETWORK_OUTPUT_INIT = 99  # an end-to-end network's output layer
    NETWORK_HIDDEN_INIT = 100  # an end-to-end network's hidden layer i: NETWORK_HIDDEN_INIT + i


def purpose_keys(seed_keys: jax.Array, stage: int, purpose: int) -> jax.Array:
    """Per seed, the key for ``purpose`` at ``stage`` (a greedy stage, or an end-to-end network's depth)."""
    return jax.vmap(lambda k: jax.random.fold_in(jax.random.fold_in(k, stage), int(purpose)))(seed_keys)


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


def _apply(
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
        lambda p, xx, rr: _apply(p, xx, activation, 0, architecture, reference=rr),
        in_axes=(0, _in_axis(x), ref_axis),
    )(params, x, reference)


@program_cache
def _correct_counter(activation: str, architecture: str, x_per_seed: bool, ref_per_seed: bool, block: int):
    """A jitted count of correct predictions per network, over row blocks of ``block`` rows."""

    def count_one(params, x, y, reference):
        blocks = (x.reshape(-1, block, x.shape[-1]), y.reshape(-1, block))

        def correct(args):
            xb, yb = args
            logits = _apply(params, xb, activation, 0, architecture, reference=reference)
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


def _row_loss(out: jax.Array, target: jax.Array, loss: str) -> jax.Array:
    if loss == "ce":
        return -jnp.sum(target * jax.nn.log_softmax(out), axis=-1)
    return jnp.mean((out - target) ** 2, axis=-1)


def shuffled_indices(key: jax.Array, n: int) -> jax.Array:
    """A random order of ``range(n)``, drawn with one single-operand sort.

    Each index is packed under the high bits of a random uint32 and the packed words sorted:
    on CPU this is ~3x faster than ``jax.random.permutation``'s key-value sort, which cost as
    much as the epoch's training steps. Equal random bits (rare) keep their index order.
    Large n, which would leave too few random bits, fall back to ``jax.random.permutation``.
    """
    index_bits = max(1, (n - 1).bit_length())
    if index_bits > 16:
        return jax.random.permutation(key, n)
    random_high = (jax.random.bits(key, (n,), jnp.uint32) >> index_bits) << index_bits
    packed = jnp.sort(random_high | jnp.arange(n, dtype=jnp.uint32))
    return (packed & ((1 << index_bits) - 1)).astype(jnp.int32)


def _sgd(params: Params):
    """SGD with momentum, as Keras does it: v <- momentum * v - lr * g; p <- p + v."""

    def update(p, state, g, lr, momentum):
        v = jax.tree_util.tree_map(lambda v_, g_: momentum * v_ - lr * g_, state, g)
        return jax.tree_util.tree_map(lambda p_, v_: p_ + v_, p, v), v

    return jax.tree_util.tree_map(jnp.zeros_like, params), update


def _adam(params: Params):
    """Adam with Keras' defaults and update order (bias correction folded into the step size)."""

    def update(p, state, g, lr, momentum):
        m, v, t = state
        t = t + 1
        alpha = lr * jnp.sqrt(1 - ADAM_BETA_2**t) / (1 - ADAM_BETA_1**t)
        m = jax.tree_util.tree_map(lambda m_, g_: m_ + (g_ - m_) * (1 - ADAM_BETA_1), m, g)
        v = jax.tree_util.tree_map(lambda v_, g_: v_ + (g_ * g_ - v_) * (1 - ADAM_BETA_2), v, g)
        p = jax.tree_util.tree_map(lambda p_, m_, v_: p_ - m_ * alpha / (jnp.sqrt(v_) + ADAM_EPSILON), p, m, v)
        return p, (m, v, t)

    zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
    return (zeros, zeros, jnp.float32(0)), update


OPTIMIZERS = {"sgd": _sgd, "adam": _adam}


def _corrupt(x: jax.Array, key: jax.Array, corruption: str, level: jax.Array) -> jax.Array:
    """A denoising autoencoder's input: masked (each value zeroed with probability level) or noised."""
    if corruption == "masking":
        return x * (jax.random.uniform(key, x.shape) >= level).astype(x.dtype)
    return x + level * jax.random.normal(key, x.shape, x.dtype)


@program_cache
def _trainer(
    activation: str,
    loss: str,
    epochs: int,
    batch_size: int,
    frozen: int,
    x_per_seed: bool,
    y_per_seed: bool,
    optimizer: str = "sgd",
    architecture: str = "plain",
    corruption: str = "none",
    weight_decay: bool = False,
    early_stopping: bool = False,
):
    """A jitted fit, vmapped over seeds: (params, x, y, key, lr, momentum, level, decay, x_val, y_val)
    -> (params, epoch losses).

    With a corruption, each batch's inputs are corrupted with keys folded from the epoch's key
    (which still draws the same shuffle), so ``level`` 0 trains exactly the uncorrupted fit. With
    ``weight_decay``, each batch's loss adds ``decay`` times the sum of squared kernel weights (Keras'
    L2 kernel regularizer). With ``early_stopping``, the fit returns the parameters of the epoch whose
    loss on the (per-seed) validation rows ``x_val``, ``y_val`` is lowest (patience: the whole fit).
    """

    def fit_one(params, x, y, key, lr, momentum, level, decay, x_val, y_val):
        n = x.shape[0]
        n_batches = -(-n // batch_size)
        pad = n_batches * batch_size - n
        mask = (jnp.arange(n_batches * batch_size) < n).reshape(n_batches, batch_size).astype(jnp.float32)

        def batch_loss(p, xb, yb, mb):
            rows = _row_loss(_apply(p, xb, activation, frozen, architecture, rows=mb), yb, loss)
            value = jnp.sum(rows * mb) / jnp.sum(mb)
            if weight_decay:
                value = value + decay * sum(jnp.sum(layer[0] ** 2) for layer in p if layer[0].ndim == 2)  # kernels only
            return value

        grad = jax.value_and_grad(batch_loss)
        state0, update = OPTIMIZERS[optimizer](params)

        def epoch(carry, k):
            perm = shuffled_indices(k, n)
            idx = jnp.concatenate([perm, jnp.zeros((pad,), perm.dtype)]).reshape(n_batches, batch_size)

            def step(carry, inp):
                p, state = carry
                bi, mb = inp[0], inp[1]
                xb = x[bi] if corruption == "none" else _corrupt(x[bi], inp[2], corruption, level)
                value, g = grad(p, xb, y[bi], mb)
                return update(p, state, g, lr, momentum), value * jnp.sum(mb)

            batches = (idx, mask)
            if corruption != "none":
                batches += (jax.random.split(jax.random.fold_in(k, 1), n_batches),)
            if not early_stopping:
                carry, sums = jax.lax.scan(step, carry, batches)
                return carry, jnp.sum(sums) / n
            trained, best, best_loss = carry
            trained, sums = jax.lax.scan(step, trained, batches)
            val_loss = jnp.mean(_row_loss(_apply(trained[0], x_val, activation, 0, architecture), y_val, loss))
            better = val_loss < best_loss  # a NaN loss is never better
            best = jax.tree_util.tree_map(lambda new, old: jnp.where(better, new, old), trained[0], best)
            return (trained, best, jnp.where(better, val_loss, best_loss)), jnp.sum(sums) / n

        carry0 = (params, state0)
        if early_stopping:
            carry0 = (carry0, params, jnp.float32(jnp.inf))
        carry, losses = jax.lax.scan(epoch, carry0, jax.random.split(key, epochs))
        return (carry[1] if early_stopping else carry[0]), losses

    val_axis = 0 if early_stopping else None
    in_axes = (0, 0 if x_per_seed else None, 0 if y_per_seed else None, 0, None, None, None, None, val_axis, val_axis)
    return jax.jit(jax.vmap(fit_one, in_axes=in_axes))


def train(
    params: Params,
    x: jax.Array,
    y: jax.Array,
    keys: jax.Array,
    *,
    activation: str,
    loss: str,
    learning_rate: float,
    momentum: float,
    epochs: int,
    batch_size: int,
    frozen: int = 0,
    optimizer: str = "sgd",
    architecture: str = "plain",
    corruption: str = "none",
    corruption_level: float = 0.0,
    weight_decay: float = 0.0,
    validation: tuple[jax.Array, jax.Array] | None = None,
) -> tuple[Params, np.ndarray]:
    """Fit a batch of networks (leading axis = seed); x and y are shared (2-D) or per seed (3-D).

    ``loss`` is "ce" (softmax cross-entropy on one-hot targets) or "mse"; ``optimizer`` "sgd"
    (with ``momentum``) or "adam" (which ignores ``momentum``); ``corruption`` ("masking" or
    "gaussian", at ``corruption_level``) corrupts the inputs, never the targets; ``weight_decay``
    adds that multiple of the squared kernel weights to the loss; ``validation`` (per-seed inputs and
    targets, 3-D) stops early: the parameters of the epoch with the lowest validation loss are returned.
    Returns the trained parameters and each seed's mean loss per epoch.
    """
    fn = _trainer(
        activation,
        loss,
        epochs,
        batch_size,
        frozen,
        x.ndim == 3,
        y.ndim == 3,
        optimizer,
        architecture,
        corruption,
        weight_decay > 0,
        validation is not None,
    )
    lr, momentum, level, decay = (jnp.float32(v) for v in (learning_rate, momentum, corruption_level, weight_decay))
    x_val, y_val = (None, None) if validation is None else validation
    params, losses = fn(params, x, y, keys, lr, momentum, level, decay, x_val, y_val)
    return params, np.asarray(losses)
