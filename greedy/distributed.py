"""Dispatch experiments to Dask distributed: a LocalCluster on 127.0.0.1 or a given scheduler."""

from __future__ import annotations

import os

from greedy.manifest import Experiment, Study
from greedy.runner import Outcome, execute, last_seconds


def _execute_on_worker(exp: Experiment, study: Study, force: bool) -> Outcome:
    return execute(exp, study, force=force)


def local_cluster(workers: int):
    """One single-threaded worker process per core, bound to loopback, no dashboard."""
    from dask.distributed import LocalCluster

    return LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )


def run_on_dask(
    study: Study, experiments: list[Experiment], *, force: bool, workers: int = 0, scheduler: str | None = None
) -> list[Outcome]:
    from dask.distributed import Client, as_completed
    from tqdm.auto import tqdm

    if scheduler is None and workers <= 0:
        workers = os.cpu_count() or 1
    cluster = None if scheduler else local_cluster(workers)
    client = Client(scheduler) if scheduler else Client(cluster)
    try:
        # Longest first (by the last recorded run), so no long experiment starts last: submitted in
        # that order too, since a worker may take its next task before later submissions arrive.
        seconds = {e.name: last_seconds(e, study) for e in experiments}
        by_length = sorted(experiments, key=lambda e: -seconds[e.name])
        futures = {
            client.submit(
                _execute_on_worker,
                exp,
                study,
                force,
                key=f"experiment-{exp.name}",
                pure=False,
                priority=round(seconds[exp.name]),
            ): exp
            for exp in by_length
        }
        outcomes = []
        for fut in tqdm(as_completed(futures), total=len(futures), desc="study", unit="experiment"):
            outcomes.append(fut.result())
        order = {e.name: i for i, e in enumerate(experiments)}
        return sorted(outcomes, key=lambda o: order[o.name])
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
