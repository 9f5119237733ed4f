"""How close the fast engine comes to this machine's limit: float32 matmul throughput, and the engine's
achieved throughput on an MNIST-1D-sized multi-seed fit, measured side by side in one run.

The fit's data have MNIST-1D's shapes (4,000 training rows of 40 features, 10 classes; Greydanus
2020) but are random: throughput depends on shapes, not values. Its FLOPs are counted from the
layer sizes: per example and step, 2 per weight forward and 4 backward (6 per weight).
"""

from __future__ import annotations

import time

import numpy as np

MNIST1D_SHAPE = {"n_train": 4000, "n_test": 1000, "n_features": 40, "n_classes": 10}


def matmul_gflops(n: int = 2048, repeats: int = 5) -> float:
    """Best-of-``repeats`` float32 ``n``×``n`` matrix product throughput, in GFLOP/s."""
    import jax
    import jax.numpy as jnp

    a = jax.random.normal(jax.random.PRNGKey(0), (n, n), jnp.float32)
    b = jax.random.normal(jax.random.PRNGKey(1), (n, n), jnp.float32)
    product = jax.jit(jnp.dot)
    product(a, b).block_until_ready()
    best = min(_seconds(lambda: product(a, b).block_until_ready()) for _ in range(repeats))
    return 2 * n**3 / best / 1e9


def _seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def mnist1d_sized_data(seed: int = 0):
    """Random data with MNIST-1D's shapes."""
    from greedy.learning.data import from_arrays

    rng = np.random.default_rng(seed)
    s = MNIST1D_SHAPE
    x = rng.standard_normal((s["n_train"] + s["n_test"], s["n_features"]))
    y = np.arange(len(x)) % s["n_classes"]
    return from_arrays(x[: s["n_train"]], y[: s["n_train"]], x[s["n_train"] :], y[s["n_train"] :], name="mnist1d-sized")


def fit_gflops(width: int = 128, hidden_layers: int = 3, seeds: int = 20, epochs: int = 5) -> tuple[float, float]:
    """Achieved GFLOP/s of end-to-end fits (all seeds at once, warm) and seconds per seed-fit."""
    from greedy.learning import jax_engine
    from greedy.learning.config import TrainConfig

    data = mnist1d_sized_data()
    config = TrainConfig(width=width, epochs=epochs, n_added_layers=hidden_layers - 1)
    depth, seed_list = hidden_layers + 1, list(range(seeds))
    jax_engine.end_to_end(data, config, seed_list, depths=[depth], chunk_size=seeds)  # compile
    seconds = _seconds(lambda: jax_engine.end_to_end(data, config, seed_list, depths=[depth], chunk_size=seeds))
    sizes = [data.n_features, *[width] * hidden_layers, data.n_classes]
    weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    batches = -(-len(data.x_train) // config.batch_size)
    flops = 6 * weights * config.batch_size * batches * epochs * seeds
    return flops / seconds / 1e9, seconds / seeds


def report(quick: bool = False) -> dict[str, float]:
    """Print and return both throughputs and their ratio."""
    import jax

    matmul = matmul_gflops(n=512 if quick else 2048)
    widths = (64,) if quick else (64, 128, 256)
    print(f"greedy bench --machine-limit: JAX {jax.__version__} on {jax.devices()[0].device_kind}")
    print(f"  float32 matmul ({512 if quick else 2048}^2): {matmul:7.1f} GFLOP/s")
    out = {"matmul_gflops": matmul}
    for width in widths:
        achieved, per_fit = fit_gflops(width=width, seeds=4 if quick else 20, epochs=1 if quick else 5)
        print(
            f"  fast engine, MNIST-1D-sized fit, 3 hidden layers of {width}, "
            f"{4 if quick else 20} seeds: {achieved:7.1f} GFLOP/s = {achieved / matmul:5.1%} of matmul "
            f"({per_fit:.2f} s per seed-fit of {1 if quick else 5} epochs)"
        )
        out[f"fit_gflops_{width}"] = achieved
    return out
