"""JAX's persistent compile cache for the study's processes, switched on explicitly by the pipeline.

A re-run (or nbval re-executing a notebook) then does not pay XLA's compile time again. The
notebooks' kernels are separate processes: the cache reaches them through JAX's own environment
variables, which JAX reads when it is first imported. ``GREEDY_JAX_CACHE`` names the folder
(default ``~/.cache/greedy/jax``); an empty value turns the cache off.
"""

from __future__ import annotations

import os
from pathlib import Path

MIN_COMPILE_SECONDS = 0.2  # cache only programs that took at least this long to compile


def cache_dir() -> str:
    """The cache folder, or "" when the cache is off."""
    return os.environ.get("GREEDY_JAX_CACHE", str(Path.home() / ".cache" / "greedy" / "jax"))


def environment() -> dict[str, str]:
    """The environment variables that switch JAX's persistent cache on in a process started with them."""
    folder = cache_dir()
    if not folder:
        return {}
    return {"JAX_COMPILATION_CACHE_DIR": folder, "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": str(MIN_COMPILE_SECONDS)}


def enable_here() -> None:
    """Switch the cache on in this process (for JAX imported already) and in the processes it starts."""
    os.environ.update(environment())
    import sys

    if "jax" in sys.modules and cache_dir():
        import jax

        jax.config.update("jax_compilation_cache_dir", cache_dir())
        jax.config.update("jax_persistent_cache_min_compile_time_secs", MIN_COMPILE_SECONDS)
