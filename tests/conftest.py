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
