"""Execute the study's notebooks with papermill: skip what is up to date, write atomically.

An experiment is complete when its executed notebook, its results file and its run record
(``results/NAME.run.json``) exist and the record's fingerprint matches the current inputs
(notebook source, parameters, library source, pinned versions, Python). Everything is first
written to ``results/.staging`` and moved into place only after the notebook succeeded, the
run record last, so a run killed at any moment leaves nothing that passes for complete.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from greedy.manifest import Experiment, Study

STAGING = "results/.staging"


class ExperimentFailed(RuntimeError):
    """A notebook raised: names the experiment, the notebook, the cell and the error."""


# Modules that run or time the study but compute nothing a notebook reports.
RESULT_NEUTRAL = frozenset(
    {"__main__.py", "bench.py", "cli.py", "distributed.py", "manifest.py", "readme.py", "runner.py"}
)


def _library_digest() -> str:
    h = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        if path.name in RESULT_NEUTRAL:
            continue
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def fingerprint(exp: Experiment, root: Path) -> str:
    """Hash of everything an experiment's outputs depend on."""
    lock = root / "requirements.lock"
    parts = {
        "notebook": hashlib.sha256(exp.notebook.read_bytes()).hexdigest(),
        "parameters": exp.parameters,
        "library": _library_digest(),
        "lock": hashlib.sha256(lock.read_bytes()).hexdigest() if lock.exists() else "",
        "python": platform.python_version(),
        "keras_backend_env": os.environ.get("KERAS_BACKEND", ""),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


class PeakMemory:
    """Peak resident memory of this process plus its children (the notebook's kernel), sampled.

    Use as a context manager; ``peak_mib`` holds the largest sum seen. What a worker running
    one experiment at a time needs at most.
    """

    def __init__(self, interval_s: float = 0.1) -> None:
        self.interval_s, self.peak_mib = interval_s, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        import psutil

        me = psutil.Process()
        while True:
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                try:
                    total += proc.memory_info().rss
                except psutil.Error:  # a child that just exited
                    pass
            self.peak_mib = max(self.peak_mib, total / 2**20)
            if self._stop.wait(self.interval_s):
                return

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def _write_json_atomic(path: Path, data: dict) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


@dataclass(frozen=True)
class Outcome:
    name: str
    status: str  # ran | skipped
    seconds: float
    peak_memory_mib: float = 0.0


def run_record_path(exp: Experiment, book_dir: Path) -> Path:
    return book_dir / "results" / f"{exp.name}.run.json"


def is_up_to_date(exp: Experiment, study: Study) -> bool:
    record = run_record_path(exp, study.book_dir)
    if not (record.is_file() and exp.output_notebook(study.book_dir).is_file()):
        return False
    if not (study.book_dir / exp.results_name()).is_file():
        return False
    try:
        return json.loads(record.read_text()).get("fingerprint") == fingerprint(exp, study.root)
    except json.JSONDecodeError:
        return False


@cache
def _local_kernel_manager() -> type:
    """A kernel manager that talks to the notebook's kernel over Unix sockets, not TCP.

    Nothing of the run listens on a network port, and ipykernel has no unencrypted-TCP warning
    to print for every notebook.
    """
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class LocalKernelManager(AsyncKernelManager):  # the class nbclient uses by default
        @default("transport")
        def _default_transport(self) -> str:
            return "ipc"

        @default("ip")
        def _default_ip(self) -> str:
            # The sockets' path prefix: one per kernel (workers run kernels side by side), in the
            # temporary folder, never in the notebook's folder; removed at the kernel's shutdown.
            return os.path.join(tempfile.gettempdir(), f"greedy-kernel-{uuid.uuid4().hex}")

    return LocalKernelManager


def execute(exp: Experiment, study: Study, *, force: bool = False, progress: bool = False) -> Outcome:
    """Run one experiment unless it is up to date; raise ExperimentFailed with the cell and error."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    if not force and is_up_to_date(exp, study):
        return Outcome(exp.name, "skipped", 0.0)
    book = study.book_dir
    staging = book / STAGING
    staging.mkdir(parents=True, exist_ok=True)
    staged_nb = staging / f"{exp.name}.ipynb"
    staged_results = f"{STAGING}/{exp.name}.csv"  # relative to book/: the notebook's cwd
    for stale in [staged_nb, book / staged_results, *staging.glob(f"{exp.name}_*")]:
        stale.unlink(missing_ok=True)
    params = {**exp.parameters, "results_path": staged_results}
    inputs = fingerprint(exp, study.root)  # taken before running: what the outputs were made from
    start = time.perf_counter()
    env_before = os.environ.get("TF_CPP_MIN_LOG_LEVEL")
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"  # keep TensorFlow's C++ log lines out of the notebooks
    memory = PeakMemory()
    try:
        with memory:
            papermill.execute_notebook(
                str(exp.notebook),
                str(staged_nb),
                parameters=params,
                cwd=str(book),
                kernel_name="python3",
                kernel_manager_class=_local_kernel_manager(),
                progress_bar=progress,
                log_output=False,
            )
    except PapermillExecutionError as err:
        raise ExperimentFailed(
            f"experiment {exp.name!r} failed in {exp.notebook.relative_to(study.root)}, "
            f"cell {err.cell_index} (execution count {err.exec_count}): {err.ename}: {err.evalue}"
        ) from None
    finally:
        if env_before is None:
            os.environ.pop("TF_CPP_MIN_LOG_LEVEL", None)
        else:
            os.environ["TF_CPP_MIN_LOG_LEVEL"] = env_before
    seconds = time.perf_counter() - start
    if not (book / staged_results).is_file():
        raise ExperimentFailed(f"experiment {exp.name!r}: the notebook did not write its results to {staged_results}")
    _finalize_notebook(staged_nb, staged_results, exp.results_name())
    # Results first (the CSV and any figure files named after the experiment), then the notebook.
    for staged in sorted(staging.glob(f"{exp.name}_*")) + [book / staged_results]:
        os.replace(staged, book / "results" / staged.name)
    os.replace(staged_nb, exp.output_notebook(book))
    _write_json_atomic(
        run_record_path(exp, book),
        {
            "experiment": exp.name,
            "fingerprint": inputs,
            "parameters": exp.parameters,
            "seconds": round(seconds, 1),
            "peak_memory_mib": round(memory.peak_mib),  # runner process + notebook kernel, sampled
            "python": platform.python_version(),
            "platform": f"{platform.system()} {platform.machine()}",
            "cpu_count": os.cpu_count(),
        },
    )
    return Outcome(exp.name, "ran", seconds, memory.peak_mib)


def _finalize_notebook(path: Path, staged: str, final: str) -> None:
    """Point the executed notebook's injected ``results_path`` at the final file, and drop timings."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.id = "injected-parameters"  # papermill draws a random id on every run
            cell.source = cell.source.replace(repr(staged), repr(final)).replace(f'"{staged}"', f'"{final}"')
        # papermill's per-cell timestamps change on every run; they are not results
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    nb.metadata.get("papermill", {}).pop("start_time", None)
    for key in ("end_time", "duration", "input_path", "output_path"):
        nb.metadata.get("papermill", {}).pop(key, None)
    nbformat.write(nb, path)


def last_seconds(exp: Experiment, study: Study) -> float:
    """How long the experiment took when it last ran here (0 if unknown): to start the longest first."""
    try:
        return float(json.loads(run_record_path(exp, study.book_dir).read_text()).get("seconds", 0))
    except (OSError, ValueError):
        return 0.0


def run_study(
    study: Study,
    experiments: list[Experiment],
    *,
    force: bool = False,
    workers: int = 0,
    scheduler: str | None = None,
) -> list[Outcome]:
    """Run experiments serially, or on Dask (``workers`` > 0 for a local cluster, or ``scheduler``)."""
    from tqdm.auto import tqdm

    if workers or scheduler:
        from greedy.distributed import run_on_dask

        # Up-to-date experiments are skipped here, so a run with nothing to do starts no cluster.
        todo = [e for e in experiments if force or not is_up_to_date(e, study)]
        done = (
            {o.name: o for o in run_on_dask(study, todo, force=force, workers=workers, scheduler=scheduler)}
            if todo
            else {}
        )
        return [done.get(e.name, Outcome(e.name, "skipped", 0.0)) for e in experiments]
    outcomes = []
    bar = tqdm(experiments, desc="study", unit="experiment", file=sys.stderr)
    for exp in bar:
        bar.set_postfix_str(exp.name)
        outcomes.append(execute(exp, study, force=force))
    return outcomes
