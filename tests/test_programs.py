"""The engine's compiled programs: released on demand or by the engine itself at its bound, never
changing a number, and their memory handed back to the system."""

import json
import logging
import os
import subprocess
import sys

import jax
import pytest

from greedy.learning import jax_engine
from greedy.learning.config import TrainConfig
from greedy.learning.jax_engine import programs
from greedy.learning.records import to_frame

SHORT = TrainConfig(n_added_layers=2, epochs=10, head_epochs=10, fine_tune_epochs=10)


class _CompileLog(logging.Handler):
    """The names of the programs JAX traced for compilation while attached."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.traced: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("Finished tracing"):
            self.traced.append(record.getMessage().split()[2])


def _traced_while(run) -> list[str]:
    log = _CompileLog()
    logging.getLogger("jax").addHandler(log)
    try:
        with jax.log_compiles():
            run()
    finally:
        logging.getLogger("jax").removeHandler(log)
    return log.traced


def test_release_compiled_drops_the_programs_and_changes_no_number(blob_data):
    config = SHORT.with_(n_added_layers=1)
    before = to_frame(jax_engine.supervised_greedy(blob_data, config, [0, 1]))
    assert "fit_one" not in _traced_while(lambda: jax_engine.supervised_greedy(blob_data, config, [0, 1]))
    jax_engine.release_compiled()
    after: list = []
    assert "fit_one" in _traced_while(lambda: after.append(jax_engine.supervised_greedy(blob_data, config, [0, 1])))
    cols = ["depth", "seed", "train_accuracy", "test_accuracy", "final_loss"]
    assert before[cols].equals(to_frame(after[0])[cols])


def test_the_engine_bounds_its_own_compiled_programs_and_changes_no_number(blob_data, monkeypatch):
    config = SHORT.with_(n_added_layers=1)
    columns = ["depth", "seed", "train_accuracy", "test_accuracy", "final_loss"]

    def each_depth() -> tuple[list, list[int]]:
        frames, held = [], []
        for depth in (2, 3, 4, 5):  # each depth compiles programs of its own
            frames.append(to_frame(jax_engine.end_to_end(blob_data, config, [0, 1], depths=[depth]))[columns])
            held.append(programs.compiled_programs())
        return frames, held

    jax_engine.release_compiled()
    unbounded, held_unbounded = each_depth()
    assert held_unbounded == sorted(held_unbounded) and held_unbounded[-1] > held_unbounded[0]  # they pile up
    jax_engine.release_compiled()
    monkeypatch.setattr(programs, "MAX_COMPILED_PROGRAMS", held_unbounded[0])
    bounded, held = each_depth()
    assert max(held) <= held_unbounded[0]  # the earlier depths' programs were released, by the engine itself
    assert all(a.equals(b) for a, b in zip(unbounded, bounded, strict=True))
    # A bound the count can step over (none held at a hand-out, several after): still kept.
    jax_engine.release_compiled()
    monkeypatch.setattr(programs, "MAX_COMPILED_PROGRAMS", 0)
    _, held = each_depth()
    assert max(held) <= held_unbounded[0]
    jax_engine.release_compiled()


def test_a_cached_program_factory_keeps_its_name_and_docstring():
    @programs.program_cache
    def doubler(scale: int):
        """A jitted doubling."""
        return jax.jit(lambda x: x * scale)

    assert doubler.__name__ == "doubler" and doubler.__doc__ == "A jitted doubling."
    assert doubler(2) is doubler(2) and doubler(2) is not doubler(3)
    jax_engine.release_compiled()
    assert programs.compiled_programs() == 0


RELEASE = """
import json, psutil
from greedy.learning import jax_engine
from greedy.learning.config import TrainConfig
from greedy.learning.data import blobs

def resident_mib():
    return psutil.Process().memory_info().rss / 2**20

data, config = blobs(), TrainConfig(n_added_layers=2, epochs=3, width=7)
jax_engine.end_to_end(data, config, [0, 1], depths=[2])  # JAX's own start-up memory, before the baseline
before = resident_mib()
for depth in range(3, 11):
    jax_engine.end_to_end(data, config, [0, 1], depths=[depth])
grown = resident_mib() - before
jax_engine.release_compiled()
print(json.dumps({"grown": grown, "left": resident_mib() - before}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="returning freed pages is glibc's malloc_trim")
def test_release_compiled_hands_the_programs_memory_back_to_the_system():
    # In a process of its own: what other tests compiled before it cannot change what it measures.
    env = {**os.environ, "JAX_COMPILATION_CACHE_DIR": ""}  # compile here, as a cold run would
    out = subprocess.run([sys.executable, "-c", RELEASE], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    memory = json.loads(out.stdout.strip().splitlines()[-1])
    assert memory["grown"] > 20, f"the new programs should hold tens of MiB, grew {memory['grown']:.0f}"
    assert memory["left"] < memory["grown"] / 2, memory


def test_returning_freed_memory_is_a_no_op_where_there_is_no_glibc(monkeypatch):
    def no_glibc(name):  # what ctypes raises on macOS or musl
        raise OSError(f"{name}: cannot open shared object file: No such file or directory")

    monkeypatch.setattr(programs.ctypes, "CDLL", no_glibc)
    programs._return_freed_memory()  # returns quietly: memory is the allocator's to give back there
