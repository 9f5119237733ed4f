"""greedy: greedy layer-wise pretraining on Keras 3 (reference engine) and JAX (fast engine).

Importing this package imports nothing heavy: neither Keras nor JAX, so the Keras backend can
still be chosen (``greedy.use_backend`` or KERAS_BACKEND) after ``import greedy``, and neither
scikit-learn nor pandas, so the study runner's processes stay small. Each name below is imported
on first use.
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Any

# TensorFlow's and XLA's C++ log lines (warnings such as "NodeDef mentions attribute ...") go to
# stderr unless this is set before the first of their libraries loads: jaxlib reads it too, and
# the fast engine loads jaxlib before Keras may load TensorFlow. A value the user set is kept.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

_HOME = {
    "use_backend": "greedy.learning.backend",
    "TrainConfig": "greedy.learning.config",
    "Dataset": "greedy.learning.data",
    "blobs": "greedy.learning.data",
    "digits": "greedy.learning.data",
    "from_arrays": "greedy.learning.data",
    "mnist1d": "greedy.learning.data",
    "resampled_blobs": "greedy.learning.data",
    "tuning_split": "greedy.learning.data",
    "settings_grid": "greedy.learning.tuning",
    "tune": "greedy.learning.tuning",
    "with_labeled_per_class": "greedy.learning.data",
    "with_validation": "greedy.learning.data",
    "run": "greedy.learning.procedures",
    "GreedyPretrainedClassifier": "greedy.learning.estimator",
    "StageRecord": "greedy.learning.records",
    "load_frame": "greedy.learning.records",
    "save_frame": "greedy.learning.records",
    "to_frame": "greedy.learning.records",
}
__all__ = [
    "Dataset",
    "GreedyPretrainedClassifier",
    "StageRecord",
    "TrainConfig",
    "blobs",
    "digits",
    "from_arrays",
    "load_frame",
    "mnist1d",
    "resampled_blobs",
    "run",
    "save_frame",
    "settings_grid",
    "to_frame",
    "tune",
    "use_backend",
    "tuning_split",
    "with_labeled_per_class",
    "with_validation",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'greedy' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOME[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOME})


if TYPE_CHECKING:
    from greedy.learning.backend import use_backend
    from greedy.learning.config import TrainConfig
    from greedy.learning.data import (
        Dataset,
        blobs,
        digits,
        from_arrays,
        mnist1d,
        resampled_blobs,
        tuning_split,
        with_labeled_per_class,
        with_validation,
    )
    from greedy.learning.estimator import GreedyPretrainedClassifier
    from greedy.learning.procedures import run
    from greedy.learning.records import StageRecord, load_frame, save_frame, to_frame
    from greedy.learning.tuning import settings_grid, tune
