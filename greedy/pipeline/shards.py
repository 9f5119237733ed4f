"""One procedure's seeds split into shards that run on Dask workers, with the serial run's results.

The fast engine trains seeds in fixed-size chunks, and a seed's numbers depend only on its chunk
(``greedy.learning.jax_engine.seeds``). A shard is a run of whole chunks, so every seed trains in
the same chunk as in the serial run and the records are the same (only their ``wall_seconds`` differ),
in the same order. Use it for the longest experiment of a study, or on a cluster that already runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from greedy.learning.config import check_positive_int, check_seeds
from greedy.learning.data import Dataset
from greedy.learning.jax_engine import DEFAULT_CHUNK
from greedy.learning.jax_engine.seeds import check_data
from greedy.learning.records import Trained


def shard_slices(n_seeds: int, chunk_size: int, shards: int) -> list[slice]:
    """Positions of the seed list in at most ``shards`` contiguous runs of whole chunks, as even as can be."""
    n_chunks = -(-n_seeds // chunk_size)
    shards = min(shards, n_chunks)
    bounds = [round(i * n_chunks / shards) * chunk_size for i in range(shards + 1)]
    return [slice(a, min(b, n_seeds)) for a, b in zip(bounds, bounds[1:], strict=False) if a < n_seeds]


def run_sharded(
    procedure: Callable[..., Trained],
    data: Dataset | Sequence[Dataset],
    config: Any,
    seeds: object,
    client: Any,
    *,
    shards: int | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    **options: Any,
) -> Trained:
    """``procedure(data, config, seeds, chunk_size=chunk_size, **options)``, its seeds in ``shards``
    tasks on the Dask ``client`` (default: one per worker thread); what the serial run returns.

    ``procedure`` is one of the fast engine's (``greedy.learning.jax_engine.PROCEDURES``) or any
    function with their signature. Every option passes: kept networks come back with the records;
    a ``PretrainedStages`` cache reaches each worker empty, so stages are reused within a shard.
    """
    check_positive_int("chunk_size", chunk_size)
    seed_list = check_seeds(seeds)
    check_data(data, len(seed_list))
    if shards is None:
        shards = max(1, sum(client.nthreads().values()))
    check_positive_int("shards", shards)

    futures = []
    for part in shard_slices(len(seed_list), chunk_size, shards):
        shard_data = data if isinstance(data, Dataset) else list(data[part])
        futures.append(
            client.submit(procedure, shard_data, config, seed_list[part], chunk_size=chunk_size, pure=False, **options)
        )
    return Trained.join(client.gather(futures))  # in shard order: the serial run's order
