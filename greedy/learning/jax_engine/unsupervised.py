"""Unsupervised greedy pretraining on the fast engine: autoencoder and RBM stacks, each stage scored by a
softmax head trained on the frozen stack."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp

from greedy.learning.config import VISIBLE_UNITS, TrainConfig, check_choice, check_positive_int
from greedy.learning.data import Dataset, one_per_seed
from greedy.learning.jax_engine import rbm, scores
from greedy.learning.jax_engine.fit import train
from greedy.learning.jax_engine.keys import KeyPurpose, purpose_keys
from greedy.learning.jax_engine.network import TIED_AUTOENCODER, Params, features_batch, init_batch, linear_batch
from greedy.learning.jax_engine.reuse import LearnedLayer, PretrainedStages
from greedy.learning.jax_engine.runs import (
    check_run_inputs,
    finish_stage,
    fit_settings,
    new_layer,
    run_chunks,
    small_splits,
    stage_accuracies,
)
from greedy.learning.jax_engine.seeds import DEFAULT_CHUNK, Data, SeedChunk, StageLog
from greedy.learning.records import Trained


def _probe_head(chunk: SeedChunk, config: TrainConfig, stage: int, n_classes: int, f_train):
    """A softmax head trained on a frozen encoder's features: the encoder scored as a classifier."""
    keys = chunk.keys
    head0 = init_batch(purpose_keys(keys, stage, KeyPurpose.PROBE_HEAD_INIT), config.width, n_classes, "glorot_uniform")
    fit_keys = purpose_keys(keys, stage, KeyPurpose.PROBE_HEAD_FIT)
    (head,), losses = train(
        [head0], f_train, chunk.arrays.y_train_hot, fit_keys, **fit_settings(config, "ce", config.head_epochs)
    )
    return head, losses


def _autoencoder_layer(
    chunk: SeedChunk, config: TrainConfig, stage: int, n_features: int, f_pre, decoder_below
) -> LearnedLayer:
    """One autoencoder stage: a new hidden layer trained with a decoder to reconstruct, from the layer's
    output, the raw input or the stage's own input ``f_pre`` (``config.reconstruction_target``).

    Raw input is the tutorial's design: one reconstruction layer, carried over from stage to stage
    (``decoder_below``), reconstructs the input from the whole stack. The stage's own input (the
    output of the layers below) is the stacked autoencoder's: a fresh decoder per stage, or with
    ``config.tied_weights`` the transpose of the new layer's weights plus a bias of its own.
    """
    keys, a = chunk.keys, chunk.arrays
    own_input = config.reconstruction_target == "stage_input"
    target = f_pre if own_input else a.x_pretrain
    new, fit_keys = new_layer(keys, stage, n_features, config)
    if config.tied_weights:
        decoder = (jnp.zeros((len(keys), target.shape[-1]), jnp.float32),)
    elif own_input or stage == 0:
        decoder = init_batch(
            purpose_keys(keys, stage, KeyPurpose.HEAD_INIT), config.width, target.shape[-1], "glorot_uniform"
        )
    else:
        decoder = decoder_below
    (new, decoder), losses = train(
        [new, decoder],
        f_pre,
        target,
        fit_keys,
        **fit_settings(config, "mse"),
        corruption=config.corruption,
        corruption_level=config.corruption_level,
        architecture=TIED_AUTOENCODER if config.tied_weights else "plain",
    )
    decoder_layer = (jnp.swapaxes(new[0], -1, -2), decoder[0]) if config.tied_weights else decoder

    def reconstruct(f_in, f_out, x):
        return scores.mse(linear_batch(decoder_layer, f_out), f_in if own_input else x)

    return LearnedLayer(new, losses, scores.divergence(losses, [new, decoder]), reconstruct, decoder_layer)


def _rbm_layer(
    chunk: SeedChunk, config: TrainConfig, stage: int, n_features: int, f_pre, decoder_below, *, rbm_options: dict
) -> LearnedLayer:
    """One RBM stage: an RBM on the stack's output ``f_pre``; its weights and hidden biases become the new layer.

    The first RBM's visible units are ``rbm_options["visible"]``; the later ones model the hidden
    probabilities below them, which are in [0, 1], with Bernoulli units.
    """
    keys = chunk.keys
    options = dict(rbm_options, visible=rbm_options["visible"] if stage == 0 else "bernoulli")
    fan_in = n_features if stage == 0 else config.width
    machine = rbm.init_rbm(purpose_keys(keys, stage, KeyPurpose.NEW_LAYER_INIT), fan_in, config.width)
    machine, errors = rbm.train_rbm(
        machine,
        f_pre,
        purpose_keys(keys, stage, KeyPurpose.FIT),
        learning_rate=config.learning_rate,
        momentum=config.momentum,
        epochs=config.epochs,
        batch_size=config.batch_size,
        **options,
    )
    w, _, c = machine

    def reconstruct(f_in, f_out, x):
        return scores.mse(rbm.reconstruct_batch(machine, f_in, options["visible"]), f_in)

    return LearnedLayer((w, c), errors, scores.divergence(errors, machine), reconstruct)


def _revive_dead_units(new, f_pre, keys: jax.Array, stage: int, config: TrainConfig):
    """The layer with each unit that is dead on the pretraining inputs ``f_pre`` (its output 0 on every
    row) replaced by a freshly initialized one: an intervention on the dead-unit explanation of collapse."""
    w, b = new
    alive = jnp.any(features_batch([new], f_pre, config.activation) != 0, axis=-2)  # (seed, unit)
    fresh_w, fresh_b = init_batch(
        purpose_keys(keys, stage, KeyPurpose.REVIVE_INIT), w.shape[-2], w.shape[-1], config.initializer
    )
    return jnp.where(alive[:, None, :], w, fresh_w), jnp.where(alive, b, fresh_b)


@dataclass(frozen=True)
class _UnsupervisedRun:
    """Greedy unsupervised pretraining: each stage's layer learned by ``learn_layer`` from the stack's
    output on the pretraining inputs (or taken from ``pretrained``), then scored by a softmax head
    trained on the frozen stack."""

    method: str
    learn_layer: Callable
    shape: Dataset
    fine_tune: str
    pretrained: PretrainedStages | None

    def chunk(self, chunk: SeedChunk, log: StageLog, config: TrainConfig) -> None:
        """Every stage for one chunk of seeds."""
        method, learn_layer, shape, fine_tune, pretrained = (
            self.method, self.learn_layer, self.shape, self.fine_tune, self.pretrained
        )  # fmt: skip
        a = chunk.arrays
        run_key = None if pretrained is None else PretrainedStages.run_key(chunk, config, method, learn_layer)
        hidden: Params = []
        splits = a.scored_splits()
        f_pre, decoder = a.x_pretrain, None
        features = small_splits(splits)
        for stage in range(config.n_added_layers + 1):
            if not any(log.alive):
                break
            start = time.perf_counter()
            learn = partial(learn_layer, chunk, config, stage, shape.n_features, f_pre, decoder)
            learned = learn() if pretrained is None else pretrained.learned(run_key, stage, learn)
            new, decoder = learned.layer, learned.decoder
            hidden.append(new)
            f_pre_in, f_pre = f_pre, features_batch([new], f_pre, config.activation)
            previous, features = (
                features,
                {name: features_batch([new], f, config.activation) for name, f in features.items()},
            )
            head, head_losses = _probe_head(chunk, config, stage, shape.n_classes, features["train"])
            stage_scores = {
                **{
                    f"{split}_mse": learned.reconstruct(previous[split], features[split], x)
                    for split, x in (("train", a.x_train), ("test", a.x_test))
                },
                **stage_accuracies([*hidden, head], features, splits, config.activation),
            }
            diverged = scores.first_divergence(learned.diverged, scores.divergence(head_losses, [head]))
            finish_stage(
                log, config, fine_tune, method, stage, start, learned.losses, diverged, stage_scores, [*hidden, head]
            )
            if config.revive_dead_units:  # the stage is scored as trained; the next one sees the revived layer
                hidden[-1] = _revive_dead_units(new, f_pre_in, chunk.keys, stage, config)
                f_pre = features_batch([hidden[-1]], f_pre_in, config.activation)
                features = {name: features_batch([hidden[-1]], f, config.activation) for name, f in previous.items()}


def _check_pretrained(pretrained: object) -> None:
    if pretrained is not None and not isinstance(pretrained, PretrainedStages):
        raise ValueError(
            "pretrained must be a greedy.learning.jax_engine.PretrainedStages (or None), "
            f"got {type(pretrained).__name__}"
        )


def autoencoder_greedy(
    data: Data,
    config: TrainConfig = TrainConfig(),
    seeds: Sequence[int] = (0,),
    *,
    fine_tune: str = "none",
    chunk_size: int = DEFAULT_CHUNK,
    keep_networks: bool = False,
    pretrained: PretrainedStages | None = None,
) -> Trained:
    """Autoencoder greedy pretraining for many seeds; see ``greedy.learning.keras_engine.autoencoder_greedy``.

    ``pretrained``: a ``PretrainedStages`` shared between calls, so that a stage learned once (same
    method, settings, seeds and pretraining inputs) is reused by every later call asking for it.

    The fast engine's options (``config``): denoising (``corruption``), what each stage reconstructs
    (``reconstruction_target``: the raw input, as the tutorial, or the stage's own input, as stacked
    autoencoders) and ``tied_weights``; ``train_mse``/``test_mse`` are the reconstruction error of that target.
    With ``keep_networks``, ``Trained.networks`` holds each stage's encoder + classifier head and
    each fine-tuned stack.
    """
    seed_list, shape = check_run_inputs(config, seeds, fine_tune, chunk_size, data, keep_networks)
    _check_pretrained(pretrained)
    run = _UnsupervisedRun("autoencoder_greedy", _autoencoder_layer, shape, fine_tune, pretrained)
    return run_chunks(run.chunk, data, seed_list, chunk_size, keep_networks, config)


def _check_rbm_options(data: Data, n_seeds: int, config: TrainConfig, visible: str, cd_steps: int, persistent) -> None:
    check_choice("visible", visible, VISIBLE_UNITS)
    check_positive_int("cd_steps", cd_steps)
    if not isinstance(persistent, bool):
        raise ValueError(f"persistent must be True or False, got {persistent!r}")
    if config.activation != "sigmoid":
        raise ValueError(
            f"an RBM's hidden units are sigmoid: rbm_greedy needs activation='sigmoid', got {config.activation!r}"
        )
    if config.optimizer != "sgd":
        raise ValueError(
            f"RBMs train by contrastive divergence with momentum: optimizer must be 'sgd', got {config.optimizer!r}"
        )
    if visible != "bernoulli":
        return
    for d in one_per_seed(data, n_seeds):
        low, high = float(d.x_pretrain.min()), float(d.x_pretrain.max())
        if low < 0 or high > 1:
            raise ValueError(
                f"visible='bernoulli' models inputs in [0, 1], but {d.name}'s span [{low:.3g}, {high:.3g}]: "
                "scale them to [0, 1], or use visible='gaussian' on standardized inputs"
            )


def rbm_greedy(
    data: Data,
    config: TrainConfig = TrainConfig(activation="sigmoid", initializer="glorot_uniform"),
    seeds: Sequence[int] = (0,),
    *,
    visible: str = "bernoulli",
    cd_steps: int = 1,
    persistent: bool = False,
    fine_tune: str = "none",
    chunk_size: int = DEFAULT_CHUNK,
    keep_networks: bool = False,
    pretrained: PretrainedStages | None = None,
) -> Trained:
    """RBM greedy pretraining (a deep belief network's stack, Hinton et al. 2006) for many seeds.

    Each stage trains an RBM (CD-``cd_steps``, persistent chains if ``persistent``) on the
    stack's hidden probabilities, with the config's learning rate, momentum, epochs and batch
    size, and adds its weights and hidden biases as a sigmoid layer; the stack is scored,
    fine-tuned, kept and reused as in ``autoencoder_greedy``. ``visible`` is the first RBM's kind
    of visible unit: "bernoulli" for inputs in [0, 1], "gaussian" for standardized inputs.
    Recorded as method ``rbm_greedy``; ``train_mse``/``test_mse`` are each stage's RBM's
    reconstruction error of its own input.
    """
    seed_list, shape = check_run_inputs(config, seeds, fine_tune, chunk_size, data, keep_networks)
    _check_rbm_options(data, len(seed_list), config, visible, cd_steps, persistent)
    _check_pretrained(pretrained)
    learn_layer = partial(_rbm_layer, rbm_options=dict(visible=visible, cd_steps=cd_steps, persistent=persistent))
    run = _UnsupervisedRun("rbm_greedy", learn_layer, shape, fine_tune, pretrained)
    return run_chunks(run.chunk, data, seed_list, chunk_size, keep_networks, config)
