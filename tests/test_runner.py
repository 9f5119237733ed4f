"""The runner: skips what is up to date, writes atomically, reports failures, runs on Dask."""

import json
import math
import os
import subprocess
import sys
import textwrap

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from greedy.pipeline.dispatch import core_groups, feed_free_workers, run_study
from greedy.pipeline.manifest import apply_overrides, load_study, parse_overrides
from greedy.pipeline.runner import ExperimentFailed, execute, is_up_to_date, last_seconds

TRAIN = """
import greedy
cfg = greedy.TrainConfig(epochs=2, n_added_layers=1)
df = greedy.to_frame(greedy.run("supervised_greedy", greedy.blobs(), cfg, seeds=range(n_seeds)))
greedy.save_frame(df, results_path)
print(df.test_accuracy.round(3).tolist())
"""

CORES = """
import os
import pandas as pd
cores = sorted(os.sched_getaffinity(0))
pd.DataFrame({"core": cores, "arenas": os.environ.get("MALLOC_ARENA_MAX")}).to_csv(results_path, index=False)
"""


def _notebook(path, body):
    params = new_code_cell("n_seeds = 2\nresults_path = 'x.csv'")
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
              train: {notebook: book/sources/train.ipynb, parameters: {n_seeds: 2}}
              other: {notebook: book/sources/train.ipynb, parameters: {n_seeds: 3}}
              fails: {notebook: book/sources/fails.ipynb}
              dies: {notebook: book/sources/dies.ipynb}
              cores_a: {notebook: book/sources/cores.ipynb}
              cores_b: {notebook: book/sources/cores.ipynb, parameters: {n_seeds: 3}}
            """
        )
    )
    return tmp_path


def test_runs_then_skips_then_reruns_on_changed_parameters(project, capfd):
    study = load_study(project)
    [exp] = study.select(["train"])
    assert last_seconds(exp, study) == float("inf")  # never timed: dispatched first
    assert execute(exp, study).status == "ran"
    # The kernel is reached over Unix sockets: ipykernel's warning for plain TCP never shows.
    assert "over TCP" not in capfd.readouterr().err
    assert (project / "book" / "train.ipynb").is_file()
    record = json.loads((project / "book" / "results" / "train.run.json").read_text())
    assert record["parameters"] == {"n_seeds": 2}
    # The kernel (a Python process importing NumPy and pandas) is sampled: at least tens of MiB.
    assert record["peak_memory_mib"] > 30 and last_seconds(exp, study) == record["seconds"]
    df = pd.read_csv(project / "book" / "results" / "train.csv")
    assert sorted(df.seed.unique()) == [0, 1]
    assert is_up_to_date(exp, study) and execute(exp, study).status == "skipped"
    [changed] = apply_overrides([exp], {"n_seeds": 3})
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
    with pytest.raises(ValueError, match="no parameter.*'epochs'.*accepted: n_seeds"):
        apply_overrides(study.select(["train"]), {"epochs": 3})
    with pytest.raises(ValueError, match="name=value"):
        parse_overrides(["seeds"])
    assert parse_overrides(["n_seeds=4", "depths=[2, 3]"]) == {"n_seeds": 4, "depths": [2, 3]}


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


def test_dask_local_cluster_gives_the_serial_results(project, capfd, monkeypatch):
    monkeypatch.delenv("DASK_LOGGING__DISTRIBUTED", raising=False)
    study = load_study(project)
    serial = run_study(study, study.select(["train", "other"]))
    assert [o.status for o in serial] == ["ran", "ran"]
    err = capfd.readouterr().err
    assert "greedy: train: started" in err and "greedy: other: ran in" in err and "(2 of 2 done)" in err
    expected = {n: pd.read_csv(project / "book" / "results" / f"{n}.csv") for n in ("train", "other")}
    for n in ("train", "other"):
        (project / "book" / "results" / f"{n}.run.json").unlink()
    on_dask = run_study(study, study.select(["train", "other"]), workers=2)
    assert [o.status for o in on_dask] == ["ran", "ran"]
    # One line per experiment as it starts and ends; Dask's INFO logs stay out of the terminal.
    err = capfd.readouterr().err
    assert err.count("greedy: train: started") == 1 and "greedy: other: ran in" in err
    assert " - INFO - " not in err
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


def test_kernels_hold_at_most_two_glibc_heaps_unless_the_user_chose(project, monkeypatch):
    study = load_study(project)
    for chosen, seen in ((None, 2), ("4", 4)):
        if chosen is None:
            monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
        else:
            monkeypatch.setenv("MALLOC_ARENA_MAX", chosen)
        run_study(study, study.select(["cores_a"]), force=True)
        assert pd.read_csv(project / "book" / "results" / "cores_a.csv").arenas.tolist()[0] == seen
        assert os.environ.get("MALLOC_ARENA_MAX") == chosen  # the runner's own environment is left as it was


class _SimulatedCluster:
    """Workers that each run one task at a time; a task takes its given duration on a simulated clock.

    ``submit`` fails when more tasks are sent than there are free workers (Dask would queue them
    behind a busy worker while another idles); ``as_completed`` yields tasks in the order they finish.
    """

    def __init__(self, workers: int, durations: dict[str, float]) -> None:
        self.free, self.durations, self.now = workers, durations, 0.0
        self.finished: dict[str, float] = {}

    def submit(self, name: str):
        assert self.free > 0, f"{name} was sent while every worker was busy"
        self.free -= 1
        return _Task(name, self.now + self.durations[name])

    def as_completed(self, tasks: list):
        cluster = self

        class Pending:
            def __init__(self) -> None:
                self.tasks = list(tasks)

            def add(self, task) -> None:
                self.tasks.append(task)

            def __iter__(self):
                while self.tasks:
                    task = min(self.tasks, key=lambda t: t.end)
                    self.tasks.remove(task)
                    cluster.now, cluster.finished[task.name] = task.end, task.end
                    cluster.free += 1
                    yield task

        return Pending()


class _Task:
    def __init__(self, name: str, end: float) -> None:
        self.name, self.end = name, end

    def result(self) -> str:
        return self.name


def test_free_workers_are_fed_in_order_and_never_sent_more_than_they_can_take():
    # Longest first on two workers: long on one, the three others one after another on the second.
    durations = {"long": 100.0, "mid": 50.0, "short": 10.0, "shortest": 5.0}
    cluster = _SimulatedCluster(2, durations)
    done = list(feed_free_workers(["long", "mid", "short", "shortest"], 2, cluster.submit, cluster.as_completed))
    assert sorted(done) == sorted(durations)
    assert cluster.finished == {"mid": 50.0, "short": 60.0, "shortest": 65.0, "long": 100.0}
    # Sending every task at once is what the simulated cluster refuses.
    with pytest.raises(AssertionError, match="every worker was busy"):
        list(feed_free_workers(["long", "mid", "short"], 3, _SimulatedCluster(2, durations).submit, list))


def test_dask_runs_the_longest_first(project, monkeypatch):
    """run_on_dask hands feed_free_workers the experiments longest first, by their last recorded time."""
    runs = {"train": 5, "other": 50}
    (project / "book" / "results").mkdir(parents=True, exist_ok=True)
    for name, seconds in runs.items():
        (project / "book" / "results" / f"{name}.run.json").write_text(json.dumps({"seconds": seconds}))
    order: list = []

    def record_order(items, slots, submit, as_completed):
        order.extend(e.name for e in items)
        yield from (submit(e).result() for e in items)

    monkeypatch.setattr("greedy.pipeline.dispatch.feed_free_workers", record_order)
    study = load_study(project)
    run_study(study, study.select(["train", "other"]), workers=2)
    assert order == ["other", "train"]


KILLED_RUN = """
import os, shutil, sys
from greedy.pipeline import publish
from greedy.pipeline.manifest import load_study
from greedy.pipeline.runner import execute

root, step = sys.argv[1], sys.argv[2]
study = load_study(root)
moves = {"count": 0, "armed": False}
real_replace, real_publish, real_complete = os.replace, publish.publish, publish._complete


def replace(src, dst):
    real_replace(src, dst)
    if moves["armed"]:
        moves["count"] += 1
        if step == f"after move {moves['count']}":
            os._exit(9)


def publish_(book, name):
    if step == "before the journal":
        os._exit(9)
    real_publish(book, name)


def complete(book, name):
    moves["armed"] = True
    if step == "after the journal":
        os._exit(9)
    real_complete(book, name)


os.replace, publish.publish, publish._complete = replace, publish_, complete
execute(study.select(["train"])[0], study)
"""

KILL_STEPS = ["before the journal", "after the journal", "after move 1", "after move 2", "after move 3"]


def _published(project) -> tuple[int, int, int]:
    """Seeds in the published CSV, in the published notebook's parameters, and in the run record."""
    book = project / "book"
    csv_seeds = pd.read_csv(book / "results" / "train.csv").seed.nunique()
    injected = next(
        c for c in nbformat.read(book / "train.ipynb", 4).cells if "injected-parameters" in c.metadata.get("tags", [])
    )
    notebook_seeds = int(injected.source.split("n_seeds = ")[1].split()[0])
    record_seeds = json.loads((book / "results" / "train.run.json").read_text())["parameters"]["n_seeds"]
    return csv_seeds, notebook_seeds, record_seeds


@pytest.mark.parametrize("step", KILL_STEPS)
def test_a_kill_at_any_step_publishes_all_old_or_all_new_outputs(project, step):
    study = load_study(project)
    assert execute(study.select(["train"])[0], study).status == "ran"
    assert _published(project) == (2, 2, 2)
    manifest = project / "study.yml"
    manifest.write_text(
        manifest.read_text().replace(
            "train: {notebook: book/sources/train.ipynb, parameters: {n_seeds: 2}}",
            "train: {notebook: book/sources/train.ipynb, parameters: {n_seeds: 3}}",
        )
    )
    killed = subprocess.run([sys.executable, "-c", KILLED_RUN, str(project), step], capture_output=True, text=True)
    assert killed.returncode == 9, killed.stderr[-2000:]

    study = load_study(project)
    [exp] = study.select(["train"])
    committed = step != "before the journal"
    # greedy list tells the truth: a committed publication is completed, an uncommitted one is not there.
    assert is_up_to_date(exp, study) is committed
    assert _published(project) == ((3, 3, 3) if committed else (2, 2, 2))
    # A re-run finishes exactly what is missing, and leaves no staging behind.
    [outcome] = run_study(study, [exp])
    assert outcome.status == ("skipped" if committed else "ran")
    assert _published(project) == (3, 3, 3)
    assert not any((project / "book" / "results" / ".staging").iterdir())


def test_staged_files_are_matched_by_exact_name_and_published_like_any_file(project):
    # Another experiment's staged outputs whose name starts with this one's are left alone.
    other = project / "book" / "results" / ".staging" / "train_b" / "results"
    other.mkdir(parents=True)
    (other / "train_b.csv").write_text("seed\n7\n")
    study = load_study(project)
    assert execute(study.select(["train"])[0], study).status == "ran"
    assert (other / "train_b.csv").read_text() == "seed\n7\n"
    assert not (project / "book" / "results" / "train_b.csv").exists()
    umask = os.umask(0)
    os.umask(umask)
    for published in ("train.csv", "train.run.json"):
        assert (project / "book" / "results" / published).stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_run_with_other_parameters_lands_beside_the_book(project):
    out = subprocess.run(
        [sys.executable, "-m", "greedy", "run", "train", "-p", "n_seeds=3", "--root", str(project)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "runs/train--n_seeds=3" in out.stderr
    assert pd.read_csv(project / "runs" / "train--n_seeds=3" / "results" / "train.csv").seed.nunique() == 3
    assert not (project / "book" / "train.ipynb").exists()


def test_one_run_of_the_study_at_a_time(project):
    from greedy.pipeline.publish import StudyBusy, exclusive_run

    study = load_study(project)
    staged = project / "book" / "results" / ".staging" / "train"
    with exclusive_run(study.book_dir):
        staged.mkdir(parents=True)  # what the run holding the folder is writing
        with pytest.raises(StudyBusy, match="another greedy run is running"):
            run_study(study, study.select(["train"]))
        assert staged.is_dir()  # the second run discarded nothing


def test_the_efficiency_line_divides_the_work_by_workers_times_wall_time():
    from greedy.pipeline.dispatch import efficiency_line
    from greedy.pipeline.runner import Outcome

    outcomes = [Outcome("a", "ran", 300.0), Outcome("b", "ran", 100.0), Outcome("c", "skipped", 0.0)]
    line = efficiency_line(outcomes, 2, 250.0)
    assert "2 experiments, 400 s of work in 250 s on 2 workers: efficiency 0.80" in line
    assert "the longest experiment alone takes 300 s" in line
    assert efficiency_line(outcomes, 1, 250.0) is None and efficiency_line(outcomes[:1], 2, 250.0) is None


def test_balanced_parts_put_the_longest_first_each_into_the_lightest_group():
    from greedy.pipeline.dispatch import balanced_parts

    seconds = {"a": 790.0, "b": 620.0, "c": 500.0, "d": 365.0, "e": 310.0, "f": 4.0, "new": math.inf}
    parts = balanced_parts(list(seconds), seconds.get, 2)
    assert parts == [["new"], ["a", "b", "c", "d", "e", "f"]]  # unknown length: a group of its own
    two = balanced_parts([k for k in seconds if k != "new"], seconds.get, 2)
    assert sorted(x for p in two for x in p) == sorted(k for k in seconds if k != "new")
    assert two == [["a", "d", "f"], ["b", "c", "e"]] and [sum(seconds[x] for x in p) for p in two] == [1159, 1430]
    assert balanced_parts(["a"], seconds.get, 3) == [["a"]]


def test_kernels_get_the_cpu_compile_setting_once_and_never_over_a_users(monkeypatch):
    from greedy.pipeline import compile_cache

    monkeypatch.setattr(compile_cache, "has_gpu", lambda: False)
    monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=2")
    env = compile_cache.environment()
    assert env["XLA_FLAGS"] == f"--xla_force_host_platform_device_count=2 {compile_cache.CPU_XLA_FLAG}"
    assert compile_cache.xla_flags(env["XLA_FLAGS"]) == env["XLA_FLAGS"]  # added once
    assert compile_cache.xla_flags("--xla_backend_optimization_level=3") == "--xla_backend_optimization_level=3"
    monkeypatch.setattr(compile_cache, "has_gpu", lambda: True)
    assert compile_cache.xla_flags("") == ""  # the GPU's kernels keep XLA's default


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2, reason="needs two cores")
def test_programs_compiled_for_different_core_counts_never_share_a_cache_folder(monkeypatch, tmp_path):
    from greedy.pipeline import compile_cache

    monkeypatch.setenv("GREEDY_JAX_CACHE", str(tmp_path))
    cores = sorted(os.sched_getaffinity(0))
    script = (
        "from greedy.pipeline import compile_cache; print(compile_cache.environment()['JAX_COMPILATION_CACHE_DIR'])"
    )
    pinned = subprocess.run(
        [sys.executable, "-c", f"import os; os.sched_setaffinity(0, [{cores[0]}]); {script}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert pinned == str(tmp_path / "cores-1")
    assert compile_cache.cache_dir() == str(tmp_path / f"cores-{len(cores)}")
    monkeypatch.setenv("GREEDY_JAX_CACHE", "")
    assert compile_cache.cache_dir() == "" and "JAX_COMPILATION_CACHE_DIR" not in compile_cache.environment()
