"""Faults other than a kill: publishing that checks before it commits and never leaves the book
stuck or mixed, bad addresses and revisions, Ctrl-C, and exploration folders that never collide.

File-system faults are injected (``os.replace`` or ``os.access`` failing as a read-only folder, a
second file system or a full disk make them fail): the tests run as root, for whom every folder
is writable.
"""

import errno
import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from greedy.pipeline import cli, publish
from greedy.pipeline.manifest import exploration, load_study
from greedy.pipeline.runner import execute

ROOT = Path(__file__).resolve().parents[1]

WRITE = """
import pandas as pd
pd.DataFrame({"seed": range(n_seeds)}).to_csv(results_path, index=False)
"""


@pytest.fixture
def project(tmp_path):
    (tmp_path / "book" / "sources").mkdir(parents=True)
    params = new_code_cell("n_seeds = 2\nresults_path = 'x.csv'")
    params.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[params, new_code_cell(WRITE)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "book" / "sources" / "write.ipynb")
    (tmp_path / "study.yml").write_text("experiments:\n  write: {notebook: book/sources/write.ipynb}\n")
    return tmp_path


def _set_seeds(project, n):
    (project / "study.yml").write_text(
        f"experiments:\n  write: {{notebook: book/sources/write.ipynb, parameters: {{n_seeds: {n}}}}}\n"
    )


def _published(project) -> tuple[int, int]:
    book = project / "book"
    csv_rows = len((book / "results" / "write.csv").read_text().splitlines()) - 1
    record = json.loads((book / "results" / "write.run.json").read_text())
    return csv_rows, record["parameters"].get("n_seeds", 2)


def _run(project):
    study = load_study(project)
    return execute(study.select(["write"])[0], study)


def test_a_target_folder_that_cannot_take_the_outputs_is_found_before_the_commit(project, monkeypatch):
    assert _run(project).status == "ran"
    _set_seeds(project, 3)
    results = project / "book" / "results"
    real_access = publish.os.access
    monkeypatch.setattr(publish.os, "access", lambda p, mode: real_access(p, mode) and Path(p) != results)
    with pytest.raises(publish.PublishError, match=r"results is not writable; nothing was published"):
        _run(project)
    assert _published(project) == (2, 2) and publish.pending(project / "book") == []


def test_another_file_system_is_found_before_the_commit(project, monkeypatch):
    assert _run(project).status == "ran"
    _set_seeds(project, 3)
    staging = project / "book" / publish.STAGING
    real_device = publish._device

    def device(path):  # every folder but the staging one on a second file system
        return real_device(path) + (0 if Path(path).is_relative_to(staging) else 1)

    monkeypatch.setattr(publish, "_device", device)
    with pytest.raises(publish.PublishError, match="on another file system"):
        _run(project)
    assert _published(project) == (2, 2)


def test_a_move_that_fails_after_the_commit_is_reported_in_one_line_and_completed_later(project, monkeypatch, capsys):
    assert _run(project).status == "ran"
    _set_seeds(project, 3)
    real_replace = publish.os.replace
    moves = []

    staged = publish.staging_dir(project / "book", "write")

    def failing_replace(src, dst):
        if Path(src).is_relative_to(staged):  # a publishing move, not a journal write
            moves.append(dst)
            if len(moves) >= 2:  # the first move went through: the book is mixed until recovery
                raise OSError(errno.EXDEV, "Invalid cross-device link", str(src))
        real_replace(src, dst)

    monkeypatch.setattr(publish.os, "replace", failing_replace)
    with pytest.raises(publish.PublishError, match="stopped at .*Invalid cross-device link.*next greedy command"):
        _run(project)
    assert publish.pending(project / "book") == ["write"]
    # While the fault lasts, every reader says so in one line instead of a traceback.
    capsys.readouterr()
    assert cli.main(["list", "--root", str(project)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "publishing 'write' stopped" in err and "Traceback" not in err
    # Once it is gone, the next reader completes the publication: all new, nothing stuck.
    monkeypatch.setattr(publish.os, "replace", real_replace)
    assert cli.main(["list", "--root", str(project)]) == 0
    assert "up to date" in capsys.readouterr().out
    assert _published(project) == (3, 3) and publish.pending(project / "book") == []


def test_a_reader_completes_a_pending_publication_only_under_the_run_lock(project, monkeypatch):
    assert _run(project).status == "ran"
    _set_seeds(project, 3)
    monkeypatch.setattr(publish, "_complete", lambda book, name: None)  # killed right after the commit
    _run(project)
    monkeypatch.undo()
    book = project / "book"
    assert publish.pending(book) == ["write"]
    with publish.exclusive_run(book):  # a run is publishing: the reader leaves its journal alone
        publish.settle(book)
        assert publish.pending(book) == ["write"]
    publish.settle(book)
    assert publish.pending(book) == [] and _published(project) == (3, 3)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["compare", "nosuchrev"], "revision 'nosuchrev' is not a commit"),
        (["compare", "HEAD~100000"], "revision 'HEAD~100000' is not a commit"),
        (["run", "problem", "--scheduler", ""], "--scheduler '' is not an address"),
        (["run", "problem", "--workers", "100000"], "--workers must be from 0 to"),
        (["run", "problem", "--scheduler", "tls://127.0.0.1:1", "--tls-ca-file", "/no/such.pem"], "no such file"),
    ],
)
def test_bad_arguments_fail_in_one_line_before_any_work(argv, message, capsys):
    assert cli.main([*argv, "--root", str(ROOT)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_a_plain_tcp_scheduler_is_warned_about(capsys):
    assert cli.main(["run", "problem", "--scheduler", "tcp://127.0.0.1:1", "--root", str(ROOT)]) == 2
    err = capsys.readouterr().err
    assert "warning: a tcp:// scheduler is neither encrypted nor authenticated" in err


def test_ctrl_c_is_one_line(monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_command", interrupted)
    assert cli.main(["list"]) == 130
    err = capsys.readouterr().err
    assert err.startswith("greedy: interrupted") and err.count("\n") == 1


def test_long_override_sets_get_folders_of_their_own(project):
    study = load_study(project)
    exps = study.select(["write"])
    first = exploration(study, exps, {"n_seeds": 1, "note": "x" * 300})
    second = exploration(study, exps, {"n_seeds": 2, "note": "x" * 300})
    assert first.book_dir != second.book_dir and len(first.book_dir.name) <= 200
    assert exploration(study, exps, {"n_seeds": 3}).book_dir.name == "write--n_seeds=3"


def _stage(book: Path, name: str, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = publish.staging_dir(book, name) / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_publishing_replaces_the_outputs_deletes_the_stale_ones_and_keeps_those_it_is_told(tmp_path):
    (tmp_path / "results").mkdir()
    previous = ["results/x.csv", "results/old.png", "results/kept.png", "results/x.run.json"]
    for relative in previous:
        (tmp_path / relative).write_text(json.dumps({"outputs": previous}) if relative.endswith(".json") else "old")
    _stage(tmp_path, "x", {"results/x.csv": "new", "results/x.run.json": "{}"})
    publish.publish(tmp_path, "x", keep=["results/kept.png"])
    assert (tmp_path / "results" / "x.csv").read_text() == "new"
    assert (tmp_path / "results" / "x.run.json").read_text() == "{}"
    assert not (tmp_path / "results" / "old.png").exists()  # published before, not now: stale
    assert (tmp_path / "results" / "kept.png").read_text() == "old"
    assert publish.pending(tmp_path) == [] and not publish.staging_dir(tmp_path, "x").exists()


def test_only_a_run_discards_staging_that_never_committed(tmp_path):
    (tmp_path / "results").mkdir()
    _stage(tmp_path, "x", {"results/x.csv": "half"})  # no journal: the commit point was never reached
    torn = tmp_path / publish.STAGING / ".x.publish.1234.partial"  # a journal cut off while written
    torn.write_text("{")
    publish.recover(tmp_path, discard_incomplete=False)  # a reader: another run may be staging
    assert (publish.staging_dir(tmp_path, "x") / "results" / "x.csv").exists() and torn.exists()
    publish.recover(tmp_path, discard_incomplete=True)  # a run, under the run lock
    assert list((tmp_path / publish.STAGING).iterdir()) == []
    assert not (tmp_path / "results" / "x.csv").exists()
