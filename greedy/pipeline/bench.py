"""Benchmark: the straightforward Keras/TensorFlow procedure against the fast engine, side by side.

Prints figures; asserts nothing (these machines are noisy). Run as ``greedy bench``.
"""

from __future__ import annotations

import os
import platform
import time

import numpy as np

from greedy.learning.config import TrainConfig
from greedy.learning.data import Dataset, blobs
from greedy.learning.records import to_frame
from greedy.pipeline import compile_cache
from greedy.pipeline.targets import TINY_NETWORKS, TINY_NETWORKS_SEEDS


def numpy_sgd_fit(data: Dataset, config: TrainConfig, seed: int = 0) -> float:
    """One fit of the base network (inputs -> width relu -> softmax) as a hand-written NumPy loop."""
    rng = np.random.default_rng(seed)
    d, w, c = data.n_features, config.width, data.n_classes
    params = [
        rng.uniform(-np.sqrt(6 / d), np.sqrt(6 / d), (d, w)).astype(np.float32),
        np.zeros(w, np.float32),
        rng.uniform(-np.sqrt(6 / (w + c)), np.sqrt(6 / (w + c)), (w, c)).astype(np.float32),
        np.zeros(c, np.float32),
    ]
    vel = [np.zeros_like(p) for p in params]
    x, y = data.x_train, data.one_hot(data.y_train)
    start = time.perf_counter()
    for _ in range(config.epochs):
        order = rng.permutation(len(x))
        for i in range(0, len(x), config.batch_size):
            idx = order[i : i + config.batch_size]
            xb, yb = x[idx], y[idx]
            z = xb @ params[0] + params[1]
            h = np.maximum(z, 0)
            logits = h @ params[2] + params[3]
            p = np.exp(logits - logits.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            g_out = (p - yb) / len(idx)
            g_h = (g_out @ params[2].T) * (z > 0)
            grads = [xb.T @ g_h, g_h.sum(0), h.T @ g_out, g_out.sum(0)]
            for j in range(4):
                vel[j] = config.momentum * vel[j] - config.learning_rate * grads[j]
                params[j] += vel[j]
    return time.perf_counter() - start


def _timed(fn) -> tuple[float, object]:
    """Seconds ``fn()`` took, and what it returned."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def _print_tiny_target(seeds: int, per_fit: float, quick: bool) -> None:
    """Target 1's verdict, where the figure is the one it is set for (30 seeds, the full procedure)."""
    if seeds == TINY_NETWORKS_SEEDS and not quick:
        print(f"  {TINY_NETWORKS.verdict(per_fit * 1e3)}")


def multi_seed(data: Dataset, config: TrainConfig, seeds: int) -> tuple[float, float]:
    """Warm time of the supervised procedure for ``seeds`` seeds in one vectorized run, and per fit."""
    from greedy.learning import jax_engine

    seed_list = list(range(seeds))
    jax_engine.supervised_greedy(data, config, seed_list, chunk_size=seeds)  # compile
    total, _ = _timed(lambda: jax_engine.supervised_greedy(data, config, seed_list, chunk_size=seeds))
    return total, total / (seeds * (config.n_added_layers + 1))


def fast_only(seed_counts: list[int], quick: bool = False) -> int:
    """Multi-seed figures of the fast engine alone, on whatever device JAX has (CPU or GPU)."""
    compile_cache.enable_here()
    import jax

    data = blobs()
    config = TrainConfig(epochs=10, n_added_layers=2) if quick else TrainConfig()
    print(
        f"greedy bench (fast engine only): JAX {jax.__version__} on {jax.devices()[0].device_kind} "
        f"({jax.default_backend()}), {config.epochs} epochs, {config.n_added_layers} added layers"
    )
    for seeds in seed_counts:
        total, per_fit = multi_seed(data, config, seeds)
        print(
            f"  {seeds:6d} seeds: {total:8.3f} s for {seeds * (config.n_added_layers + 1)} fits, "
            f"{per_fit * 1e3:8.4f} ms per fit"
        )
        _print_tiny_target(seeds, per_fit, quick)
    return 0


def main(seeds: int = 30, quick: bool = False) -> int:
    from greedy.learning.backend import use_backend

    use_backend("tensorflow")  # the straightforward procedure runs on the tutorial's backend
    compile_cache.enable_here()
    from greedy.learning import jax_engine, keras_engine

    data = blobs()
    config = TrainConfig(epochs=10, head_epochs=10, n_added_layers=2) if quick else TrainConfig()
    fits_sup = config.n_added_layers + 1
    print(
        f"greedy bench: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{config.epochs} epochs, {config.n_added_layers} added layers"
    )

    # Seed 2 trains every stage on both engines (some seeds diverge, which would cut a run short).
    seed = 2
    rows = []
    for name, method in (("supervised", "supervised_greedy"), ("unsupervised", "autoencoder_greedy")):
        keras, fast = keras_engine.PROCEDURES[method], jax_engine.PROCEDURES[method]
        keras_s, keras_records = _timed(lambda k=keras: k(data, config, seed))
        fast_cold, fast_trained = _timed(lambda f=fast: f(data, config, [seed], chunk_size=1))
        fast_warm, _ = _timed(lambda f=fast: f(data, config, [seed], chunk_size=1))
        stages = {"keras": len(keras_records), "fast": len(fast_trained.records)}
        rows.append((name, keras_s, fast_cold, fast_warm, stages))
    print(f"\none seed ({seed}), whole procedure (s); cold = including XLA compilation")
    header = ["keras+tf", "fast cold", "fast warm"]
    print(f"{'experiment':14s} " + " ".join(f"{h:>10s}" for h in header) + f" {'x cold':>8s} {'x warm':>8s}  stages")
    for name, k, cold, warm, stages in rows:
        print(
            f"{name:14s} {k:10.2f} {cold:10.2f} {warm:10.2f} {k / cold:8.1f} {k / warm:8.1f}  "
            f"{stages['keras']} / {stages['fast']}"
        )

    multi, per_fit = multi_seed(data, config, seeds)
    numpy_fit = min(numpy_sgd_fit(data, config, s) for s in range(3))
    print(f"\n{seeds} seeds, supervised ({seeds * fits_sup} fits of {config.epochs} epochs)")
    print(f"  fast engine, warm: {multi:.2f} s total, {per_fit * 1e3:.1f} ms per fit")
    print(f"  hand NumPy SGD loop: {numpy_fit * 1e3:.1f} ms per fit (base network, best of 3)")
    print(f"  ratio NumPy / fast engine per fit: {numpy_fit / per_fit:.1f}")
    _print_tiny_target(seeds, per_fit, quick)
    return 0


def sharded(workers: int = 2, seeds: int = 80, quick: bool = False) -> int:
    """One fast-engine run's seeds: serially here against shards on a local Dask cluster, both warm."""
    compile_cache.enable_here()
    from distributed import Client

    from greedy.learning import jax_engine
    from greedy.learning.data import resampled_blobs
    from greedy.pipeline.cluster import local_cluster
    from greedy.pipeline.shards import run_sharded

    config = TrainConfig(epochs=10, head_epochs=10, n_added_layers=2) if quick else TrainConfig()
    data = resampled_blobs(range(seeds), 10_000 if quick else 100_000)
    procedure, options = jax_engine.autoencoder_greedy, {"fine_tune": "last"}
    print(
        f"greedy bench (seed shards): autoencoder greedy + fine-tuning, {seeds} seeds with their own data, "
        f"{config.n_added_layers} added layers, {config.epochs} epochs; {workers} local workers"
    )
    procedure(data, config, range(seeds), **options)  # compile here
    serial, expected = _timed(lambda: procedure(data, config, range(seeds), **options))
    with local_cluster(workers) as cluster, Client(cluster) as client:
        run_sharded(procedure, data, config, range(seeds), client, **options)  # compile on the workers
        parallel, records = _timed(lambda: run_sharded(procedure, data, config, range(seeds), client, **options))
    # Compared as frames: a diverged stage's scores are NaN, which equal each other there.
    same = to_frame(records).drop(columns="wall_seconds").equals(to_frame(expected).drop(columns="wall_seconds"))
    print(f"  serial, in this process: {serial:.1f} s")
    print(f"  sharded on {workers} workers: {parallel:.1f} s (records {'identical' if same else 'DIFFERENT'})")
    print(f"  speed-up {serial / parallel:.2f}, efficiency {serial / (workers * parallel):.2f}")
    return 0
