"""Scoring a batch of trained networks: accuracy, reconstruction error, divergence."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from greedy.learning.jax_engine.network import Params, correct_counts, forward_batch


def divergence(losses: np.ndarray, params: Params) -> list[int | None]:
    """Per seed: first epoch (1-based) with a non-finite loss or non-finite final weights, else None."""
    finite_w = np.ones(losses.shape[0], bool)
    for leaf in jax.tree_util.tree_leaves(params):
        finite_w &= np.isfinite(np.asarray(leaf)).reshape(len(finite_w), -1).all(1)
    out: list[int | None] = []
    for s in range(losses.shape[0]):
        bad = np.flatnonzero(~np.isfinite(losses[s]))
        out.append(int(bad[0]) + 1 if len(bad) else (None if finite_w[s] else losses.shape[1]))
    return out


def first_divergence(*per_fit: list[int | None]) -> list[int | None]:
    """Per seed, the divergence of the first of several fits that diverged (None if none did)."""
    return [next((d for d in fits if d is not None), None) for fits in zip(*per_fit, strict=True)]


def accuracy(logits: jax.Array, y: np.ndarray) -> np.ndarray:
    """Per seed, the fraction of rows whose largest logit is the label."""
    # Count in integers, divide in float64: the exact fraction of correct rows.
    return np.asarray(jnp.sum(jnp.argmax(logits, -1) == jnp.asarray(y), axis=-1)) / y.shape[-1]


def mse(out: jax.Array, x) -> np.ndarray:
    """Per seed, the mean squared reconstruction error."""
    # In NumPy: XLA splits a large reduction over its threads, so its rounding would depend on
    # how many cores the process may use (the study pins each worker to one; nbval uses all).
    diff = np.asarray(out, np.float64) - np.asarray(x, np.float64)
    return np.mean(diff**2, axis=(-2, -1))


def network_accuracies(
    params: Params, splits: dict[str, tuple], activation: str, architecture: str = "plain"
) -> dict[str, np.ndarray]:
    """Per seed, the accuracy of a batch of whole networks on each split: ``{split}_accuracy``.

    ``splits`` maps a name to (inputs, labels) and holds "train": a batch-normalized network
    standardizes with the statistics of its training inputs.
    """
    reference = splits["train"][0] if architecture == "batch_norm" else None
    out = {}
    for name, (x, y) in splits.items():
        if name == "population":  # large: scored in compiled row blocks
            out[f"{name}_accuracy"] = correct_counts(params, x, y, activation, architecture, reference) / y.shape[-1]
        else:
            out[f"{name}_accuracy"] = accuracy(forward_batch(params, x, activation, architecture, reference), y)
    return out
