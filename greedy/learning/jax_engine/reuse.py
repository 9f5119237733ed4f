"""A reuse cache of unsupervised greedy stages: a stage learned once serves every run that asks for it again."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from greedy.learning.config import TrainConfig
from greedy.learning.jax_engine.seeds import SeedChunk

# Settings no unsupervised stage reads: the probe head's and fine-tuning's, and how many stages follow.
# Runs that differ only in these learn identical stages, so they share them (a stack tuned over
# fine-tuning rates, or fine-tuned at several label counts, learns each stage once).
NOT_READ_BY_STAGES = ("head_epochs", "fine_tune_learning_rate", "fine_tune_epochs", "n_added_layers")


@dataclass(frozen=True)
class LearnedLayer:
    """What an unsupervised stage learned: the new hidden layer (one per seed), its fit's losses and
    divergence, how to score its reconstruction, and the decoder a later stage may carry on."""

    layer: tuple
    losses: np.ndarray
    diverged: list
    reconstruct: Callable
    decoder: tuple | None = None


class PretrainedStages:
    """Unsupervised stages already learned, each kept under what it depends on: the method, the settings
    a stage reads (not ``NOT_READ_BY_STAGES``) and its options, the seeds and the exact pretraining
    inputs, and the stage's index.

    The labels play no part in an unsupervised stage, so stacks probed and fine-tuned with different
    labeled subsets (``with_labeled_per_class`` keeps the pretraining rows' order) learn each stage
    once when they share one cache. A copy sent to another process (a Dask worker) starts empty: the
    results are the same, only the reuse stays in the process that learned the stages.
    """

    def __init__(self) -> None:
        self._stages: dict[tuple, LearnedLayer] = {}

    def __len__(self) -> int:
        return len(self._stages)

    def __getstate__(self) -> dict:
        return {}

    def __setstate__(self, state: dict) -> None:
        self._stages = {}

    @staticmethod
    def run_key(chunk: SeedChunk, config: TrainConfig, method: str, learn_layer: Callable) -> tuple:
        """What a chunk's unsupervised stages depend on, but for the stage's index."""
        x = np.asarray(chunk.arrays.x_pretrain)
        digest = hashlib.blake2b(x.tobytes(), digest_size=16).hexdigest()
        options = repr(getattr(learn_layer, "keywords", None))
        read = repr(sorted((name, value) for name, value in vars(config).items() if name not in NOT_READ_BY_STAGES))
        return (method, read, options, tuple(chunk.seeds), x.shape, str(x.dtype), digest)

    def learned(self, run_key: tuple, stage: int, learn: Callable[[], LearnedLayer]) -> LearnedLayer:
        """The stage learned before under this run's key, or ``learn()`` now and kept."""
        key = (*run_key, stage)
        if key not in self._stages:
            self._stages[key] = learn()
        return self._stages[key]
