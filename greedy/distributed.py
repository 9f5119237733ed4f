"""Dispatch experiments to Dask distributed: a LocalCluster on 127.0.0.1 or a given scheduler."""

from __future__ import annotations

import os
from collections.abc import Sequence

from greedy.manifest import Experiment, Study
from greedy.runner import Outcome, execute, last_seconds


def core_groups(cores: Sequence[int], workers: int) -> list[list[int]] | None:
    """The cores split into one disjoint group per worker, or None (one worker, or more workers than cores)."""
    if workers < 2 or workers > len(cores):
        return None
    ordered = sorted(cores)
    return [ordered[i::workers] for i in range(workers)]


def _execute_on_worker(exp: Experiment, study: Study, force: bool, groups: list[list[int]] | None) -> Outcome:
    if groups is not None:
        from dask.distributed import get_worker

        # This thread starts the notebook's kernel, which inherits the affinity: two kernels that
        # share both cores ran ~18% slower than two kernels on a core each (measured side by side).
        os.sched_setaffinity(0, groups[int(get_worker().name) % len(groups)])
    return execute(exp, study, force=force)


def local_cluster(workers: int):
    """Single-threaded worker processes, bound to loopback, no dashboard; they are named 0, 1, ..."""
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
    # Each worker of our own cluster gets cores of its own (on a cluster someone runs, we don't pin).
    pinnable = scheduler is None and hasattr(os, "sched_getaffinity")
    groups = core_groups(os.sched_getaffinity(0), workers) if pinnable else None
    try:
        # Longest first (by the last recorded run), and each experiment sent only when a worker is
        # free: Dask hands independent tasks to workers as they arrive, so one sent early could wait
        # behind the longest experiment while another worker idles.
        seconds = {e.name: last_seconds(e, study) for e in experiments}
        waiting = sorted(experiments, key=lambda e: -seconds[e.name])
        slots = max(1, sum(client.nthreads().values()))

        def submit(exp: Experiment):
            return client.submit(
                _execute_on_worker, exp, study, force, groups, key=f"experiment-{exp.name}", pure=False
            )

        running = as_completed([submit(e) for e in waiting[:slots]])
        waiting = waiting[slots:]
        outcomes = []
        with tqdm(total=len(experiments), desc="study", unit="experiment") as bar:
            for fut in running:
                outcomes.append(fut.result())
                bar.update()
                if waiting:
                    running.add(submit(waiting.pop(0)))
        order = {e.name: i for i, e in enumerate(experiments)}
        return sorted(outcomes, key=lambda o: order[o.name])
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
