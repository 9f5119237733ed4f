"""The fast engine: the same procedures in pure JAX, every fit one jitted ``lax.scan``, seeds vmapped.

Two facts make it fast without changing what is trained:
- a whole 100-epoch fit (shuffling, mini-batches, SGD with momentum) is one compiled scan,
  run for many seeds at once with ``jax.vmap`` (each seed its own init and shuffling);
- in a greedy stage the earlier layers are frozen, so their output is a fixed feature set:
  each stage trains the same shallow network (new hidden layer + head) on precomputed
  features, at constant cost whatever the depth. ``tests/test_jax_engine.py`` checks this
  equals training the full stack with the lower layers frozen.

Seeds run in chunks of a fixed size (the last one padded), so a seed's numbers do not depend
on which other seeds share its run: a sharded run reproduces the serial one exactly.

Every procedure takes one ``Dataset`` for all seeds, or a sequence of them, one per seed, of
equal shapes (each seed its own labeled subset, say): each seed trains on its own data.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from greedy.config import (
    FINE_TUNE_WHEN,
    SMALL_UNIFORM_LIMIT,
    TrainConfig,
    check_choice,
    check_positive_int,
    check_seeds,
    fine_tunes_after,
)
from greedy.data import Dataset
from greedy.mlp import LEAKY_SLOPE, Layer
from greedy.records import StageRecord

# Compiled fits are cached on disk, so a re-run (or nbval re-executing a notebook) does not pay
# XLA's compile time again. GREEDY_JAX_CACHE overrides the place; an empty value turns it off.
_CACHE = os.environ.get("GREEDY_JAX_CACHE", str(Path.home() / ".cache" / "greedy" / "jax"))
if _CACHE:
    jax.config.update("jax_compilation_cache_dir", _CACHE)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)
# 100 seeds make 5 full chunks, with no padded seeds trained for nothing. A seed's numbers can
# depend on the chunk size (XLA vectorizes over it), so the size is fixed, not fitted to each run.
DEFAULT_CHUNK = 20

Params = list[tuple[jax.Array, jax.Array]]
Data = Dataset | Sequence[Dataset]  # one for every seed, or one per seed


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
    else:
        limit = SMALL_UNIFORM_LIMIT
    w = jax.random.uniform(key, (fan_in, fan_out), jnp.float32, -limit, limit)
    return w, jnp.zeros((fan_out,), jnp.float32)


def hidden_features(hidden: Params, x: jax.Array, activation: str) -> jax.Array:
    for w, b in hidden:
        x = _activate(x @ w + b, activation)
    return x


def _apply(params: Params, x: jax.Array, activation: str, frozen: int) -> jax.Array:
    """Output pre-activations of hidden layers + a linear head; the first ``frozen`` layers get no gradient."""
    for i, (w, b) in enumerate(params[:-1]):
        if i < frozen:
            w, b = jax.lax.stop_gradient(w), jax.lax.stop_gradient(b)
        x = _activate(x @ w + b, activation)
    w, b = params[-1]
    return x @ w + b


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


@cache
def _trainer(activation: str, loss: str, epochs: int, batch_size: int, frozen: int, x_per_seed: bool, y_per_seed: bool):
    """A jitted fit, vmapped over seeds: (params, x, y, key, lr, momentum) -> (params, epoch losses)."""

    def fit_one(params, x, y, key, lr, momentum):
        n = x.shape[0]
        n_batches = -(-n // batch_size)
        pad = n_batches * batch_size - n
        mask = (jnp.arange(n_batches * batch_size) < n).reshape(n_batches, batch_size).astype(jnp.float32)

        def batch_loss(p, xb, yb, mb):
            rows = _row_loss(_apply(p, xb, activation, frozen), yb, loss)
            return jnp.sum(rows * mb) / jnp.sum(mb)

        grad = jax.value_and_grad(batch_loss)

        def epoch(carry, k):
            perm = shuffled_indices(k, n)
            idx = jnp.concatenate([perm, jnp.zeros((pad,), perm.dtype)]).reshape(n_batches, batch_size)

            def step(carry, inp):
                p, v = carry
                bi, mb = inp
                value, g = grad(p, x[bi], y[bi], mb)
                v = jax.tree_util.tree_map(lambda v_, g_: momentum * v_ - lr * g_, v, g)
                p = jax.tree_util.tree_map(lambda p_, v_: p_ + v_, p, v)
                return (p, v), value * jnp.sum(mb)

            carry, sums = jax.lax.scan(step, carry, (idx, mask))
            return carry, jnp.sum(sums) / n

        velocity = jax.tree_util.tree_map(jnp.zeros_like, params)
        (params, _), losses = jax.lax.scan(epoch, (params, velocity), jax.random.split(key, epochs))
        return params, losses

    return jax.jit(jax.vmap(fit_one, in_axes=(0, 0 if x_per_seed else None, 0 if y_per_seed else None, 0, None, None)))


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
) -> tuple[Params, np.ndarray]:
    """Fit a batch of networks (leading axis = seed); x and y are shared (2-D) or per seed (3-D)."""
    fn = _trainer(activation, loss, epochs, batch_size, frozen, x.ndim == 3, y.ndim == 3)
    params, losses = fn(params, x, y, keys, jnp.float32(learning_rate), jnp.float32(momentum))
    return params, np.asarray(losses)


def release_compiled() -> None:
    """Drop every compiled fit held in memory (the on-disk compile cache keeps them).

    Each activation, depth and epoch count compiles its own programs, ~100 MiB per activation
    for a study of depths 2 to 12; a loop over settings that share none of them can drop them
    between settings instead of holding them all.
    """
    _trainer.cache_clear()
    jax.clear_caches()


def _init_batch(keys: jax.Array, fan_in: int, fan_out: int, initializer: str):
    return jax.vmap(lambda k: _init_dense(k, fan_in, fan_out, initializer))(keys)


def _stage_keys(seed_keys: jax.Array, stage: int, purpose: int) -> jax.Array:
    return jax.vmap(lambda k: jax.random.fold_in(jax.random.fold_in(k, stage), purpose))(seed_keys)


_INIT, _FIT, _HEAD_INIT, _HEAD_FIT = 0, 1, 2, 3


def _divergence(losses: np.ndarray, params: Params) -> list[int | None]:
    """Per seed: first epoch (1-based) with a non-finite loss or non-finite final weights, else None."""
    finite_w = np.ones(losses.shape[0], bool)
    for w, b in params:
        finite_w &= np.isfinite(np.asarray(w)).reshape(len(finite_w), -1).all(1)
        finite_w &= np.isfinite(np.asarray(b)).reshape(len(finite_w), -1).all(1)
    out: list[int | None] = []
    for s in range(losses.shape[0]):
        bad = np.flatnonzero(~np.isfinite(losses[s]))
        out.append(int(bad[0]) + 1 if len(bad) else (None if finite_w[s] else losses.shape[1]))
    return out


def _accuracy(logits: jax.Array, y: np.ndarray) -> np.ndarray:
    # Count in integers, divide in float64: the exact fraction of correct rows.
    return np.asarray(jnp.sum(jnp.argmax(logits, -1) == jnp.asarray(y), axis=-1)) / y.shape[-1]


def _mse(out: jax.Array, x) -> np.ndarray:
    # In NumPy: XLA splits a large reduction over its threads, so its rounding would depend on
    # how many cores the process may use (the study pins each worker to one; nbval uses all).
    diff = np.asarray(out, np.float64) - np.asarray(x, np.float64)
    return np.mean(diff**2, axis=(-2, -1))


def _forward_batch(params: Params, x, activation: str) -> jax.Array:
    """Forward a batch of networks (leading axis seed) on shared or per-seed inputs."""
    in_axis = 0 if x.ndim == 3 else None
    return jax.vmap(lambda p, xx: _apply(p, xx, activation, 0), in_axes=(0, in_axis))(params, x)


def _network_accuracies(params: Params, arrays: _Arrays, activation: str) -> dict[str, np.ndarray]:
    """Per seed, train and test accuracy of a batch of whole networks."""
    return {
        "train_accuracy": _accuracy(_forward_batch(params, arrays.x_train, activation), arrays.y_train),
        "test_accuracy": _accuracy(_forward_batch(params, arrays.x_test, activation), arrays.y_test),
    }


def _features_batch(hidden: Params, x, activation: str) -> jax.Array:
    in_axis = 0 if x.ndim == 3 else None
    return jax.vmap(lambda p, xx: hidden_features(p, xx, activation), in_axes=(0, in_axis))(hidden, x)


@dataclass(frozen=True)
class _Arrays:
    """A chunk's data: 2-D arrays shared by every seed, or 3-D ones with one slice per seed (seed first)."""

    x_train: jax.Array
    y_train: np.ndarray  # class labels
    y_train_hot: jax.Array
    x_test: jax.Array
    y_test: np.ndarray
    x_pretrain: jax.Array
    names: list[str]  # the data set's name, per seed

    @classmethod
    def of(cls, data: Data, picks: list[int]) -> _Arrays:
        """The arrays for the seeds at positions ``picks`` of the run's seed list."""
        if isinstance(data, Dataset):
            parts, stack, names = [data], (lambda a: a[0]), [data.name] * len(picks)
        else:
            parts = [data[i] for i in picks]
            stack, names = np.stack, [d.name for d in parts]
        return cls(
            x_train=jnp.asarray(stack([d.x_train for d in parts])),
            y_train=stack([d.y_train for d in parts]),
            y_train_hot=jnp.asarray(stack([d.one_hot(d.y_train) for d in parts])),
            x_test=jnp.asarray(stack([d.x_test for d in parts])),
            y_test=stack([d.y_test for d in parts]),
            x_pretrain=jnp.asarray(stack([d.x_pretrain for d in parts])),
            names=names,
        )


class _Chunk:
    """Bookkeeping for one chunk of seeds: which are still alive, their records and kept layers."""

    def __init__(
        self,
        arrays: _Arrays,
        seeds: list[int],
        n_real: int,
        config: TrainConfig,
        *,
        fine_tune: str = "none",
        keep_layers: dict[int, dict[int, list[Layer]]] | None = None,
    ) -> None:
        self.arrays, self.seeds, self.n_real = arrays, seeds, n_real
        self.config, self.fine_tune, self.keep_layers = config, fine_tune, keep_layers
        self.keys = jax.vmap(jax.random.PRNGKey)(jnp.asarray(seeds))
        self.alive = [True] * n_real
        self.records: list[StageRecord] = []

    def add(self, method, depth, seconds, losses, diverged, scores, *, update_alive: bool = True) -> None:
        for s in range(self.n_real):
            if not self.alive[s]:
                continue
            d = diverged[s]
            row = {k: float(v[s]) for k, v in scores.items()} if d is None else {}
            self.records.append(
                StageRecord(
                    method=method,
                    depth=depth,
                    seed=self.seeds[s],
                    train_accuracy=row.pop("train_accuracy", math.nan),
                    test_accuracy=row.pop("test_accuracy", math.nan),
                    final_loss=float(losses[s, -1]),
                    wall_seconds=seconds / self.n_real,
                    backend="jax",
                    engine="jax",
                    status="ok" if d is None else "diverged",
                    diverged_epoch=d,
                    dataset=self.arrays.names[s],
                    **row,
                )
            )
            if d is not None and update_alive:
                self.alive[s] = False

    def keep(self, depth: int, network: Params) -> None:
        """If layers are kept, store each real seed's network at ``depth``: keep_layers[depth][seed]."""
        if self.keep_layers is not None:
            nets = export_layers(network, self.config.activation, "softmax", self.n_real)
            self.keep_layers.setdefault(depth, {}).update(zip(self.seeds[: self.n_real], nets, strict=True))

    def finish_stage(self, method: str, stage: int, start: float, losses, diverged, scores, network: Params) -> None:
        """Record a greedy stage (its classifier is ``network``), keep its layers, fine-tune if asked."""
        depth = stage + 2
        self.keep(depth, network)
        self.add(method, depth, time.perf_counter() - start, losses, diverged, scores)
        if fine_tunes_after(self.fine_tune, stage, self.config):
            start = time.perf_counter()
            ft_losses, ft_div, ft_scores = _fine_tune_scores(network, self.arrays, self.config, self.keys, stage)
            self.add(
                f"{method}+fine_tune",
                depth,
                time.perf_counter() - start,
                ft_losses,
                ft_div,
                ft_scores,
                update_alive=False,
            )


def _chunks(seeds: list[int], chunk_size: int, data: Data):
    """Per chunk: its seeds, how many are real, and its arrays."""
    # One data set for every seed: every chunk (padded to chunk_size) gets the same arrays.
    shared = _Arrays.of(data, list(range(chunk_size))) if isinstance(data, Dataset) else None
    for i in range(0, len(seeds), chunk_size):
        picks = list(range(i, min(i + chunk_size, len(seeds))))
        n_real = len(picks)
        # Pad with copies of the last seed: their results are computed and dropped.
        picks += [picks[-1]] * (chunk_size - n_real)
        yield [seeds[p] for p in picks], n_real, shared or _Arrays.of(data, picks)


def _check_data(data: object, n_seeds: int) -> Dataset:
    """The run's data (one Dataset, or one per seed of equal shapes); returns a representative."""
    if isinstance(data, Dataset):
        return data
    if not isinstance(data, Sequence) or not all(isinstance(d, Dataset) for d in data):
        raise ValueError(f"data must be a greedy.Dataset or a list of them, one per seed; got {type(data).__name__}")
    if len(data) != n_seeds:
        raise ValueError(f"data must hold one Dataset per seed: got {len(data)} for {n_seeds} seeds")
    first = data[0]

    def shapes(d: Dataset) -> tuple:
        return (d.x_train.shape, d.x_test.shape, d.x_pretrain.shape, d.n_classes)

    for i, d in enumerate(data):
        if shapes(d) != shapes(first):
            raise ValueError(
                f"data[{i}] has shapes (x_train, x_test, x_pretrain, classes) {shapes(d)}, "
                f"data[0] has {shapes(first)}: per-seed data sets must have equal shapes"
            )
    return first


def _common(config: TrainConfig, seeds, fine_tune: str, chunk_size: int, data: object) -> tuple[list[int], Dataset]:
    check_choice("fine_tune", fine_tune, FINE_TUNE_WHEN)
    check_positive_int("chunk_size", chunk_size)
    if not isinstance(config, TrainConfig):
        raise ValueError(f"config must be a greedy.TrainConfig, got {type(config).__name__}")
    seeds = check_seeds(seeds)
    return seeds, _check_data(data, len(seeds))


def _fit_kwargs(config: TrainConfig, epochs: int | None = None, lr: float | None = None) -> dict:
    return dict(
        activation=config.activation,
        learning_rate=config.learning_rate if lr is None else lr,
        momentum=config.momentum,
        epochs=config.epochs if epochs is None else epochs,
        batch_size=config.batch_size,
    )


def _fine_tune_scores(params, arrays: _Arrays, config: TrainConfig, keys, stage: int):
    tuned, losses = train(
        params,
        arrays.x_train,
        arrays.y_train_hot,
        _stage_keys(keys, stage, 5),
        loss="ce",
        **_fit_kwargs(config, config.fine_tune_epochs, config.fine_tune_learning_rate),
    )
    return losses, _divergence(losses, tuned), _network_accuracies(tuned, arrays, config.activation)


def supervised_greedy(
    data: Data,
    config: TrainConfig = TrainConfig(),
    seeds: int | list[int] = 0,
    *,
    fine_tune: str = "none",
    chunk_size: int = DEFAULT_CHUNK,
    keep_layers: dict[int, dict[int, list[Layer]]] | None = None,
) -> list[StageRecord]:
    """Supervised greedy pretraining for many seeds; see ``greedy.keras_engine.supervised_greedy``.

    ``keep_layers``, when given, is filled with {depth: {seed: layers}} for inspection (a seed's
    entries stop at the stage where its chunk of seeds stopped).
    """
    seeds, first = _common(config, seeds, fine_tune, chunk_size, data)
    records: list[StageRecord] = []
    for chunk, n_real, arrays in _chunks(seeds, chunk_size, data):
        book = _Chunk(arrays, chunk, n_real, config, fine_tune=fine_tune, keep_layers=keep_layers)
        keys = book.keys
        hidden: Params = []
        head = _init_batch(_stage_keys(keys, 0, _HEAD_INIT), config.width, first.n_classes, "glorot_uniform")
        f_train, f_test = arrays.x_train, arrays.x_test
        for stage in range(config.n_added_layers + 1):
            if not any(book.alive):
                break
            start = time.perf_counter()
            fan_in = first.n_features if stage == 0 else config.width
            new = _init_batch(_stage_keys(keys, stage, _INIT), fan_in, config.width, config.initializer)
            (new, head), losses = train(
                [new, head],
                f_train,
                arrays.y_train_hot,
                _stage_keys(keys, stage, _FIT),
                loss="ce",
                **_fit_kwargs(config),
            )
            hidden.append(new)
            f_train = _features_batch([new], f_train, config.activation)
            f_test = _features_batch([new], f_test, config.activation)
            out_train = jax.vmap(lambda h, f: f @ h[0] + h[1])(head, f_train)
            out_test = jax.vmap(lambda h, f: f @ h[0] + h[1])(head, f_test)
            scores = {
                "train_accuracy": _accuracy(out_train, arrays.y_train),
                "test_accuracy": _accuracy(out_test, arrays.y_test),
            }
            diverged = _divergence(losses, [new, head])
            book.finish_stage("supervised_greedy", stage, start, losses, diverged, scores, [*hidden, head])
        records.extend(book.records)
    return records


def autoencoder_greedy(
    data: Data,
    config: TrainConfig = TrainConfig(),
    seeds: int | list[int] = 0,
    *,
    fine_tune: str = "none",
    chunk_size: int = DEFAULT_CHUNK,
    keep_layers: dict[int, dict[int, list[Layer]]] | None = None,
) -> list[StageRecord]:
    """Autoencoder greedy pretraining for many seeds; see ``greedy.keras_engine.autoencoder_greedy``.

    ``keep_layers`` receives each stage's encoder + classifier head: {depth: {seed: layers}}.
    """
    seeds, first = _common(config, seeds, fine_tune, chunk_size, data)
    records: list[StageRecord] = []
    for chunk, n_real, arrays in _chunks(seeds, chunk_size, data):
        book = _Chunk(arrays, chunk, n_real, config, fine_tune=fine_tune, keep_layers=keep_layers)
        keys = book.keys
        hidden: Params = []
        recon = _init_batch(_stage_keys(keys, 0, _HEAD_INIT), config.width, first.n_features, "glorot_uniform")
        x_pre = arrays.x_pretrain
        f_pre, f_train, f_test = x_pre, arrays.x_train, arrays.x_test
        for stage in range(config.n_added_layers + 1):
            if not any(book.alive):
                break
            start = time.perf_counter()
            fan_in = first.n_features if stage == 0 else config.width
            new = _init_batch(_stage_keys(keys, stage, _INIT), fan_in, config.width, config.initializer)
            (new, recon), losses = train(
                [new, recon], f_pre, x_pre, _stage_keys(keys, stage, _FIT), loss="mse", **_fit_kwargs(config)
            )
            hidden.append(new)
            f_pre, f_train, f_test = (_features_batch([new], f, config.activation) for f in (f_pre, f_train, f_test))
            decode = jax.vmap(lambda h, f: f @ h[0] + h[1])
            head0 = _init_batch(_stage_keys(keys, stage, _HEAD_FIT), config.width, first.n_classes, "glorot_uniform")
            (head,), head_losses = train(
                [head0],
                f_train,
                arrays.y_train_hot,
                _stage_keys(keys, stage, _HEAD_FIT + 10),
                loss="ce",
                **_fit_kwargs(config, config.head_epochs),
            )
            scores = {
                "train_mse": _mse(decode(recon, f_train), arrays.x_train),
                "test_mse": _mse(decode(recon, f_test), arrays.x_test),
                "train_accuracy": _accuracy(decode(head, f_train), arrays.y_train),
                "test_accuracy": _accuracy(decode(head, f_test), arrays.y_test),
            }
            diverged = [
                a if a is not None else b
                for a, b in zip(_divergence(losses, [new, recon]), _divergence(head_losses, [head]), strict=True)
            ]
            book.finish_stage("autoencoder_greedy", stage, start, losses, diverged, scores, [*hidden, head])
        records.extend(book.records)
    return records


def end_to_end(
    data: Data,
    config: TrainConfig = TrainConfig(),
    seeds: int | list[int] = 0,
    *,
    depths: list[int] | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    keep_layers: dict[int, dict[int, list[Layer]]] | None = None,
) -> list[StageRecord]:
    """Baseline: each depth's network from random init, all weights trained together."""
    seeds, first = _common(config, seeds, "none", chunk_size, data)
    depths = depths if depths is not None else list(range(2, config.n_added_layers + 3))
    for d in depths:
        if isinstance(d, bool) or not isinstance(d, int) or d < 2:
            raise ValueError(f"depths must be integers >= 2 (Dense layers incl. the output), got {d!r}")
    records: list[StageRecord] = []
    for chunk, n_real, arrays in _chunks(seeds, chunk_size, data):
        book = _Chunk(arrays, chunk, n_real, config, keep_layers=keep_layers)
        keys = book.keys
        for depth in depths:
            start = time.perf_counter()
            params = initial_network(keys, first.n_features, first.n_classes, depth, config)
            params, losses = train(
                params,
                arrays.x_train,
                arrays.y_train_hot,
                _stage_keys(keys, depth, _FIT),
                loss="ce",
                **_fit_kwargs(config),
            )
            scores = _network_accuracies(params, arrays, config.activation)
            book.keep(depth, params)
            book.add(
                "end_to_end",
                depth,
                time.perf_counter() - start,
                losses,
                _divergence(losses, params),
                scores,
                update_alive=False,
            )
        records.extend(book.records)
    return records


def initial_network(keys: jax.Array, n_features: int, n_outputs: int, depth: int, config: TrainConfig) -> Params:
    """A batch (one per key) of freshly initialized networks with ``depth`` Dense layers."""
    params: Params = []
    fan_in = n_features
    for i in range(depth - 1):
        params.append(_init_batch(_stage_keys(keys, depth, 100 + i), fan_in, config.width, config.initializer))
        fan_in = config.width
    params.append(_init_batch(_stage_keys(keys, depth, 99), fan_in, n_outputs, "glorot_uniform"))
    return params


def export_layers(params: Params, activation: str, head_activation: str, n: int | None = None) -> list[list[Layer]]:
    """A batch of networks as one NumPy ``Layer`` list per seed (the first ``n`` seeds)."""
    arrays = [(np.asarray(w), np.asarray(b)) for w, b in params]
    n = arrays[0][0].shape[0] if n is None else n
    return [
        [Layer(w[s], b[s], head_activation if i == len(arrays) - 1 else activation) for i, (w, b) in enumerate(arrays)]
        for s in range(n)
    ]
