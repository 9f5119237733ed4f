"""The reference engine: greedy layer-wise pretraining with Keras 3 models, on any backend.

Unlike the tutorial, every change of the layer stack is followed by ``compile()``: Keras
caches its train/evaluate functions per compile, so freezing or adding layers without it
trains the wrong variables and scores a stale graph (see ``greedy.analysis.tutorial``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np

from greedy.learning.backend import current_backend, seed_everything
from greedy.learning.config import FINE_TUNE_WHEN, SMALL_UNIFORM_LIMIT, TrainConfig, check_choice, fine_tunes_after
from greedy.learning.data import Dataset
from greedy.learning.mlp import Layer
from greedy.learning.records import StageRecord, fine_tuned_name
from greedy.learning.stages import check_depths, stage_record

# Called after each greedy stage with (depth, weights of every layer before the stage, model).
StageObserver = Callable[[int, list[list[np.ndarray]], object], None]


def _keras():
    import keras

    return keras


def _initializer(config: TrainConfig):
    keras = _keras()
    if config.initializer == "small_uniform":
        return keras.initializers.RandomUniform(-SMALL_UNIFORM_LIMIT, SMALL_UNIFORM_LIMIT)
    if config.initializer == "standard_uniform":  # limit sqrt(3 * scale / fan_in) = 1 / sqrt(fan_in)
        return keras.initializers.VarianceScaling(scale=1 / 3, mode="fan_in", distribution="uniform")
    return config.initializer


def hidden_layer(config: TrainConfig):
    return _keras().layers.Dense(config.width, activation=config.activation, kernel_initializer=_initializer(config))


def stack(n_inputs: int, layers: list) -> object:
    """A Sequential model over existing layer objects (weights are shared, not copied)."""
    keras = _keras()
    return keras.Sequential([keras.Input((n_inputs,)), *layers])


def compile_model(model, loss: str, learning_rate: float, config: TrainConfig) -> None:
    keras = _keras()
    if config.optimizer == "adam":
        opt = keras.optimizers.Adam(learning_rate=learning_rate)
    else:
        opt = keras.optimizers.SGD(learning_rate=learning_rate, momentum=config.momentum)
    metrics = ["accuracy"] if loss == "categorical_crossentropy" else []
    model.compile(loss=loss, optimizer=opt, metrics=metrics)


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
    def __init__(self, data: Dataset, seed: int, config: TrainConfig) -> None:
        self.data, self.seed, self.config, self.backend = data, seed, config, current_backend()
        self.records: list[StageRecord] = []

    def add(self, method: str, depth: int, start: float, loss: float, diverged: int | None, **scores) -> bool:
        """Append a record; True when the stage diverged (and so carries no scores)."""
        self.records.append(
            stage_record(
                method=method,
                depth=depth,
                seed=self.seed,
                final_loss=loss,
                seconds=time.perf_counter() - start,
                backend=self.backend,
                engine="keras",
                dataset=self.data.name,
                diverged_epoch=diverged,
                scores=scores,
                config=self.config,
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


def _classifier_scores(model, data: Dataset, diverged: int | None) -> dict[str, float]:
    """Train and test accuracy of a classifier, or nothing when its training diverged."""
    if diverged is not None:
        return {}
    return dict(
        train_accuracy=_accuracy(model, data.x_train, data.one_hot(data.y_train)),
        test_accuracy=_accuracy(model, data.x_test, data.one_hot(data.y_test)),
    )


def _record_fine_tuned(rec: _Recorder, method: str, depth: int, layers, data: Dataset, config: TrainConfig) -> None:
    """Fine-tune a copy of a greedy stack and record it as ``METHOD+fine_tune``."""
    start = time.perf_counter()
    tuned, loss, diverged = _fine_tune(layers, data, config, data.x_train, data.one_hot(data.y_train))
    rec.add(fine_tuned_name(method), depth, start, loss, diverged, **_classifier_scores(tuned, data, diverged))


def _train_stage(hidden: list, top, stage: int, data: Dataset, config: TrainConfig, loss_name: str, x, y):
    """One greedy stage: after the first, freeze the stack and add a hidden layer; compile, train.

    Returns the model, every layer's weights before training, the final loss and the divergence.
    """
    if stage > 0:
        for layer in hidden:
            layer.trainable = False
        hidden.append(hidden_layer(config))
    model = stack(data.n_features, [*hidden, top])
    compile_model(model, loss_name, config.learning_rate, config)
    before = [[np.array(w) for w in layer.get_weights()] for layer in model.layers]
    loss, diverged = fit(model, x, y, config.epochs, config)
    return model, before, loss, diverged


def _refuse_fast_engine_options(config: TrainConfig) -> None:
    """The settings only the fast engine implements, refused before any work."""
    fast_only = {
        "corruption": "none",
        "revive_dead_units": False,
        "reconstruction_target": "raw_input",
        "tied_weights": False,
        "weight_decay": 0.0,
    }
    for name, default in fast_only.items():
        if getattr(config, name) != default:
            raise ValueError(
                f"{name}={getattr(config, name)!r} is an option of the fast engine (engine='jax'); "
                f"the Keras engine takes only {name}={default!r}"
            )


def supervised_greedy(
    data: Dataset,
    config: TrainConfig = TrainConfig(),
    seed: int = 0,
    *,
    fine_tune: str = "none",
    on_stage: StageObserver | None = None,
) -> list[StageRecord]:
    """Base MLP, then add hidden layers one at a time; earlier ones frozen, new layer + head retrained."""
    check_choice("fine_tune", fine_tune, FINE_TUNE_WHEN)
    _refuse_fast_engine_options(config)
    seed_everything(seed)
    keras = _keras()
    y_train = data.one_hot(data.y_train)
    hidden = [hidden_layer(config)]
    head = keras.layers.Dense(data.n_classes, activation="softmax")
    rec = _Recorder(data, seed, config)
    for stage in range(config.n_added_layers + 1):
        start = time.perf_counter()
        model, before, loss, diverged = _train_stage(
            hidden, head, stage, data, config, "categorical_crossentropy", data.x_train, y_train
        )
        depth = len(model.layers)
        if rec.add("supervised_greedy", depth, start, loss, diverged, **_classifier_scores(model, data, diverged)):
            break
        if on_stage is not None:
            on_stage(depth, before, model)
        if fine_tunes_after(fine_tune, stage, config):
            _record_fine_tuned(rec, "supervised_greedy", depth, model.layers, data, config)
    return rec.records


def _probe(hidden: list, data: Dataset, config: TrainConfig):
    """A frozen encoder as a classifier: a new softmax head trained on the labels (the encoder stays frozen)."""
    keras = _keras()
    for layer in hidden:
        layer.trainable = False
    classifier = stack(data.n_features, [*hidden, keras.layers.Dense(data.n_classes, activation="softmax")])
    compile_model(classifier, "categorical_crossentropy", config.learning_rate, config)
    _, diverged = fit(classifier, data.x_train, data.one_hot(data.y_train), config.head_epochs, config)
    return classifier, diverged


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
    check_choice("fine_tune", fine_tune, FINE_TUNE_WHEN)
    _refuse_fast_engine_options(config)
    seed_everything(seed)
    keras = _keras()
    x_pre = data.x_pretrain
    hidden = [hidden_layer(config)]
    reconstruction = keras.layers.Dense(data.n_features, activation="linear")
    rec = _Recorder(data, seed, config)
    for stage in range(config.n_added_layers + 1):
        start = time.perf_counter()
        model, before, loss, diverged = _train_stage(hidden, reconstruction, stage, data, config, "mse", x_pre, x_pre)
        depth = len(model.layers)
        scores: dict[str, float] = {}
        classifier = None
        if diverged is None:
            scores = dict(train_mse=_mse(model, data.x_train), test_mse=_mse(model, data.x_test))
            classifier, diverged = _probe(hidden, data, config)
            scores.update(_classifier_scores(classifier, data, diverged))
            hidden[-1].trainable = True  # as it was before scoring: the next stage freezes it again
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
    depths = check_depths(depths, config)
    _refuse_fast_engine_options(config)
    keras = _keras()
    y_train = data.one_hot(data.y_train)
    rec = _Recorder(data, seed, config)
    for depth in depths:
        seed_everything(seed)
        start = time.perf_counter()
        layers = [hidden_layer(config) for _ in range(depth - 1)]
        model = stack(data.n_features, [*layers, keras.layers.Dense(data.n_classes, activation="softmax")])
        compile_model(model, "categorical_crossentropy", config.learning_rate, config)
        loss, diverged = fit(model, data.x_train, y_train, config.epochs, config)
        rec.add("end_to_end", depth, start, loss, diverged, **_classifier_scores(model, data, diverged))
    return rec.records


# Every procedure by its method name (``greedy.learning.config.KERAS_METHODS``).
PROCEDURES = {
    "supervised_greedy": supervised_greedy,
    "autoencoder_greedy": autoencoder_greedy,
    "end_to_end": end_to_end,
}
