"""A notebook kernel that records which library functions it executes.

Started as ``python -m greedy.pipeline.traced_kernel RECORD NAME=FOLDER[,NAME=FOLDER...] -f CONNECTION_FILE``:
the library's modules are imported through a loader that adds one statement at the top of every
function body, ``__greedy_executed__(UNIT)``, where UNIT is the module-level function or method
that holds it (``executed_code``'s units); each module is noted when it is imported. At the
end of every cell, and at the kernel's exit, the record (``{module: [units]}``) is written to
RECORD as JSON; the kernel is ipykernel's, as ``python -m ipykernel_launcher`` starts it.

Why not a tracer: ``sys.settrace`` (what ``coverage`` uses on Python 3.11) slows every Python
frame in the process, JAX's tracing and compiling included: measured, a chapter ran 20% slower
(the supervised chapter, warm cache, 66 s -> 79 s). The added statement costs one set insertion
per call of a library function. Line numbers are kept (the statement shares the first body
line), the compiled code is never written to ``__pycache__``, and only the library's own files
are loaded this way.
"""

from __future__ import annotations

import ast
import atexit
import importlib.abc
import importlib.machinery
import json
import os
import sys
from pathlib import Path

HOOK = "__greedy_executed__"


class _MarkCalls(ast.NodeTransformer):
    """Insert ``HOOK(unit)`` first in every function body (after its docstring)."""

    def __init__(self) -> None:
        self.scope: list[tuple[str, bool]] = []  # (name, is a class) from the module down

    def _unit(self) -> str:
        # A module-level function, or a method of a (nested) class: classes, then the first function.
        names = []
        for name, is_class in self.scope:
            names.append(name)
            if not is_class:
                break
        return ".".join(names)

    def visit_ClassDef(self, node):
        self.scope.append((node.name, True))
        self.generic_visit(node)
        self.scope.pop()
        return node

    def visit_FunctionDef(self, node):
        self.scope.append((node.name, False))
        self.generic_visit(node)
        at = 1 if ast.get_docstring(node, clean=False) is not None else 0
        first = node.body[min(at, len(node.body) - 1)]
        call = ast.Expr(ast.Call(ast.Name(HOOK, ast.Load()), [ast.Constant(self._unit())], []))
        node.body.insert(at, ast.copy_location(call, first))
        self.scope.pop()
        return node

    visit_AsyncFunctionDef = visit_FunctionDef


class _Recorder:
    def __init__(self, folders: dict[str, Path]) -> None:
        self.folders = {name: folder.resolve() for name, folder in folders.items()}
        self.executed: dict[str, set[str]] = {}

    def key(self, path: str) -> str | None:
        """``package/relative/path.py`` for a library file, else None."""
        resolved = Path(path).resolve()
        for name, folder in self.folders.items():
            if resolved.is_relative_to(folder):
                return f"{name}/{resolved.relative_to(folder).as_posix()}"
        return None

    def save(self, path: str) -> None:
        """Write the record whole (a reader never sees half of it)."""
        record = {key: sorted(units) for key, units in sorted(self.executed.items())}
        partial = Path(f"{path}.partial")
        partial.write_text(json.dumps(record))
        os.replace(partial, path)


class _MarkingLoader(importlib.machinery.SourceFileLoader):
    recorder: _Recorder

    def get_code(self, fullname):
        # Always from source: the marked code never goes to, nor comes from, __pycache__.
        source = self.get_data(self.path)
        tree = _MarkCalls().visit(ast.parse(source, self.path))
        return compile(ast.fix_missing_locations(tree), self.path, "exec", dont_inherit=True)

    def exec_module(self, module) -> None:
        units = self.recorder.executed.setdefault(self.recorder.key(self.path), set())
        module.__dict__[HOOK] = units.add
        super().exec_module(module)


class _Finder(importlib.abc.MetaPathFinder):
    """Hands the library's source files to the marking loader; everything else to the usual finders."""

    def __init__(self, recorder: _Recorder) -> None:
        self.recorder = recorder

    def find_spec(self, fullname, path, target=None):
        if fullname.partition(".")[0] not in self.recorder.folders:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if (
            isinstance(spec.loader, importlib.machinery.SourceFileLoader)
            and spec.origin
            and self.recorder.key(spec.origin)
        ):
            loader = _MarkingLoader(fullname, spec.origin)
            loader.recorder = self.recorder
            spec.loader = loader
        return spec


def install(folders: dict[str, Path], record_path: str) -> _Recorder:
    """Mark the library's functions from now on; write the record at exit.

    Library modules imported already (``python -m`` imported this one's packages to start it) are
    dropped from ``sys.modules``, so that the notebook imports them again, marked.
    """
    recorder = _Recorder(folders)
    sys.meta_path.insert(0, _Finder(recorder))
    for name in [n for n in sys.modules if n.partition(".")[0] in recorder.folders]:
        del sys.modules[name]
    atexit.register(recorder.save, record_path)
    return recorder


def main() -> None:
    record_path, packages = sys.argv[1], sys.argv[2]
    del sys.argv[1:3]
    folders = {name: Path(folder) for name, _, folder in (p.partition("=") for p in packages.split(","))}
    recorder = install(folders, record_path)
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.initialize()
    # Saved after every cell too: a kernel that is killed at shutdown (a slow exit) runs no atexit.
    app.shell.events.register("post_run_cell", lambda result: recorder.save(record_path))
    app.start()


if __name__ == "__main__":
    main()
