"""The manifest is checked whole before anything runs, and agrees with the notebooks it names."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from greedy.pipeline.manifest import apply_overrides, exploration, in_waves, load_study, parse_overrides
from greedy.pipeline.parameters import declared_parameters

ROOT = Path(__file__).resolve().parent.parent
STUDY = load_study(ROOT)


@pytest.mark.parametrize("name", list(STUDY.experiments))
def test_notebook_defaults_equal_the_manifest(name):
    exp = STUDY.experiments[name]
    defaults = dict(declared_parameters(exp.notebook))
    assert defaults.pop("results_path") == f"results/{name}.csv"
    assert defaults == exp.parameters


def _notebook(path: Path, parameters: str | None = "n_seeds = 2\nrate = 0.5\nresults_path = 'x.csv'", extra=0):
    cells = [{"cell_type": "code", "metadata": {}, "source": "print(1)", "outputs": [], "execution_count": None}]
    tagged = [parameters] * (1 + extra) if parameters is not None else []
    for source in tagged:
        cells.insert(
            0,
            {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": source, "outputs": []}
            | {"execution_count": None},
        )
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))


@pytest.fixture
def project(tmp_path):
    (tmp_path / "book").mkdir()
    _notebook(tmp_path / "book" / "a.ipynb")
    _notebook(tmp_path / "book" / "untagged.ipynb", parameters=None)
    _notebook(tmp_path / "book" / "twice.ipynb", extra=1)
    return tmp_path


def _load(project: Path, manifest: str):
    (project / "study.yml").write_text(textwrap.dedent(manifest))
    return load_study(project)


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        (
            "experiments: {a: {notebook: book/a.ipynb, paramters: {n_seeds: 3}}}",
            r"'a'.*'paramters'.*accepted keys",
        ),
        ("experiments: {a: {notebook: book/a.ipynb}}\nextra: 1", r"top level.*'extra'"),
        ("experiments:\n  a: {notebook: book/a.ipynb}\n  a: {notebook: book/a.ipynb}", r"'a' is given twice"),
        ("experiments: {a: [1, 2]}", r"experiment 'a'.*not of type 'object'"),
        ("experiments: {a: {parameters: {}}}", r"experiment 'a'.*'notebook' is a required property"),
        ("experiments: {a: {notebook: book/a.ipynb, parameters: [1]}}", r"experiment 'a', key 'parameters'"),
        ("experiments: {a: {notebook: book/a.ipynb}\n", r"not valid YAML"),
        ("experiments: {Bad-Name: {notebook: book/a.ipynb}}", r"experiment names match"),
        ("experiments: {a: {notebook: ../outside.ipynb}}", r"outside the project root"),
        ("book_dir: ../elsewhere\nexperiments: {a: {notebook: book/a.ipynb}}", r"book_dir.*outside the project root"),
        ("experiments: {a: {notebook: book/missing.ipynb}}", r"does not exist"),
        ("experiments: {a: {notebook: book/untagged.ipynb}}", r"exactly one cell tagged 'parameters'.*found 0"),
        ("experiments: {a: {notebook: book/twice.ipynb}}", r"exactly one cell tagged 'parameters'.*found 2"),
        (
            "experiments: {a: {notebook: book/a.ipynb, parameters: {seeds: 3}}}",
            r"no parameter 'seeds'; accepted: n_s",
        ),
        ("experiments: {a: {notebook: book/a.ipynb, parameters: {n_seeds: many}}}", r"n_seeds='many'.*must be int"),
        ("experiments: {a: {notebook: book/a.ipynb, parameters: {n_seeds: -5}}}", r"n_seeds=-5.*>= 1"),
        ("experiments: {a: {notebook: book/a.ipynb, parameters: {results_path: x.csv}}}", r"set by the runner"),
        ("experiments: {}", r"should be non-empty|does not have enough properties"),
        ("experiments: {a: {notebook: book/a.ipynb, uses: [b]}}", r"experiment 'a', key 'uses': \['b'\] are not"),
        ("experiments: {a: {notebook: book/a.ipynb, uses: [a]}}", r"experiment 'a', key 'uses': it uses itself"),
        (
            "experiments:\n  a: {notebook: book/a.ipynb, uses: [b]}\n  b: {notebook: book/a.ipynb, uses: [a]}",
            r"it uses itself, directly or through others",
        ),
        ("experiments: {a: {notebook: book/a.ipynb, uses: b}}", r"experiment 'a', key 'uses'"),
    ],
)
def test_a_bad_manifest_is_refused_naming_the_experiment_and_key(project, manifest, message):
    with pytest.raises(ValueError, match=message):
        _load(project, manifest)


def test_parameter_values_are_checked_by_type_and_range(project):
    study = _load(project, "experiments: {a: {notebook: book/a.ipynb}}")
    [exp] = study.select(["a"])
    assert apply_overrides([exp], {"n_seeds": 3, "rate": 1})[0].parameters == {"n_seeds": 3, "rate": 1}
    for bad, message in [
        ({"n_seeds": "abc"}, r"n_seeds='abc'.*must be int like its default 2, got str"),
        ({"n_seeds": -5}, r"n_seeds=-5.*must be an integer >= 1"),
        ({"n_seeds": True}, r"n_seeds=True.*must be int"),
        ({"rate": "fast"}, r"rate='fast'.*must be float"),
        ({"nope": 1}, r"no parameter 'nope'"),
    ]:
        with pytest.raises(ValueError, match=message):
            apply_overrides([exp], bad)
    with pytest.raises(ValueError, match="name=value"):
        parse_overrides(["n_seeds"])


def test_a_bad_value_on_the_command_line_is_refused_before_any_kernel_or_engine_starts():
    script = (
        "import sys; from greedy.pipeline.cli import main; "
        f"rc = main(['run', 'supervised', '-p', 'n_seeds=abc', '--root', {str(ROOT)!r}]); "
        "print(rc, sorted(m for m in ('jax', 'papermill', 'jupyter_client', 'tensorflow') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.stdout.split() == ["2", "[]"], out.stdout + out.stderr
    assert "n_seeds='abc'" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize(
    "experiment, override, message",
    [
        ("supervised", {"n_seeds": 10**12}, r"n_seeds must be at most 10,000, got 1000000000000"),
        ("supervised", {"epochs": 10**9}, r"epochs must be at most 100,000"),
        ("supervised", {"n_population": 10**9}, r"n_population must be at most 10,000,000"),
        ("problem", {"population_draws": 10**10}, r"population_draws must be at most 100,000,000"),
        ("families", {"width": 10**6}, r"width must be at most 4,096"),
        ("families", {"depths": [2, 500]}, r"depths must be at most 102"),
        ("families", {"datasets": ["mnist1d", "nosuch"]}, r"datasets must be a non-empty list drawn from"),
        ("label_scarcity", {"plentiful_from": 10**9}, r"plentiful_from must be at most 100,000"),
        ("label_scarcity", {"n_seeds_plentiful": 0}, r"n_seeds_plentiful must be an integer >= 1"),
        ("label_scarcity", {"labeled_per_class": [1, 10**7]}, r"labeled_per_class must be at most 100,000"),
        ("label_scarcity", {"datasets": []}, r"datasets must be a non-empty list"),
        ("fine_tuning", {"fine_tune_learning_rate": float("inf")}, r"fine_tune_learning_rate=inf: must be a finite"),
        ("fine_tuning", {"fine_tune_learning_rate": float("nan")}, r"must be a finite number"),
    ],
)
def test_every_size_has_an_upper_bound_and_every_value_is_checked_before_a_kernel(experiment, override, message):
    with pytest.raises(ValueError, match=message):
        apply_overrides(load_study(ROOT).select([experiment]), override)


def test_the_dataset_names_are_the_librarys():
    from greedy.learning.data import PER_SEED_DATASETS
    from greedy.pipeline.parameters import DATASETS

    assert DATASETS == PER_SEED_DATASETS


def test_runs_with_other_parameters_get_a_folder_of_their_own(project):
    study = _load(project, "experiments: {a: {notebook: book/a.ipynb}}")
    explored = exploration(study, study.select(["a"]), {"n_seeds": 3})
    assert explored.book_dir == project / "runs" / "a--n_seeds=3"
    assert study.book_dir == project / "book"


def test_an_experiment_runs_in_a_wave_after_those_it_uses(project):
    study = _load(
        project,
        """
        experiments:
          summary: {notebook: book/a.ipynb, uses: [a, b]}
          a: {notebook: book/a.ipynb}
          b: {notebook: book/a.ipynb, uses: [a]}
          c: {notebook: book/a.ipynb}
        """,
    )
    waves = [[e.name for e in wave] for wave in in_waves(study.select([]))]
    assert waves == [["a", "c"], ["b"], ["summary"]]
    # A used experiment not selected is taken as published: the user runs in the first wave.
    assert [[e.name for e in wave] for wave in in_waves(study.select(["summary", "c"]))] == [["summary", "c"]]
    assert not STUDY.experiments["families"].uses


def test_the_summary_uses_exactly_the_chapters_it_reads():
    from greedy.analysis.summary import USES

    assert set(STUDY.experiments["summary"].uses) == set(USES)
