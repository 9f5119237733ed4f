"""The procedures on the fast engine: supervised, autoencoder and RBM greedy pretraining, end to end.

Each greedy stage trains the same shallow network (new hidden layer + head) on the frozen
layers' precomputed output, at constant cost whatever the depth; ``tests/test_jax_engine.py``
checks this equals training the full stack with the lower layers frozen. Every procedure takes
one ``Dataset`` for all seeds, or one per seed of equal shapes (each seed its own labeled subset,
say): each seed trains on its own data.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from greedy.learning.config import (
    FINE_TUNE_WHEN,
    VISIBLE_UNITS,
    TrainConfig,
    check_choice,
    check_positive_int,
    check_seeds,
    fine_tunes_after,
)
from greedy.learning.data import Dataset, one_per_seed
from greedy.learning.jax_engine import rbm, scores
from greedy.learning.jax_engine.fit import (
    ARCHITECTURES,
    TIED_AUTOENCODER,
    KeyPurpose,
    Params,
    correct_counts,
    features_batch,
    init_batch,
    linear_batch,
    purpose_keys,
    train,
)
from greedy.learning.jax_engine.seeds import DEFAULT_CHUNK, Data, Networks, SeedChunk, StageLog, check_data, seed_chunks
from greedy.learning.records import StageRecord
from greedy.learning.stages import check_depths


def _check_run_inputs(
    config: TrainConfig, seeds: object, fine_tune: str, chunk_size: int, data: object
) -> tuple[list[int], Dataset]:
    """Every input of a procedure checked before any work: the seed list and a representative data set."""
    check_choice("fine_tune", fine_tune, FINE_TUNE_WHEN)
    check_positive_int("chunk_size", chunk_size)
    if not isinstance(config, TrainConfig):
        raise ValueError(f"config must be a greedy.TrainConfig, got {type(config).__name__}")
    seed_list = check_seeds(seeds)
    return seed_list, check_data(data, len(seed_list))


def _fit(config: TrainConfig, loss: str, epochs: int | None = None, learning_rate: float | None = None) -> dict:
    """The keyword arguments of ``train`` for a fit with this config's settings."""
    return dict(
        activation=config.activation,
        loss=loss,
        learning_rate=config.learning_rate if learning_rate is None else learning_rate,
        momentum=config.momentum,
        optimizer=config.optimizer,
        epochs=config.epochs if epochs is None else epochs,
        batch_size=config.batch_size,
        weight_decay=config.weight_decay,
    )


def _fine_tune(log: StageLog, network: Params, config: TrainConfig, method: str, stage: int) -> None:
    """Train every weight of a copy of the stack and record it as ``METHOD+fine_tune``."""
    chunk, start = log.chunk, time.perf_counter()
    a = chunk.arrays
    tuned, losses = train(
        network,
        a.x_train,
        a.y_train_hot,
        purpose_keys(chunk.keys, stage, KeyPurpose.FINE_TUNE_FIT),
        **_fit(config, "ce", config.fine_tune_epochs, config.fine_tune_learning_rate),
    )
    accuracies = scores.network_accuracies(tuned, a.scored_splits(), config.activation)
    diverged = scores.divergence(losses, tuned)
    log.add(
        f"{method}+fine_tune", stage + 2, time.perf_counter() - start, losses, diverged, accuracies, stops_seeds=False
    )


def _finish_stage(log, config, fine_tune, method, stage, start, losses, diverged, stage_scores, network) -> None:
    """Keep a greedy stage's classifier ``network``, record the stage, fine-tune if asked."""
    log.keep(stage + 2, network)
    log.add(method, stage + 2, time.perf_counter() - start, losses, diverged, stage_scores, stops_seeds=True)
    if fine_tunes_after(fine_tune, stage, config):
        _fine_tune(log, network, config, method, stage)


def _run_chunks(chunk_procedure, data: Data, seeds: list[int], chunk_size: int, keep_layers, config, **kw):
    records: list[StageRecord] = []
    for chunk in seed_chunks(seeds, chunk_size, data):
        log = StageLog(chunk, config.activation, keep_layers)
        chunk_procedure(chunk, log, config, **kw)
        records.extend(log.records)
    return records


def _new_layer(keys: jax.Array, stage: int, n_features: int, config: TrainConfig):
    """A greedy stage's new hidden layer (one per seed) and the keys of its fit's shuffling."""
    fan_in = n_features if stage == 0 else config.width
    new = init_batch(purpose_keys(keys, stage, KeyPurpose.NEW_LAYER_INIT), fan_in, config.width, config.initializer)
    return new, purpose_keys(keys, stage, KeyPurpose.FIT)


def _small_splits(splits: dict) -> dict:
    """The splits whose frozen features a greedy stack carries from stage to stage: all but the population."""
    return {name: x for name, (x, _) in splits.items() if name != "population"}


def _stage_accuracies(network: Params, features: dict, splits: dict, activation: str) -> dict:
    """Per seed, ``{split}_accuracy`` of a greedy stage's classifier ``network`` (frozen stack + head).

    On the small splits, the head is applied to the stack's carried features; the population sample
    (hundreds of times their size) is scored by the whole stack, compiled and in row blocks, as every
    other network is: op by op, its features cost more than training the stage.
    """
    head = network[-1]
    out = {f"{name}_accuracy": scores.accuracy(linear_batch(head, f), splits[name][1]) for name, f in features.items()}
    if "population" in splits:
        x, y = splits["population"]
        out["population_accuracy"] = correct_counts(network, x, y, activation) / y.shape[-1]
    return out


def _supervised_chunk(chunk: SeedChunk, log: StageLog, config: TrainConfig, *, shape: Dataset, fine_tune: str) -> None:
    keys, a = chunk.keys, chunk.arrays
    hidden: Params = []
    head = init_batch(purpose_keys(keys, 0, KeyPurpose.HEAD_INIT), config.width, shape.n_classes, "glorot_uniform")
    splits = a.scored_splits()
    features = _small_splits(splits)
    for stage in range(config.n_added_layers + 1):
        if not any(log.alive):
            break
        start = time.perf_counter()
        new, fit_keys = _new_layer(keys, stage, shape.n_features, config)
        (new, head), losses = train([new, head], features["train"], a.y_train_hot, fit_keys, **_fit(config, "ce"))
        hidden.append(new)
        features = {name: features_batch([new], f, config.activation) for name, f in features.items()}
        stage_scores = _stage_accuracies([*hidden, head], features, splits, config.activation)
        diverged = scores.divergence(losses, [new, head])
        _finish_stage(
            log, config, fine_tune, "supervised_greedy", stage, start, losses, diverged, stage_scores, [*hidden, head]
        )


def supervised_greedy(
    data: Data,
    config: TrainConfig = TrainConfig(),
    seeds: Sequence[int] = (0,),
    *,
    fine_tune: str = "none",
    chunk_size: int = DEFAULT_CHUNK,
    keep_layers: Networks | None = None,
) -> list[StageRecord]:
    """Supervised greedy pretraining for many seeds; see ``greedy.learning.keras_engine.supervised_greedy``.

    ``keep_layers``, when given, is filled with {depth: {seed: layers}} for inspection (a seed's
    entries stop at the stage where it diverged).
    """
    seed_list, shape = _check_run_inputs(config, seeds, fine_tune, chunk_size, data)
    return _run_chunks(
        _supervised_chunk, data, seed_list, chunk_size, keep_layers, config, shape=shape, fine_tune=fine_tune
    )


def _probe_head(chunk: SeedChunk, config: TrainConfig, stage: int, n_classes: int, f_train):
    """A softmax head trained on a frozen encoder's features: the encoder scored as a classifier."""
    keys = chunk.keys
    head0 = init_batch(purpose_keys(keys, stage, KeyPurpose.PROBE_HEAD_INIT), config.width, n_classes, "glorot_uniform")
    fit_keys = purpose_keys(keys, stage, KeyPurpose.PROBE_HEAD_FIT)
    (head,), losses = train(
        [head0], f_train, chunk.arrays.y_train_hot, fit_keys, **_fit(config, "ce", config.head_epochs)
    )
    return head, losses


def _autoencoder_layer(chunk: SeedChunk, config: TrainConfig, state: dict, stage: int, n_features: int):
    """One autoencoder stage: a new hidden layer trained with a decoder to reconstruct, from the layer's
    output, the raw input or the stage's own input (``config.reconstruction_target``).

    Raw input is the tutorial's design: one reconstruction layer, carried over from stage to stage,
    reconstructs the input from the whole stack. The stage's own input (the output of the layers
    below) is the stacked autoencoder's: a fresh decoder per stage, or with ``config.tied_weights``
    the transpose of the new layer's weights plus a bias of its own.
    """
    keys, a = chunk.keys, chunk.arrays
    own_input = config.reconstruction_target == "stage_input"
    target = state["f_pre"] if own_input else a.x_pretrain
    new, fit_keys = _new_layer(keys, stage, n_features, config)
    if config.tied_weights:
        decoder = (jnp.zeros((len(keys), target.shape[-1]), jnp.float32),)
    elif own_input or stage == 0:
        decoder = init_batch(
            purpose_keys(keys, stage, KeyPurpose.HEAD_INIT), config.width, target.shape[-1], "glorot_uniform"
        )
    else:
        decoder = state["recon"]
    (new, decoder), losses = train(
        [new, decoder],
        state["f_pre"],
        target,
        fit_keys,
        **_fit(config, "mse"),
        corruption=config.corruption,
        corruption_level=config.corruption_level,
        architecture=TIED_AUTOENCODER if config.tied_weights else "plain",
    )
    decoder_layer = (jnp.swapaxes(new[0], -1, -2), decoder[0]) if config.tied_weights else decoder
    state["recon"] = decoder_layer

    def reconstruct(f_in, f_out, x):
        return scores.mse(linear_batch(decoder_layer, f_out), f_in if own_input else x)

    return new, losses, scores.divergence(losses, [new, decoder]), reconstruct


def _revive_dead_units(new, f_pre, keys: jax.Array, stage: int, config: TrainConfig):
    """The layer with each unit that is dead on the pretraining inputs ``f_pre`` (its output 0 on every
    row) replaced by a freshly initialized one: an intervention on the dead-unit explanation of collapse."""
    w, b = new
    alive = jnp.any(features_batch([new], f_pre, config.activation) != 0, axis=-2)  # (seed, unit)
    fresh_w, fresh_b = init_batch(
        purpose_keys(keys, stage, KeyPurpose.REVIVE_INIT), w.shape[-2], w.shape[-1], config.initializer
    )
    return jnp.where(alive[:, None, :], w, fresh_w), jnp.where(alive, b, fresh_b)


def _rbm_layer(chunk: SeedChunk, config: TrainConfig, state: dict, stage: int, n_features: int, *, rbm_options: dict):
    """One RBM stage: an RBM on the stack's output; its weights and hidden biases become the new layer.

    The first RBM's visible units are ``rbm_options["visible"]``; the later ones model the hidden
    probabilities below them, which are in [0, 1], with Bernoulli units.
    """
    keys = chunk.keys
    options = dict(rbm_options, visible=rbm_options["visible"] if stage == 0 else "bernoulli")
    fan_in = n_features if stage == 0 else config.width
    machine = rbm.init_rbm(purpose_keys(keys, stage, KeyPurpose.NEW_LAYER_INIT), fan_in, config.width)
    machine, errors = rbm.train_rbm(
        machine,
        state["f_pre"],
        purpose_keys(keys, stage, KeyPurpose.FIT),
        learning_rate=config.learning_rate,
        momentum=config.momentum,
        epochs=config.epochs,
        batch_size=config.batch_size,
        **options,
    )
    w, _, c = machine

    def reconstruct(f_in, f_out, x):
        return scores.mse(rbm.reconstruct_batch(machine, f_in, options["visible"]), f_in)

    return (w, c), errors, scores.divergence(errors, machine), reconstruct


def _memo_key(chunk: SeedChunk, config: TrainConfig, method: str, learn_layer) -> tuple:
    """What an unsupervised stage's result depends on: method, settings, seeds and the exact pretraining inputs."""
    x = np.asarray(chunk.arrays.x_pretrain)
    digest = hashlib.blake2b(x.tobytes(), digest_size=16).hexdigest()
    options = repr(getattr(learn_layer, "keywords", None))
    return (method, repr(config), options, tuple(chunk.seeds), x.shape, str(x.dtype), digest)


def _unsupervised_chunk(
    chunk: SeedChunk,
    log: StageLog,
    config: TrainConfig,
    *,
    shape: Dataset,
    fine_tune: str,
    method: str,
    learn_layer,
    pretrained: dict | None,
) -> None:
    """Greedy unsupervised pretraining: each stage's layer learned by ``learn_layer`` from the stack's
    output on the pretraining inputs, then scored by a softmax head trained on the frozen stack.

    ``pretrained`` (a dict, or None) keeps each stage's learned layer under ``_memo_key`` and reuses it
    when the same stage is asked for again: the labels play no part in it.
    """
    a = chunk.arrays
    memo = None if pretrained is None else _memo_key(chunk, config, method, learn_layer)
    hidden: Params = []
    splits = a.scored_splits()
    state = {"f_pre": a.x_pretrain}
    features = _small_splits(splits)
    for stage in range(config.n_added_layers + 1):
        if not any(log.alive):
            break
        start = time.perf_counter()
        key = None if memo is None else (*memo, stage)
        if key is not None and key in pretrained:
            new, losses, layer_diverged, reconstruct, carried = pretrained[key]
            state.update(carried)
        else:
            new, losses, layer_diverged, reconstruct = learn_layer(chunk, config, state, stage, shape.n_features)
            if key is not None:
                carried = {name: value for name, value in state.items() if name != "f_pre"}
                pretrained[key] = (new, losses, layer_diverged, reconstruct, carried)
        hidden.append(new)
        f_pre_in = state["f_pre"]
        state["f_pre"] = features_batch([new], f_pre_in, config.activation)
        previous, features = (
            features,
            {name: features_batch([new], f, config.activation) for name, f in features.items()},
        )
        head, head_losses = _probe_head(chunk, config, stage, shape.n_classes, features["train"])
        stage_scores = {
            **{
                f"{split}_mse": reconstruct(previous[split], features[split], x)
                for split, x in (("train", a.x_train), ("test", a.x_test))
            },
            **_stage_accuracies([*hidden, head], features, splits, config.activation),
        }
        diverged = scores.first_divergence(layer_diverged, scores.divergence(head_losses, [head]))
        _finish_stage(log, config, fine_tune, method, stage, start, losses, diverged, stage_scores, [*hidden, head])
        if config.revive_dead_units:  # the stage is scored as trained; the next one sees the revived layer
            hidden[-1] = _revive_dead_units(new, f_pre_in, chunk.keys, stage, config)
            state["f_pre"] = features_batch([hidden[-1]], f_pre_in, config.activation)
            features = {name: features_batch([hidden[-1]], f, config.activation) for name, f in previous.items()}


def _unsupervised(shape: Dataset, fine_tune: str, method: str, learn_layer, pretrained: dict | None = None):
    """A chunk procedure of unsupervised greedy pretraining whose stages ``learn_layer`` learns."""
    return partial(
        _unsupervised_chunk,
        shape=shape,
        fine_tune=fine_tune,
        method=method,
        learn_layer=learn_layer,
        pretrained=pretrained,
    )


def autoencoder_greedy(
    data: Data,
    config: TrainConfig = TrainConfig(),
    seeds: Sequence[int] = (0,),
    *,
    fine_tune: str = "none",
    chunk_size: int = DEFAULT_CHUNK,
    keep_layers: Networks | None = None,
    pretrained: dict | None = None,
) -> list[StageRecord]:
    """Autoencoder greedy pretraining for many seeds; see ``greedy.learning.keras_engine.autoencoder_greedy``.

    ``pretrained``: a dict shared between calls; each stage's trained layer is kept in it, keyed by
    the exact pretraining inputs, seeds and settings, and reused by a later call that asks for the
    same (say, the same stacks probed and fine-tuned with different labeled subsets: see
    ``with_labeled_per_class``, which keeps the pretraining rows' order).

    The fast engine's options (``config``): denoising (``corruption``), what each stage reconstructs
    (``reconstruction_target``: the raw input, as the tutorial, or the stage's own input, as stacked
    autoencoders) and ``tied_weights``; ``train_mse``/``test_mse`` are the reconstruction error of that target.

    ``keep_layers`` receives each stage's encoder + classifier head: {depth: {seed: layers}}.
    """
    seed_list, shape = _check_run_inputs(config, seeds, fine_tune, chunk_size, data)
    return _run_chunks(
        _unsupervised(shape, fine_tune, "autoencoder_greedy", _autoencoder_layer, pretrained),
        data,
        seed_list,
        chunk_size,
        keep_layers,
        config,
    )


def _check_unit_interval(data: Data, n_seeds: int) -> None:
    for d in one_per_seed(data, n_seeds):
        low, high = float(d.x_pretrain.min()), float(d.x_pretrain.max())
        if low < 0 or high > 1:
            raise ValueError(
                f"visible='bernoulli' models inputs in [0, 1], but {d.name}'s span [{low:.3g}, {high:.3g}]: "
                "scale them to [0, 1], or use visible='gaussian' on standardized inputs"
            )


def rbm_greedy(
    data: Data,
    config: TrainConfig = TrainConfig(activation="sigmoid", initializer="glorot_uniform"),
    seeds: Sequence[int] = (0,),
    *,
    visible: str = "bernoulli",
    cd_steps: int = 1,
    persistent: bool = False,
    fine_tune: str = "none",
    chunk_size: int = DEFAULT_CHUNK,
    keep_layers: Networks | None = None,
) -> list[StageRecord]:
    """RBM greedy pretraining (a deep belief network's stack, Hinton et al. 2006) for many seeds.

    Each stage trains an RBM (CD-``cd_steps``, persistent chains if ``persistent``) on the
    stack's hidden probabilities, with the config's learning rate, momentum, epochs and batch
    size, and adds its weights and hidden biases as a sigmoid layer; the stack is scored and
    fine-tuned as in ``autoencoder_greedy``. ``visible`` is the first RBM's kind of visible
    unit: "bernoulli" for inputs in [0, 1], "gaussian" for standardized inputs. Recorded as
    method ``rbm_greedy``; ``train_mse``/``test_mse`` are each stage's RBM's reconstruction error
    of its own input.
    """
    seed_list, shape = _check_run_inputs(config, seeds, fine_tune, chunk_size, data)
    check_choice("visible", visible, VISIBLE_UNITS)
    check_positive_int("cd_steps", cd_steps)
    if not isinstance(persistent, bool):
        raise ValueError(f"persistent must be True or False, got {persistent!r}")
    if config.activation != "sigmoid":
        raise ValueError(
            f"an RBM's hidden units are sigmoid: rbm_greedy needs activation='sigmoid', got {config.activation!r}"
        )
    if config.optimizer != "sgd":
        raise ValueError(
            f"RBMs train by contrastive divergence with momentum: optimizer must be 'sgd', got {config.optimizer!r}"
        )
    if visible == "bernoulli":
        _check_unit_interval(data, len(seed_list))
    learn_layer = partial(_rbm_layer, rbm_options=dict(visible=visible, cd_steps=cd_steps, persistent=persistent))
    return _run_chunks(
        _unsupervised(shape, fine_tune, "rbm_greedy", learn_layer), data, seed_list, chunk_size, keep_layers, config
    )


def initial_network(
    keys: jax.Array, n_features: int, n_outputs: int, depth: int, config: TrainConfig, architecture: str = "plain"
) -> Params:
    """A batch (one per key) of freshly initialized networks with ``depth`` Dense layers.

    With batch normalization, each hidden layer's bias is the normalization's shift (beta) and
    gains a scale (gamma), initialized to 1 as Keras does.
    """
    params: Params = []
    fan_in = n_features
    for i in range(depth - 1):
        layer_keys = purpose_keys(keys, depth, KeyPurpose.NETWORK_HIDDEN_INIT + i)
        w, b = init_batch(layer_keys, fan_in, config.width, config.initializer)
        params.append((w, b, jnp.ones_like(b)) if architecture == "batch_norm" else (w, b))
        fan_in = config.width
    params.append(
        init_batch(purpose_keys(keys, depth, KeyPurpose.NETWORK_OUTPUT_INIT), fan_in, n_outputs, "glorot_uniform")
    )
    return params


def _end_to_end_chunk(
    chunk: SeedChunk,
    log: StageLog,
    config: TrainConfig,
    *,
    shape: Dataset,
    depths: list[int],
    architecture: str,
    early_stopping: bool,
) -> None:
    keys, a = chunk.keys, chunk.arrays
    method = "end_to_end" if architecture == "plain" else f"end_to_end+{architecture}"
    validation = (a.x_validation, a.y_validation_hot) if early_stopping else None
    for depth in depths:
        start = time.perf_counter()
        params = initial_network(keys, shape.n_features, shape.n_classes, depth, config, architecture)
        fit_keys = purpose_keys(keys, depth, KeyPurpose.FIT)
        params, losses = train(
            params,
            a.x_train,
            a.y_train_hot,
            fit_keys,
            **_fit(config, "ce"),
            architecture=architecture,
            validation=validation,
        )
        accuracies = scores.network_accuracies(params, a.scored_splits(), config.activation, architecture)
        log.keep(depth, params)
        diverged = scores.divergence(losses, params)
        log.add(method, depth, time.perf_counter() - start, losses, diverged, accuracies, stops_seeds=False)


def end_to_end(
    data: Data,
    config: TrainConfig = TrainConfig(),
    seeds: Sequence[int] = (0,),
    *,
    depths: Sequence[int] | None = None,
    architecture: str = "plain",
    early_stopping: bool = False,
    chunk_size: int = DEFAULT_CHUNK,
    keep_layers: Networks | None = None,
) -> list[StageRecord]:
    """Baseline: each depth's network from random init, all weights trained together.

    ``architecture``: "plain" (the tutorial's MLP), "batch_norm" (each hidden layer's
    pre-activations batch-normalized; scored with its training inputs' statistics) or
    "residual" (each hidden layer after the first adds its input to its output); the latter two
    are recorded as method ``end_to_end+ARCHITECTURE`` and cannot be kept as plain layers.
    ``early_stopping`` (plain networks; data with validation rows, see ``with_validation``) keeps
    the weights of the epoch with the lowest loss on each seed's validation rows.
    """
    seed_list, shape = _check_run_inputs(config, seeds, "none", chunk_size, data)
    depth_list = check_depths(depths, config)
    check_choice("architecture", architecture, ARCHITECTURES)
    if not isinstance(early_stopping, bool):
        raise ValueError(f"early_stopping must be True or False, got {early_stopping!r}")
    if early_stopping and architecture != "plain":
        raise ValueError(f"early_stopping is implemented for architecture='plain', got {architecture!r}")
    if early_stopping and shape.x_validation is None:
        raise ValueError("early_stopping needs validation rows in the data: hold some out with greedy.with_validation")
    if architecture != "plain" and keep_layers is not None:
        raise ValueError(f"keep_layers holds plain layers; architecture={architecture!r} networks cannot be kept")
    return _run_chunks(
        _end_to_end_chunk,
        data,
        seed_list,
        chunk_size,
        keep_layers,
        config,
        shape=shape,
        depths=depth_list,
        architecture=architecture,
        early_stopping=early_stopping,
    )
