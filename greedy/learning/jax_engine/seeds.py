"""Seed-chunk bookkeeping: which seeds train together, on which arrays, and what each stage recorded.

Seeds run in chunks of a fixed size (the last one padded with copies of its last seed, whose
results are dropped), so a seed's numbers do not depend on which other seeds share its run: a
sharded run reproduces the serial one exactly.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from greedy.learning.config import TrainConfig
from greedy.learning.data import Dataset
from greedy.learning.jax_engine.export import export_layers
from greedy.learning.jax_engine.network import Params
from greedy.learning.records import Networks, StageRecord
from greedy.learning.stages import stage_record

# 100 seeds make 5 full chunks, with no padded seeds trained for nothing. A seed's numbers can
# depend on the chunk size (XLA vectorizes over it), so the size is fixed, not fitted to each run.
DEFAULT_CHUNK = 20

Data = Dataset | Sequence[Dataset]  # one for every seed, or one per seed


@dataclass(frozen=True)
class SeedArrays:
    """A chunk's data: 2-D arrays shared by every seed, or 3-D ones with one slice per seed (seed first)."""

    x_train: jax.Array
    y_train: np.ndarray  # class labels
    y_train_hot: jax.Array
    x_test: jax.Array
    y_test: np.ndarray
    x_pretrain: jax.Array
    names: list[str]  # the data set's name, per seed
    # The population sample, if the data has one: 2-D when every seed shares one (the usual case).
    x_population: jax.Array | None = None
    y_population: np.ndarray | None = None
    # Validation rows for early stopping, where the data holds them (always per seed: 3-D).
    x_validation: jax.Array | None = None
    y_validation_hot: jax.Array | None = None

    @classmethod
    def of(cls, data: Data, picks: list[int]) -> SeedArrays:
        """The arrays for the seeds at positions ``picks`` of the run's seed list."""
        if isinstance(data, Dataset):
            parts, stack, names = [data], (lambda a: a[0]), [data.name] * len(picks)
        else:
            parts = [data[i] for i in picks]
            stack, names = np.stack, [d.name for d in parts]
        return cls(
            x_train=jnp.asarray(stack([d.x_train for d in parts])),
            y_train=stack([d.y_train for d in parts]),
            y_train_hot=jnp.asarray(stack([d.one_hot(d.y_train) for d in parts])),
            x_test=jnp.asarray(stack([d.x_test for d in parts])),
            y_test=stack([d.y_test for d in parts]),
            x_pretrain=jnp.asarray(stack([d.x_pretrain for d in parts])),
            names=names,
            **_population(parts, stack),
            **_validation(parts, picks),
        )

    def scored_splits(self) -> dict[str, tuple[jax.Array, np.ndarray]]:
        """The splits every network is scored on, by name: train, test and, where there is one, population."""
        splits = {"train": (self.x_train, self.y_train), "test": (self.x_test, self.y_test)}
        if self.x_population is not None:
            splits["population"] = (self.x_population, self.y_population)
        return splits


def _validation(parts: list[Dataset], picks: list[int]) -> dict:
    """A chunk's validation rows, one slice per seed (a shared data set's repeated), if it has them."""
    if parts[0].x_validation is None:
        return {}
    per_seed = parts if len(parts) == len(picks) else parts * len(picks)
    return {
        "x_validation": jnp.asarray(np.stack([d.x_validation for d in per_seed])),
        "y_validation_hot": jnp.asarray(np.stack([d.one_hot(d.y_validation) for d in per_seed])),
    }


def _population(parts: list[Dataset], stack) -> dict:
    """The population arrays of a chunk: one shared copy when every seed's data set holds the same one."""
    first = parts[0]
    if first.x_population is None:
        return {}
    if all(d.x_population is first.x_population and d.y_population is first.y_population for d in parts):
        return {"x_population": jnp.asarray(first.x_population), "y_population": np.asarray(first.y_population)}
    return {
        "x_population": jnp.asarray(stack([d.x_population for d in parts])),
        "y_population": stack([d.y_population for d in parts]),
    }


@dataclass(frozen=True)
class SeedChunk:
    """Seeds that train together: ``seeds`` is padded to the chunk size; the first ``n_real`` count."""

    seeds: list[int]
    n_real: int
    arrays: SeedArrays

    @property
    def keys(self) -> jax.Array:
        return jax.vmap(jax.random.PRNGKey)(jnp.asarray(self.seeds))


def seed_chunks(seeds: list[int], chunk_size: int, data: Data) -> Iterator[SeedChunk]:
    """The run's seeds in chunks of ``chunk_size``, each with its arrays."""
    # One data set for every seed: every chunk (padded to chunk_size) gets the same arrays.
    shared = SeedArrays.of(data, list(range(chunk_size))) if isinstance(data, Dataset) else None
    for i in range(0, len(seeds), chunk_size):
        picks = list(range(i, min(i + chunk_size, len(seeds))))
        n_real = len(picks)
        picks += [picks[-1]] * (chunk_size - n_real)
        yield SeedChunk([seeds[p] for p in picks], n_real, shared or SeedArrays.of(data, picks))


def check_data(data: object, n_seeds: int) -> Dataset:
    """The run's data (one Dataset, or one per seed of equal shapes); returns a representative."""
    if isinstance(data, Dataset):
        return data
    if not isinstance(data, Sequence) or not all(isinstance(d, Dataset) for d in data):
        raise ValueError(f"data must be a greedy.Dataset or a list of them, one per seed; got {type(data).__name__}")
    if len(data) != n_seeds:
        raise ValueError(f"data must hold one Dataset per seed: got {len(data)} for {n_seeds} seeds")
    first = data[0]

    def shapes(d: Dataset) -> tuple:
        population = None if d.x_population is None else d.x_population.shape
        validation = None if d.x_validation is None else d.x_validation.shape
        return (d.x_train.shape, d.x_test.shape, d.x_pretrain.shape, d.n_classes, population, validation)

    for i, d in enumerate(data):
        if shapes(d) != shapes(first):
            raise ValueError(
                f"data[{i}] has shapes (x_train, x_test, x_pretrain, classes, population, validation) {shapes(d)}, "
                f"data[0] has {shapes(first)}: per-seed data sets must have equal shapes"
            )
    return first


@dataclass
class StageLog:
    """One chunk's records, which of its real seeds are still training, and (if asked) its networks."""

    chunk: SeedChunk
    config: TrainConfig
    keep_networks: bool = False
    records: list[StageRecord] = field(default_factory=list)
    networks: dict[str, Networks] = field(default_factory=dict)  # record method -> {depth: {seed: layers}}

    def __post_init__(self) -> None:
        self.alive = [True] * self.chunk.n_real

    def add(self, method: str, depth: int, seconds: float, losses, diverged, scores, *, stops_seeds: bool) -> None:
        """Record a fit for every live real seed; with ``stops_seeds``, a seed that diverged stops training."""
        for s in range(self.chunk.n_real):
            if not self.alive[s]:
                continue
            self.records.append(
                stage_record(
                    method=method,
                    depth=depth,
                    seed=self.chunk.seeds[s],
                    final_loss=float(losses[s, -1]),
                    seconds=seconds / self.chunk.n_real,
                    backend="jax",
                    engine="jax",
                    dataset=self.chunk.arrays.names[s],
                    diverged_epoch=diverged[s],
                    scores={k: float(v[s]) for k, v in scores.items()},
                    config=self.config,
                )
            )
            if diverged[s] is not None and stops_seeds:
                self.alive[s] = False

    def keep(self, method: str, depth: int, network: Params) -> None:
        """If networks are kept, each live real seed's network of the record ``method`` at ``depth``."""
        if self.keep_networks:
            nets = export_layers(network, self.config.activation, "softmax", self.chunk.n_real)
            live = {seed: net for seed, net, alive in zip(self.chunk.seeds, nets, self.alive, strict=False) if alive}
            self.networks.setdefault(method, {}).setdefault(depth, {}).update(live)
