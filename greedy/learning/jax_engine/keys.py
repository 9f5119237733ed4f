"""Random keys by purpose: every random draw of the fast engine comes from a seed's key folded with
the stage (or depth) and what the draw is for."""

from __future__ import annotations

from enum import IntEnum

import jax


class KeyPurpose(IntEnum):
    """What a random key derived from a seed is for. The values are folded into the keys, so they are
    part of every result: changing one changes the numbers."""

    NEW_LAYER_INIT = 0  # a greedy stage's new hidden layer
    FIT = 1  # the shuffling of a stage's (or an end-to-end network's) fit
    HEAD_INIT = 2  # the output (or reconstruction) layer created at the first stage
    PROBE_HEAD_INIT = 3  # the classifier head trained on an autoencoder's frozen encoder
    FINE_TUNE_FIT = 5  # the shuffling of a fine-tuning fit
    PROBE_HEAD_FIT = 13  # the shuffling of that classifier head's fit
    REVIVE_INIT = 17  # fresh units replacing an autoencoder stage's dead ones (revive_dead_units)
    NETWORK_OUTPUT_INIT = 99  # an end-to-end network's output layer
    NETWORK_HIDDEN_INIT = 100  # an end-to-end network's hidden layer i: NETWORK_HIDDEN_INIT + i


def purpose_keys(seed_keys: jax.Array, stage: int, purpose: int) -> jax.Array:
    """Per seed, the key for ``purpose`` at ``stage`` (a greedy stage, or an end-to-end network's depth)."""
    return jax.vmap(lambda k: jax.random.fold_in(jax.random.fold_in(k, stage), int(purpose)))(seed_keys)
