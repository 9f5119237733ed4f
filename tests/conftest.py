"""Shared fixtures. The Keras backend is per process: the test command runs the Keras tests once
with KERAS_BACKEND=tensorflow and once with KERAS_BACKEND=jax."""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest  # noqa: E402

from greedy.learning.data import blobs  # noqa: E402


@pytest.fixture(scope="session")
def blob_data():
    return blobs()


@pytest.fixture(scope="session")
def backend() -> str:
    import keras

    return keras.backend.backend()


class _StopBeforeWork(Exception):
    pass


@pytest.fixture
def draws_asked(monkeypatch):
    """``draws_asked(module, study, **kwargs)``: what ``study`` asks ``module.evaluation_and_tuning`` for
    (the data set's name, evaluation seeds and tuning draws), stopped there before any work."""

    def asked(module, study, **kwargs) -> dict:
        seen = {}

        def spy(name, seeds, tuning_seeds):
            seen.update(name=name, seeds=list(seeds), tuning=list(tuning_seeds))
            raise _StopBeforeWork

        monkeypatch.setattr(module, "evaluation_and_tuning", spy)
        with pytest.raises(_StopBeforeWork):
            study(**kwargs)
        return seen

    return asked
