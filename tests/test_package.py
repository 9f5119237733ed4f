"""The package's top level: its exports resolve on first use, and importing it stays light."""

import subprocess
import sys


def test_package_exports_resolve_lazily_without_heavy_imports():
    code = (
        "import sys, greedy, greedy.runner, greedy.distributed\n"
        "heavy = [m for m in ('sklearn', 'pandas', 'jax', 'keras') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "assert sorted(greedy.__all__) == sorted(greedy._HOME)\n"
        "assert all(callable(getattr(greedy, name)) for name in greedy.__all__)\n"
        "from greedy import blobs, to_frame\n"
        "try:\n    greedy.nope\nexcept AttributeError as e:\n    assert 'nope' in str(e)\n"
        "else:\n    raise SystemExit('greedy.nope resolved')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
