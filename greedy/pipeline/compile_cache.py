"""JAX's persistent compile cache and XLA's compile settings for the study's processes, switched on
explicitly by the pipeline.

A re-run (or nbval re-executing a notebook) then does not pay XLA's compile time again. The
notebooks' kernels are separate processes: the cache reaches them through JAX's own environment
variables, which JAX reads when it is first imported. ``GREEDY_JAX_CACHE`` names the folder
(default ``~/.cache/greedy/jax``); an empty value turns the cache off.

On a CPU, XLA's code is compiled with LLVM's optimization level 1 instead of its default: the
fast engine's fits compile about 30% faster and run as fast (a cold study spends a large share
of its time compiling). The trained networks are the same: in the study's records every accuracy
and reconstruction error was identical at both levels; only the recorded mean training loss of a
fit's last epoch differed, in its last float32 digits (at most 3.5e-7 relative, in 866 of the
few-label chapter's 3,920 rows). Where a GPU is present the default is kept (the level also
drives the GPU's kernel code).
"""

from __future__ import annotations

import os
from pathlib import Path

MIN_COMPILE_SECONDS = 0.2  # cache only programs that took at least this long to compile
CPU_XLA_FLAG = "--xla_backend_optimization_level=1"


def cache_dir() -> str:
    """The cache folder for a process that may use this process's cores, or "" when the cache is off.

    One folder per number of usable cores: XLA's CPU compiler splits a program's loops among the
    threads it expects, so a program compiled where two cores were usable sums in another order
    than one compiled on one core, and JAX's cache key does not tell them apart. A kernel pinned to
    one core (as the study's workers run) then reuses only programs compiled on one core, and a
    re-run reproduces its numbers bit for bit whoever filled the cache before.
    """
    root = os.environ.get("GREEDY_JAX_CACHE", str(Path.home() / ".cache" / "greedy" / "jax"))
    return str(Path(root) / f"cores-{usable_cores()}") if root else ""


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def has_gpu() -> bool:
    """Whether this machine has an NVIDIA or AMD GPU driver (looked up without starting JAX)."""
    return any(os.path.exists(device) for device in ("/dev/nvidiactl", "/dev/kfd"))


def xla_flags(current: str = "") -> str:
    """``XLA_FLAGS`` with the CPU compile setting added (unless a GPU is present or the flag is set)."""
    if has_gpu() or "xla_backend_optimization_level" in current:
        return current
    return f"{current} {CPU_XLA_FLAG}".strip()


def environment() -> dict[str, str]:
    """The environment variables that switch JAX's persistent cache (and the CPU compile setting) on
    in a process started with them."""
    env = {"XLA_FLAGS": xla_flags(os.environ.get("XLA_FLAGS", ""))}
    folder = cache_dir()
    if not folder:
        return env
    return env | {
        "JAX_COMPILATION_CACHE_DIR": folder,
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": str(MIN_COMPILE_SECONDS),
    }


def enable_here() -> None:
    """Switch the cache on in this process (for JAX imported already) and in the processes it starts.

    The compile setting reaches this process only if its XLA backend has not started yet."""
    os.environ.update(environment())
    import sys

    if "jax" in sys.modules and cache_dir():
        import jax

        jax.config.update("jax_compilation_cache_dir", cache_dir())
        jax.config.update("jax_persistent_cache_min_compile_time_secs", MIN_COMPILE_SECONDS)
