"""The baseline on the fast engine: each depth's network from random initialization, all weights trained together."""

from __future__ import annotations

import time
from collections.abc import Sequence

import jax
import jax.numpy as jnp

from greedy.learning.config import TrainConfig, check_choice
from greedy.learning.data import Dataset
from greedy.learning.jax_engine import scores
from greedy.learning.jax_engine.fit import train
from greedy.learning.jax_engine.keys import KeyPurpose, purpose_keys
from greedy.learning.jax_engine.network import ARCHITECTURES, Params, init_batch
from greedy.learning.jax_engine.runs import check_run_inputs, fit_settings, run_chunks
from greedy.learning.jax_engine.seeds import DEFAULT_CHUNK, Data, SeedChunk, StageLog
from greedy.learning.records import Trained
from greedy.learning.stages import check_depths


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


def method_name(architecture: str) -> str:
    """The record method of an end-to-end network of this architecture."""
    return "end_to_end" if architecture == "plain" else f"end_to_end+{architecture}"


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
    method = method_name(architecture)
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
            **fit_settings(config, "ce"),
            architecture=architecture,
            validation=validation,
        )
        accuracies = scores.network_accuracies(params, a.scored_splits(), config.activation, architecture)
        log.keep(method, depth, params)
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
    keep_networks: bool = False,
) -> Trained:
    """Baseline: each depth's network from random init, all weights trained together.

    ``architecture``: "plain" (the tutorial's MLP), "batch_norm" (each hidden layer's
    pre-activations batch-normalized; scored with its training inputs' statistics) or
    "residual" (each hidden layer after the first adds its input to its output); the latter two
    are recorded as method ``end_to_end+ARCHITECTURE`` and cannot be kept as plain layers.
    ``early_stopping`` (plain networks; data with validation rows, see ``with_validation``) keeps
    the weights of the epoch with the lowest loss on each seed's validation rows.
    ``keep_networks``: ``Trained.networks["end_to_end"]`` holds every trained network.
    """
    seed_list, shape = check_run_inputs(config, seeds, "none", chunk_size, data, keep_networks)
    depth_list = check_depths(depths, config)
    check_choice("architecture", architecture, ARCHITECTURES)
    if not isinstance(early_stopping, bool):
        raise ValueError(f"early_stopping must be True or False, got {early_stopping!r}")
    if early_stopping and architecture != "plain":
        raise ValueError(f"early_stopping is implemented for architecture='plain', got {architecture!r}")
    if early_stopping and shape.x_validation is None:
        raise ValueError("early_stopping needs validation rows in the data: hold some out with greedy.with_validation")
    if architecture != "plain" and keep_networks:
        raise ValueError(f"kept networks are plain layers; architecture={architecture!r} networks cannot be kept")
    return run_chunks(
        _end_to_end_chunk,
        data,
        seed_list,
        chunk_size,
        keep_networks,
        config,
        shape=shape,
        depths=depth_list,
        architecture=architecture,
        early_stopping=early_stopping,
    )
