"""Which library code an experiment executed, fingerprinted by meaning.

A notebook's kernel notes every library module it imports and every code unit it calls (see
``traced_kernel``): a module-level function, or a method (``Class.method``); a nested function
belongs to the unit that holds it. A unit is fingerprinted by its normalized syntax tree
(docstrings and comments dropped, line numbers ignored), and each module the kernel imported by
its module-level statements (everything but function bodies: constants, imports, class bodies
such as a dataclass's defaults).

An experiment is stale when one of the units it executed, or one of the modules it imported,
changed in meaning. As in pytest-testmon: a unit it did not execute cannot change its outcome
unless something it did execute changes too, so an edit elsewhere leaves it up to date.
"""

from __future__ import annotations

import ast
import copy
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

MODULE = "<module>"  # the key of a module's own statements among its units


def _without_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    first = body[0] if body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return body[1:]
    return body


def _digest(node: ast.AST) -> str:
    return hashlib.sha256(ast.dump(node, annotate_fields=False).encode()).hexdigest()[:16]


_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


class _Normalize(ast.NodeTransformer):
    """Drop docstrings everywhere; with ``drop_functions``, drop function definitions too."""

    def __init__(self, drop_functions: bool) -> None:
        self.drop_functions = drop_functions

    def _strip(self, node):
        node.body = _without_docstring(node.body) or [ast.Pass()]
        self.generic_visit(node)
        return node

    def visit_Module(self, node):
        return self._strip(node)

    def visit_ClassDef(self, node):
        return self._strip(node)

    def visit_FunctionDef(self, node):
        return None if self.drop_functions else self._strip(node)

    visit_AsyncFunctionDef = visit_FunctionDef


def _definitions(body: list[ast.stmt]):
    """The statements of a module or class body, those inside its ifs, trys, withs and loops included."""
    for node in body:
        yield node
        if not isinstance(node, (*_FUNCTIONS, ast.ClassDef)):
            for block in ("body", "orelse", "finalbody"):
                yield from _definitions(getattr(node, block, []))
            for handler in getattr(node, "handlers", []):
                yield from _definitions(handler.body)


def _units(body: list[ast.stmt], prefix: str = "") -> dict[str, str]:
    """{unit name: digest}; a name defined twice (in an if and its else) is one unit of both."""
    found: dict[str, str] = {}
    for node in _definitions(body):
        if isinstance(node, _FUNCTIONS):
            clean = _Normalize(drop_functions=False).visit(copy.deepcopy(node))
            name = prefix + node.name
            found[name] = _digest(clean) if name not in found else found[name] + _digest(clean)
        elif isinstance(node, ast.ClassDef):
            found |= _units(node.body, f"{prefix}{node.name}.")
    return found


@dataclass(frozen=True)
class SourceFile:
    """One library module, parsed: its own statements' digest and its units'."""

    module_digest: str
    units: dict[str, str]

    @classmethod
    def parse(cls, source: str) -> SourceFile:
        return _parse(source)

    def digests(self) -> dict[str, str]:
        return {MODULE: self.module_digest} | self.units

    def used(self, units: Iterable[str]) -> dict[str, str]:
        """The module's own digest and those of ``units`` (names this file does not define are dropped)."""
        return {MODULE: self.module_digest} | {u: self.units[u] for u in units if u in self.units}


@lru_cache(maxsize=1024)
def _parse(source: str) -> SourceFile:
    # Cached by the text: `greedy list` and a run check every experiment against the same files.
    tree = ast.parse(source)
    module = _Normalize(drop_functions=True).visit(copy.deepcopy(tree))
    return SourceFile(_digest(module), _units(tree.body))


def snapshot(packages: dict[str, Path]) -> dict[str, SourceFile]:
    """Every module of the library packages ({name: folder}), keyed ``package/relative/path.py``."""
    files = {}
    for name, folder in packages.items():
        for path in sorted(folder.rglob("*.py")):
            files[f"{name}/{path.relative_to(folder).as_posix()}"] = SourceFile.parse(path.read_text())
    return files


def record(sources: dict[str, SourceFile], executed: dict[str, Iterable[str]]) -> dict[str, dict[str, str]]:
    """What a run used: for each module it imported ({module: units it executed}), its own digest and
    its executed units' digests, from ``sources`` (the snapshot taken before the run)."""
    return {key: sources[key].used(units) for key, units in sorted(executed.items()) if key in sources}


def changes(recorded: dict[str, dict[str, str]], current: dict[str, SourceFile]) -> list[str]:
    """Why ``recorded`` code no longer stands as it ran, one line per changed module or unit."""
    why = []
    for key, units in sorted(recorded.items()):
        if key not in current:
            why.append(f"{key}: removed")
            continue
        now = current[key].digests()
        for unit, digest in sorted(units.items()):
            what = "module-level statements" if unit == MODULE else f"function {unit}"
            if unit not in now:
                why.append(f"{key}: {what} removed")
            elif now[unit] != digest:
                why.append(f"{key}: {what} changed")
    return why
