"""Diagnostics of a trained (or freshly initialized) network: gradient norms, dead ReLU units."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from greedy.learning.mlp import Layer, forward, kernel_gradients


def gradient_norms(layers: list[Layer], x: np.ndarray, target: np.ndarray) -> pd.DataFrame:
    """L2 norm of the loss gradient w.r.t. each layer's kernel on a batch (layer 1 = first hidden)."""
    grads = kernel_gradients(layers, x, target)
    return pd.DataFrame(
        {"layer": np.arange(1, len(layers) + 1), "gradient_norm": [float(np.linalg.norm(g)) for g in grads]}
    )


def dead_unit_fractions(layers: list[Layer], x: np.ndarray) -> pd.DataFrame:
    """Per hidden layer, the fraction of units that output zero for every row of ``x``.

    A ReLU unit that is zero on the whole data set gets no gradient and never recovers.
    """
    _, acts = forward(layers[:-1], x)
    return pd.DataFrame(
        {
            "layer": np.arange(1, len(acts) + 1),
            "dead_fraction": [float(np.mean(np.all(a <= 0, axis=0))) for a in acts],
        }
    )


def input_variance(x: np.ndarray) -> float:
    """Mean per-feature variance: the MSE of the best constant reconstruction."""
    return float(np.var(np.asarray(x, np.float64), axis=0).mean())


def mark_collapse(
    records: pd.DataFrame, x_reference: np.ndarray | Mapping[int, np.ndarray], threshold: float = 0.9
) -> pd.DataFrame:
    """Add ``collapsed``: the reconstruction is no better than a constant (MSE >= threshold x variance).

    ``x_reference`` holds the inputs whose variance is that constant's error: one array for every
    seed, or ``{seed: array}`` where each seed has data of its own.
    """
    out = records.copy()
    if isinstance(x_reference, Mapping):
        missing = sorted(set(out.seed) - set(x_reference))
        if missing:
            raise ValueError(f"x_reference has no inputs for seeds {missing[:5]}: give one array per records' seed")
        variance = out.seed.map({seed: input_variance(x) for seed, x in x_reference.items()})
    else:
        variance = input_variance(x_reference)
    out["collapsed"] = out["test_mse"] >= threshold * variance
    return out
