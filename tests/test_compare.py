"""greedy compare: the study's outputs against a git revision's, renamed glue keys followed."""

import json
import subprocess
from pathlib import Path

from greedy.pipeline.compare import compare
from greedy.pipeline.manifest import load_study


def _executed(path: Path, glued: dict) -> None:
    outputs = [
        {
            "output_type": "display_data",
            "data": {"application/papermill.record/text/plain": repr(v)},
            "metadata": {"scrapbook": {"name": k, "mime_prefix": "application/papermill.record/"}},
        }
        for k, v in glued.items()
    ]
    params = {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": "results_path = 'r.csv'"}
    cells = [params | {"outputs": [], "execution_count": None}]
    cells.append({"cell_type": "code", "metadata": {}, "source": "", "outputs": outputs, "execution_count": 1})
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))


def _git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@t", "-c", "user.name=t", *args], cwd=root, check=True, capture_output=True
    )


def _committed_study(root: Path, glued: dict, records: str) -> Path:
    """A study of one experiment ``exp`` with these glued values and records, committed; its results file."""
    (root / "book" / "results").mkdir(parents=True)
    (root / "study.yml").write_text("experiments: {exp: {notebook: book/exp.ipynb}}\n")
    _executed(root / "book" / "exp.ipynb", glued)
    results = root / "book" / "results" / "exp.csv"
    results.write_text(records)
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-qm", "old")
    return results


def test_compare_finds_changed_records_and_glue_and_follows_renames(tmp_path):
    _committed_study(tmp_path, {"c0_diff": 0.5, "n": 3}, "seed,acc,wall_seconds\n0,0.8,1.0\n1,0.7,2.0\n")
    study = load_study(tmp_path)

    # Renamed key, same values, other wall-clock times: identical.
    _executed(tmp_path / "book" / "exp.ipynb", {"relu_diff": 0.5, "n": 3})
    (tmp_path / "book" / "results" / "exp.csv").write_text("seed,acc,wall_seconds\n0,0.8,9.0\n1,0.7,9.0\n")
    assert compare(study, "HEAD", {"exp": {"c0_diff": "relu_diff"}}) == ([], [], {})
    assert compare(study, "HEAD", {})[0] == ["exp: glued 'c0_diff' is gone (looked for 'c0_diff')"]

    # A changed number, in the records or in the glue, is reported.
    _executed(tmp_path / "book" / "exp.ipynb", {"relu_diff": 0.51, "n": 3})
    (tmp_path / "book" / "results" / "exp.csv").write_text("seed,acc,wall_seconds\n0,0.8,9.0\n1,0.71,9.0\n")
    problems, _, _ = compare(study, "HEAD", {"exp": {"c0_diff": "relu_diff"}})
    assert problems[0].startswith("exp: records differ") and problems[1] == "exp: glued 'c0_diff': 0.5 -> 0.51"


def test_renamed_and_added_record_columns_are_followed_and_moved_columns_still_compared(tmp_path):
    results = _committed_study(tmp_path, {"n": 3}, "seed,acc,variant\n0,0.8,a\n1,0.7,b\n")
    study = load_study(tmp_path)

    # ``variant`` renamed ``design``, columns reordered, one added: identical, the added one named.
    results.write_text("design,acc,seed,lr\na,0.8,0,0.1\nb,0.7,1,0.1\n")
    assert compare(study, "HEAD", {"exp": {"variant": "design"}}) == ([], [], {"exp": ["lr"]})
    problems, _, _ = compare(study, "HEAD", {})
    assert problems == ["exp: records differ: columns ['variant'] are gone"]

    # A renamed column whose values changed is a difference.
    results.write_text("design,acc,seed\na,0.8,0\nc,0.7,1\n")
    problems, _, _ = compare(study, "HEAD", {"exp": {"variant": "design"}})
    assert len(problems) == 1 and problems[0].startswith("exp: records differ") and "design" in problems[0]


def test_an_experiment_the_revision_lacks_is_named_not_failed(tmp_path):
    _committed_study(tmp_path, {"n": 3}, "seed,acc\n0,0.8\n")
    (tmp_path / "study.yml").write_text(
        "experiments: {exp: {notebook: book/exp.ipynb}, newer: {notebook: book/newer.ipynb}}\n"
    )
    _executed(tmp_path / "book" / "newer.ipynb", {"n": 1})
    (tmp_path / "book" / "results" / "newer.csv").write_text("seed,acc\n0,0.9\n")
    assert compare(load_study(tmp_path), "HEAD", {}) == ([], ["newer"], {})
