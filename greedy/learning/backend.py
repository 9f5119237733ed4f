"""Choosing the Keras backend and seeding it: the backend is a choice, never a hard-coded import."""

from __future__ import annotations

import os
import random
import sys

import numpy as np

from greedy.learning.config import check_choice

BACKENDS = ("tensorflow", "jax")


def use_backend(name: str) -> None:
    """Select the Keras backend; must happen before Keras is first imported in the process."""
    check_choice("backend", name, BACKENDS)
    if "keras" in sys.modules:
        import keras

        if keras.backend.backend() != name:
            raise RuntimeError(
                f"Keras is already imported with backend {keras.backend.backend()!r}; "
                f"set KERAS_BACKEND={name} before importing keras"
            )
        return
    os.environ["KERAS_BACKEND"] = name
    if name == "tensorflow":
        _import_tensorflow_quietly()


def _import_tensorflow_quietly() -> None:
    """Import TensorFlow with its C++ start-up log lines kept out of stderr (and so out of notebooks).

    TensorFlow writes them to file descriptor 2 before its logging is configured, whatever
    TF_CPP_MIN_LOG_LEVEL says; later messages obey that variable.
    """
    import importlib.util

    if importlib.util.find_spec("tensorflow") is None:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow as tf

        tf.constant(1.0) + 1.0  # first op: oneDNN announces itself here
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def current_backend() -> str:
    import keras

    return keras.backend.backend()


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and the backend; make TensorFlow's ops deterministic.

    On the JAX backend TensorFlow is left unimported: ``keras.utils.set_random_seed`` would import
    it (about 0.7 GiB) only to seed it, and nothing on that backend draws from it. The rest of what it
    does is done here; ``tests/test_backend.py`` checks the records equal its own.
    """
    import keras

    if keras.backend.backend() != "jax":
        keras.utils.set_random_seed(seed)
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            tf.config.experimental.enable_op_determinism()
        return
    from keras.src.backend.common import global_state
    from keras.src.random import seed_generator
    from keras.src.utils import rng_utils

    global_state.set_global_attribute(rng_utils.GLOBAL_RANDOM_SEED, seed)
    global_state.set_global_attribute(seed_generator.GLOBAL_SEED_GENERATOR, None)
    random.seed(seed)
    np.random.seed(seed)
