"""The scikit-learn classifier: every check of check_estimator, and the tools a practitioner uses it with."""

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import greedy
from greedy.learning.estimator import GreedyPretrainedClassifier

# Small and quick, yet enough steps to pass scikit-learn's accuracy check on its toy problems.
QUICK = dict(
    epochs=40, fine_tune_epochs=3, width=8, n_hidden_layers=1, optimizer="sgd", learning_rate=0.01, batch_size=32
)
# Few epochs with steps large enough to learn the iris in them.
BRISK = dict(optimizer="sgd", learning_rate=0.01, batch_size=32, fine_tune_learning_rate=0.001)


@parametrize_with_checks([GreedyPretrainedClassifier(**QUICK, fine_tune="none"), GreedyPretrainedClassifier(**QUICK)])
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


def test_in_a_pipeline_a_grid_search_and_cross_validation(iris):
    X, y = iris
    pipe = make_pipeline(
        StandardScaler(), GreedyPretrainedClassifier(**BRISK, epochs=30, width=16, fine_tune_epochs=30)
    )
    search = GridSearchCV(pipe, {"greedypretrainedclassifier__pretraining": ["supervised", "none"]}, cv=3)
    search.fit(X, y)
    assert search.best_score_ > 0.8
    scores = cross_val_score(
        make_pipeline(StandardScaler(), GreedyPretrainedClassifier(**BRISK, pretraining="autoencoder", epochs=30)),
        X,
        y,
        cv=3,
    )
    assert scores.mean() > 0.8


def test_rbm_pretraining_in_a_pipeline(iris):
    """A deep belief network's stack (Gaussian visible units on standardized inputs), fine-tuned."""
    X, y = iris
    rbm = GreedyPretrainedClassifier(
        **BRISK, pretraining="rbm", activation="sigmoid", initializer="glorot_uniform", epochs=30
    )
    scores = cross_val_score(
        make_pipeline(StandardScaler(), rbm.set_params(fine_tune="last", fine_tune_learning_rate=0.01)), X, y, cv=3
    )
    assert scores.mean() > 0.8, scores


def test_stacked_denoising_autoencoder_with_tied_weights_in_a_pipeline(iris):
    """Vincent et al.'s stacked denoising autoencoder: each stage reconstructs its own input, tied weights."""
    X, y = iris
    sda = GreedyPretrainedClassifier(
        **BRISK | {"learning_rate": 0.1}, activation="sigmoid", initializer="glorot_uniform", epochs=30,
        corruption="masking", corruption_level=0.25, reconstruction_target="stage_input", tied_weights=True,
    )  # fmt: skip
    scores = cross_val_score(make_pipeline(StandardScaler(), sda), X, y, cv=3)
    assert scores.mean() > 0.8, scores


def test_labels_of_any_kind_and_probabilities(iris):
    X, y = iris
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    est = GreedyPretrainedClassifier(**BRISK, epochs=30, width=16).fit(StandardScaler().fit_transform(X), names)
    proba = est.predict_proba(StandardScaler().fit_transform(X))
    assert list(est.classes_) == ["setosa", "versicolor", "virginica"] and np.allclose(proba.sum(1), 1)
    assert set(est.predict(StandardScaler().fit_transform(X))) <= set(names)
    assert greedy.GreedyPretrainedClassifier is GreedyPretrainedClassifier


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"pretraining": "dbn"}, "pretraining"),
        ({"n_hidden_layers": 0}, "n_hidden_layers"),
        ({"width": -1}, "width"),
        ({"pretraining": "rbm"}, "activation='sigmoid'"),
        (
            {"pretraining": "rbm", "activation": "sigmoid", "rbm_visible": "binary"},
            "rbm_visible='binary' is not accepted",
        ),
        ({"tied_weights": True}, "tied_weights=True needs reconstruction_target"),
        ({"fine_tune": True}, "fine_tune=True is not accepted; choose one of last, none"),
    ],
)
def test_bad_settings_name_the_parameter_before_training(iris, params, name):
    with pytest.raises(ValueError, match=name):
        GreedyPretrainedClassifier(**params).fit(*iris)


def test_fine_tuning_is_the_procedures_own_and_moves_every_layer_of_the_pretrained_stack(iris):
    """The estimator's fine-tuned network is the one ``greedy.run`` fine-tunes and records, on the same seed."""
    from greedy.learning.data import from_arrays
    from greedy.learning.mlp import accuracy

    X, y = StandardScaler().fit_transform(iris[0]), iris[1]
    settings = dict(pretraining="supervised", n_hidden_layers=2, width=8, epochs=20, random_state=3)
    frozen = GreedyPretrainedClassifier(**settings, fine_tune="none").fit(X, y)
    tuned = GreedyPretrainedClassifier(**settings, fine_tune="last", fine_tune_learning_rate=0.01).fit(X, y)
    for before, after in zip(frozen.network_, tuned.network_, strict=True):
        assert not np.allclose(before.kernel, after.kernel)
    config = tuned._config()
    trained = greedy.run("supervised_greedy", from_arrays(X, y, X, y), config, seeds=[3], fine_tune="last")
    record = [r for r in trained.records if r.method == "supervised_greedy+fine_tune"][-1]
    assert accuracy(tuned.network_, X, y) == pytest.approx(record.train_accuracy, abs=1 / len(y))


def test_a_diverged_fit_names_the_rate_that_diverged(iris):
    X, y = StandardScaler().fit_transform(iris[0]), iris[1]
    with pytest.raises(RuntimeError, match="fine_tune_learning_rate=1000000.0"):
        GreedyPretrainedClassifier(**BRISK | {"fine_tune_learning_rate": 1e6}, epochs=5).fit(X, y)
    with pytest.raises(RuntimeError, match=r"with learning_rate=1000000.0"):
        GreedyPretrainedClassifier(**BRISK | {"learning_rate": 1e6}, epochs=5).fit(X, y)


def test_the_estimator_benchmark_prints_what_it_measured(capsys):
    from greedy.pipeline import estimator_bench

    [row] = estimator_bench.report(quick=True)
    out = capsys.readouterr().out
    assert row["dataset"] == "iris" and row["ratio"] == pytest.approx(row["greedy_seconds"] / row["sklearn_seconds"])
    assert 0 <= row["greedy_accuracy"] <= 1 and 0 <= row["sklearn_accuracy"] <= 1
    assert f"{row['ratio']:6.2f}" in out and f"{row['greedy_accuracy']:7.3f} ± {row['greedy_sd']:.3f}" in out
