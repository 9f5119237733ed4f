"""A scikit-learn classifier: an MLP pretrained greedily (supervised, autoencoder or RBM) or not at all.

It fits one seed on the fast engine and so works inside ``Pipeline``, ``GridSearchCV`` and
``cross_val_score``::

    from sklearn.model_selection import cross_val_score
    from greedy.learning.estimator import GreedyPretrainedClassifier

    cross_val_score(GreedyPretrainedClassifier(pretraining="autoencoder", fine_tune="last"), X, y, cv=5)
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from greedy.learning.config import (
    ACTIVATIONS,
    INITIALIZERS,
    VISIBLE_UNITS,
    TrainConfig,
    check_choice,
    check_positive_int,
)
from greedy.learning.data import from_arrays
from greedy.learning.mlp import Layer, predict
from greedy.learning.procedures import procedure
from greedy.learning.records import fine_tuned_name

PRETRAINING = ("supervised", "autoencoder", "rbm", "none")
ESTIMATOR_FINE_TUNE = ("last", "none")
_METHOD = {
    "supervised": "supervised_greedy",
    "autoencoder": "autoencoder_greedy",
    "rbm": "rbm_greedy",
    "none": "end_to_end",
}


_DIVERGED = "training diverged (a loss became infinite) with {name}={lr}; standardize X or lower it"


class GreedyPretrainedClassifier(ClassifierMixin, BaseEstimator):
    """An MLP with ``n_hidden_layers`` hidden layers of ``width`` units, pretrained greedily.

    ``pretraining``: "supervised" (each stage trains its new layer and the output layer on the
    labels), "autoencoder" (each stage reconstructs its input; a softmax head is trained on the
    frozen encoder), "rbm" (each stage an RBM trained by CD-1, with ``rbm_visible`` units in
    the first: "gaussian" for standardized X, "bernoulli" for X in [0, 1]; needs
    ``activation="sigmoid"``) or "none" (trained end to end from random initialization).
    ``fine_tune="last"`` then trains every weight of the pretrained stack together, "none" keeps it
    frozen (the procedures' own vocabulary; with ``pretraining="none"`` every weight is trained
    already, so it changes nothing). ``optimizer`` is "sgd" (with ``momentum``) or "adam".
    ``corruption`` ("masking" or "gaussian", at ``corruption_level``) makes the autoencoder stages
    denoising autoencoders; ``reconstruction_target="stage_input"`` makes each autoencoder stage
    reconstruct its own input (a stacked autoencoder; the default, "raw_input", reconstructs X from
    the whole stack, as the tutorial does), with ``tied_weights`` its decoder the encoder's transpose.
    ``random_state`` is the seed: initialization and shuffling.

    The defaults are what a practitioner would pick today (Adam at 0.001, batches of 128, the
    pretrained stack fine-tuned): in 5-fold cross-validation on scikit-learn's shipped data sets they
    score as ``MLPClassifier``'s defaults do (``greedy bench --estimator`` prints both).
    """

    def __init__(
        self,
        pretraining: str = "autoencoder",
        n_hidden_layers: int = 2,
        width: int = 64,
        activation: str = "relu",
        initializer: str = "he_uniform",
        learning_rate: float = 0.001,
        momentum: float = 0.9,
        optimizer: str = "adam",
        epochs: int = 100,
        batch_size: int = 128,
        fine_tune: str = "last",
        fine_tune_epochs: int = 100,
        fine_tune_learning_rate: float = 0.001,
        corruption: str = "none",
        corruption_level: float = 0.0,
        reconstruction_target: str = "raw_input",
        tied_weights: bool = False,
        rbm_visible: str = "gaussian",
        random_state: int = 0,
    ) -> None:
        self.pretraining = pretraining
        self.n_hidden_layers = n_hidden_layers
        self.width = width
        self.activation = activation
        self.initializer = initializer
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.optimizer = optimizer
        self.epochs = epochs
        self.batch_size = batch_size
        self.fine_tune = fine_tune
        self.fine_tune_epochs = fine_tune_epochs
        self.fine_tune_learning_rate = fine_tune_learning_rate
        self.corruption = corruption
        self.corruption_level = corruption_level
        self.reconstruction_target = reconstruction_target
        self.tied_weights = tied_weights
        self.rbm_visible = rbm_visible
        self.random_state = random_state

    def _config(self) -> TrainConfig:
        check_choice("pretraining", self.pretraining, PRETRAINING)
        check_choice("activation", self.activation, ACTIVATIONS)
        check_choice("initializer", self.initializer, INITIALIZERS)
        check_positive_int("n_hidden_layers", self.n_hidden_layers)
        check_positive_int("random_state", self.random_state, allow_zero=True)
        check_choice("rbm_visible", self.rbm_visible, VISIBLE_UNITS)
        # "every" fine-tunes each stage's stack; the estimator keeps only the deepest one.
        check_choice("fine_tune", self.fine_tune, ESTIMATOR_FINE_TUNE)
        return TrainConfig(
            width=self.width,
            activation=self.activation,
            initializer=self.initializer,
            learning_rate=self.learning_rate,
            momentum=self.momentum,
            optimizer=self.optimizer,
            epochs=self.epochs,
            batch_size=self.batch_size,
            n_added_layers=self.n_hidden_layers - 1,
            head_epochs=self.epochs,
            fine_tune_epochs=self.fine_tune_epochs,
            fine_tune_learning_rate=self.fine_tune_learning_rate,
            corruption=self.corruption,
            corruption_level=self.corruption_level,
            reconstruction_target=self.reconstruction_target,
            tied_weights=self.tied_weights,
        )

    def fit(self, X, y):
        """Train on ``X`` (rows, features) and labels ``y``; every setting is checked before any training.

        Pretraining and fine-tuning are the study's own procedures (``greedy.run``), on one seed.
        """
        config = self._config()
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError(f"y must hold at least two classes; it has 1 class: {self.classes_.tolist()}")
        data = from_arrays(X, y, X[:1], y[:1], name="fit")  # the engine scores a test split; none is needed
        depth, seed, method = self.n_hidden_layers + 1, int(self.random_state), _METHOD[self.pretraining]
        if method == "end_to_end":
            options: dict = {"depths": [depth]}
        else:
            options = {"fine_tune": self.fine_tune}
            options |= {"visible": self.rbm_visible} if method == "rbm_greedy" else {}
        # One seed in a chunk of one: the engine's default chunk would train 19 padded copies.
        trained = procedure(method)(data, config, [seed], chunk_size=1, keep_networks=True, **options)
        # Without pretraining every weight is trained already: there is nothing to fine-tune.
        kept = fine_tuned_name(method) if self.fine_tune == "last" and method != "end_to_end" else method
        for label, rate in ((method, "learning_rate"), (kept, "fine_tune_learning_rate")):
            final = [r for r in trained.records if r.method == label and r.depth == depth]
            if not final or final[-1].status != "ok":  # a greedy stack that diverged stopped before its depth
                raise RuntimeError(_DIVERGED.format(name=rate, lr=getattr(self, rate)))
        self.network_: list[Layer] = trained.network(kept, depth, seed)
        return self

    def predict_proba(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return predict(self.network_, X)

    def predict(self, X) -> np.ndarray:
        proba = self.predict_proba(X)  # checks that the estimator is fitted, before classes_ is read
        return self.classes_[np.argmax(proba, axis=1)]
