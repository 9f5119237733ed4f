"""Which library code an experiment executed, fingerprinted by meaning.

A notebook's kernel notes every library module it imports and every code unit it calls (see
``traced_kernel``): a module-level function, or a method (``Class.method``); a nested function
belongs to the unit that holds it. A unit is fingerprinted by its normalized syntax tree
(docstrings and comments dropped, line numbers ignored).

A module's own statements (everything but function bodies: constants, imports, class bodies such
as a dataclass's defaults) count by the names they bind; an import of several names counts as one
import per name. A run depends on the statements that bind a name it read: a name in the code it
executed or in the notebook, or in another statement it depends on; a statement that binds nothing
or calls something at import time counts always. So a new constant or import that nothing executed
reads changes nothing, and a changed one stales exactly the runs that read it (names are matched by
spelling across modules: conservative).

An experiment is stale when one of the units it executed, or one of the statements it depends on,
changed in meaning. As in pytest-testmon: a unit it did not execute cannot change its outcome
unless something it did execute changes too, so an edit elsewhere leaves it up to date.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import re
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


def _identifiers(node: ast.AST) -> set[str]:
    """Every name ``node`` may read: names, attributes, imported names, identifier-like strings."""
    found: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            found.add(sub.id)
        elif isinstance(sub, ast.Attribute):
            found.add(sub.attr)
        elif isinstance(sub, ast.alias):
            found.update({sub.name.split(".")[0], sub.name.rsplit(".", 1)[-1], sub.asname or ""})
        elif isinstance(sub, (ast.Global, ast.Nonlocal)):
            found.update(sub.names)
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str) and sub.value.isidentifier():
            found.add(sub.value)  # getattr(module, "NAME")
    return found - {""}


def code_identifiers(code: str) -> set[str]:
    """Every identifier-like word in ``code`` (notebook cells: magics and all, comments included)."""
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", code))


def _binds(node: ast.stmt) -> set[str]:
    if isinstance(node, ast.ClassDef):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {alias.asname or alias.name.split(".")[0] for alias in node.names}
    names = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, (ast.Store, ast.Del)):
            names.add(sub.id)
        elif isinstance(sub, ast.alias):
            names.add(sub.asname or sub.name.split(".")[0])
        elif isinstance(sub, ast.ClassDef):
            names.add(sub.name)
    return names


@dataclass(frozen=True)
class Statement:
    """One module-level statement (function definitions dropped): what it binds and reads."""

    digest: str
    binds: frozenset[str]
    reads: frozenset[str]
    always: bool  # binds nothing, binds a dunder, or calls something as the module is imported

    @classmethod
    def of(cls, node: ast.stmt) -> Statement:
        binds = _binds(node)
        calls = not isinstance(node, (ast.Import, ast.ImportFrom, ast.ClassDef)) and any(
            isinstance(sub, ast.Call) for sub in ast.walk(node)
        )
        dunder = any(name.startswith("__") and name.endswith("__") for name in binds)
        return cls(_digest(node), frozenset(binds), frozenset(_identifiers(node)), not binds or calls or dunder)


@dataclass(frozen=True)
class SourceFile:
    """One library module, parsed: its own statements and its units (digests, names they read)."""

    statements: tuple[Statement, ...]
    units: dict[str, str]
    unit_reads: dict[str, frozenset[str]]

    @classmethod
    def parse(cls, source: str) -> SourceFile:
        return _parse(source)

    def reads(self, units: Iterable[str]) -> set[str]:
        """The names ``units`` read (names this file does not define are dropped); a method reads
        its classes (their bodies hold its defaults)."""
        classes = {name for u in units for name in u.split(".")[:-1]}
        return classes.union(*(self.unit_reads[u] for u in units if u in self.unit_reads))

    def module_digest(self, read: set[str]) -> str:
        """Digest of the statements a run that read ``read`` depends on (see ``depended_names``)."""
        used = [s.digest for s in self.statements if s.always or s.binds & read]
        return hashlib.sha256(" ".join(used).encode()).hexdigest()[:16]

    def used(self, units: Iterable[str], read: set[str]) -> dict[str, str]:
        """The digest of the statements depended on and those of ``units`` this file defines."""
        return {MODULE: self.module_digest(read)} | {u: self.units[u] for u in units if u in self.units}


def _unit_reads(body: list[ast.stmt], prefix: str = "") -> dict[str, frozenset[str]]:
    found: dict[str, frozenset[str]] = {}
    for node in _definitions(body):
        if isinstance(node, _FUNCTIONS):
            found[prefix + node.name] = found.get(prefix + node.name, frozenset()) | _identifiers(node)
        elif isinstance(node, ast.ClassDef):
            found |= _unit_reads(node.body, f"{prefix}{node.name}.")
    return found


def _one_name_each(body: list[ast.stmt]) -> list[ast.stmt]:
    """The statements of ``body`` with each import of several names split into one import per name:
    a run that reads one of them depends on that name's import alone (where it comes from, its alias),
    not on its neighbours on the line."""
    split: list[ast.stmt] = []
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)) and len(node.names) > 1:
            for alias in node.names:
                one = copy.copy(node)
                one.names = [alias]
                split.append(one)
        else:
            split.append(node)
    return split


@lru_cache(maxsize=1024)
def _parse(source: str) -> SourceFile:
    # Cached by the text: `greedy list` and a run check every experiment against the same files.
    tree = ast.parse(source)
    module = _Normalize(drop_functions=True).visit(copy.deepcopy(tree))
    body = _one_name_each(module.body)
    statements = tuple(Statement.of(node) for node in body if not isinstance(node, ast.Pass))
    return SourceFile(statements, _units(tree.body), _unit_reads(tree.body))


def depended_names(sources: dict[str, SourceFile], executed: dict[str, Iterable[str]], also: set[str]) -> set[str]:
    """The names a run read: in the units it executed (``executed``: {module: units}), in ``also``
    (the notebook's code), and, to a fixed point, in the module statements binding any of them."""
    read = set(also)
    for key, units in executed.items():
        if key in sources:
            read |= sources[key].reads(units)
    statements = [s for key in executed if key in sources for s in sources[key].statements]
    pending = True
    while pending:
        pending = False
        for statement in statements:
            if (statement.always or statement.binds & read) and not statement.reads <= read:
                read |= statement.reads
                pending = True
    return read


def snapshot(packages: dict[str, Path]) -> dict[str, SourceFile]:
    """Every module of the library packages ({name: folder}), keyed ``package/relative/path.py``."""
    files = {}
    for name, folder in packages.items():
        for path in sorted(folder.rglob("*.py")):
            files[f"{name}/{path.relative_to(folder).as_posix()}"] = SourceFile.parse(path.read_text())
    return files


def record(
    sources: dict[str, SourceFile], executed: dict[str, Iterable[str]], notebook_names: set[str]
) -> dict[str, dict[str, str]]:
    """What a run used: for each module it imported ({module: units it executed}), the digest of the
    statements it depended on and its executed units' digests, from ``sources`` (the snapshot taken
    before the run); ``notebook_names``: the identifiers of the notebook's code."""
    executed = {key: list(units) for key, units in executed.items() if key in sources}
    read = depended_names(sources, executed, notebook_names)
    return {key: sources[key].used(units, read) for key, units in sorted(executed.items())}


def changes(recorded: dict[str, dict[str, str]], current: dict[str, SourceFile], notebook_names: set[str]) -> list[str]:
    """Why ``recorded`` code no longer stands as it ran, one line per changed module or unit.

    The names the run read are recomputed from the current code of the units it executed: where
    those units are unchanged they read what they read then (and where not, the run is stale)."""
    why = []
    executed = {key: [u for u in units if u != MODULE] for key, units in recorded.items() if key in current}
    read = depended_names(current, executed, notebook_names)
    for key, units in sorted(recorded.items()):
        if key not in current:
            why.append(f"{key}: removed")
            continue
        now = current[key].used(executed[key], read)
        for unit, digest in sorted(units.items()):
            what = "module-level statements it reads" if unit == MODULE else f"function {unit}"
            if unit not in now:
                why.append(f"{key}: {what} removed")
            elif now[unit] != digest:
                why.append(f"{key}: {what} changed")
    return why
