"""What the tutorial's listing does on Keras 3, and that the library does not do it."""

import pytest

from greedy.analysis import tutorial
from greedy.learning.config import TrainConfig

pytestmark = pytest.mark.slow
CFG = TrainConfig(epochs=20)


def test_tutorial_listing_on_this_backend(blob_data, backend):
    df = tutorial.without_recompile(blob_data, seed=1, n_added_layers=2, config=CFG)
    if backend == "tensorflow":
        # Silently wrong: the frozen layer trains, the new one never does, evaluate() scores a stale graph.
        assert (df.frozen_first_layer_change > 0).all()
        assert (df.new_layer_change == 0).all()
        assert (df.evaluate_test != df.forward_test).any()
    else:
        assert df.error.iloc[0].startswith("ValueError"), df


def test_library_freezes_and_scores_the_current_model(blob_data):
    df = tutorial.with_library(blob_data, seed=1, n_added_layers=2, config=CFG)
    assert df.depth.tolist() == [3, 4]
    assert (df.frozen_first_layer_change == 0).all() and (df.new_layer_change > 0).all()
    assert (abs(df.evaluate_test - df.forward_test) < 1e-6).all()
