"""One vocabulary of methods: every procedure by its name on either engine, ``greedy.run``, and a
method as a procedure with its options and settings.

The names (``config.METHODS``) are the record's ``method`` column as well: a greedy method's
fine-tuned stacks are recorded as ``NAME+fine_tune``, an end-to-end network of another
architecture as ``end_to_end+ARCHITECTURE``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from greedy.learning.config import ENGINES, KERAS_METHODS, METHODS, TrainConfig, check_choice, check_seeds
from greedy.learning.data import Dataset
from greedy.learning.records import Trained


def procedure(method: str, engine: str = "jax") -> Callable:
    """The procedure that trains ``method`` on ``engine`` ("jax": the fast engine; "keras": the reference)."""
    check_choice("method", method, METHODS)
    check_choice("engine", engine, ENGINES)
    if engine == "jax":
        from greedy.learning import jax_engine

        return jax_engine.PROCEDURES[method]
    if method not in KERAS_METHODS:
        raise ValueError(f"method {method!r} runs on the fast engine only (engine='jax'); Keras runs {KERAS_METHODS}")
    from greedy.learning import keras_engine

    return keras_engine.PROCEDURES[method]


@dataclass(frozen=True)
class Method:
    """A way to train a network, in words (``label``): a fast-engine procedure, the keyword
    arguments it is called with (``options``) and the changes it makes to the config (``settings``)."""

    label: str
    run: Callable[..., Trained]
    options: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)


def run(
    method: str,
    data: Dataset,
    config: TrainConfig = TrainConfig(),
    seeds: Sequence[int] = (0,),
    *,
    engine: str = "jax",
    fine_tune: str = "none",
    depths: Sequence[int] | None = None,
) -> Trained:
    """Run ``method`` (supervised_greedy | autoencoder_greedy | rbm_greedy | end_to_end) for every seed in ``seeds``.

    ``engine="jax"`` is the fast vmapped engine; ``engine="keras"`` the Keras 3 reference on the
    backend KERAS_BACKEND selects (tensorflow or jax), one seed after the other. Returns the
    records (``greedy.to_frame`` makes them a DataFrame).
    """
    train = procedure(method, engine)
    if not isinstance(data, Dataset):
        raise ValueError(f"data must be a greedy.Dataset (see greedy.from_arrays), got {type(data).__name__}")
    if method == "end_to_end" and fine_tune != "none":
        raise ValueError("fine_tune applies to the greedy methods only; end_to_end already trains every weight")
    options = {"depths": depths} if method == "end_to_end" else {"fine_tune": fine_tune}
    if engine == "jax":
        return train(data, config, seeds, **options)
    return Trained([r for seed in check_seeds(seeds) for r in train(data, config, seed, **options)])
