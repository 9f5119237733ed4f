"""A batch of networks out of the engine: one NumPy ``Layer`` list per seed."""

from __future__ import annotations

import numpy as np

from greedy.learning.jax_engine.network import Params
from greedy.learning.mlp import Layer


def export_layers(params: Params, activation: str, head_activation: str, n: int | None = None) -> list[list[Layer]]:
    """A batch of networks as one NumPy ``Layer`` list per seed (the first ``n`` seeds)."""
    arrays = [(np.asarray(w), np.asarray(b)) for w, b in params]
    n = arrays[0][0].shape[0] if n is None else n
    return [
        [Layer(w[s], b[s], head_activation if i == len(arrays) - 1 else activation) for i, (w, b) in enumerate(arrays)]
        for s in range(n)
    ]
