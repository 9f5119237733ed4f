"""Training settings, validated up front so bad input fails before any work starts."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from numbers import Integral, Real

ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu")
# standard_uniform is Glorot & Bengio's (2010) "standard" initialization, U[-1/sqrt(fan_in), 1/sqrt(fan_in)].
INITIALIZERS = ("he_uniform", "glorot_uniform", "standard_uniform", "small_uniform")
OPTIMIZERS = ("sgd", "adam")  # sgd uses ``momentum``; adam has Keras' defaults (beta_1 0.9, beta_2 0.999)
METHODS = ("supervised_greedy", "autoencoder_greedy", "rbm_greedy", "end_to_end")
MAX_BATCH_SIZE = 1_000_000
VISIBLE_UNITS = ("bernoulli", "gaussian")  # an RBM's first visible units
KERAS_METHODS = ("supervised_greedy", "autoencoder_greedy", "end_to_end")  # the Keras reference has no RBM
ENGINES = ("keras", "jax")
FINE_TUNE_WHEN = ("none", "last", "every")
# Denoising autoencoders (Vincent et al., 2008): what corrupts a stage's input while it learns to reconstruct.
CORRUPTIONS = ("none", "masking", "gaussian")
# What an autoencoder stage reconstructs: the raw input from the whole stack (the tutorial's design,
# one reconstruction layer carried from stage to stage) or its own input, the layer below's output,
# with a fresh decoder per stage (stacked denoising autoencoders, Vincent et al., 2008).
RECONSTRUCTION_TARGETS = ("raw_input", "stage_input")

# The pre-2006 kind of initialization: uniform in [-0.05, 0.05] (Keras' RandomUniform default).
SMALL_UNIFORM_LIMIT = 0.05


def check_choice(name: str, value: object, accepted: tuple[str, ...]) -> str:
    if value not in accepted:
        raise ValueError(f"{name}={value!r} is not accepted; choose one of {', '.join(accepted)}")
    return value  # type: ignore[return-value]


def check_positive_int(name: str, value: object, *, allow_zero: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else ">= 1"
        raise ValueError(f"{name} must be an integer {bound}, got {value!r}")
    return int(value)


def check_positive_float(name: str, value: object, *, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class TrainConfig:
    """Every knob of the procedures; the defaults are the tutorial's values."""

    width: int = 10
    activation: str = "relu"
    initializer: str = "he_uniform"
    learning_rate: float = 0.01
    momentum: float = 0.9
    optimizer: str = "sgd"
    epochs: int = 100
    batch_size: int = 32
    n_added_layers: int = 10
    fine_tune_learning_rate: float = 0.001
    fine_tune_epochs: int = 200
    head_epochs: int = 100
    # Autoencoder stages only: "masking" zeroes each input with probability corruption_level,
    # "gaussian" adds noise of standard deviation corruption_level; the target stays clean.
    corruption: str = "none"
    corruption_level: float = 0.0
    # Unsupervised greedy stages only (fast engine): after each stage is scored, its units dead on the
    # pretraining inputs are re-initialized before the next stage is trained on the layer's output.
    revive_dead_units: bool = False
    # Autoencoder stages only (fast engine): see RECONSTRUCTION_TARGETS. Tied weights (stage_input
    # only) decode with the transpose of the stage's encoder weights plus a bias of its own.
    reconstruction_target: str = "raw_input"
    tied_weights: bool = False
    # Fast engine: every gradient fit's loss adds weight_decay times the sum of its kernels' squared
    # weights (an L2 kernel regularizer; RBMs' contrastive divergence is not a gradient fit).
    weight_decay: float = 0.0

    def __post_init__(self) -> None:
        check_positive_int("width", self.width)
        check_choice("activation", self.activation, ACTIVATIONS)
        check_choice("initializer", self.initializer, INITIALIZERS)
        check_positive_float("learning_rate", self.learning_rate)
        check_positive_float("momentum", self.momentum, allow_zero=True)
        if self.momentum >= 1:
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum!r}")
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_positive_int("epochs", self.epochs)
        if check_positive_int("batch_size", self.batch_size) > MAX_BATCH_SIZE:
            # A batch is padded to this many rows per seed: a typo would ask for terabytes.
            raise ValueError(f"batch_size must be at most {MAX_BATCH_SIZE:,}, got {self.batch_size!r}")
        check_positive_int("n_added_layers", self.n_added_layers, allow_zero=True)
        check_positive_float("fine_tune_learning_rate", self.fine_tune_learning_rate)
        check_positive_int("fine_tune_epochs", self.fine_tune_epochs)
        check_positive_int("head_epochs", self.head_epochs)
        check_choice("corruption", self.corruption, CORRUPTIONS)
        check_positive_float("corruption_level", self.corruption_level, allow_zero=True)
        if self.corruption == "masking" and self.corruption_level >= 1:
            raise ValueError(f"corruption_level for masking is a probability in [0, 1), got {self.corruption_level!r}")
        if not isinstance(self.revive_dead_units, bool):
            raise ValueError(f"revive_dead_units must be True or False, got {self.revive_dead_units!r}")
        check_positive_float("weight_decay", self.weight_decay, allow_zero=True)
        check_choice("reconstruction_target", self.reconstruction_target, RECONSTRUCTION_TARGETS)
        if not isinstance(self.tied_weights, bool):
            raise ValueError(f"tied_weights must be True or False, got {self.tied_weights!r}")
        if self.tied_weights and self.reconstruction_target != "stage_input":
            raise ValueError(
                "tied_weights=True needs reconstruction_target='stage_input': a tied decoder is the transpose "
                "of the stage's own encoder, so it can only reconstruct the stage's input"
            )
        if self.corruption == "none" and self.corruption_level != 0:
            raise ValueError(f"corruption_level={self.corruption_level!r} needs corruption='masking' or 'gaussian'")

    def with_(self, **changes: object) -> TrainConfig:
        """A copy with some settings changed (validated again)."""
        unknown = set(changes) - set(asdict(self))
        if unknown:
            raise ValueError(f"unknown setting(s) {sorted(unknown)}; accepted: {sorted(asdict(self))}")
        return replace(self, **changes)


def fine_tunes_after(fine_tune: str, stage: int, config: TrainConfig) -> bool:
    """Whether a greedy procedure fine-tunes its stack after ``stage`` (0 = the base network)."""
    return fine_tune == "every" or (fine_tune == "last" and stage == config.n_added_layers)


def check_seeds(seeds: object) -> list[int]:
    """Seeds as a list of distinct non-negative integers. A count is not a seed list: use ``range(n)``."""
    if isinstance(seeds, str | bytes) or not isinstance(seeds, Iterable):
        raise ValueError(
            f"seeds must be a sequence of distinct integers >= 0, such as range(30), got {seeds!r}"
            + (f" (for {seeds} seeds, pass range({seeds}))" if isinstance(seeds, Integral) else "")
        )
    out = [check_positive_int("seeds", s, allow_zero=True) for s in seeds]
    if not out:
        raise ValueError("seeds must not be empty")
    if len(set(out)) != len(out):
        raise ValueError(f"seeds must be distinct, got {out}")
    return out
