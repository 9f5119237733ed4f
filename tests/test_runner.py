"""The runner: skips what is up to date, writes atomically, reports failures, runs on Dask."""

import json
import os
import subprocess
import sys
import textwrap

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from greedy.distributed import core_groups
from greedy.manifest import apply_overrides, load_study, parse_overrides
from greedy.runner import ExperimentFailed, execute, is_up_to_date, last_seconds, run_study

TRAIN = """
import greedy
cfg = greedy.TrainConfig(epochs=2, n_added_layers=1)
df = greedy.to_frame(greedy.run("supervised_greedy", greedy.blobs(), cfg, seeds=list(range(seeds))))
greedy.save_frame(df, results_path)
print(df.test_accuracy.round(3).tolist())
"""

CORES = """
import os
import pandas as pd
pd.DataFrame({"core": sorted(os.sched_getaffinity(0))}).to_csv(results_path, index=False)
"""


def _notebook(path, body):
    params = new_code_cell("seeds = 2\nresults_path = 'x.csv'")
    params.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[params, new_code_cell(textwrap.dedent(body))])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


@pytest.fixture
def project(tmp_path):
    (tmp_path / "book" / "sources").mkdir(parents=True)
    _notebook(tmp_path / "book" / "sources" / "train.ipynb", TRAIN)
    _notebook(tmp_path / "book" / "sources" / "fails.ipynb", "raise ZeroDivisionError('on purpose')")
    _notebook(tmp_path / "book" / "sources" / "dies.ipynb", "import os\nos._exit(3)")
    _notebook(tmp_path / "book" / "sources" / "cores.ipynb", CORES)
    (tmp_path / "study.yml").write_text(
        textwrap.dedent(
            """
            experiments:
              train: {notebook: book/sources/train.ipynb, parameters: {seeds: 2}}
              other: {notebook: book/sources/train.ipynb, parameters: {seeds: 3}}
              fails: {notebook: book/sources/fails.ipynb}
              dies: {notebook: book/sources/dies.ipynb}
              cores_a: {notebook: book/sources/cores.ipynb}
              cores_b: {notebook: book/sources/cores.ipynb, parameters: {seeds: 3}}
            """
        )
    )
    return tmp_path


def test_runs_then_skips_then_reruns_on_changed_parameters(project, capfd):
    study = load_study(project)
    [exp] = study.select(["train"])
    assert execute(exp, study).status == "ran"
    # The kernel is reached over Unix sockets: ipykernel's warning for plain TCP never shows.
    assert "over TCP" not in capfd.readouterr().err
    assert (project / "book" / "train.ipynb").is_file()
    record = json.loads((project / "book" / "results" / "train.run.json").read_text())
    assert record["parameters"] == {"seeds": 2}
    # The kernel (a Python process importing NumPy and pandas) is sampled: at least tens of MiB.
    assert record["peak_memory_mib"] > 30 and last_seconds(exp, study) == record["seconds"]
    df = pd.read_csv(project / "book" / "results" / "train.csv")
    assert sorted(df.seed.unique()) == [0, 1]
    assert is_up_to_date(exp, study) and execute(exp, study).status == "skipped"
    [changed] = apply_overrides([exp], {"seeds": 3})
    assert not is_up_to_date(changed, study)
    executed = nbformat.read(project / "book" / "train.ipynb", 4)
    injected = next(c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert "results/train.csv" in injected.source and ".staging" not in injected.source


def test_failure_names_cell_and_error_and_leaves_nothing_complete(project):
    study = load_study(project)
    with pytest.raises(ExperimentFailed, match=r"'fails'.*fails\.ipynb, cell 2.*ZeroDivisionError: on purpose"):
        execute(study.select(["fails"])[0], study)
    assert not (project / "book" / "fails.ipynb").exists()
    assert not (project / "book" / "results" / "fails.run.json").exists()


def test_a_killed_run_leaves_nothing_that_passes_for_complete(project):
    study = load_study(project)
    [exp] = study.select(["dies"])
    with pytest.raises(Exception):  # noqa: B017 - the kernel dies: papermill's error type varies
        execute(exp, study)
    assert not (project / "book" / "dies.ipynb").exists()
    assert not is_up_to_date(exp, study)


def test_bad_selection_and_overrides_are_refused_before_work(project):
    study = load_study(project)
    with pytest.raises(ValueError, match="unknown experiment.*nope"):
        study.select(["nope"])
    with pytest.raises(ValueError, match="no parameter.*'epochs'.*accepted: seeds"):
        apply_overrides(study.select(["train"]), {"epochs": 3})
    with pytest.raises(ValueError, match="name=value"):
        parse_overrides(["seeds"])
    assert parse_overrides(["seeds=4", "depths=[2, 3]"]) == {"seeds": 4, "depths": [2, 3]}


def test_cli_lists_and_rejects(project):
    out = subprocess.run(
        [sys.executable, "-m", "greedy", "list", "--root", str(project)], capture_output=True, text=True, check=True
    )
    assert "train" in out.stdout and "to run" in out.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "greedy", "run", "train", "-p", "epochs=3", "--root", str(project)],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "no parameter" in bad.stderr


def test_dask_local_cluster_gives_the_serial_results(project, tmp_path_factory):
    study = load_study(project)
    serial = run_study(study, study.select(["train", "other"]))
    assert [o.status for o in serial] == ["ran", "ran"]
    expected = {n: pd.read_csv(project / "book" / "results" / f"{n}.csv") for n in ("train", "other")}
    for n in ("train", "other"):
        (project / "book" / "results" / f"{n}.run.json").unlink()
    on_dask = run_study(study, study.select(["train", "other"]), workers=2)
    assert [o.status for o in on_dask] == ["ran", "ran"]
    cols = ["seed", "depth", "train_accuracy", "test_accuracy", "final_loss"]
    for n, df in expected.items():
        again = pd.read_csv(project / "book" / "results" / f"{n}.csv")
        pd.testing.assert_frame_equal(again[cols], df[cols])


def test_cores_are_split_into_one_group_per_worker():
    assert core_groups([3, 0, 1, 2], 2) == [[0, 2], [1, 3]]
    assert core_groups([0, 1], 2) == [[0], [1]]
    assert core_groups([0, 1, 2], 1) is None  # one worker keeps every core
    assert core_groups([0, 1], 3) is None  # more workers than cores: nothing to pin


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2, reason="needs two cores")
def test_local_workers_run_kernels_on_cores_of_their_own(project):
    groups = core_groups(os.sched_getaffinity(0), 2)
    study = load_study(project)
    run_study(study, study.select(["cores_a", "cores_b"]), workers=2)
    for name in ("cores_a", "cores_b"):
        seen = pd.read_csv(project / "book" / "results" / f"{name}.csv").core.tolist()
        assert seen in groups
    serial = run_study(study, study.select(["cores_a"]), force=True)
    assert serial[0].status == "ran"  # a serial run pins nothing
    assert pd.read_csv(project / "book" / "results" / "cores_a.csv").core.tolist() == sorted(os.sched_getaffinity(0))


def test_dask_starts_the_longest_first_and_sends_work_only_to_free_workers(project):
    # By their last recorded seconds, on two workers: long on one, the three others one after the
    # other on the second, all done before long. Queued behind long, one would finish after it.
    runs = {"long": (100, 8), "mid": (50, 1), "short": (10, 0), "shortest": (5, 0)}  # seconds, sleep
    (project / "book" / "results").mkdir(parents=True, exist_ok=True)
    with open(project / "study.yml", "a") as f:
        for name, (seconds, sleep) in runs.items():
            _notebook(project / "book" / "sources" / f"{name}.ipynb", f"import time\ntime.sleep({sleep})\n" + CORES)
            f.write(f"  {name}: {{notebook: book/sources/{name}.ipynb}}\n")
            (project / "book" / "results" / f"{name}.run.json").write_text(json.dumps({"seconds": seconds}))
    study = load_study(project)
    run_study(study, study.select(sorted(runs)), workers=2)
    done = {n: (project / "book" / "results" / f"{n}.run.json").stat().st_mtime for n in runs}
    assert done["mid"] < done["short"] < done["shortest"] < done["long"]
