"""Supervised greedy pretraining on the fast engine: each stage a new hidden layer trained with the output layer."""

from __future__ import annotations

import time
from collections.abc import Sequence

from greedy.learning.config import TrainConfig
from greedy.learning.data import Dataset
from greedy.learning.jax_engine import scores
from greedy.learning.jax_engine.fit import train
from greedy.learning.jax_engine.keys import KeyPurpose, purpose_keys
from greedy.learning.jax_engine.network import Params, features_batch, init_batch
from greedy.learning.jax_engine.runs import (
    check_run_inputs,
    finish_stage,
    fit_settings,
    new_layer,
    run_chunks,
    small_splits,
    stage_accuracies,
)
from greedy.learning.jax_engine.seeds import DEFAULT_CHUNK, Data, SeedChunk, StageLog
from greedy.learning.records import Trained

METHOD = "supervised_greedy"


def _supervised_chunk(chunk: SeedChunk, log: StageLog, config: TrainConfig, *, shape: Dataset, fine_tune: str) -> None:
    keys, a = chunk.keys, chunk.arrays
    hidden: Params = []
    head = init_batch(purpose_keys(keys, 0, KeyPurpose.HEAD_INIT), config.width, shape.n_classes, "glorot_uniform")
    splits = a.scored_splits()
    features = small_splits(splits)
    for stage in range(config.n_added_layers + 1):
        if not any(log.alive):
            break
        start = time.perf_counter()
        new, fit_keys = new_layer(keys, stage, shape.n_features, config)
        (new, head), losses = train(
            [new, head], features["train"], a.y_train_hot, fit_keys, **fit_settings(config, "ce")
        )
        hidden.append(new)
        features = {name: features_batch([new], f, config.activation) for name, f in features.items()}
        stage_scores = stage_accuracies([*hidden, head], features, splits, config.activation)
        diverged = scores.divergence(losses, [new, head])
        finish_stage(log, config, fine_tune, METHOD, stage, start, losses, diverged, stage_scores, [*hidden, head])


def supervised_greedy(
    data: Data,
    config: TrainConfig = TrainConfig(),
    seeds: Sequence[int] = (0,),
    *,
    fine_tune: str = "none",
    chunk_size: int = DEFAULT_CHUNK,
    keep_networks: bool = False,
) -> Trained:
    """Supervised greedy pretraining for many seeds; see ``greedy.learning.keras_engine.supervised_greedy``.

    Takes one ``Dataset`` for all seeds, or one per seed of equal shapes (each seed trains on its
    own). Returns the records and, with ``keep_networks``, every stage's network and every
    fine-tuned one (``Trained.networks``).
    """
    seed_list, shape = check_run_inputs(config, seeds, fine_tune, chunk_size, data, keep_networks)
    return run_chunks(
        _supervised_chunk, data, seed_list, chunk_size, keep_networks, config, shape=shape, fine_tune=fine_tune
    )
