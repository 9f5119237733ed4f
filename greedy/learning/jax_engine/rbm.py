"""Restricted Boltzmann machines trained by contrastive divergence, a batch of them (one per seed).

An RBM is ``(w, b, c)``: weights (visible x hidden), visible biases, hidden biases. Hidden units
are Bernoulli; visible units are Bernoulli (inputs in [0, 1], Hinton et al. 2006) or Gaussian of
unit variance (standardized real-valued inputs, Hinton & Salakhutdinov 2006). A fit is CD-k
(each negative chain starts at the batch) or persistent CD (Tieleman 2008: the chains carry on
from the previous batch's), one compiled ``lax.scan`` vmapped over seeds, like the other fits.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from greedy.learning.jax_engine.fit import shuffled_indices
from greedy.learning.jax_engine.programs import program_cache

RBM = tuple[jax.Array, jax.Array, jax.Array]

# Hinton's "practical guide" (2010): weights from N(0, 0.01^2), biases at zero.
INIT_STD = 0.01


def init_rbm(keys: jax.Array, n_visible: int, n_hidden: int) -> RBM:
    """One freshly initialized RBM per key."""

    def one(key: jax.Array) -> RBM:
        w = INIT_STD * jax.random.normal(key, (n_visible, n_hidden), jnp.float32)
        return w, jnp.zeros((n_visible,), jnp.float32), jnp.zeros((n_hidden,), jnp.float32)

    return jax.vmap(one)(keys)


def hidden_probabilities(rbm: RBM, v: jax.Array) -> jax.Array:
    """p(h = 1 | v): the hidden layer an RBM hands to the network it initializes."""
    w, _, c = rbm
    return jax.nn.sigmoid(v @ w + c)


def visible_mean(rbm: RBM, h: jax.Array, visible: str) -> jax.Array:
    """E[v | h]: sigmoid of the input for Bernoulli units, the input itself for Gaussian ones."""
    w, b, _ = rbm
    z = h @ w.T + b
    return jax.nn.sigmoid(z) if visible == "bernoulli" else z


def free_energy(rbm: RBM, v: jax.Array, visible: str) -> jax.Array:
    """F(v) per row, with p(v) = exp(-F(v)) / Z: the hidden units summed out."""
    w, b, c = rbm
    hidden_term = jnp.sum(jax.nn.softplus(v @ w + c), axis=-1)
    if visible == "bernoulli":
        return -(v @ b) - hidden_term
    return 0.5 * jnp.sum((v - b) ** 2, axis=-1) - hidden_term


def _sample_visible(key: jax.Array, rbm: RBM, h: jax.Array, visible: str) -> jax.Array:
    mean = visible_mean(rbm, h, visible)
    if visible == "bernoulli":
        return jax.random.bernoulli(key, mean).astype(mean.dtype)
    return mean + jax.random.normal(key, mean.shape, mean.dtype)


def gibbs_chain(key: jax.Array, rbm: RBM, v: jax.Array, steps: int, visible: str) -> jax.Array:
    """The visible state after ``steps`` rounds of block Gibbs sampling (h ~ p(h|v), then v ~ p(v|h))."""
    for k in jax.random.split(key, steps):
        k_h, k_v = jax.random.split(k)
        h = jax.random.bernoulli(k_h, hidden_probabilities(rbm, v)).astype(v.dtype)
        v = _sample_visible(k_v, rbm, h, visible)
    return v


def cd_gradient(rbm: RBM, v_data: jax.Array, v_model: jax.Array, rows: jax.Array | None = None) -> RBM:
    """The contrastive-divergence estimate of the log-likelihood gradient, in closed form.

    Data statistics minus the chains' statistics, with the hidden units' probabilities in place
    of samples (Hinton 2002): the same for either kind of visible unit. ``rows`` weights the rows
    (0 for a padded batch's filler rows).
    """
    weight = jnp.ones(v_data.shape[0], v_data.dtype) if rows is None else rows
    weight = weight / jnp.sum(weight)
    h_data, h_model = hidden_probabilities(rbm, v_data), hidden_probabilities(rbm, v_model)
    dw = (v_data * weight[:, None]).T @ h_data - (v_model * weight[:, None]).T @ h_model
    db = weight @ (v_data - v_model)
    dc = weight @ (h_data - h_model)
    return dw, db, dc


def reconstruction_error(rbm: RBM, v: jax.Array, visible: str) -> jax.Array:
    """Per row, the mean squared error of the mean-field reconstruction E[v | p(h | v)]."""
    return jnp.mean((visible_mean(rbm, hidden_probabilities(rbm, v), visible) - v) ** 2, axis=-1)


def reconstruct_batch(rbms: RBM, v: jax.Array, visible: str) -> jax.Array:
    """A batch of RBMs' mean-field reconstructions of shared (2-D) or per-seed (3-D) inputs."""
    return jax.vmap(
        lambda m, vv: visible_mean(m, hidden_probabilities(m, vv), visible), in_axes=(0, 0 if v.ndim == 3 else None)
    )(rbms, v)


@program_cache
def _rbm_trainer(visible: str, epochs: int, batch_size: int, cd_steps: int, persistent: bool, x_per_seed: bool):
    """A jitted CD-k / PCD-k fit, vmapped over seeds: (rbm, x, key, lr, momentum) -> (rbm, epoch errors)."""

    def fit_one(rbm, x, key, lr, momentum):
        n = x.shape[0]
        n_batches = -(-n // batch_size)
        pad = n_batches * batch_size - n
        mask = (jnp.arange(n_batches * batch_size) < n).reshape(n_batches, batch_size).astype(jnp.float32)

        def step(carry, inp):
            rbm, velocity, chains = carry
            bi, mb, k = inp
            v_data = x[bi]
            v_model = gibbs_chain(k, rbm, chains if persistent else v_data, cd_steps, visible)
            error = jnp.sum(reconstruction_error(rbm, v_data, visible) * mb)
            g = cd_gradient(rbm, v_data, v_model, mb)
            # Gradient ascent on the log-likelihood, with momentum as the other fits do it.
            velocity = jax.tree_util.tree_map(lambda v_, g_: momentum * v_ + lr * g_, velocity, g)
            rbm = jax.tree_util.tree_map(lambda p_, v_: p_ + v_, rbm, velocity)
            return (rbm, velocity, v_model if persistent else chains), error

        def epoch(carry, k):
            perm = shuffled_indices(k, n)
            idx = jnp.concatenate([perm, jnp.zeros((pad,), perm.dtype)]).reshape(n_batches, batch_size)
            carry, errors = jax.lax.scan(
                step, carry, (idx, mask, jax.random.split(jax.random.fold_in(k, 1), n_batches))
            )
            return carry, jnp.sum(errors) / n

        # Persistent chains start at the first rows of the data (repeated if it has fewer than a batch).
        chains = x[jnp.arange(batch_size) % n]
        velocity = jax.tree_util.tree_map(jnp.zeros_like, rbm)
        (rbm, _, _), errors = jax.lax.scan(epoch, (rbm, velocity, chains), jax.random.split(key, epochs))
        return rbm, errors

    return jax.jit(jax.vmap(fit_one, in_axes=(0, 0 if x_per_seed else None, 0, None, None)))


def train_rbm(
    rbm: RBM,
    x: jax.Array,
    keys: jax.Array,
    *,
    visible: str,
    learning_rate: float,
    momentum: float,
    epochs: int,
    batch_size: int,
    cd_steps: int = 1,
    persistent: bool = False,
) -> tuple[RBM, np.ndarray]:
    """Fit a batch of RBMs (leading axis = seed) on shared (2-D) or per-seed (3-D) inputs.

    Returns the trained RBMs and each seed's mean reconstruction error per epoch (measured on
    each batch before its update).
    """
    fn = _rbm_trainer(visible, epochs, batch_size, cd_steps, persistent, x.ndim == 3)
    rbm, errors = fn(rbm, x, keys, jnp.float32(learning_rate), jnp.float32(momentum))
    return rbm, np.asarray(errors)
