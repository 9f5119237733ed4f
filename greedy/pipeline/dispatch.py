"""Run the study's experiments: serially in this process, or on Dask (a LocalCluster on 127.0.0.1 or a
scheduler someone already runs), longest first, each sent only to a free worker."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from greedy.pipeline import publish
from greedy.pipeline.manifest import Experiment, Study, in_waves
from greedy.pipeline.runner import Outcome, execute, is_up_to_date, last_seconds

if TYPE_CHECKING:
    from greedy.pipeline.cluster import TlsFiles

Item = TypeVar("Item")


def core_groups(cores: Sequence[int], workers: int) -> list[list[int]] | None:
    """The cores split into one disjoint group per worker, or None (one worker, or more workers than cores)."""
    if workers < 2 or workers > len(cores):
        return None
    ordered = sorted(cores)
    return [ordered[i::workers] for i in range(workers)]


def feed_free_workers(
    items: Sequence[Item], slots: int, submit: Callable[[Item], Any], as_completed: Callable[[list], Any]
) -> Iterator[Any]:
    """Submit ``items`` in order, never more than ``slots`` at once; yield each result as it completes.

    ``submit`` returns a future; ``as_completed`` is Dask's (an iterator of futures as they finish,
    to which more can be added). Dask hands independent tasks to workers as they arrive, so an
    experiment sent early could wait behind the longest one while another worker idles.
    """
    waiting = list(items)
    running = as_completed([submit(item) for item in waiting[:slots]])
    del waiting[:slots]
    for future in running:
        yield future.result()
        if waiting:
            running.add(submit(waiting.pop(0)))


def _execute_on_worker(exp: Experiment, study: Study, force: bool, groups: list[list[int]] | None) -> Outcome:
    if groups is not None:
        from dask.distributed import get_worker

        # This thread starts the notebook's kernel, which inherits the affinity: two kernels that
        # share both cores ran ~18% slower than two kernels on a core each (measured side by side).
        os.sched_setaffinity(0, groups[int(get_worker().name) % len(groups)])
    return execute(exp, study, force=force)


def _client(workers: int, scheduler: str | None, connect_timeout: float | None, tls: TlsFiles | None):
    """A client of the scheduler someone runs, or of a local cluster of ``workers`` (returned to be closed)."""
    from dask.distributed import Client

    from greedy.pipeline import cluster as clusters

    if scheduler:
        return clusters.connect(scheduler, connect_timeout or clusters.DEFAULT_CONNECT_TIMEOUT, tls), None
    cluster = clusters.local_cluster(workers)
    return Client(cluster), cluster


def run_on_dask(
    study: Study,
    experiments: list[Experiment],
    *,
    force: bool,
    workers: int = 0,
    scheduler: str | None = None,
    connect_timeout: float | None = None,
    tls: TlsFiles | None = None,
) -> list[Outcome]:
    """Each experiment in a task of its own, longest first (by its last recorded run), on free workers."""
    # Dask's workers log every start and connection at INFO: kept out of the terminal unless the
    # user set the level (DASK_LOGGING__DISTRIBUTED=info); worker processes read it at their start.
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")
    from dask.distributed import as_completed

    if scheduler is None and workers <= 0:
        workers = os.cpu_count() or 1
    client, cluster = _client(workers, scheduler, connect_timeout, tls)
    # Each worker of our own cluster gets cores of its own (on a cluster someone runs, we don't pin).
    pinnable = scheduler is None and hasattr(os, "sched_getaffinity")
    groups = core_groups(os.sched_getaffinity(0), workers) if pinnable else None
    try:
        seconds = {e.name: last_seconds(e, study) for e in experiments}
        longest_first = sorted(experiments, key=lambda e: -seconds[e.name])
        slots = max(1, sum(client.nthreads().values()))

        def submit_and_say(exp: Experiment):
            say_started(exp)
            return client.submit(
                _execute_on_worker, exp, study, force, groups, key=f"experiment-{exp.name}", pure=False
            )

        outcomes = []
        for outcome in feed_free_workers(longest_first, slots, submit_and_say, as_completed):
            outcomes.append(outcome)
            say_finished(outcome, len(outcomes), len(experiments))
        order = {e.name: i for i, e in enumerate(experiments)}
        return sorted(outcomes, key=lambda o: order[o.name])
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def say_started(exp: Experiment) -> None:
    print(f"greedy: {exp.name}: started", file=sys.stderr, flush=True)


def say_finished(outcome: Outcome, done: int, total: int) -> None:
    """One line per experiment as it ends: what happened, its seconds and peak memory."""
    memory = f", peak {outcome.peak_memory_mib:,.0f} MiB" if outcome.status == "ran" else ""
    print(
        f"greedy: {outcome.name}: {outcome.status} in {outcome.seconds:.1f} s{memory} ({done} of {total} done)",
        file=sys.stderr,
        flush=True,
    )


def _run_serially(study: Study, experiments: Iterable[Experiment], force: bool) -> list[Outcome]:
    experiments = list(experiments)
    outcomes = []
    for exp in experiments:
        if force or not is_up_to_date(exp, study):
            say_started(exp)
        outcomes.append(execute(exp, study, force=force))
        say_finished(outcomes[-1], len(outcomes), len(experiments))
    return outcomes


def run_study(
    study: Study,
    experiments: list[Experiment],
    *,
    force: bool = False,
    workers: int = 0,
    scheduler: str | None = None,
    connect_timeout: float | None = None,
    tls: TlsFiles | None = None,
) -> list[Outcome]:
    """Run experiments serially, or on Dask (``workers`` > 0 for a local cluster, or ``scheduler``).

    One run at a time per book folder: first, publications that a killed run committed are completed
    and uncommitted staging is dropped.
    """
    check_used_results(study, experiments)
    done: dict[str, Outcome] = {}
    with publish.exclusive_run(study.book_dir):
        publish.recover(study.book_dir, discard_incomplete=True)
        # An experiment runs after those it uses (whose results may change in an earlier wave).
        for wave in in_waves(experiments):
            if not (workers or scheduler):
                ran = _run_serially(study, wave, force)
            else:
                # Up-to-date experiments are skipped here, so a wave with nothing to do starts no cluster.
                todo = [e for e in wave if force or not is_up_to_date(e, study)]
                options = {"workers": workers, "scheduler": scheduler, "connect_timeout": connect_timeout, "tls": tls}
                ran = run_on_dask(study, todo, force=force, **options) if todo else []
            done |= {o.name: o for o in ran}
    return [done.get(e.name, Outcome(e.name, "skipped", 0.0)) for e in experiments]


def check_used_results(study: Study, experiments: list[Experiment]) -> None:
    """Refuse, before any work, an experiment whose used experiment neither runs now nor has published results."""
    selected = {e.name for e in experiments}
    for exp in experiments:
        for name in exp.uses:
            if name not in selected and not (study.book_dir / publish.RUN_RECORD.format(name=name)).is_file():
                raise ValueError(
                    f"experiment {exp.name!r} uses {name!r}, which has no published results in {study.book_dir}: "
                    f"run both (greedy run {name} {exp.name})"
                )


def efficiency_line(outcomes: Sequence[Outcome], workers: int, wall_seconds: float) -> str | None:
    """How well ``workers`` local workers were used: the experiments' seconds over workers x wall time.

    None for a serial run or one in which fewer than two experiments ran.
    """
    ran = [o for o in outcomes if o.status == "ran"]
    if workers < 2 or len(ran) < 2 or wall_seconds <= 0:
        return None
    busy = sum(o.seconds for o in ran)
    longest = max(o.seconds for o in ran)
    return (
        f"{len(ran)} experiments, {busy:.0f} s of work in {wall_seconds:.0f} s on {workers} workers: "
        f"efficiency {busy / (workers * wall_seconds):.2f} (the longest experiment alone takes {longest:.0f} s)"
    )


def balanced_parts(items: Sequence[Item], seconds: Callable[[Item], float], parts: int) -> list[list[Item]]:
    """``items`` in at most ``parts`` groups of near-equal total seconds: longest first, each to the lightest group.

    An item of unknown (infinite) length counts as the longest and takes a group of its own first.
    """
    groups: list[list[Item]] = [[] for _ in range(max(1, parts))]
    loads = [0.0] * len(groups)
    for item in sorted(items, key=seconds, reverse=True):
        lightest = loads.index(min(loads))
        groups[lightest].append(item)
        loads[lightest] += min(seconds(item), 1e12)
    return [g for g in groups if g]
