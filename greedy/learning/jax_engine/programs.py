"""The engine's compiled programs, held in one bounded cache that the engine manages itself.

Each factory of jitted programs (a fit, a scoring pass, an RBM fit) is cached by its static settings
(``program_cache``); JAX compiles each program once per input shape. Every compiled program holds
about 5 MiB (measured: 23 fit and scoring programs of depths 3 to 12, 127 MiB), so a study's depths,
activations, epoch counts and data shapes would add up to hundreds of MiB. Before handing out a
program, the engine releases every program it holds once they number ``MAX_COMPILED_PROGRAMS`` (all
at once: JAX keeps no order of use to evict by), so callers never release programs themselves.
Releasing changes no number (a program compiled again computes the same), only time.
"""

from __future__ import annotations

import ctypes
import functools
import gc
from collections.abc import Callable

import jax

MAX_COMPILED_PROGRAMS = 48  # about 240 MiB of programs at most
_programs: dict[tuple, Callable] = {}  # (factory, its settings) -> the jitted program


def compiled_programs() -> int:
    """How many compiled programs the engine holds: every input shape each cached program was compiled for."""
    return sum(program._cache_size() for program in _programs.values())


def program_cache(factory: Callable[..., Callable]) -> Callable[..., Callable]:
    """Cache ``factory``'s jitted program by its (hashable) arguments, within the engine's bound."""

    @functools.wraps(factory)
    def program(*settings: object) -> Callable:
        key = (factory.__qualname__, *settings)
        # Counted at every hand-out, not only for new settings: one program compiles again for each new shape.
        if compiled_programs() >= MAX_COMPILED_PROGRAMS:
            release_compiled()
        if key not in _programs:
            _programs[key] = factory(*settings)
        return _programs[key]

    return program


def release_compiled() -> None:
    """Drop every compiled program held in memory (an on-disk compile cache, where enabled, keeps them)
    and hand the freed memory back to the operating system.

    The engine calls it itself when its programs reach ``MAX_COMPILED_PROGRAMS``. glibc keeps the freed
    pages in its heap unless asked to return them: without ``malloc_trim`` the process's resident
    memory barely falls (702 -> 403 MiB with it, measured).
    """
    _programs.clear()
    jax.clear_caches()
    gc.collect()
    _return_freed_memory()


def _return_freed_memory() -> None:
    """Ask glibc to give the heap's free pages back to the OS (a no-op where there is no glibc)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # macOS, musl: their allocators return memory on their own terms
        return
    libc.malloc_trim(0)
