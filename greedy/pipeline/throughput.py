"""How close the fast engine comes to this machine's limit: float32 matmul throughput, and the engine's
achieved throughput on an MNIST-1D-sized multi-seed fit, measured side by side in one run.

The fit's data have MNIST-1D's shapes (4,000 training rows of 40 features, 10 classes; Greydanus
2020) but are random: throughput depends on shapes, not values. Its FLOPs are counted from the
layer sizes: per example and step, 2 per weight forward and 4 backward (6 per weight).
"""

from __future__ import annotations

import time

import numpy as np

from greedy.pipeline.targets import AGAINST_KERAS, MNIST_SIZED

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
    return fit_flops(width, hidden_layers, epochs, config.batch_size) * seeds / seconds / 1e9, seconds / seeds


def fit_flops(width: int, hidden_layers: int, epochs: int, batch_size: int = 32) -> float:
    """FLOPs of one MNIST-1D-sized fit: 6 per weight, example and epoch (padded last batch included)."""
    s = MNIST1D_SHAPE
    sizes = [s["n_features"], *[width] * hidden_layers, s["n_classes"]]
    weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    batches = -(-s["n_train"] // batch_size)
    return 6 * weights * batch_size * batches * epochs


def report(quick: bool = False) -> dict[str, float]:
    """Print and return both throughputs and their ratio: in this process (every core it may use),
    and with one process pinned to each core, as the study's workers run."""
    import jax

    n = 512 if quick else 2048
    matmul = matmul_gflops(n=n)
    widths = (64,) if quick else (64, 128, 256)
    seeds, epochs = (4, 1) if quick else (20, 5)
    print(f"greedy bench --machine-limit: JAX {jax.__version__} on {jax.devices()[0].device_kind}")
    print(f"  float32 matmul ({n}^2), this process: {matmul:7.1f} GFLOP/s")
    out = {"matmul_gflops": matmul}
    for width in widths:
        achieved, per_fit = fit_gflops(width=width, seeds=seeds, epochs=epochs)
        print(
            f"  fast engine, MNIST-1D-sized fit, 3 hidden layers of {width}, "
            f"{seeds} seeds: {achieved:7.1f} GFLOP/s = {achieved / matmul:5.1%} of matmul "
            f"({per_fit:.2f} s per seed-fit of {epochs} epochs)"
        )
        out[f"fit_gflops_{width}"] = achieved
    out.update(pinned_report(widths, seeds, epochs, n=n))
    if not quick and f"pinned_fit_gflops_{widths[0]}" in out:  # the study's way of running: one pinned process per core
        lowest = min(out[f"pinned_fit_gflops_{w}"] / out[f"pinned_matmul_gflops_{w}"] for w in widths)
        print(f"  {MNIST_SIZED.verdict(100 * lowest)}")
    if not quick:
        out.update(against_keras(matmul=matmul))
    return out


# One pinned process's measurement: it pins itself to a core before JAX starts, warms up, says
# "ready", waits for "go" (so that every process times the same interval), then times the fit
# and, alone again, the matmul. Times are CLOCK_MONOTONIC, comparable across processes.
_PINNED = """
import json, os, sys, time
settings = json.loads(sys.argv[1])
os.sched_setaffinity(0, {settings["core"]})
from greedy.pipeline import throughput
throughput.fit_gflops(width=settings["width"], seeds=settings["seeds"], epochs=settings["epochs"])
print("ready", flush=True)
sys.stdin.readline()
start = time.monotonic()
gflops, _ = throughput.fit_gflops(width=settings["width"], seeds=settings["seeds"], epochs=settings["epochs"])
end = time.monotonic()
print("done", flush=True)
sys.stdin.readline()
matmul = throughput.matmul_gflops(n=settings["n"])
print(json.dumps({"fit_gflops": gflops, "start": start, "end": end, "matmul_gflops": matmul}))
"""


def pinned_fits(cores: list[int], width: int, seeds: int, epochs: int, n: int) -> list[dict[str, float]]:
    """One process pinned to each of ``cores``, fitting at once (each its own ``seeds``); then each
    measures its core's matmul alone. Per process: fit_gflops, start, end, matmul_gflops."""
    import json
    import subprocess
    import sys

    settings = [json.dumps({"core": c, "width": width, "seeds": seeds, "epochs": epochs, "n": n}) for c in cores]
    procs = [
        subprocess.Popen([sys.executable, "-c", _PINNED, s], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for s in settings
    ]
    try:
        for step in ("ready", "done"):  # every process at the same point before any goes on
            for p in procs:
                line = p.stdout.readline().strip()
                if line != step:
                    raise RuntimeError(f"a pinned benchmark process failed (expected {step!r}, got {line!r})")
            for p in procs:
                p.stdin.write("go\n")
                p.stdin.flush()
        results = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    if any(p.returncode != 0 for p in procs):
        raise RuntimeError("a pinned benchmark process failed")
    return results


def pinned_report(widths, seeds: int, epochs: int, n: int) -> dict[str, float]:
    """Print the fit against the matmul on one pinned core, and on every core with a process each."""
    import os

    if not hasattr(os, "sched_setaffinity"):
        print("  (pinned figures need os.sched_setaffinity: Linux only)")
        return {}
    cores = sorted(os.sched_getaffinity(0))
    out = {}
    print(f"  one process pinned to each core, {len(cores)} at once, each fitting its own {seeds} seeds:")
    for width in widths:
        one = pinned_fits(cores[:1], width, seeds, epochs, n)[0]
        every = pinned_fits(cores, width, seeds, epochs, n)
        limit = sum(r["matmul_gflops"] for r in every)
        flops = sum(r["fit_gflops"] * (r["end"] - r["start"]) for r in every)
        machine = flops / (max(r["end"] for r in every) - min(r["start"] for r in every))
        print(
            f"    width {width}: one core {one['fit_gflops']:6.1f} of its matmul {one['matmul_gflops']:6.1f} GFLOP/s "
            f"= {one['fit_gflops'] / one['matmul_gflops']:5.1%}; {len(cores)} cores {machine:6.1f} of "
            f"{limit:6.1f} = {machine / limit:5.1%}"
        )
        out |= {f"pinned_fit_gflops_{width}": machine, f"pinned_matmul_gflops_{width}": limit}
        out |= {f"one_core_fraction_{width}": one["fit_gflops"] / one["matmul_gflops"]}
    return out


# Run in a fresh process per Keras backend (a process holds one): one end-to-end fit of the same
# MNIST-1D-sized network, as a user would write it in Keras 3, timed warm (after a first fit).
_KERAS_FIT = """
import json, os, sys, time
import numpy as np
from greedy.pipeline.throughput import mnist1d_sized_data
settings = json.loads(sys.argv[1])
import keras
keras.utils.set_random_seed(0)
data = mnist1d_sized_data()
y = np.eye(data.n_classes, dtype="float32")[data.y_train]
def model():
    layers = [keras.Input((data.n_features,))]
    layers += [keras.layers.Dense(settings["width"], activation="relu") for _ in range(settings["hidden_layers"])]
    net = keras.Sequential([*layers, keras.layers.Dense(data.n_classes, activation="softmax")])
    net.compile(loss="categorical_crossentropy", optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
                steps_per_execution=settings["steps_per_execution"], jit_compile=True)
    return net
model().fit(data.x_train, y, epochs=1, batch_size=32, verbose=0)  # compile
net = model()
start = time.perf_counter()
net.fit(data.x_train, y, epochs=settings["epochs"], batch_size=32, verbose=0)
print(json.dumps({"seconds": time.perf_counter() - start}))
"""


def keras_fit_seconds(backend: str, width: int, epochs: int, steps_per_execution: int, hidden_layers: int = 3) -> float:
    """Seconds of one warm Keras 3 fit on ``backend``, in a process of its own."""
    import json
    import os
    import subprocess
    import sys

    settings = json.dumps(
        {"width": width, "epochs": epochs, "steps_per_execution": steps_per_execution, "hidden_layers": hidden_layers}
    )
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", _KERAS_FIT, settings], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"the Keras fit on {backend} failed:\n{done.stderr[-2000:]}")
    return float(json.loads(done.stdout.strip().splitlines()[-1])["seconds"])


def against_keras(
    width: int = 128, epochs: int = 5, seeds: int = 20, quick: bool = False, matmul: float | None = None
) -> dict[str, float]:
    """Per fit: the fast engine (``seeds`` at once) against Keras 3 on JAX and on TensorFlow, one seed each.

    With ``matmul`` (this machine's GFLOP/s), also the most any engine could be ahead of the faster
    Keras run: matmul throughput over that run's achieved throughput."""
    _, fast = fit_gflops(width=width, seeds=seeds, epochs=epochs)
    spe = (1, 32) if quick else (1, 8, 32, 125)  # 125 = every batch of an epoch in one call
    keras_jax = min(keras_fit_seconds("jax", width, epochs, s) for s in spe)
    keras_tf = min(keras_fit_seconds("tensorflow", width, epochs, s) for s in spe)
    faster = min(keras_jax, keras_tf)
    print(
        f"  one {epochs}-epoch fit, 3 hidden layers of {width}, MNIST-1D-sized (steps_per_execution tuned over {spe}):"
    )
    print(f"    Keras 3 on JAX {keras_jax:.2f} s, on TensorFlow {keras_tf:.2f} s; fast engine {fast:.3f} s per fit")
    print(f"    fast engine / the faster of them: {faster / fast:.1f}x")
    print(f"    {AGAINST_KERAS.verdict(keras_jax / fast)}")
    out = {"keras_jax_s": keras_jax, "keras_tf_s": keras_tf, "fast_s": fast}
    if matmul is not None:
        keras_gflops = fit_flops(width, 3, epochs) / faster / 1e9
        print(
            f"    the faster Keras run achieves {keras_gflops:.1f} GFLOP/s: no engine can be more than "
            f"{matmul / keras_gflops:.1f}x ahead of it at this machine's matmul throughput"
        )
        out["keras_gflops"] = keras_gflops
    return out
