import math

import numpy as np
import pytest

import greedy
from greedy.learning.config import TrainConfig, check_seeds
from greedy.learning.data import from_arrays, with_labeled_per_class


@pytest.mark.parametrize(
    ("changes", "param"),
    [
        ({"activation": "swish"}, "activation"),
        ({"initializer": "orthogonal"}, "initializer"),
        ({"width": 0}, "width"),
        ({"width": -3}, "width"),
        ({"epochs": 0}, "epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 10**9}, "batch_size must be at most 1,000,000"),
        ({"n_added_layers": -1}, "n_added_layers"),
        ({"n_added_layers": 2.5}, "n_added_layers"),
        ({"n_added_layers": True}, "n_added_layers"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"learning_rate": -0.1}, "learning_rate"),
        ({"learning_rate": math.inf}, "learning_rate"),
        ({"learning_rate": math.nan}, "learning_rate"),
        ({"momentum": 1.0}, "momentum"),
        ({"fine_tune_epochs": 0}, "fine_tune_epochs"),
    ],
)
def test_bad_setting_names_the_parameter(changes, param):
    with pytest.raises(ValueError, match=param):
        TrainConfig(**changes)


def test_unknown_setting_is_named():
    with pytest.raises(ValueError, match="unknown setting"):
        TrainConfig().with_(depth=3)


def test_defaults_are_the_tutorials():
    c = TrainConfig()
    assert (c.width, c.activation, c.initializer, c.learning_rate, c.momentum) == (10, "relu", "he_uniform", 0.01, 0.9)
    assert (c.epochs, c.batch_size, c.n_added_layers) == (100, 32, 10)


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"method": "layerwise"}, "method"),
        ({"method": "rbm_greedy", "engine": "keras"}, "fast engine only"),
        ({"engine": "torch"}, "engine"),
        ({"seeds": []}, "seeds"),
        ({"seeds": [1, 1]}, "seeds"),
        ({"seeds": [-1]}, "seeds"),
        ({"seeds": "abc"}, "seeds"),
        ({"seeds": 3}, "seeds"),
        ({"fine_tune": "sometimes"}, "fine_tune"),
    ],
)
def test_run_rejects_bad_input_before_work(blob_data, kwargs, param):
    args = {"method": "supervised_greedy", "data": blob_data, **kwargs}
    with pytest.raises(ValueError, match=param):
        greedy.run(**args)


def test_every_procedure_runs_through_greedy_run():
    rng = np.random.default_rng(0)
    data = from_arrays(rng.random((60, 4)), np.arange(60) % 3, rng.random((30, 4)), np.arange(30) % 3)
    cfg = TrainConfig(n_added_layers=1, epochs=2, head_epochs=2, activation="sigmoid", initializer="glorot_uniform")
    for method in greedy.learning.config.METHODS:
        records = greedy.run(method, data, cfg, seeds=[0, 1]).records
        assert {r.method for r in records} == {method} and {r.seed for r in records} == {0, 1}


def test_user_data_validation():
    x = np.zeros((4, 2))
    with pytest.raises(ValueError, match="same length"):
        from_arrays(x, [0, 1, 0], x, [0, 1, 0, 1])
    bad = x.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or inf"):
        from_arrays(bad, [0, 1, 0, 1], x, [0, 1, 0, 1])
    bad[0, 0] = np.inf
    with pytest.raises(ValueError, match="NaN or inf"):
        from_arrays(x, [0, 1, 0, 1], bad, [0, 1, 0, 1])
    with pytest.raises(ValueError, match="at least two classes"):
        from_arrays(x, [1, 1, 1, 1], x, [1, 1, 1, 1])
    with pytest.raises(ValueError, match="same number of features"):
        from_arrays(x, [0, 1, 0, 1], np.zeros((4, 3)), [0, 1, 0, 1])


@pytest.mark.parametrize(
    ("x", "y", "message"),
    [
        ([[1e39, 0.0], [0.0, 1.0]], [0, 1], "X_train has values beyond float32's range"),
        ([["a", "b"], ["c", "d"]], [0, 1], "X_train must hold numbers"),
        ([[0.0, 1.0], [1.0, 0.0]], [0.0, np.nan], "y_train contains NaN"),
        ([[0.0, 1.0], [1.0, 0.0]], np.array(["a", None], dtype=object), "y_train contains a missing label"),
        ([[0.0, 1.0], [1.0, 0.0]], [0.37, 1.0], r"y_train holds numbers that are not whole \(e.g. 0.37\)"),
        ([[0.0, 1.0], [1.0, 0.0]], np.array([1, "a"], dtype=object), "y_train mixes numbers and strings"),
    ],
)
def test_user_data_that_would_train_wrongly_is_refused(x, y, message):
    with pytest.raises(ValueError, match=message):
        from_arrays(x, y, [[0.0, 0.0], [1.0, 1.0]], [0, 1] if not isinstance(y[0], str) else ["a", "a"])


@pytest.mark.parametrize(
    ("x", "y", "message"),
    [
        (np.zeros((2, 0)), [0, 1], "X_train must be a non-empty 2-D array"),
        ([[0.0, 1.0], [1.0, 0.0]], [[0], [1]], "y_train must be a 1-D array"),
    ],
)
def test_user_data_of_the_wrong_shape_is_refused(x, y, message):
    with pytest.raises(ValueError, match=message):
        from_arrays(x, y, [[0.0, 0.0], [1.0, 1.0]], [0, 1])


def test_user_labels_of_one_kind_are_accepted_as_given():
    x = [[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    whole_floats = from_arrays(x, [0.0, 1.0, 2.0], x, [2.0, 1.0, 0.0])  # whole numbers stored as floats
    assert whole_floats.n_classes == 3
    # Strings in an object array (as a pandas column holds them), and a test split that lacks a class.
    strings = from_arrays(
        x, np.array(["cat", "dog", "eel"], dtype=object), x[:2], np.array(["dog", "dog"], dtype=object)
    )
    assert strings.n_classes == 3 and len(strings.y_test) == 2


def test_labeled_subset_of_something_not_a_dataset_names_data():
    with pytest.raises(ValueError, match="data must be a greedy.Dataset"):
        with_labeled_per_class(None, 3)


def test_too_many_labeled_per_class(blob_data):
    with pytest.raises(ValueError, match="labeled_per_class=1000"):
        with_labeled_per_class(blob_data, 1000)
    with pytest.raises(ValueError, match="labeled_per_class"):
        with_labeled_per_class(blob_data, 0)


def test_seeds_are_a_sequence_never_a_count():
    assert check_seeds(range(3)) == [0, 1, 2] and check_seeds((4, 2)) == [4, 2]
    with pytest.raises(ValueError, match=r"seeds must be a sequence.*pass range\(3\)"):
        check_seeds(3)
    with pytest.raises(ValueError, match="seeds must be an integer"):
        check_seeds([0, 1.5])
