"""What every procedure on the fast engine shares: its checked inputs, its seed chunks, and the
greedy stage's new layer, scores, record and fine-tuning.

Each greedy stage trains the same shallow network (new hidden layer + head) on the frozen
layers' precomputed output, at constant cost whatever the depth; ``tests/test_jax_engine.py``
checks this equals training the full stack with the lower layers frozen.
"""

from __future__ import annotations

import time

import jax
import numpy as np

from greedy.learning.config import (
    FINE_TUNE_WHEN,
    TrainConfig,
    check_choice,
    check_positive_int,
    check_seeds,
    fine_tunes_after,
)
from greedy.learning.data import Dataset
from greedy.learning.jax_engine import scores
from greedy.learning.jax_engine.fit import train
from greedy.learning.jax_engine.keys import KeyPurpose, purpose_keys
from greedy.learning.jax_engine.network import Params, correct_counts, init_batch, linear_batch
from greedy.learning.jax_engine.seeds import Data, StageLog, check_data, seed_chunks
from greedy.learning.records import Trained, fine_tuned_name


def check_run_inputs(
    config: TrainConfig, seeds: object, fine_tune: str, chunk_size: int, data: object, keep_networks: object
) -> tuple[list[int], Dataset]:
    """Every input of a procedure checked before any work: the seed list and a representative data set."""
    check_choice("fine_tune", fine_tune, FINE_TUNE_WHEN)
    check_positive_int("chunk_size", chunk_size)
    if not isinstance(config, TrainConfig):
        raise ValueError(f"config must be a greedy.TrainConfig, got {type(config).__name__}")
    if not isinstance(keep_networks, bool):
        raise ValueError(f"keep_networks must be True or False, got {keep_networks!r}")
    seed_list = check_seeds(seeds)
    return seed_list, check_data(data, len(seed_list))


def fit_settings(config: TrainConfig, loss: str, epochs: int | None = None, learning_rate: float | None = None) -> dict:
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


def run_chunks(chunk_procedure, data: Data, seeds: list[int], chunk_size: int, keep_networks: bool, config, **kw):
    """``chunk_procedure`` on each chunk of seeds in turn; every chunk's records and kept networks."""
    logs = []
    for chunk in seed_chunks(seeds, chunk_size, data):
        logs.append(StageLog(chunk, config, keep_networks))
        chunk_procedure(chunk, logs[-1], config, **kw)
    return Trained.join(Trained(log.records, log.networks) for log in logs)


def new_layer(keys: jax.Array, stage: int, n_features: int, config: TrainConfig):
    """A greedy stage's new hidden layer (one per seed) and the keys of its fit's shuffling."""
    fan_in = n_features if stage == 0 else config.width
    new = init_batch(purpose_keys(keys, stage, KeyPurpose.NEW_LAYER_INIT), fan_in, config.width, config.initializer)
    return new, purpose_keys(keys, stage, KeyPurpose.FIT)


def small_splits(splits: dict) -> dict:
    """The splits whose frozen features a greedy stack carries from stage to stage: all but the population."""
    return {name: x for name, (x, _) in splits.items() if name != "population"}


def stage_accuracies(network: Params, features: dict, splits: dict, activation: str) -> dict:
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


def _fine_tune(log: StageLog, network: Params, config: TrainConfig, method: str, stage: int) -> None:
    """Train every weight of a copy of the stack; record (and keep, if asked) it as ``METHOD+fine_tune``."""
    chunk, start = log.chunk, time.perf_counter()
    a = chunk.arrays
    tuned, losses = train(
        network,
        a.x_train,
        a.y_train_hot,
        purpose_keys(chunk.keys, stage, KeyPurpose.FINE_TUNE_FIT),
        **fit_settings(config, "ce", config.fine_tune_epochs, config.fine_tune_learning_rate),
    )
    accuracies = scores.network_accuracies(tuned, a.scored_splits(), config.activation)
    diverged = scores.divergence(losses, tuned)
    log.keep(fine_tuned_name(method), stage + 2, tuned)
    log.add(
        fine_tuned_name(method), stage + 2, time.perf_counter() - start, losses, diverged, accuracies, stops_seeds=False
    )


def finish_stage(
    log: StageLog,
    config: TrainConfig,
    fine_tune: str,
    method: str,
    stage: int,
    start: float,
    losses: np.ndarray,
    diverged: list,
    stage_scores: dict,
    network: Params,
) -> None:
    """Keep a greedy stage's classifier ``network`` if asked, record the stage, fine-tune it if asked."""
    log.keep(method, stage + 2, network)
    log.add(method, stage + 2, time.perf_counter() - start, losses, diverged, stage_scores, stops_seeds=True)
    if fine_tunes_after(fine_tune, stage, config):
        _fine_tune(log, network, config, method, stage)
