"""The package's top level: its exports resolve on first use, and importing it stays light."""

import ast
import subprocess
import sys
from pathlib import Path

import greedy


def test_package_exports_resolve_lazily_without_heavy_imports():
    code = (
        "import sys, greedy, greedy.pipeline.runner, greedy.pipeline.dispatch\n"
        "heavy = [m for m in ('sklearn', 'pandas', 'jax', 'keras') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "assert sorted(greedy.__all__) == sorted(greedy._HOME)\n"
        "assert all(callable(getattr(greedy, name)) for name in greedy.__all__)\n"
        "from greedy import blobs, to_frame\n"
        "try:\n    greedy.nope\nexcept AttributeError as e:\n    assert 'nope' in str(e)\n"
        "else:\n    raise SystemExit('greedy.nope resolved')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    return names


def test_layers_import_only_the_layers_above_them():
    """learning <- analysis <- pipeline: no layer imports one below it, so no import can go in a circle."""
    package = Path(greedy.__file__).parent
    below = {"learning": ("greedy.analysis", "greedy.pipeline"), "analysis": ("greedy.pipeline",)}
    for layer, forbidden in below.items():
        for path in (package / layer).rglob("*.py"):
            wrong = sorted(m for m in _imports(path) if m.startswith(forbidden))
            assert not wrong, f"{path.relative_to(package)} imports {wrong}"
    # Within the pipeline, one experiment's run does not reach back to the dispatch of many.
    assert not any(m.startswith("greedy.pipeline.dispatch") for m in _imports(package / "pipeline" / "runner.py"))
