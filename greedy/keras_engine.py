"""The reference engine: greedy layer-wise pretraining with Keras 3 models, on any backend.

Unlike the tutorial, every change of the layer stack is followed by ``compile()``: Keras
caches its train/evaluate functions per compile, so freezing or adding layers without it
trains the wrong variables and scores a stale graph (see ``greedy.tutorial``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np

from greedy.backend import current_backend, seed_everything
from greedy.config import FINE_TUNE_WHEN, SMALL_UNIFORM_LIMIT, TrainConfig, check_choice, fine_tunes_after
from greedy.data import Dataset
from greedy.mlp import Layer
from greedy.records import StageRecord

# Called after each greedy stage with (depth, weights of every layer before the stage, model).
StageObserver = Callable[[int, list[list[np.ndarray]], object], None]


def _keras():
    import keras

    return keras


def _initializer(config: TrainConfig):
    keras = _keras()
    if config.initializer == "small_uniform":
        return keras.initializers.RandomUniform(-SMALL_UNIFORM_LIMIT, SMALL_UNIFORM_LIMIT)
    return config.initializer


def hidden_layer(config: TrainConfig):
    return _keras().layers.Dense(config.width, activation=config.activation, kernel_initializer=_initializer(config))


def stack(n_inputs: int, layers: list) -> object:
    """A Sequential model over existing layer objects (weights are shared, not copied)."""
    keras = _keras()
    return keras.Sequential([keras.Input((n_inputs,)), *layers])


def compile_model(model, loss: str, learning_rate: float, config: TrainConfig, steps_per_execution: int = 1) -> None:
    keras = _keras()
    opt = keras.optimizers.SGD(learning_rate=learning_rate, momentum=config.momentum)
    metrics = ["accuracy"] if loss == "categorical_crossentropy" else []
    model.compile(loss=loss, optimizer=opt, metrics=metrics, steps_per_execution=steps_per_execution)


def _divergence_monitor():
    """A callback that stops training at the first epoch whose loss is not finite, and remembers it."""
    keras = _keras()  # imported late: the backend is chosen when Keras is first imported

    class DivergenceMonitor(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.diverged_epoch: int | None = None
            self.last_loss = math.nan

        def on_epoch_end(self, epoch, logs=None):
            self.last_loss = float((logs or {}).get("loss", math.nan))
            if not math.isfinite(self.last_loss):
                self.diverged_epoch = epoch + 1
                self.model.stop_training = True

    return DivergenceMonitor()


def fit(model, x, y, epochs: int, config: TrainConfig) -> tuple[float, int | None]:
    """Train; return (final loss, epoch of divergence or None). Non-finite weights count as divergence."""
    monitor = _divergence_monitor()
    model.fit(x, y, epochs=epochs, batch_size=config.batch_size, shuffle=True, verbose=0, callbacks=[monitor])
    diverged = monitor.diverged_epoch
    if diverged is None and not all(np.all(np.isfinite(w)) for w in model.get_weights()):
        diverged = epochs
    return monitor.last_loss, diverged


def to_layers(model) -> list[Layer]:
    """The model's Dense layers as NumPy ``Layer``s."""
    out = []
    for layer in model.layers:
        kernel, bias = (np.asarray(w) for w in layer.get_weights())
        out.append(Layer(kernel, bias, layer.get_config()["activation"]))
    return out


def _accuracy(model, x, y_onehot) -> float:
    return float(model.evaluate(x, y_onehot, verbose=0, return_dict=True)["accuracy"])


def _mse(model, x) -> float:
    return float(model.evaluate(x, x, verbose=0, return_dict=True)["loss"])


class _Recorder:
    def __init__(self, data: Dataset, seed: int) -> None:
        self.data, self.seed, self.backend = data, seed, current_backend()
        self.records: list[StageRecord] = []

    def add(self, method: str, depth: int, start: float, loss: float, diverged: int | None, **scores) -> bool:
        """Append a record; True when the stage diverged (and so carries no scores)."""
        if diverged is not None:
            scores = {}
        self.records.append(
            StageRecord(
                method=method,
                depth=depth,
                seed=self.seed,
                train_accuracy=scores.pop("train_accuracy", math.nan),
                test_accuracy=scores.pop("test_accuracy", math.nan),
                final_loss=loss,
                wall_seconds=time.perf_counter() - start,
                backend=self.backend,
                engine="keras",
                status="ok" if diverged is None else "diverged",
                diverged_epoch=diverged,
                dataset=self.data.name,
                **scores,
            )
        )
        return diverged is not None


def _fine_tune(layers, data: Dataset, config: TrainConfig, x_train, y_train) -> tuple[object, float, int | None]:
    """Copy the stack, unfreeze every layer and train all weights together."""
    copies = []
    for layer in layers:
        clone = layer.__class__.from_config(layer.get_config())
        clone.build((None, layer.get_weights()[0].shape[0]))
        clone.set_weights(layer.get_weights())
        clone.trainable = True
        copies.append(clone)
    model = stack(data.n_features, copies)
    compile_model(model, "categorical_crossentropy", config.fine_tune_learning_rate, config)
    loss, diverged = fit(model, x_train, y_train, config.fine_tune_epochs, config)
    return model, loss, diverged


def _record_fine_tuned(rec: _Recorder, method: str, depth: int, layers, data: Dataset, config: TrainConfig) -> None:
    """Fine-tune a copy of a greedy stack and record it as ``METHOD+fine_tune``."""
    start = time.perf_counter()
    y_train, y_test = data.one_hot(data.y_train), data.one_hot(data.y_test)
    tuned, loss, diverged = _fine_tune(layers, data, config, data.x_train, y_train)
    scores = {}
    if diverged is None:
        scores = dict(
            train_accuracy=_accuracy(tuned, data.x_train, y_train),
            test_accuracy=_accuracy(tuned, data.x_test, y_test),
        )
    rec.add(f"{method}+fine_tune", depth, start, loss, diverged, **scores)


def _check_fine_tune(fine_tune: str) -> None:
    check_choice("fine_tune", fine_tune, FINE_TUNE_WHEN)


def supervised_greedy(
    data: Dataset,
    config: TrainConfig = TrainConfig(),
    seed: int = 0,
    *,
    fine_tune: str = "none",
    on_stage: StageObserver | None = None,
) -> list[StageRecord]:
    """Base MLP, then add hidden layers one at a time; earlier ones frozen, new layer + head retrained."""
    _check_fine_tune(fine_tune)
    seed_everything(seed)
    keras = _keras()
    y_train, y_test = data.one_hot(data.y_train), data.one_hot(data.y_test)
    hidden = [hidden_layer(config)]
    head = keras.layers.Dense(data.n_classes, activation="softmax")
    rec = _Recorder(data, seed)
    for stage in range(config.n_added_layers + 1):
        start = time.perf_counter()
        if stage > 0:
            for layer in hidden:
                layer.trainable = False
            hidden.append(hidden_layer(config))
        model = stack(data.n_features, [*hidden, head])
        compile_model(model, "categorical_crossentropy", config.learning_rate, config)
        before = [[np.array(w) for w in layer.get_weights()] for layer in model.layers]
        loss, diverged = fit(model, data.x_train, y_train, config.epochs, config)
        depth = len(model.layers)
        scores = {}
        if diverged is None:
            scores = dict(
                train_accuracy=_accuracy(model, data.x_train, y_train),
                test_accuracy=_accuracy(model, data.x_test, y_test),
            )
        if rec.add("supervised_greedy", depth, start, loss, diverged, **scores):
            break
        if on_stage is not None:
            on_stage(depth, before, model)
        if fine_tunes_after(fine_tune, stage, config):
            _record_fine_tuned(rec, "supervised_greedy", depth, model.layers, data, config)
    return rec.records


def autoencoder_greedy(
    data: Dataset,
    config: TrainConfig = TrainConfig(),
    seed: int = 0,
    *,
    fine_tune: str = "none",
    on_stage: StageObserver | None = None,
) -> list[StageRecord]:
    """Base autoencoder (hidden + linear reconstruction, MSE), then add hidden layers one at a time.

    After each stage the frozen encoder is scored as a classifier: a new softmax head is trained
    on the labels. Unlabeled rows (``data.x_unlabeled``) are used for the reconstruction.
    """
    _check_fine_tune(fine_tune)
    seed_everything(seed)
    keras = _keras()
    y_train, y_test = data.one_hot(data.y_train), data.one_hot(data.y_test)
    x_pre = data.x_pretrain
    hidden = [hidden_layer(config)]
    reconstruction = keras.layers.Dense(data.n_features, activation="linear")
    rec = _Recorder(data, seed)
    for stage in range(config.n_added_layers + 1):
        start = time.perf_counter()
        if stage > 0:
            for layer in hidden:
                layer.trainable = False
            hidden.append(hidden_layer(config))
        model = stack(data.n_features, [*hidden, reconstruction])
        compile_model(model, "mse", config.learning_rate, config)
        before = [[np.array(w) for w in layer.get_weights()] for layer in model.layers]
        loss, diverged = fit(model, x_pre, x_pre, config.epochs, config)
        depth = len(model.layers)
        scores: dict[str, float] = {}
        classifier = None
        if diverged is None:
            scores = dict(train_mse=_mse(model, data.x_train), test_mse=_mse(model, data.x_test))
            for layer in hidden:
                layer.trainable = False
            classifier = stack(data.n_features, [*hidden, keras.layers.Dense(data.n_classes, activation="softmax")])
            compile_model(classifier, "categorical_crossentropy", config.learning_rate, config)
            _, head_diverged = fit(classifier, data.x_train, y_train, config.head_epochs, config)
            if head_diverged is None:
                scores.update(
                    train_accuracy=_accuracy(classifier, data.x_train, y_train),
                    test_accuracy=_accuracy(classifier, data.x_test, y_test),
                )
            hidden[-1].trainable = True
            diverged = head_diverged
        if rec.add("autoencoder_greedy", depth, start, loss, diverged, **scores):
            break
        if on_stage is not None:
            on_stage(depth, before, model)
        if fine_tunes_after(fine_tune, stage, config):
            _record_fine_tuned(rec, "autoencoder_greedy", depth, classifier.layers, data, config)
    return rec.records


def end_to_end(
    data: Dataset, config: TrainConfig = TrainConfig(), seed: int = 0, *, depths: list[int] | None = None
) -> list[StageRecord]:
    """Baseline: the same architecture at each depth from random init, all weights trained together."""
    depths = depths if depths is not None else list(range(2, config.n_added_layers + 3))
    for d in depths:
        if isinstance(d, bool) or not isinstance(d, int) or d < 2:
            raise ValueError(f"depths must be integers >= 2 (Dense layers incl. the output), got {d!r}")
    keras = _keras()
    y_train, y_test = data.one_hot(data.y_train), data.one_hot(data.y_test)
    rec = _Recorder(data, seed)
    for depth in depths:
        seed_everything(seed)
        start = time.perf_counter()
        layers = [hidden_layer(config) for _ in range(depth - 1)]
        model = stack(data.n_features, [*layers, keras.layers.Dense(data.n_classes, activation="softmax")])
        compile_model(model, "categorical_crossentropy", config.learning_rate, config)
        loss, diverged = fit(model, data.x_train, y_train, config.epochs, config)
        scores = {}
        if diverged is None:
            scores = dict(
                train_accuracy=_accuracy(model, data.x_train, y_train),
                test_accuracy=_accuracy(model, data.x_test, y_test),
            )
        rec.add("end_to_end", depth, start, loss, diverged, **scores)
    return rec.records
