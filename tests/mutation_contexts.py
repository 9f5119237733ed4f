"""A pytest plugin for ``tests/mutation.py``: it tells coverage which test ran each line.

Each test's setup, call and teardown run under a coverage context named by the test's node id; a
fixture shared by several tests (module or session scope) runs under a context of its own,
``fixture:<where>::<name>``, since it runs once for all the tests that ask for it. What coverage
cannot hold is written to the JSON file named by ``$GREEDY_MUTATION_FACTS``: the tests that ask for
each shared fixture, and each test's duration in seconds.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict

import coverage
import pytest

FIXTURE_PREFIX = "fixture:"

_labels: list[str] = []  # the context now running, innermost last
_users: dict[str, list[str]] = defaultdict(list)
_seconds: dict[str, float] = defaultdict(float)


def fixture_label(fixturedef) -> str:
    return f"{FIXTURE_PREFIX}{fixturedef.baseid}::{fixturedef.argname}"


def _switch(label: str | None) -> None:
    cov = coverage.Coverage.current()
    if cov is not None:
        cov.switch_context(label or "")


def pytest_collection_modifyitems(items) -> None:
    for item in items:
        for defs in item._fixtureinfo.name2fixturedefs.values():
            if defs and defs[-1].scope != "function":
                _users[fixture_label(defs[-1])].append(item.nodeid)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _labels.append(item.nodeid)
    _switch(item.nodeid)
    yield
    _labels.pop()
    _switch(_labels[-1] if _labels else None)


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef, request):
    shared = fixturedef.scope != "function"
    if shared:
        _labels.append(fixture_label(fixturedef))
        _switch(_labels[-1])
    yield
    if shared:
        _labels.pop()
        _switch(_labels[-1] if _labels else None)


def pytest_runtest_logreport(report) -> None:
    _seconds[report.nodeid] += report.duration


def pytest_sessionfinish(session) -> None:
    path = os.environ.get("GREEDY_MUTATION_FACTS")
    if path:
        with open(path, "w") as f:
            json.dump({"fixture_users": _users, "seconds": _seconds}, f)
