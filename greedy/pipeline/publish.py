"""Publishing an experiment's outputs atomically as a whole: a staging folder, a journal, moves.

The protocol, each step of which a SIGKILL may interrupt:

1. The notebook runs with every output inside ``results/.staging/NAME/``, laid out as it will be
   published (``NAME.ipynb``, ``results/NAME.csv``, figures, ``results/NAME.run.json``).
2. The journal ``results/.staging/NAME.publish``, written atomically, lists every move and every
   stale published file to delete. Writing it is the commit point.
3. The moves (each an atomic rename) and the deletions, run record last.
4. The journal and the staging folder are removed.

``recover`` completes a journal that is there (each step can be repeated) and discards a staging
folder that has none, so afterwards either the complete old outputs or the complete new ones are
published. Staged files are matched by their folder, never by a name prefix.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from greedy.learning.files import default_file_mode

STAGING = "results/.staging"
RUN_RECORD = "results/{name}.run.json"


def staging_dir(book_dir: Path, name: str) -> Path:
    return book_dir / STAGING / name


def _journal(book_dir: Path, name: str) -> Path:
    return book_dir / STAGING / f"{name}.publish"


def write_atomic(path: Path, text: str) -> None:
    """Write a file whole or not at all, with the permissions of any other file the user creates."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(tmp, default_file_mode())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def outputs_in(staged: Path) -> list[str]:
    """The staged files, relative to the book folder, run record last."""
    files = sorted(p.relative_to(staged).as_posix() for p in staged.rglob("*") if p.is_file())
    return sorted(files, key=lambda f: f.endswith(".run.json"))


def _previous_outputs(book_dir: Path, name: str) -> list[str]:
    try:
        return list(json.loads((book_dir / RUN_RECORD.format(name=name)).read_text()).get("outputs", []))
    except (OSError, ValueError):
        return []


def publish(book_dir: Path, name: str) -> None:
    """Commit the staged outputs of experiment ``name`` (steps 2 to 4)."""
    staged = staging_dir(book_dir, name)
    new = outputs_in(staged)
    stale = sorted(set(_previous_outputs(book_dir, name)) - set(new))
    plan = {"moves": [[f"{STAGING}/{name}/{f}", f] for f in new], "stale": stale}
    write_atomic(_journal(book_dir, name), json.dumps(plan, indent=1))
    _complete(book_dir, name)


def _complete(book_dir: Path, name: str) -> None:
    journal = _journal(book_dir, name)
    plan = json.loads(journal.read_text())
    for relative in plan["stale"]:
        (book_dir / relative).unlink(missing_ok=True)
    for source, target in plan["moves"]:
        if (book_dir / source).exists():  # moved already by an interrupted attempt
            (book_dir / target).parent.mkdir(parents=True, exist_ok=True)
            os.replace(book_dir / source, book_dir / target)
    shutil.rmtree(staging_dir(book_dir, name), ignore_errors=True)
    journal.unlink(missing_ok=True)


def pending(book_dir: Path) -> list[str]:
    """Experiments whose publication was committed but not completed."""
    return sorted(p.name.removesuffix(".publish") for p in (book_dir / STAGING).glob("*.publish"))


def recover(book_dir: Path, *, discard_incomplete: bool) -> None:
    """Complete every committed publication; with ``discard_incomplete``, drop staging that never committed.

    Only a run of the study discards (no other run may be writing its staging then); a reader
    such as ``greedy list`` only completes.
    """
    for name in pending(book_dir):
        _complete(book_dir, name)
    root = book_dir / STAGING
    if discard_incomplete and root.is_dir():
        for leftover in root.iterdir():
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)


class StudyBusy(RuntimeError):
    """Another run of the study holds the book folder."""


@contextmanager
def exclusive_run(book_dir: Path):
    """Hold the book folder for one run of the study at a time (a second run would discard the first's staging)."""
    import fcntl

    root = book_dir / STAGING
    root.mkdir(parents=True, exist_ok=True)
    with open(root.parent / ".run.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StudyBusy(f"another greedy run is running on {book_dir}; wait for it to finish") from None
        yield
