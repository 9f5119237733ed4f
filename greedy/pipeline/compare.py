"""Compare the study's outputs with those of a git revision: every record but its wall-clock time, and
every glued value (under a new name where a rename map says so). For checking that a change of the
code reproduced the study."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pandas as pd

from greedy.pipeline.manifest import Study
from greedy.pipeline.readme import glued_values

TIMING_COLUMNS = ("wall_seconds",)


def _at_revision(root: Path, revision: str, path: Path, missing_ok: bool = False) -> str | None:
    """The file's text at ``revision``; None if it is not there and ``missing_ok``."""
    relative = path.relative_to(root).as_posix()
    out = subprocess.run(["git", "show", f"{revision}:{relative}"], cwd=root, capture_output=True, text=True)
    if out.returncode != 0:
        if missing_ok:
            return None
        raise ValueError(f"{relative} is not in revision {revision!r}: {out.stderr.strip()}")
    return out.stdout


def _records_differ(old: pd.DataFrame, new: pd.DataFrame) -> str:
    """Where ``new`` differs from ``old`` in any of ``old``'s columns (already under their new names);
    columns that ``new`` adds are not differences."""
    old, new = (df.drop(columns=[c for c in TIMING_COLUMNS if c in df]) for df in (old, new))
    if gone := [c for c in old.columns if c not in new.columns]:
        return f"columns {gone} are gone"
    if len(old) != len(new):
        return f"{len(old)} rows -> {len(new)}"
    try:
        pd.testing.assert_frame_equal(old, new[old.columns], check_exact=True)
    except AssertionError as err:
        return " ".join(str(err).split())
    return ""


def _glue_differs(old: dict, new: dict, renamed: dict[str, str]) -> list[str]:
    problems = []
    for key, value in old.items():
        new_key = renamed.get(key, key)
        if new_key not in new:
            problems.append(f"glued {key!r} is gone (looked for {new_key!r})")
        elif new[new_key] != value and not (value != value and new[new_key] != new[new_key]):  # NaN == NaN
            problems.append(f"glued {key!r}: {value!r} -> {new[new_key]!r}")
    return problems


def check_revision(root: Path, revision: str) -> None:
    """Refuse a revision that names no commit (every experiment would otherwise count as new)."""
    out = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", "--end-of-options", f"{revision}^{{commit}}"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise ValueError(f"revision {revision!r} is not a commit of the repository at {root}")


def compare(
    study: Study, revision: str, renamed: dict[str, dict[str, str]]
) -> tuple[list[str], list[str], dict[str, list[str]]]:
    """Differences between the current outputs and ``revision``'s, one line each (empty: identical),
    the experiments that ``revision`` does not have (nothing to compare them with), and per
    experiment the record columns added since.

    ``renamed`` maps an experiment to {old name: new name}, of glue keys and record columns alike.
    """
    check_revision(study.root, revision)
    problems, new, added = [], [], {}
    for exp in study.experiments.values():
        results = study.book_dir / exp.results_name()
        old_results = _at_revision(study.root, revision, results, missing_ok=True)
        if old_results is None:
            new.append(exp.name)
            continue
        renames = renamed.get(exp.name, {})
        old, current = pd.read_csv(io.StringIO(old_results)).rename(columns=renames), pd.read_csv(results)
        if difference := _records_differ(old, current):
            problems.append(f"{exp.name}: records differ: {difference}")
        if columns := [c for c in current.columns if c not in set(old.columns)]:
            added[exp.name] = columns
        notebook = exp.output_notebook(study.book_dir)
        old_glue = glued_values(_at_revision(study.root, revision, notebook))
        new_glue = glued_values(notebook)
        problems += [f"{exp.name}: {p}" for p in _glue_differs(old_glue, new_glue, renames)]
    return problems, new, added


def load_renames(path: str | None) -> dict[str, dict[str, str]]:
    """A JSON file {experiment: {old name: new name}} (glue keys and record columns), or no renames."""
    return json.loads(Path(path).read_text()) if path else {}
