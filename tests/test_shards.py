"""Seed shards on Dask workers give the serial run's records (a local cluster of two worker processes)."""

import numpy as np
import pandas as pd
import pytest

import greedy
from greedy.learning import jax_engine
from greedy.pipeline.shards import run_sharded, shard_slices

TINY = greedy.TrainConfig(epochs=3, head_epochs=3, n_added_layers=1, fine_tune_epochs=3)


@pytest.mark.parametrize(("n_seeds", "chunk", "shards"), [(100, 20, 2), (5, 2, 2), (7, 3, 5), (1, 20, 4), (40, 20, 3)])
def test_shards_are_contiguous_runs_of_whole_chunks_covering_every_seed(n_seeds, chunk, shards):
    slices = shard_slices(n_seeds, chunk, shards)
    positions = [i for s in slices for i in range(n_seeds)[s]]
    assert positions == list(range(n_seeds))
    assert len(slices) <= shards and all(s.start % chunk == 0 for s in slices)
    assert len(slices) == min(shards, -(-n_seeds // chunk))


def _without_seconds(records) -> pd.DataFrame:
    return greedy.to_frame(records).drop(columns="wall_seconds")


def _same_networks(a, b) -> None:
    assert a.networks.keys() == b.networks.keys() and a.networks
    for method, nets in a.networks.items():
        assert nets.keys() == b.networks[method].keys()
        for depth, by_seed in nets.items():
            assert list(by_seed) == list(b.networks[method][depth])
            for seed, layers in by_seed.items():
                for ours, theirs in zip(layers, b.networks[method][depth][seed], strict=True):
                    np.testing.assert_array_equal(ours.kernel, theirs.kernel)


def test_sharded_runs_reproduce_the_serial_run_with_every_option_on_a_local_cluster():
    """Records and kept networks (stages and fine-tuned stacks) come back as the serial run's; a reuse
    cache of pretrained stages is accepted and changes nothing."""
    from distributed import Client

    from greedy.pipeline.cluster import local_cluster

    per_seed = greedy.resampled_blobs(range(5), n_population=2_000)
    shared = greedy.blobs()
    with local_cluster(2) as cluster, Client(cluster) as client:
        for procedure, data, extra in [
            (jax_engine.autoencoder_greedy, per_seed, {"pretrained": jax_engine.PretrainedStages()}),
            (jax_engine.supervised_greedy, shared, {}),
        ]:
            options = {"fine_tune": "last", "keep_networks": True}
            serial = procedure(data, TINY, range(5), chunk_size=2, **options)
            sharded = run_sharded(procedure, data, TINY, range(5), client, chunk_size=2, **options, **extra)
            pd.testing.assert_frame_equal(_without_seconds(sharded), _without_seconds(serial))
            _same_networks(sharded, serial)
            assert {f"{procedure.__name__}+fine_tune", procedure.__name__} == set(sharded.networks)


def test_a_bad_shard_count_is_refused_before_any_work():
    with pytest.raises(ValueError, match="shards must be"):
        run_sharded(jax_engine.supervised_greedy, greedy.blobs(), TINY, range(3), client=None, shards=0)


def test_the_shard_benchmark_prints_its_efficiency_and_that_the_records_are_identical(capsys):
    from greedy.pipeline import bench

    assert bench.sharded(2, seeds=40, quick=True) == 0
    out = capsys.readouterr().out
    assert "records identical" in out and "efficiency" in out
