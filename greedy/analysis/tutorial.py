"""The tutorial's supervised listing as written, run on Keras 3, instrumented to show what it trains.

The listing pops the output layer, sets ``trainable=False`` on the rest, adds a hidden layer and
the old output layer, then calls ``fit()`` without ``compile()``. This module runs exactly that
and measures, per stage, how much the frozen first layer and the new layer moved, and what
``evaluate()`` reports against a fresh forward pass through every current layer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from greedy.learning import keras_engine
from greedy.learning.backend import current_backend, seed_everything
from greedy.learning.config import TrainConfig
from greedy.learning.data import Dataset
from greedy.learning.mlp import accuracy


def _max_change(before: list[np.ndarray], after: list[np.ndarray]) -> float:
    return float(max(np.max(np.abs(a - b)) for a, b in zip(before, after, strict=True)))


def _scored_base_model(data: Dataset, config: TrainConfig):
    """The tutorial's base model (one hidden layer), trained and scored as the tutorial does."""
    import keras

    y_train, y_test = data.one_hot(data.y_train), data.one_hot(data.y_test)
    model = keras.Sequential(
        [
            keras.Input((data.n_features,)),
            keras_engine.hidden_layer(config),
            keras.layers.Dense(data.n_classes, activation="softmax"),
        ]
    )
    keras_engine.compile_model(model, "categorical_crossentropy", config.learning_rate, config)
    model.fit(data.x_train, y_train, epochs=config.epochs, batch_size=config.batch_size, verbose=0)
    # The tutorial scores the base model before adding layers; this builds the evaluate function
    # that Keras then reuses, without recompiling, for every deeper model.
    model.evaluate(data.x_train, y_train, verbose=0)
    model.evaluate(data.x_test, y_test, verbose=0)
    return model


def without_recompile(
    data: Dataset, seed: int = 1, n_added_layers: int = 2, config: TrainConfig = TrainConfig()
) -> pd.DataFrame:
    """The tutorial's procedure verbatim (no compile after changing the stack), one row per added layer.

    On TensorFlow this runs silently; on JAX and torch Keras raises, which is reported as ``error``.
    """
    seed_everything(seed)
    y_train, y_test = data.one_hot(data.y_train), data.one_hot(data.y_test)
    model = _scored_base_model(data, config)
    rows = []
    for _ in range(n_added_layers):
        output_layer = model.layers[-1]
        model.pop()
        for layer in model.layers:
            layer.trainable = False
        new = keras_engine.hidden_layer(config)
        model.add(new)
        model.add(output_layer)
        first_before = [np.array(w) for w in model.layers[0].get_weights()]
        new_before = [np.array(w) for w in new.get_weights()]
        row: dict[str, object] = {"backend": current_backend(), "depth": len(model.layers)}
        try:
            model.fit(data.x_train, y_train, epochs=config.epochs, batch_size=config.batch_size, verbose=0)
        except Exception as err:  # Keras refuses on JAX/torch; that is the finding to report
            row["error"] = f"{type(err).__name__}: {str(err).splitlines()[0][:120]}"
            rows.append(row)
            break
        layers = keras_engine.to_layers(model)
        row.update(
            frozen_first_layer_change=_max_change(first_before, model.layers[0].get_weights()),
            new_layer_change=_max_change(new_before, new.get_weights()),
            evaluate_train=float(model.evaluate(data.x_train, y_train, verbose=0)[1]),
            evaluate_test=float(model.evaluate(data.x_test, y_test, verbose=0)[1]),
            forward_train=accuracy(layers, data.x_train, data.y_train),
            forward_test=accuracy(layers, data.x_test, data.y_test),
            error="",
        )
        rows.append(row)
    return pd.DataFrame(rows)


def with_library(
    data: Dataset, seed: int = 1, n_added_layers: int = 2, config: TrainConfig = TrainConfig()
) -> pd.DataFrame:
    """The same measurements for ``greedy.learning.keras_engine.supervised_greedy`` (recompiles every stage)."""
    rows: list[dict[str, object]] = []

    def observe(depth: int, before: list[list[np.ndarray]], model) -> None:
        layers = keras_engine.to_layers(model)
        y_train, y_test = data.one_hot(data.y_train), data.one_hot(data.y_test)
        rows.append(
            {
                "backend": current_backend(),
                "depth": depth,
                "frozen_first_layer_change": _max_change(before[0], model.layers[0].get_weights()),
                "new_layer_change": _max_change(before[-2], model.layers[-2].get_weights()),
                "evaluate_train": float(model.evaluate(data.x_train, y_train, verbose=0)[1]),
                "evaluate_test": float(model.evaluate(data.x_test, y_test, verbose=0)[1]),
                "forward_train": accuracy(layers, data.x_train, data.y_train),
                "forward_test": accuracy(layers, data.x_test, data.y_test),
                "error": "",
            }
        )

    keras_engine.supervised_greedy(data, config.with_(n_added_layers=n_added_layers), seed, on_stage=observe)
    return pd.DataFrame(rows[1:])  # the base model has no frozen layer


def print_like_tutorial(df: pd.DataFrame, value: str = "accuracy") -> None:
    """Print one line per depth as the tutorial does: ``> layers=3, train=0.826, test=0.830``."""
    for row in df.itertuples():
        train, test = getattr(row, f"train_{value}"), getattr(row, f"test_{value}")
        print(f"> layers={row.depth}, train={train:.3f}, test={test:.3f}")


def on_backend(backend: str, data_kwargs: dict | None = None, **kwargs: object) -> pd.DataFrame:
    """``without_recompile`` run in a fresh process on another Keras backend (one backend per process)."""
    import json
    import os
    import subprocess
    import sys

    from greedy.learning.backend import BACKENDS
    from greedy.learning.config import check_choice

    check_choice("backend", backend, BACKENDS)
    payload = json.dumps({"data": data_kwargs or {}, "kwargs": kwargs})
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run(
        [sys.executable, "-m", "greedy.analysis.tutorial", payload],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"the tutorial listing on {backend} failed:\n{out.stderr[-2000:]}")
    return pd.DataFrame(json.loads(out.stdout.strip().splitlines()[-1]))


if __name__ == "__main__":
    import json
    import sys

    from greedy.learning.data import blobs

    args = json.loads(sys.argv[1])
    cfg = TrainConfig(**args["kwargs"].pop("config", {}))
    frame = without_recompile(blobs(**args["data"]), config=cfg, **args["kwargs"])
    print(frame.to_json(orient="records"))
