"""Few labels against well-trained networks: each seed's labeled rows, updates that do not shrink with
the labels, tuning that never sees a test row, comparisons and trends at each label count."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from greedy.analysis import few_labels, well_trained
from greedy.learning import jax_engine
from greedy.learning.data import per_seed_splits
from greedy.learning.held_out import TUNING_DRAW_START
from greedy.learning.procedures import Method

TINY = {"n_seeds": 2, "n_tuning_draws": 2, "width": 4, "depth": 3, "updates": 2, "pretraining_epochs": 1}


@pytest.mark.parametrize(("n_labeled", "epochs"), [(10, 1200), (100, 1200), (101, 600), (300, 400), (1000, 120)])
def test_every_fit_takes_the_same_updates_whatever_the_label_count(n_labeled, epochs):
    assert few_labels.epochs_for(n_labeled, 1200, 100) == epochs
    batches = -(-n_labeled // 100)
    assert epochs * batches >= 1200 > (epochs - 1) * batches  # the fewest epochs that reach the updates


def test_each_seed_trains_on_k_labeled_rows_per_class_of_its_own_and_keeps_the_rest_unlabeled():
    seen = []

    def spy(data, config, seeds, **options):
        seen.extend(data)
        return jax_engine.end_to_end(data, config, seeds, **options)

    parts = per_seed_splits("mnist1d", [0, 1])
    method = few_labels.at_labels(Method("spy", spy), 3)
    method.run(parts, well_trained.recipe(4, 1), [0, 1], depths=[2])
    for data, original in zip(seen, parts, strict=True):
        assert np.bincount(data.y_train).tolist() == [3] * 10
        assert len(data.x_train) + len(data.x_unlabeled) == len(original.x_train)
        assert len(data.x_pretrain) == len(original.x_train)  # every training input, labeled or not
    assert not np.array_equal(seen[0].x_train, seen[1].x_train)  # each seed picks its own


def _spied_study(monkeypatch, keys, labeled_per_class=(1, 2)):
    """Run the tiny study with spies on the methods named in ``keys``: every call's data and config."""
    calls = []

    def spying(method):
        def run(data, config, seeds, **options):
            calls.append((method, list(data), config))
            return method.run(data, config, seeds, **options)

        return replace(method, run=run)

    pretrained = {k: spying(m) for k, m in well_trained.PRETRAINED.items() if k in keys}
    plain = {k: spying(m) for k, m in well_trained.WELL_TRAINED.items() if k in keys}
    monkeypatch.setattr(few_labels, "PRETRAINED", pretrained)
    monkeypatch.setattr(few_labels, "WELL_TRAINED", plain)
    records, tuning = few_labels.few_labels_study(labeled_per_class=list(labeled_per_class), **TINY)
    return calls, records, tuning


def test_no_row_a_setting_is_chosen_on_is_ever_an_evaluation_test_row(monkeypatch):
    calls, records, _ = _spied_study(monkeypatch, {"plain", "autoencoder"})
    evaluation = per_seed_splits("mnist1d", range(TINY["n_seeds"]))
    test_rows = {row.tobytes() for d in evaluation for row in d.x_test}
    tuning_calls = [data for _, parts, _ in calls for data in parts if "validation" in data.name]
    assert tuning_calls, "the study tuned nothing"
    for data in tuning_calls:
        for x in (data.x_train, data.x_unlabeled, data.x_test):
            assert not {row.tobytes() for row in x} & test_rows
    # Evaluation runs score on the evaluation test rows, and train on none of them.
    scored = [data for _, parts, _ in calls for data in parts if "validation" not in data.name]
    assert scored and all({row.tobytes() for row in d.x_test} <= test_rows for d in scored)
    assert all(not {row.tobytes() for row in d.x_pretrain} & test_rows for d in scored)
    assert set(records.labeled_per_class) == {1, 2}


def test_each_network_is_tuned_and_trained_at_its_label_count_with_the_updates_rule(monkeypatch):
    calls, records, tuning = _spied_study(monkeypatch, {"plain", "supervised", "denoising"})
    by_label = {m.label: m for m, _, _ in calls}
    for method, parts, config in calls:
        k = int(np.bincount(parts[0].y_train).max())
        # A tuning draw labels 1 or 2 rows per class of its kept part, as evaluation does.
        assert k in (1, 2)
        epochs = few_labels.epochs_for(10 * k, TINY["updates"], 100)
        assert config.fine_tune_epochs == epochs and config.head_epochs == epochs
        unsupervised = method.run is jax_engine.autoencoder_greedy
        assert config.epochs == (TINY["pretraining_epochs"] if unsupervised else epochs)
    assert len(by_label) == 3 and few_labels.UNSUPERVISED == {"autoencoder", "denoising", "stacked_denoising"}
    assert set(records.contender) == {"plain", "supervised", "denoising"}
    chosen = tuning[tuning.chosen]
    assert chosen.groupby(["contender", "labeled_per_class", "stage"]).size().eq(1).all()
    assert (records[records.kind == "pretrained"].method.str.endswith("+fine_tune")).all()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"labeled_per_class": []}, "labeled_per_class must be a non-empty list"),
        ({"labeled_per_class": [0]}, "labeled_per_class must be an integer >= 1"),
        ({"labeled_per_class": [10_000]}, "labeled_per_class must be at most"),
        ({"depth": 2}, "depth must be >= 3"),
        ({"updates": 0}, "updates must be an integer >= 1"),
        ({"pretraining_epochs": 0}, "pretraining_epochs must be an integer >= 1"),
    ],
)
def test_bad_input_is_refused_by_name_before_any_work(monkeypatch, change, message):
    def never(*args, **kwargs):
        raise AssertionError("work started")

    monkeypatch.setattr(few_labels, "WELL_TRAINED", {"plain": Method("never", never)})
    monkeypatch.setattr(few_labels, "PRETRAINED", {})
    with pytest.raises(ValueError, match=message):
        few_labels.few_labels_study(**({**TINY, "labeled_per_class": [1]} | change))


def _records(gains: dict[int, float], n: int = 6) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Records of batch norm and supervised greedy per label count, supervised ahead by ``gains[k]``."""
    rng = np.random.default_rng(1)
    rows = []
    for k, gain in gains.items():
        for seed in range(n):
            base = 0.1 + 0.1 * np.log10(k) + rng.normal(0, 0.01)
            for contender, kind, acc in (
                ("batch_norm", "well-trained", base),
                ("plain", "well-trained", base - 0.02),
                ("supervised", "pretrained", base + gain + rng.normal(0, 0.002)),
            ):
                rows.append({"contender": contender, "kind": kind, "labeled_per_class": k, "seed": seed,
                             "test_accuracy": acc, "status": "ok"})  # fmt: skip
    best = pd.DataFrame({"labeled_per_class": list(gains), "contender": "batch_norm"})
    return pd.DataFrame(rows), best


def test_a_gain_that_grows_with_the_labels_is_a_trend_and_a_flat_one_is_not():
    records, best = _records({1: 0.0, 10: 0.05, 100: 0.10})
    [row] = few_labels.gain_trends(records, best).to_dict("records")
    assert row["difference"] == pytest.approx(0.05, abs=0.005)  # per tenfold more labels
    assert row["trend"] == "grows with more labels" and row["key"] == "supervised_trend"
    records, best = _records({1: 0.02, 10: 0.02, 100: 0.02})
    [row] = few_labels.gain_trends(records, best).to_dict("records")
    assert row["trend"] == "no trend detected" and row["CI low"] < 0 < row["CI high"]
    records, best = _records({1: 0.10, 10: 0.05, 100: 0.0})
    [row] = few_labels.gain_trends(records, best).to_dict("records")
    assert row["trend"] == "shrinks with more labels" and row["difference"] == pytest.approx(-0.05, abs=0.005)


def test_comparisons_by_label_count_are_keyed_and_worded_by_label_count():
    records, best = _records({1: 0.0, 10: 0.05})
    comparisons = well_trained.against_well_trained(records, best, by="labeled_per_class")
    keys = [f"supervised_k{k}_minus_{minus}" for k in (1, 10) for minus in ("best", "plain")]
    assert list(comparisons.key) == keys
    assert comparisons.minus.iloc[0] == "ReLU MLP + batch norm (best at this label count)"
    text = well_trained.verdict(comparisons, by="labeled_per_class")
    assert text.startswith("- 1 per class, supervised greedy + fine-tuning minus ReLU MLP + batch norm")
    assert "- 10 per class," in text
    labelled = records.assign(label=records.contender, learning_rate=0.01, epochs=5, train_accuracy=0.9)
    table = well_trained.summary(labelled, by=few_labels.BY)
    assert set(table.labeled_per_class) == {1, 10} and "fine-tuning epochs" in table


def test_tuning_draws_are_numbered_on_from_the_first_tuning_draw(draws_asked):
    seen = draws_asked(few_labels, few_labels.few_labels_study, labeled_per_class=[1], **{**TINY, "n_tuning_draws": 12})
    assert seen == {
        "name": "mnist1d",
        "seeds": [0, 1],
        "tuning": list(range(TUNING_DRAW_START, TUNING_DRAW_START + 12)),
    }
