"""The pretraining-families comparison: per-seed splits, tuned families, equal budgets, verdicts."""

import numpy as np
import pandas as pd
import pytest

from greedy.analysis import families
from greedy.analysis.stats import holm, with_holm
from greedy.learning.config import TrainConfig
from greedy.learning.data import digits, per_seed_splits, resplit

TINY = TrainConfig(
    width=8, activation="sigmoid", initializer="glorot_uniform", epochs=2, head_epochs=2, fine_tune_epochs=2
)


def test_resplit_keeps_the_rows_and_sizes_and_stratifies():
    data = digits()
    a, b = resplit(data, 1), resplit(data, 2)
    assert a.x_train.shape == data.x_train.shape and a.x_test.shape == data.x_test.shape
    rows = np.sort(np.concatenate([data.x_train, data.x_test]), axis=0)
    assert np.array_equal(np.sort(np.concatenate([a.x_train, a.x_test]), axis=0), rows)
    assert abs(np.bincount(a.y_test) - np.bincount(data.y_test)).max() <= 1
    assert not np.array_equal(a.y_train, b.y_train) and np.array_equal(resplit(data, 1).y_train, a.y_train)
    with pytest.raises(ValueError, match="random_state"):
        resplit(data, -1)


def test_mnist1d_seeds_get_their_own_standardized_splits():
    first, second = per_seed_splits("mnist1d", [0, 1])
    assert first.x_train.shape == (4000, 40) and first.x_test.shape == (1000, 40)
    assert not np.array_equal(first.y_test, second.y_test)
    np.testing.assert_allclose(first.x_train.mean(0), 0, atol=1e-4)
    with pytest.raises(ValueError, match="name='mnist' is not accepted"):
        per_seed_splits("mnist", [0])


def test_every_family_is_tuned_trained_and_scored():
    records, tuning = families.families_study(["digits"], TINY, 2, 2, [2, 3])
    arms = set(zip(records.family, records.scored, strict=True))
    assert arms == {
        ("none", "end to end"),
        ("none_equal_budget", "end to end"),
        *(
            (f, s)
            for f in ("supervised", "autoencoder", "denoising", "stacked_denoising", "rbm")
            for s in ("frozen", "fine-tuned")
        ),
    }
    assert set(records.depth) == {2, 3} and (records.data == "digits").all()
    assert records.groupby(["family", "scored", "depth"]).seed.nunique().eq(2).all()
    # One chosen learning rate per family and tuning stage (the equal-budget network's its own), from
    # the stated grid or at most MAX_EXTENSIONS steps past the edge the choice landed on.
    chosen = tuning[tuning.chosen]
    assert chosen.groupby(["family", "stage"]).size().eq(1).all() and len(chosen) == 12
    assert ("none_equal_budget", "training") in set(zip(chosen.family, chosen.stage, strict=True))
    stated = tuning[tuning.extension == 0]
    assert set(stated.learning_rate) <= set(families.LEARNING_RATES)
    assert tuning.extension.max() <= families.MAX_EXTENSIONS
    beyond = tuning[tuning.extension > 0].learning_rate
    assert ((beyond < min(families.LEARNING_RATES)) | (beyond > max(families.LEARNING_RATES))).all()
    # Every record carries what it was trained with; the equal budget depth times one fit's epochs.
    assert records[["optimizer", "learning_rate", "epochs"]].notna().all().all()
    equal = records[records.family == "none_equal_budget"]
    assert (equal.epochs == equal.depth * TINY.epochs).all() and (records[records.family == "none"].epochs == 2).all()
    for family, stage in (("none", "training"), ("none_equal_budget", "training"), ("rbm", "fine-tuning")):
        rate = chosen[(chosen.family == family) & (chosen.stage == stage)].learning_rate.item()
        column = "fine_tune_learning_rate" if stage == "fine-tuning" else "learning_rate"
        part = records[(records.family == family) & (records.fine_tuned | (stage == "training"))]
        assert len(part) and (part[column] == rate).all()
    # Fine-tuning settings are those of fine-tuned networks only: a frozen stack was not fine-tuned.
    assert records[~records.fine_tuned][["fine_tune_learning_rate", "fine_tune_epochs"]].isna().all().all()
    denoising = records[records.family == "denoising"].dataset.iloc[0]
    assert denoising.startswith("digits")


def _summary(means: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"data": "d", "family": k, "label": k, "scored": "fine-tuned", "n": 20, "mean": v} for k, v in means.items()]
    )


def test_verdict_decides_by_holm_adjusted_p_values_not_raw_ones():
    summary = _summary({"rbm": 0.9, "autoencoder": 0.8, "supervised": 0.6, "none": 0.7})
    comparisons = pd.DataFrame(
        [
            {"data": "d", "minus": "no pretraining", "label": "rbm", "difference": 0.2, "p": 0.001},
            {"data": "d", "minus": "no pretraining", "label": "supervised", "difference": -0.1, "p": 0.01},
            # Significant alone (p 0.03), not once adjusted over the family's three tests (0.03 * 1 after two).
            {"data": "d", "minus": "no pretraining", "label": "autoencoder", "difference": 0.05, "p": 0.03},
            {"data": "d", "minus": families.EQUAL_BUDGET_LABEL, "label": "rbm", "difference": 0.01, "p": 0.5},
        ]
    )
    comparisons = comparisons.assign(label=comparisons.label + ", fine-tuned")
    text = families.families_verdict(summary, with_holm(comparisons), 4)
    assert "**d, depth 4, 20 seeds.** Without pretraining: none 0.700." in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and "fine-tuned |" in line]
    # By mean test accuracy; one cell per network without pretraining, from the Holm-adjusted p-values.
    assert rows == [
        "| rbm | fine-tuned | 0.900 | ahead | no difference detected |",
        "| autoencoder | fine-tuned | 0.800 | no difference detected | not compared |",
        "| supervised | fine-tuned | 0.600 | behind | not compared |",
    ]
    assert "over the chapter's 4 paired tests" in text
    assert "ordered as in their MNIST table" not in text  # concordant pairs of point estimates are not evidence


def test_side_by_side_ranks_both_columns():
    summary = _summary({"rbm": 0.9, "autoencoder": 0.8, "supervised": 0.6, "none": 0.7}).assign(
        **{"test error %": lambda d: 100 * (1 - d["mean"])}
    )
    table = families.paper_side_by_side(summary)
    assert table.loc["supervised", "rank: d"] == 4 and table.loc["supervised", "rank: Bengio et al. 2007, MNIST"] == 3
    assert table.loc["rbm", "Bengio et al. 2007, MNIST"] == 1.2


def test_comparisons_against_no_pretraining_are_one_holm_family_over_both_data_sets():
    rng = np.random.default_rng(0)
    rows = []
    for data in ("mnist1d", "digits"):
        for family, scored, shift in [
            ("none", "end to end", 0.0),
            ("none_equal_budget", "end to end", 0.0),
            ("supervised", "fine-tuned", 0.02),
            ("rbm", "frozen", 0.0),
        ]:
            for seed in range(6):
                rows.append({"data": data, "family": family, "scored": scored, "depth": 4, "seed": seed,
                             "test_accuracy": 0.6 + shift + rng.normal(0, 0.01)})  # fmt: skip
    table, numbers = families.against_no_pretraining(pd.DataFrame(rows), 4)
    assert len(table) == 8  # 2 data sets x 2 pretrained arms x 2 references
    np.testing.assert_allclose(table["p (Holm)"], holm(table.p))  # adjusted over the whole family, not per data set
    assert numbers["mnist1d_supervised_fine_tuned_minus_none_p_holm"] == table["p (Holm)"].iloc[0]
    assert table.key.is_unique
    assert all(numbers[f"{r['key']}_p_holm"] == r["p (Holm)"] for r in table.to_dict("records"))
    assert (table["p (Holm)"] >= table.p).all()
