"""An experiment is stale exactly when something it used changed in meaning.

A toy project: a library package ``toylib`` and two experiments, ``doubles`` (which calls
``double``) and ``triples`` (which calls ``triple``), run once with the real runner and traced
kernel; each test edits a copy of it and asks the runner and ``greedy list --why``.
"""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from greedy.pipeline.manifest import load_study
from greedy.pipeline.runner import execute
from greedy.pipeline.staleness import state

LIBRARY = '''\
"""A toy library."""

SCALE = 2  # the factor double() applies


def double(x):
    """Twice x."""
    return x * SCALE


def triple(x):
    return x * 3


class Shape:
    def area(self):
        return 1
'''

RUN = """
import time
import toylib
with open(results_path, "w") as f:
    f.write(f"value\\n{toylib.%s(n)}\\n")
print(time.time_ns())  # differs on every execution: a re-render keeps the stored one
"""


def _notebook(path, call):
    params = new_code_cell("n = 1\nresults_path = 'x.csv'")
    params.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[new_markdown_cell("# Old title"), params, new_code_cell(RUN % call)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    root = tmp_path_factory.mktemp("ran")
    (root / "toylib").mkdir()
    (root / "toylib" / "__init__.py").write_text(LIBRARY)
    (root / "book" / "sources").mkdir(parents=True)
    _notebook(root / "book" / "sources" / "doubles.ipynb", "double")
    _notebook(root / "book" / "sources" / "triples.ipynb", "triple")
    (root / "study.yml").write_text(
        textwrap.dedent(
            """
            library: [toylib]
            experiments:
              doubles: {notebook: book/sources/doubles.ipynb}
              triples: {notebook: book/sources/triples.ipynb}
            """
        )
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(root))
        mp.setenv("PYTHONPATH", str(root))
        study = load_study(root)
        assert [execute(e, study).status for e in study.select([])] == ["ran", "ran"]
    return root


@pytest.fixture
def project(ran, tmp_path, monkeypatch):
    root = tmp_path / "project"
    shutil.copytree(ran, root)
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.setenv("PYTHONPATH", str(root))
    return root


def _edit(root, old, new):
    path = root / "toylib" / "__init__.py"
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new))


def _stale(root):
    study = load_study(root)
    return {name: state(exp, study).reasons for name, exp in study.experiments.items() if state(exp, study).reasons}


def _why(root):
    listed = subprocess.run(
        [sys.executable, "-m", "greedy", "list", "--why", "--root", str(root)], capture_output=True, text=True
    )
    assert listed.returncode == 0, listed.stderr
    return listed.stdout


def test_the_record_names_the_units_each_experiment_executed(project):
    record = json.loads((project / "book" / "results" / "doubles.run.json").read_text())
    assert set(record["library_code"]["toylib/__init__.py"]) == {"<module>", "double"}
    assert _stale(project) == {}


def test_comment_and_docstring_edits_leave_every_experiment_up_to_date(project):
    _edit(project, '"""A toy library."""', '"""A toy library, documented better."""')
    _edit(project, '"""Twice x."""', '"""Two times x (a new docstring)."""')
    _edit(project, "# the factor double() applies", "# a reworded comment")
    _edit(project, "    def area(self):\n", "    def area(self):\n        # a comment\n")
    assert _stale(project) == {}
    assert "to run" not in _why(project)


def test_an_edit_to_a_function_stales_only_the_experiment_that_executed_it(project):
    _edit(project, "return x * 3", "return 3 * x")
    assert _stale(project) == {"triples": ["toylib/__init__.py: function triple changed"]}
    out = _why(project)
    assert "doubles                  up to date" in out
    assert "triples                  to run" in out and "function triple changed" in out


def test_a_module_constant_stales_only_the_experiments_whose_code_reads_it(project):
    _edit(project, "SCALE = 2", "SCALE = 4")
    assert _stale(project) == {"doubles": ["toylib/__init__.py: module-level statements it reads changed"]}


def test_a_new_import_or_constant_nothing_reads_stales_nothing(project):
    _edit(project, "SCALE = 2", "import math\n\nSCALE = 2\nUNUSED = 7")
    assert _stale(project) == {}


def test_a_module_statement_that_runs_code_at_import_stales_every_importer(project):
    _edit(project, "SCALE = 2", "SCALE = 2\nprint('imported')")
    assert set(_stale(project)) == {"doubles", "triples"}


def test_a_new_function_nobody_calls_stales_nothing(project):
    (project / "toylib" / "__init__.py").write_text(LIBRARY + "\n\ndef unused(x):\n    return -x\n")
    _edit(
        project,
        "class Shape:\n    def area(self):",
        "class Shape:\n    def perimeter(self):\n        return 4\n\n    def area(self):",
    )
    assert _stale(project) == {}


def test_an_edit_to_a_method_nobody_called_stales_nothing(project):
    _edit(project, "        return 1", "        return 2")
    assert _stale(project) == {}


def test_a_changed_xla_flag_stales_what_ran_under_it(project, monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", "--xla_backend_optimization_level=3")
    stale = _stale(project)
    assert set(stale) == {"doubles", "triples"}
    assert all(len(r) == 1 and r[0].startswith("setting XLA_FLAGS:") and "level=3" in r[0] for r in stale.values())
    assert "setting XLA_FLAGS" in _why(project)


def test_a_parameter_change_is_named(project):
    manifest = project / "study.yml"
    manifest.write_text(manifest.read_text().replace("triples.ipynb}", "triples.ipynb, parameters: {n: 5}}"))
    assert _stale(project) == {"triples": ["parameter n: None -> 5"]}


def test_a_prose_only_edit_rerenders_with_the_stored_outputs(project):
    source = project / "book" / "sources" / "doubles.ipynb"
    nb = nbformat.read(source, 4)
    nb.cells[0].source = "# New title"
    nb.cells.insert(2, new_markdown_cell("A new paragraph."))
    nb.cells[3].metadata["tags"] = ["hide-input"]  # the code cell's presentation changes too
    nbformat.write(nb, source)
    executed = project / "book" / "doubles.ipynb"
    before = [c.outputs for c in nbformat.read(executed, 4).cells if c.cell_type == "code"]
    study = load_study(project)
    [exp] = study.select(["doubles"])
    now = state(exp, study)
    assert now.reasons == [] and now.rerender and "to render" in _why(project)
    assert execute(exp, study).status == "rendered"
    after = nbformat.read(executed, 4)
    assert [c.outputs for c in after.cells if c.cell_type == "code"] == before  # the same time_ns: not executed
    assert [c.source for c in after.cells if c.cell_type == "markdown"] == ["# New title", "A new paragraph."]
    assert after.cells[-1].metadata["tags"] == ["hide-input"]
    assert (project / "book" / "results" / "doubles.csv").read_text() == "value\n2\n"
    assert state(exp, study).up_to_date and execute(exp, study).status == "skipped"


def test_a_code_edit_in_the_notebook_re_executes(project):
    source = project / "book" / "sources" / "doubles.ipynb"
    nb = nbformat.read(source, 4)
    nb.cells[2].source += "\nprint('more')"
    nbformat.write(nb, source)
    assert _stale(project) == {"doubles": ["notebook: its code cells changed"]}


def _ran(source, executed, notebook=frozenset()):
    """(the record of a run of ``executed`` units in module ``m.py``, a function giving the changes)."""
    from greedy.pipeline import executed_code

    before = {"m.py": executed_code.SourceFile.parse(source)}
    recorded = executed_code.record(before, {"m.py": executed}, set(notebook))

    def changes(new_source):
        return executed_code.changes(recorded, {"m.py": executed_code.SourceFile.parse(new_source)}, set(notebook))

    return recorded, changes


def test_a_constant_counts_where_the_notebook_or_a_statement_it_depends_on_reads_it():
    source = "BASE = 2\nSCALE = BASE * 3\nOTHER = 1\n\n\ndef f(x):\n    return x * SCALE\n"
    _, changes = _ran(source, ["f"])
    assert changes(source.replace("BASE = 2", "BASE = 5")) == ["m.py: module-level statements it reads changed"]
    assert changes(source.replace("OTHER = 1", "OTHER = 5")) == []
    _, changes = _ran(source, [], notebook={"OTHER"})  # the notebook reads m.OTHER itself
    assert changes(source.replace("OTHER = 1", "OTHER = 5")) != []
    assert changes(source.replace("BASE = 2", "BASE = 5")) == []


def test_a_new_binding_of_a_name_the_run_read_stales_it():
    source = "import builtins\n\n\ndef f(x):\n    return len(x)\n"
    _, changes = _ran(source, ["f"])
    assert changes(source.replace("import builtins", "import builtins\nlen = builtins.id")) != []
    assert changes(source.replace("import builtins", "import builtins\nsize = 3")) == []


def test_a_class_body_counts_where_a_method_of_it_ran():
    source = "class C:\n    size: int = 3\n\n    def area(self):\n        return self.size\n"
    _, changes = _ran(source, ["C.area"])
    assert changes(source.replace("size: int = 3", "size: int = 4")) != []


MARKED = '''\
"""Module doc."""


def outer(x):
    """Outer doc."""

    def inner(y):
        return y + 1

    return inner(x)


class Shape:
    def area(self):
        raise ValueError("on purpose")

    class Inner:
        def deep(self):
            return 2


def never():
    return 0
'''


def test_the_kernel_notes_units_called_keeps_docstrings_and_lines_and_writes_no_bytecode(tmp_path):
    from greedy.pipeline import traced_kernel

    package = tmp_path / "marked"
    package.mkdir()
    (package / "__init__.py").write_text(MARKED)
    script = f"""
import json, sys, traceback
sys.path.insert(0, {str(tmp_path)!r})
from pathlib import Path
from greedy.pipeline import traced_kernel
recorder = traced_kernel.install({{"marked": Path({str(package)!r})}}, {str(tmp_path / "record.json")!r})
import marked
assert marked.outer(1) == 2 and marked.Shape.Inner().deep() == 2
assert marked.__doc__ == "Module doc." and marked.outer.__doc__ == "Outer doc."
try:
    marked.Shape().area()
except ValueError as err:
    print(traceback.extract_tb(err.__traceback__)[-1].lineno)
"""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # bytecode allowed: none made
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "15"  # the line of the raise in MARKED: line numbers are the source's
    record = json.loads((tmp_path / "record.json").read_text())
    assert record == {"marked/__init__.py": ["Shape.Inner.deep", "Shape.area", "outer"]}  # never: not called
    assert not list(package.glob("__pycache__/*"))
    assert traced_kernel.HOOK not in MARKED


REPORT = """
import pandas as pd
value = pd.read_csv("results/doubles.csv").value.item()
with open(results_path, "w") as f:
    f.write(f"reported\\n{value}\\n")
"""


def test_an_experiment_that_uses_anothers_results_runs_after_it_and_stales_with_them(project):
    from greedy.pipeline.dispatch import check_used_results, run_study

    params = new_code_cell("results_path = 'x.csv'")
    params.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[params, new_code_cell(REPORT)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, project / "book" / "sources" / "report.ipynb")
    manifest = project / "study.yml"
    manifest.write_text(manifest.read_text() + "  report: {notebook: book/sources/report.ipynb, uses: [doubles]}\n")
    _edit(project, "SCALE = 2", "SCALE = 5")  # doubles is stale: it must run before report reads it
    study = load_study(project)
    outcomes = run_study(study, study.select(["report", "doubles"]))
    assert [(o.name, o.status) for o in outcomes] == [("report", "ran"), ("doubles", "ran")]
    assert (project / "book" / "results" / "report.csv").read_text() == "reported\n5\n"
    assert _stale(project) == {}
    _edit(project, "SCALE = 5", "SCALE = 6")
    study = load_study(project)
    run_study(study, study.select(["doubles"]))
    assert _stale(project) == {"report": ["uses doubles, whose results changed"]}
    (project / "book" / "results" / "doubles.run.json").unlink()
    study = load_study(project)
    with pytest.raises(ValueError, match=r"'report' uses 'doubles', which has no published results"):
        check_used_results(study, study.select(["report"]))
    assert "no published results here" in _stale(project)["report"][0]


def test_each_name_an_import_binds_counts_on_its_own():
    source = "from math import pi, tau\n\n\ndef f():\n    return pi\n"
    _, changes = _ran(source, ["f"])
    assert changes(source.replace("import pi, tau", "import e, pi, tau")) == []  # a neighbour added on the line
    assert changes(source.replace("import pi, tau", "import pi")) == []  # a neighbour nothing read removed
    assert changes(source.replace("import pi, tau", "import tau, pi")) == []  # the line reordered
    assert changes(source.replace("from math import pi, tau", "from cmath import pi\nfrom math import tau")) != []
    assert changes(source.replace("import pi, tau", "import e as pi, tau")) != []


def test_a_parsed_file_is_shared_from_a_cache_so_no_caller_can_rebind_its_parts():
    import dataclasses

    from greedy.pipeline import executed_code

    source = "SCALE = 3\n\n\ndef f(x):\n    return x * SCALE\n"
    parsed = executed_code.SourceFile.parse(source)
    assert executed_code.SourceFile.parse(source) is parsed
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed.units = {}
