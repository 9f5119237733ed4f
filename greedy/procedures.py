"""One entry point for every procedure on either engine, with inputs checked before any work."""

from __future__ import annotations

from greedy.config import ENGINES, METHODS, TrainConfig, check_choice, check_seeds
from greedy.data import Dataset
from greedy.records import StageRecord


def run(
    method: str,
    data: Dataset,
    config: TrainConfig = TrainConfig(),
    seeds: int | list[int] = 0,
    *,
    engine: str = "jax",
    fine_tune: str = "none",
    depths: list[int] | None = None,
) -> list[StageRecord]:
    """Run ``method`` (supervised_greedy | autoencoder_greedy | end_to_end) for every seed.

    ``engine="jax"`` is the fast vmapped engine; ``engine="keras"`` the Keras 3 reference on the
    backend KERAS_BACKEND selects (tensorflow or jax).
    """
    check_choice("method", method, METHODS)
    check_choice("engine", engine, ENGINES)
    seeds = check_seeds(seeds)
    if not isinstance(data, Dataset):
        raise ValueError(f"data must be a greedy.Dataset (see greedy.data.from_arrays), got {type(data).__name__}")
    if method == "end_to_end" and fine_tune != "none":
        raise ValueError("fine_tune applies to the greedy methods only; end_to_end already trains every weight")
    if engine == "jax":
        from greedy import jax_engine as impl

        if method == "end_to_end":
            return impl.end_to_end(data, config, seeds, depths=depths)
        return getattr(impl, method)(data, config, seeds, fine_tune=fine_tune)
    from greedy import keras_engine as impl  # type: ignore[no-redef]

    out: list[StageRecord] = []
    for seed in seeds:
        if method == "end_to_end":
            out.extend(impl.end_to_end(data, config, seed, depths=depths))
        else:
            out.extend(getattr(impl, method)(data, config, seed, fine_tune=fine_tune))
    return out
