"""One entry point for every procedure on either engine, with inputs checked before any work."""

from __future__ import annotations

from collections.abc import Sequence

from greedy.learning.config import ENGINES, KERAS_METHODS, METHODS, TrainConfig, check_choice, check_seeds
from greedy.learning.data import Dataset
from greedy.learning.records import StageRecord


def run(
    method: str,
    data: Dataset,
    config: TrainConfig = TrainConfig(),
    seeds: Sequence[int] = (0,),
    *,
    engine: str = "jax",
    fine_tune: str = "none",
    depths: Sequence[int] | None = None,
) -> list[StageRecord]:
    """Run ``method`` (supervised_greedy | autoencoder_greedy | rbm_greedy | end_to_end) for every seed in ``seeds``.

    ``engine="jax"`` is the fast vmapped engine; ``engine="keras"`` the Keras 3 reference on the
    backend KERAS_BACKEND selects (tensorflow or jax), one seed after the other.
    """
    check_choice("method", method, METHODS)
    check_choice("engine", engine, ENGINES)
    if engine == "keras" and method not in KERAS_METHODS:
        raise ValueError(f"method {method!r} runs on the fast engine only (engine='jax'); Keras runs {KERAS_METHODS}")
    if not isinstance(data, Dataset):
        raise ValueError(f"data must be a greedy.Dataset (see greedy.from_arrays), got {type(data).__name__}")
    if method == "end_to_end" and fine_tune != "none":
        raise ValueError("fine_tune applies to the greedy methods only; end_to_end already trains every weight")
    options = {"depths": depths} if method == "end_to_end" else {"fine_tune": fine_tune}
    if engine == "jax":
        from greedy.learning import jax_engine

        return getattr(jax_engine, method)(data, config, seeds, **options)
    from greedy.learning import keras_engine

    return [r for seed in check_seeds(seeds) for r in getattr(keras_engine, method)(data, config, seed, **options)]
