"""The mutation-testing tool's map from lines to tests (tests/mutation.py, tests/mutation_contexts.py):
a mutant may run only the tests that reach its lines, so the map must hold every test that does."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from coverage import CoverageData
from mutation import EQUIVALENT, MODULES, CoverageMap, stale_equivalents

TESTS = Path(__file__).parent

LIBRARY = """
def shared():
    return 1

def only_b():
    return 2

CONSTANT = 3
"""

TEST_FILE = """
import pytest
import lib

@pytest.fixture(scope="module")
def data():
    return lib.shared()

def test_a(data):
    assert data == 1

def test_b():
    assert lib.only_b() == 2

def test_c(data):
    assert data + lib.CONSTANT == 4
"""


def test_each_line_is_labelled_by_the_test_or_the_shared_fixture_that_ran_it(tmp_path):
    (tmp_path / "lib.py").write_text(textwrap.dedent(LIBRARY))
    (tmp_path / "test_lib.py").write_text(textwrap.dedent(TEST_FILE))
    facts = tmp_path / "facts.json"
    environment = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{TESTS}", "GREEDY_MUTATION_FACTS": str(facts)}
    command = [sys.executable, "-m", "coverage", "run", "--include=lib.py", "-m", "pytest", "-q", "-p"]
    command += ["no:cacheprovider", "-p", "mutation_contexts", "test_lib.py"]
    subprocess.run(command, cwd=tmp_path, env=environment, check=True, capture_output=True)
    data = CoverageData(basename=str(tmp_path / ".coverage"))
    data.read()
    by_line = {line: set(labels) for line, labels in data.contexts_by_lineno(str(tmp_path / "lib.py")).items()}
    recorded = json.loads(facts.read_text())
    fixture = "fixture:test_lib.py::data"
    assert by_line[3] == {fixture}  # shared()'s body: run once, by the module-scoped fixture
    assert by_line[6] == {"test_lib.py::test_b"}
    assert by_line[8] == {""}  # run at import, before any test
    assert recorded["fixture_users"] == {fixture: ["test_lib.py::test_a", "test_lib.py::test_c"]}
    assert list(recorded["seconds"]) == ["test_lib.py::test_a", "test_lib.py::test_b", "test_lib.py::test_c"]

    seconds = {"test_lib.py::test_a": 2.0, "test_lib.py::test_b": 3.0, "test_lib.py::test_c": 1.0}
    test_map = CoverageMap({"lib.py": by_line}, recorded["fixture_users"], seconds)
    assert test_map.reaching("lib.py", 3, 3) == ["test_lib.py::test_c", "test_lib.py::test_a"]  # quickest first
    assert test_map.reaching("lib.py", 6, 6) == ["test_lib.py::test_b"]
    # No test of its own: every test the module maps to decides.
    assert test_map.reaching("lib.py", 8, 8) is None
    assert test_map.reaching("lib.py", 2, 3) is None  # a def line runs at import
    assert test_map.reaching("lib.py", 4, 4) is None  # a line no test ran


# cosmic-ray is installed by `make mutants` (requirements-mutation.lock), not by `make setup`.
def test_every_equivalent_entry_still_describes_its_mutant():
    pytest.importorskip("cosmic_ray")
    assert stale_equivalents(list(MODULES)) == []


def test_an_entry_whose_number_now_falls_on_another_site_excuses_nothing(monkeypatch):
    # summary.py's `<=` mutants #6 (`group.scored == "fine-tuned"`, which a test kills) and #7 (the
    # equivalent one): an edit that adds a `==` above them shifts each number onto the next site.
    pytest.importorskip("cosmic_ray")
    module, operator = "greedy/analysis/summary.py", "core/ReplaceComparisonOperator_Eq_LtE"
    monkeypatch.setitem(EQUIVALENT, (module, operator, 6), EQUIVALENT[module, operator, 7])
    monkeypatch.delitem(EQUIVALENT, (module, operator, 7))
    assert stale_equivalents([module]) == [(module, operator, 6)]


SLEEPING_TEST = """
import os, pathlib, time

def test_sleeps():
    pathlib.Path("pid").write_text(str(os.getpid()))
    time.sleep(120)
"""

STOPPABLE_RUN = """
import sys
sys.path.insert(0, {tests!r})
import mutation
mutation.stop_on_sigterm()  # as mutation.main does
mutation._tests_pass(["test_sleep.py"], 600, mutation.Path({scratch!r}))
"""


def test_a_stopped_run_stops_the_tests_it_was_running(tmp_path):
    # The tests run in a process group of their own (so that a timeout kills all of it): stopping the
    # run must stop them too, not leave them running for up to their timeout.
    (tmp_path / "test_sleep.py").write_text(SLEEPING_TEST)
    code = STOPPABLE_RUN.format(tests=str(TESTS), scratch=str(tmp_path))
    run = subprocess.Popen([sys.executable, "-c", code], cwd=tmp_path)
    pid_file = tmp_path / "pid"
    deadline = time.monotonic() + 60
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline and run.poll() is None, "the test never started"
        time.sleep(0.1)
    tests_pid = int(pid_file.read_text())
    run.send_signal(signal.SIGTERM)
    try:
        assert run.wait(timeout=30) == 143
        with pytest.raises(ProcessLookupError):
            os.kill(tests_pid, 0)
    finally:  # whatever the verdict, nothing outlives the test
        with contextlib.suppress(ProcessLookupError):
            os.kill(tests_pid, signal.SIGKILL)
