"""Random keys by purpose: the values every recorded number depends on, and how a key is derived."""

import jax
import jax.numpy as jnp
import numpy as np

from greedy.learning.jax_engine.keys import KeyPurpose, purpose_keys

# The committed records were drawn with these values: changing one changes every number of the study.
RECORDED = {
    "NEW_LAYER_INIT": 0,
    "FIT": 1,
    "HEAD_INIT": 2,
    "PROBE_HEAD_INIT": 3,
    "FINE_TUNE_FIT": 5,
    "PROBE_HEAD_FIT": 13,
    "REVIVE_INIT": 17,
    "NETWORK_OUTPUT_INIT": 99,
    "NETWORK_HIDDEN_INIT": 100,
}


def test_every_purpose_keeps_the_value_the_records_were_drawn_with():
    assert {p.name: p.value for p in KeyPurpose} == RECORDED


def test_a_key_is_the_seed_folded_with_the_stage_then_the_purpose():
    seeds = jnp.asarray([3, 7])
    keys = jax.vmap(jax.random.PRNGKey)(seeds)
    got = purpose_keys(keys, 2, KeyPurpose.FINE_TUNE_FIT)
    for i, seed in enumerate([3, 7]):
        expected = jax.random.fold_in(jax.random.fold_in(jax.random.PRNGKey(seed), 2), 5)
        np.testing.assert_array_equal(np.asarray(got[i]), np.asarray(expected))
    # Another stage, another purpose or another seed: another key.
    others = [purpose_keys(keys, 3, KeyPurpose.FINE_TUNE_FIT), purpose_keys(keys, 2, KeyPurpose.FIT)]
    for other in others:
        assert not np.array_equal(np.asarray(other), np.asarray(got))
    assert not np.array_equal(np.asarray(got[0]), np.asarray(got[1]))
