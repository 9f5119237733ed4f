"""nbval really compares the numbers: an altered stored output must fail the regression."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _nbval(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "--nbval",
            "--nbval-current-env",
            "-p",
            "no:cacheprovider",
            "--nbval-sanitize-with",
            str(ROOT / "tests" / "nbval_sanitize.cfg"),
            str(path),
        ],
        capture_output=True,
        text=True,
        cwd=path.parent,
    )


def test_altered_output_fails_and_unaltered_passes(tmp_path):
    nb_path = tmp_path / "problem.ipynb"
    shutil.copy(ROOT / "book" / "problem.ipynb", nb_path)
    ok = _nbval(nb_path)
    assert ok.returncode == 0, ok.stdout[-3000:]

    nb = json.loads(nb_path.read_text())
    cell = next(
        c
        for c in nb["cells"]
        if c["cell_type"] == "code"
        and any(
            o.get("output_type") == "execute_result" and "0.84" in "".join(o["data"].get("text/plain", ""))
            for o in c.get("outputs", [])
        )
    )
    out = next(o for o in cell["outputs"] if o.get("output_type") == "execute_result")
    for mime in ("text/plain", "text/html"):  # the same number, changed in every form nbval compares
        if mime in out["data"]:
            out["data"][mime] = [line.replace("0.84", "0.85") for line in out["data"][mime]]
    nb_path.write_text(json.dumps(nb))
    bad = _nbval(nb_path)
    assert bad.returncode != 0 and "0.85" in bad.stdout, bad.stdout[-3000:]
