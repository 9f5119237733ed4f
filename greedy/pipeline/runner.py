"""Execute one experiment's notebook with papermill, unless it is up to date; publish it as a whole.

An experiment is complete when its run record (``results/NAME.run.json``) and every output it
lists exist and nothing its outputs depend on changed in meaning (``staleness``: the notebook's
code, parameters, pinned versions, Python, settings, and the library code its kernel executed).
A change to the notebook's prose alone re-renders it with its stored outputs. Outputs are staged
and published by ``publish``'s commit protocol, so a run killed at any moment leaves the complete
old outputs or the new ones.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from greedy.pipeline import compile_cache, executed_code, publish, rerender, staleness
from greedy.pipeline.manifest import Experiment, Study
from greedy.pipeline.staleness import run_record_path


class ExperimentFailed(RuntimeError):
    """A notebook raised: names the experiment, the notebook, the cell and the error."""


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


@dataclass(frozen=True)
class Outcome:
    name: str
    status: str  # ran | rendered (prose only) | skipped
    seconds: float
    peak_memory_mib: float = 0.0


def is_up_to_date(exp: Experiment, study: Study) -> bool:
    """Whether the published outputs are complete, made from the current inputs and rendered from the current prose."""
    return staleness.state(exp, study).up_to_date


def _local_kernel_manager(trace: Path, library: dict[str, Path]) -> type:
    """A kernel manager for a kernel that records the library code it runs into ``trace``, and that
    talks over Unix sockets, not TCP.

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

        def format_kernel_cmd(self, extra_arguments=None) -> list[str]:
            cmd = super().format_kernel_cmd(extra_arguments)
            at = cmd.index("ipykernel_launcher")
            packages = ",".join(f"{name}={folder}" for name, folder in library.items())
            return [*cmd[:at], "greedy.pipeline.traced_kernel", str(trace), packages, *cmd[at + 1 :]]

    return LocalKernelManager


def _run_notebook(
    exp: Experiment, study: Study, staged_nb: Path, staged_results: str, progress: bool, kernel_manager: type
) -> float:
    """Execute the notebook into ``staged_nb``, its results into ``staged_results``; return its peak memory."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    # The kernel inherits this environment: TensorFlow's C++ log lines kept out of the notebooks,
    # JAX's persistent compile cache, and at most two glibc heaps (XLA's compile threads each
    # grow one otherwise; the families chapter's kernel peaked 28 MiB lower, 1,019 -> 991 MiB,
    # measured side by side), unless the user chose a number.
    kernel_env = {
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "MALLOC_ARENA_MAX": os.environ.get("MALLOC_ARENA_MAX", "2"),
        **compile_cache.environment(),
    }
    env_before = {key: os.environ.get(key) for key in kernel_env}
    os.environ.update(kernel_env)
    memory = PeakMemory()
    try:
        with memory:
            papermill.execute_notebook(
                str(exp.notebook),
                str(staged_nb),
                parameters={**exp.parameters, "results_path": staged_results},
                cwd=str(study.book_dir),
                kernel_name="python3",
                kernel_manager_class=kernel_manager,
                progress_bar=progress,
                log_output=False,
            )
    except PapermillExecutionError as err:
        raise ExperimentFailed(
            f"experiment {exp.name!r} failed in {exp.notebook.relative_to(study.root)}, "
            f"cell {err.cell_index} (execution count {err.exec_count}): {err.ename}: {err.evalue}"
        ) from None
    finally:
        for key, value in env_before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return memory.peak_mib


def execute(exp: Experiment, study: Study, *, force: bool = False, progress: bool = False) -> Outcome:
    """Run one experiment unless it is up to date; raise ExperimentFailed with the cell and error."""
    if not force:
        state = staleness.state(exp, study)
        if state.up_to_date:
            return Outcome(exp.name, "skipped", 0.0)
        if not state.reasons:
            return _rerender(exp, study)
    book = study.book_dir
    staged = publish.staging_dir(book, exp.name)
    shutil.rmtree(staged, ignore_errors=True)  # what an earlier, killed run of it left
    (staged / "results").mkdir(parents=True)
    staged_results = f"{publish.STAGING}/{exp.name}/{exp.results_name()}"  # relative to book/: the cwd
    # Taken before running: what the outputs are made from, even if a file is edited meanwhile.
    library = staleness.library_folders(study)
    sources = executed_code.snapshot(library)
    inputs, notebook = staleness.inputs(exp, study), staleness.notebook_digest(exp.notebook)
    notebook_names = staleness.notebook_names(exp.notebook)
    with tempfile.TemporaryDirectory(prefix="greedy-trace-") as scratch:
        trace = Path(scratch) / "executed.json"
        start = time.perf_counter()
        kernel_manager = _local_kernel_manager(trace, library)
        peak_mib = _run_notebook(exp, study, staged / f"{exp.name}.ipynb", staged_results, progress, kernel_manager)
        seconds = time.perf_counter() - start
        if not trace.is_file():  # the kernel did not shut down cleanly: count every unit as used
            executed = {key: list(source.units) for key, source in sources.items()}
        else:
            executed = json.loads(trace.read_text())
        used = executed_code.record(sources, executed, notebook_names)
    if not (book / staged_results).is_file():
        raise ExperimentFailed(f"experiment {exp.name!r}: the notebook did not write its results to {staged_results}")
    _finalize_notebook(staged / f"{exp.name}.ipynb", staged_results, exp.results_name())
    record = {
        "experiment": exp.name,
        "inputs": inputs,
        "notebook": notebook,
        "library_code": used,
        "library_code_version": staleness.LIBRARY_CODE_VERSION,
        "parameters": exp.parameters,
        "outputs": [*publish.outputs_in(staged), publish.RUN_RECORD.format(name=exp.name)],
        "seconds": round(seconds, 1),
        "peak_memory_mib": round(peak_mib),  # runner process + notebook kernel, sampled
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
        "cpu_count": os.cpu_count(),
    }
    _write_record(staged, exp.name, record)
    publish.publish(book, exp.name)
    return Outcome(exp.name, "ran", seconds, peak_mib)


def _write_record(staged: Path, name: str, record: dict) -> None:
    text = json.dumps(record, indent=2, sort_keys=True) + "\n"
    publish.write_atomic(staged / publish.RUN_RECORD.format(name=name), text)


def _rerender(exp: Experiment, study: Study) -> Outcome:
    """Publish the executed notebook with the source's new prose; the results stay as they are."""
    start = time.perf_counter()
    book = study.book_dir
    staged = publish.staging_dir(book, exp.name)
    shutil.rmtree(staged, ignore_errors=True)
    (staged / "results").mkdir(parents=True)
    published = exp.output_notebook(book)
    rerender.rerender(exp.notebook, published, staged / published.name)
    record = json.loads(run_record_path(exp, book).read_text())
    record["notebook"] = staleness.notebook_digest(exp.notebook)
    _write_record(staged, exp.name, record)
    publish.publish(book, exp.name, keep=record["outputs"])
    return Outcome(exp.name, "rendered", time.perf_counter() - start)


def _finalize_notebook(path: Path, staged: str, final: str) -> None:
    """Point the executed notebook's injected ``results_path`` at the final file, and drop timings."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.id = "injected-parameters"  # papermill draws a random id on every run
            # The run's parameters stay in the page, folded away: the reader's story starts below them.
            cell.metadata["tags"] = [*cell.metadata["tags"], "hide-cell"]
            cell.source = cell.source.replace(repr(staged), repr(final)).replace(f'"{staged}"', f'"{final}"')
        # papermill's per-cell timestamps change on every run; they are not results
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    nb.metadata.get("papermill", {}).pop("start_time", None)
    for key in ("end_time", "duration", "input_path", "output_path"):
        nb.metadata.get("papermill", {}).pop(key, None)
    nbformat.write(nb, path)


def last_seconds(exp: Experiment, study: Study) -> float:
    """How long the experiment took when it last ran here, to start the longest first; infinite if
    unknown (a new experiment may be the longest: started early, it delays the others by at most its length)."""
    try:
        return float(json.loads(run_record_path(exp, study.book_dir).read_text())["seconds"])
    except (OSError, ValueError, KeyError, TypeError):
        return math.inf
