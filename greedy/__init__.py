"""greedy: greedy layer-wise pretraining on Keras 3 (reference engine) and JAX (fast engine).

Importing this package imports nothing heavy: neither Keras nor JAX, so the Keras backend can
still be chosen (``greedy.use_backend`` or KERAS_BACKEND) after ``import greedy``, and neither
scikit-learn nor pandas, so the study runner's processes stay small. Each name below is imported
on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_HOME = {
    "use_backend": "greedy.backend",
    "TrainConfig": "greedy.config",
    "Dataset": "greedy.data",
    "blobs": "greedy.data",
    "digits": "greedy.data",
    "from_arrays": "greedy.data",
    "with_labeled_per_class": "greedy.data",
    "run": "greedy.procedures",
    "StageRecord": "greedy.records",
    "load_frame": "greedy.records",
    "save_frame": "greedy.records",
    "to_frame": "greedy.records",
}
__all__ = [
    "Dataset",
    "StageRecord",
    "TrainConfig",
    "blobs",
    "digits",
    "from_arrays",
    "load_frame",
    "run",
    "save_frame",
    "to_frame",
    "use_backend",
    "with_labeled_per_class",
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
    from greedy.backend import use_backend
    from greedy.config import TrainConfig
    from greedy.data import Dataset, blobs, digits, from_arrays, with_labeled_per_class
    from greedy.procedures import run
    from greedy.records import StageRecord, load_frame, save_frame, to_frame
