"""greedy: greedy layer-wise pretraining on Keras 3 (reference engine) and JAX (fast engine).

Importing this package imports neither Keras nor JAX, so the Keras backend can still be chosen
(``greedy.use_backend`` or KERAS_BACKEND) after ``import greedy``.
"""

from greedy.backend import use_backend
from greedy.config import TrainConfig
from greedy.data import Dataset, blobs, digits, from_arrays, with_labeled_per_class
from greedy.procedures import run
from greedy.records import StageRecord, load_frame, save_frame, to_frame

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
