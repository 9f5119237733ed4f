"""Publishing an experiment's outputs atomically as a whole: a staging folder, a journal, moves.

The protocol, each step of which a SIGKILL may interrupt:

1. The notebook runs with every output inside ``results/.staging/NAME/``, laid out as it will be
   published (``NAME.ipynb``, ``results/NAME.csv``, figures, ``results/NAME.run.json``).
2. Every move is checked first (the target folder writable, on the staging folder's file system,
   so each move is a rename that cannot run out of space); a check that fails raises
   ``PublishError`` and commits nothing. Then the journal ``results/.staging/NAME.publish``,
   written atomically, lists every move and every stale published file to delete. Writing it is
   the commit point.
3. The moves (each an atomic rename) and the deletions, run record last.
4. The journal and the staging folder are removed.

``recover`` completes a journal that is there (each step can be repeated) and discards a staging
folder that has none, so afterwards either the complete old outputs or the complete new ones are
published; a move that still fails (the folder made read-only meanwhile) leaves the journal for
the next command and says so in one line. Every command that reads the book recovers first
(``settle``), under the run lock. Staged files are matched by their folder, never by a name prefix.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable
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


class PublishError(OSError):
    """Publishing could not start (nothing changed) or was cut short (the next command completes it)."""


def _device(path: Path) -> int:
    return os.stat(path).st_dev


def _check_moves(book_dir: Path, name: str, new: list[str], stale: list[str]) -> None:
    """Every target folder writable and on the staging folder's file system: the moves will be renames."""
    device = _device(staging_dir(book_dir, name))
    for relative in [*new, *stale]:
        folder = (book_dir / relative).parent
        while not folder.exists():  # made by the move
            folder = folder.parent
        if not os.access(folder, os.W_OK):
            raise PublishError(f"cannot publish {name!r}: {folder} is not writable; nothing was published")
        if _device(folder) != device:
            raise PublishError(
                f"cannot publish {name!r}: {folder} is on another file system than {book_dir / STAGING}; "
                "nothing was published"
            )


def publish(book_dir: Path, name: str, keep: Iterable[str] = ()) -> None:
    """Commit the staged outputs of experiment ``name`` (steps 2 to 4); published files in ``keep`` stay."""
    staged = staging_dir(book_dir, name)
    new = outputs_in(staged)
    stale = sorted(set(_previous_outputs(book_dir, name)) - set(new) - set(keep))
    _check_moves(book_dir, name, new, stale)
    plan = {"moves": [[f"{STAGING}/{name}/{f}", f] for f in new], "stale": stale}
    write_atomic(_journal(book_dir, name), json.dumps(plan, indent=1))
    _complete(book_dir, name)


def _complete(book_dir: Path, name: str) -> None:
    journal = _journal(book_dir, name)
    plan = json.loads(journal.read_text())
    try:
        for relative in plan["stale"]:
            (book_dir / relative).unlink(missing_ok=True)
        for source, target in plan["moves"]:
            if (book_dir / source).exists():  # moved already by an interrupted attempt
                (book_dir / target).parent.mkdir(parents=True, exist_ok=True)
                os.replace(book_dir / source, book_dir / target)
    except OSError as err:
        raise PublishError(
            f"publishing {name!r} stopped at {err.filename}: {err.strerror}; once that is fixed, the next greedy "
            "command completes it"
        ) from None
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


def settle(book_dir: Path) -> None:
    """Before reading the book: complete any committed publication, under the run lock.

    While a run holds the lock it completes its own publications: the reader goes on without waiting.
    """
    if not pending(book_dir):
        return
    try:
        with exclusive_run(book_dir):
            recover(book_dir, discard_incomplete=False)
    except StudyBusy:
        pass


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
