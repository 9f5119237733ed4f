"""Whether an experiment's published outputs still stand, and if not, why.

What an experiment's numbers depend on, as its run record keeps it:

- ``inputs``: the source notebook's code cells, the parameters, the lock file, Python, and every
  environment setting that changes numbers (``SETTINGS``, the accelerator);
- ``library_code``: the library code its kernel executed (``executed_code``), by meaning.

The notebook's prose is not an input: a source notebook whose markdown alone changed is
re-rendered with its stored outputs (``render``), not executed again.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path

from greedy.pipeline import compile_cache, executed_code, publish
from greedy.pipeline.manifest import Experiment, Study

# Environment variables that change what a kernel computes (XLA_FLAGS as the kernel receives it).
SETTINGS = (
    "XLA_FLAGS",
    "KERAS_BACKEND",
    "JAX_PLATFORMS",
    "JAX_ENABLE_X64",
    "JAX_DEFAULT_MATMUL_PRECISION",
    "TF_ENABLE_ONEDNN_OPTS",
)


def library_folders(study: Study) -> dict[str, Path]:
    """Each library package's folder, as the kernels import it."""
    folders = {}
    for name in study.library:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            raise ValueError(f"study library {name!r} is not an importable package")
        folders[name] = Path(next(iter(spec.submodule_search_locations))).resolve()
    return folders


def accelerator() -> str:
    """The GPU models this machine's driver reports, or ``cpu`` (read without starting JAX)."""
    models = []
    for info in sorted(Path("/proc/driver/nvidia/gpus").glob("*/information")):
        models += [line.split(":", 1)[1].strip() for line in info.read_text().splitlines() if line.startswith("Model")]
    return ", ".join(models) or ("gpu" if compile_cache.has_gpu() else "cpu")


def settings() -> dict[str, str]:
    values = {key: os.environ.get(key, "") for key in SETTINGS}
    values["XLA_FLAGS"] = compile_cache.xla_flags(values["XLA_FLAGS"])
    return values | {"accelerator": accelerator(), "machine": platform.machine()}


# 3: an import of several names counts as one statement per name; 2: a module's own statements count by
# the names the run read; 1: all of them, as one digest.
LIBRARY_CODE_VERSION = 3


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _code_cells(path: Path) -> list[tuple[str, bool]]:
    """A notebook's code cells: (source, whether it holds the parameters)."""
    return [
        (
            cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"]),
            "parameters" in cell.get("metadata", {}).get("tags", []),
        )
        for cell in json.loads(path.read_text())["cells"]
        if cell["cell_type"] == "code"
    ]


def notebook_code(path: Path) -> str:
    """Digest of a notebook's code cells (their source and which holds the parameters), not its prose."""
    return _sha(json.dumps([list(cell) for cell in _code_cells(path)]).encode())


def notebook_names(path: Path) -> set[str]:
    """The identifiers a notebook's code may read from the library."""
    return executed_code.code_identifiers("\n".join(source for source, _ in _code_cells(path)))


def used_results(exp: Experiment, book_dir: Path) -> dict[str, dict[str, str] | None]:
    """For each experiment ``exp`` uses: the digest of each results CSV its run published (None: never run)."""
    used: dict[str, dict[str, str] | None] = {}
    for name in exp.uses:
        try:
            outputs = json.loads((book_dir / publish.RUN_RECORD.format(name=name)).read_text())["outputs"]
            csvs = [f for f in sorted(outputs) if f.startswith("results/") and f.endswith(".csv")]
            used[name] = {f: _sha((book_dir / f).read_bytes()) for f in csvs}
        except (OSError, ValueError, KeyError):
            used[name] = None
    return used


def inputs(exp: Experiment, study: Study) -> dict[str, object]:
    lock = study.root / "requirements.lock"
    found = {
        "notebook_code": notebook_code(exp.notebook),
        "parameters": exp.parameters,
        "lock": _sha(lock.read_bytes()) if lock.exists() else "",
        "python": platform.python_version(),
        "settings": settings(),
    }
    return found | ({"uses": used_results(exp, study.book_dir)} if exp.uses else {})


def _entries_changed(what: str, old: dict, new: dict) -> list[str]:
    return [f"{what} {k}: {old.get(k)!r} -> {new.get(k)!r}" for k in sorted(old | new) if old.get(k) != new.get(k)]


def _input_changes(recorded: dict, current: dict) -> list[str]:
    why = []
    if recorded.get("notebook_code") != current["notebook_code"]:
        why.append("notebook: its code cells changed")
    why += _entries_changed("parameter", recorded.get("parameters", {}), current["parameters"])
    if recorded.get("lock") != current["lock"]:
        why.append("requirements.lock changed")
    if recorded.get("python") != current["python"]:
        why.append(f"Python {recorded.get('python')} -> {current['python']}")
    why += _entries_changed("setting", recorded.get("settings", {}), current["settings"])
    used_before, used_now = recorded.get("uses", {}), current.get("uses", {})
    for name in sorted(used_before | used_now):
        if used_now.get(name) is None:
            why.append(f"uses {name}, which has no published results here")
        elif used_before.get(name) != used_now[name]:
            why.append(f"uses {name}, whose results changed")
    return why


@dataclass(frozen=True)
class State:
    """An experiment's published outputs: stale (with the reasons), to re-render, or up to date."""

    reasons: list[str] = field(default_factory=list)
    rerender: bool = False  # the prose changed, nothing the outputs depend on did

    @property
    def up_to_date(self) -> bool:
        return not self.reasons and not self.rerender


def run_record_path(exp: Experiment, book_dir: Path) -> Path:
    return book_dir / publish.RUN_RECORD.format(name=exp.name)


def state(exp: Experiment, study: Study) -> State:
    """Compare the run record with the current inputs and library code."""
    publish.settle(study.book_dir)
    try:
        record = json.loads(run_record_path(exp, study.book_dir).read_text())
    except (OSError, ValueError):
        return State(["never run here (no run record)"])
    outputs = record.get("outputs") or [f"{exp.name}.ipynb", exp.results_name()]
    missing = [f for f in outputs if not (study.book_dir / f).is_file()]
    if missing:
        return State([f"output {f} is missing" for f in missing])
    if "library_code" not in record or "inputs" not in record:
        return State(["its run record predates the record of executed code"])
    if record.get("library_code_version") != LIBRARY_CODE_VERSION:
        return State(["its run record predates the record of module statements by the names read"])
    current = executed_code.snapshot(library_folders(study))
    why = _input_changes(record["inputs"], inputs(exp, study))
    why += executed_code.changes(record["library_code"], current, notebook_names(exp.notebook))
    return State(why, rerender=record.get("notebook") != notebook_digest(exp.notebook))


def notebook_digest(path: Path) -> str:
    """Digest of the whole source notebook, prose included (a change to it alone means re-render)."""
    return _sha(path.read_bytes())
