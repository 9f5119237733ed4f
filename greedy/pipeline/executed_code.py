"""Which library code an experiment executed, fingerprinted by meaning.

A notebook's kernel runs under ``coverage`` (see ``traced_kernel``); afterwards each executed
line is mapped to its code unit: a module-level function, or a method (``Class.method``). A unit
is fingerprinted by its normalized syntax tree (docstrings and comments dropped, line numbers
ignored), and each module the kernel imported by its module-level statements (everything but
function bodies: constants, imports, class bodies such as a dataclass's defaults).

An experiment is stale when one of the units it executed, or one of the modules it imported,
changed in meaning. As in pytest-testmon: a unit it did not execute cannot change its outcome
unless something it did execute changes too, so an edit elsewhere leaves it up to date.
"""

from __future__ import annotations

import ast
import copy
import hashlib
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Unit:
    """A function or method: where its body lies and what it means."""

    name: str
    first_line: int  # of the body (after a docstring): a def line runs at import, not at a call
    last_line: int
    digest: str


def _units(body: list[ast.stmt], prefix: str = "") -> list[Unit]:
    found = []
    for node in body:
        if isinstance(node, _FUNCTIONS):
            stmts = _without_docstring(node.body) or node.body
            clean = _Normalize(drop_functions=False).visit(copy.deepcopy(node))
            found.append(Unit(prefix + node.name, stmts[0].lineno, node.end_lineno or stmts[0].lineno, _digest(clean)))
        elif isinstance(node, ast.ClassDef):
            found += _units(node.body, f"{prefix}{node.name}.")
    return found


@dataclass(frozen=True)
class SourceFile:
    """One library module, parsed: its own statements' digest and its units."""

    module_digest: str
    units: tuple[Unit, ...]

    @classmethod
    def parse(cls, source: str) -> SourceFile:
        tree = ast.parse(source)
        module = _Normalize(drop_functions=True).visit(copy.deepcopy(tree))
        return cls(_digest(module), tuple(_units(tree.body)))

    def digests(self) -> dict[str, str]:
        return {MODULE: self.module_digest} | {u.name: u.digest for u in self.units}

    def executed(self, lines: set[int]) -> dict[str, str]:
        """The module's own digest and those of the units whose body ran any of ``lines``."""
        ran = {u.name: u.digest for u in self.units if any(u.first_line <= n <= u.last_line for n in lines)}
        return {MODULE: self.module_digest} | ran


def snapshot(packages: dict[str, Path]) -> dict[str, SourceFile]:
    """Every module of the library packages ({name: folder}), keyed ``package/relative/path.py``."""
    files = {}
    for name, folder in packages.items():
        for path in sorted(folder.rglob("*.py")):
            files[f"{name}/{path.relative_to(folder).as_posix()}"] = SourceFile.parse(path.read_text())
    return files


def record(sources: dict[str, SourceFile], executed_lines: dict[str, set[int]]) -> dict[str, dict[str, str]]:
    """What the run used: for each module it imported, its own digest and its executed units' digests."""
    return {key: sources[key].executed(lines) for key, lines in sorted(executed_lines.items()) if key in sources}


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


def executed_lines(data_file: Path, packages: dict[str, Path]) -> dict[str, set[int]]:
    """Lines each library module ran, from a coverage data file, keyed as in ``snapshot``."""
    from coverage import CoverageData

    data = CoverageData(basename=str(data_file))
    data.read()
    lines = {}
    for measured in data.measured_files():
        ran = set(data.lines(measured) or ())
        if not ran:  # coverage lists every file of a measured folder, imported or not
            continue
        path = Path(measured).resolve()
        for name, folder in packages.items():
            if path.is_relative_to(folder.resolve()):
                lines[f"{name}/{path.relative_to(folder.resolve()).as_posix()}"] = ran
    return lines
