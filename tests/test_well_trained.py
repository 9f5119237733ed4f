"""Greedy pretraining against well-trained networks: tuning data apart from every test row, the best
network chosen on validation rows, one Holm-adjusted family of tests."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from greedy.analysis import well_trained
from greedy.analysis.families import MASKED_FRACTION
from greedy.learning import jax_engine
from greedy.learning.held_out import TUNING_DRAW_START


def _tuning_table() -> pd.DataFrame:
    rows = [
        # depth 4: batch norm best on validation rows, though residual will score best on test rows
        ("plain", 4, 0.60, True),
        ("batch_norm", 4, 0.70, True),
        ("batch_norm", 4, 0.75, False),  # a point not chosen never counts
        ("residual", 4, 0.65, True),
    ]
    return pd.DataFrame(
        [
            {"kind": "well-trained", "contender": c, "depth": d, "learning_rate": 0.01, "validation_accuracy": v,
             "standard_error": 0.01, "chosen": chosen}
            for c, d, v, chosen in rows
        ]
    )  # fmt: skip


def _records(means: dict[str, float], n: int = 8) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 0.01, n)  # shared by seed, so the pairing matters
    rows = []
    for contender, mean in means.items():
        kind = "pretrained" if contender in well_trained.PRETRAINED else "well-trained"
        for seed in range(n):
            acc = mean + noise[seed] + rng.normal(0, 0.002)
            rows.append({"contender": contender, "kind": kind, "depth": 4, "seed": seed, "test_accuracy": acc,
                         "status": "ok"})  # fmt: skip
    return pd.DataFrame(rows)


def test_the_best_well_trained_network_is_chosen_on_validation_rows_never_test_rows():
    best = well_trained.best_well_trained(_tuning_table())
    assert best.to_dict("records")[0]["contender"] == "batch_norm"
    records = _records({"plain": 0.60, "batch_norm": 0.66, "residual": 0.70, "supervised": 0.68})
    comparisons = well_trained.against_well_trained(records, best)
    assert list(comparisons.minus) == ["ReLU MLP + batch norm (best at this depth)", "ReLU MLP"]


def test_pretraining_is_compared_as_one_holm_adjusted_family_with_simultaneous_intervals():
    best = well_trained.best_well_trained(_tuning_table())
    records = _records({"plain": 0.60, "batch_norm": 0.66, "supervised": 0.68, "autoencoder": 0.66})
    comparisons = well_trained.against_well_trained(records, best)
    assert len(comparisons) == 4 and np.allclose(comparisons.interval_level, 1 - 0.05 / 4)
    assert (comparisons["p (Holm)"] >= comparisons.p).all()
    text = well_trained.verdict(comparisons)
    supervised_vs_best = comparisons[
        (comparisons.network.str.startswith("supervised")) & comparisons.minus.str.contains("best")
    ]
    assert supervised_vs_best.difference.iloc[0] == pytest.approx(0.02, abs=0.003)
    diff = supervised_vs_best.difference.iloc[0]
    assert f"supervised greedy + fine-tuning minus ReLU MLP + batch norm (best at this depth): {diff:+.3f}" in text
    assert "**pretraining ahead**" in text and "**no difference detected**" in text  # autoencoder vs batch norm ties
    assert (comparisons["failed (pretrained, well-trained)"] == "0, 0").all()


def test_each_row_counts_the_failed_networks_on_each_side_and_gives_the_median_paired_difference():
    records = _records({"plain": 0.60, "batch_norm": 0.66, "supervised": 0.55})
    records.loc[(records.contender == "supervised") & (records.seed == 0), "test_accuracy"] = 0.1  # at chance
    best = pd.DataFrame({"depth": [4], "contender": "batch_norm"})
    comparisons = well_trained.against_well_trained(records, best)
    assert list(comparisons["failed (pretrained, well-trained)"]) == ["1, 0", "1, 0"]
    by_seed = records.pivot(index="seed", columns="contender", values="test_accuracy")
    expected = [np.median(by_seed.supervised - by_seed[minus]) for minus in ("batch_norm", "plain")]
    np.testing.assert_allclose(comparisons["median"], expected)


def test_a_network_at_chance_counts_as_failed():
    records = pd.DataFrame({"status": ["ok", "ok", "diverged"], "test_accuracy": [0.65, 0.11, np.nan]})
    assert list(well_trained.failures(records)) == [False, True, True]


def test_a_tiny_study_records_what_each_network_was_trained_with():
    records, tuning = well_trained.well_trained_study(
        n_seeds=2, n_tuning_draws=2, width=4, epochs=1, depths=[3], pretrained_depths=[3]
    )
    assert set(records.contender) == {*well_trained.WELL_TRAINED, *well_trained.PRETRAINED, "reference"}
    assert set(well_trained.PRETRAINED) == {"supervised", "autoencoder", "denoising", "stacked_denoising"}
    # The regularized network holds out labeled rows to stop early, recorded as its own method.
    regularized = records[records.contender == "regularized"]
    assert (regularized.method == "end_to_end+regularized").all() and (regularized.variant == "regularized").all()
    assert regularized.dataset.str.contains("validation held out").all()
    assert records.groupby("contender").seed.nunique().eq(2).all()
    assert {"optimizer", "learning_rate", "epochs", "fine_tune_learning_rate"} <= set(records.columns)
    pretrained = records[records.kind == "pretrained"]
    assert pretrained.method.str.endswith("+fine_tune").all() and (pretrained.depth == 3).all()
    assert (records[records.kind == "reference"].epochs == well_trained.REFERENCE_SETTINGS["epochs"]).all()
    # Every chosen rate is the tuning table's, per contender and depth; the pretrained ones have two stages.
    chosen = tuning[tuning.chosen]
    assert chosen.groupby(["contender", "depth", "stage"]).size().eq(1).all()
    assert set(chosen[chosen.kind == "pretrained"].stage) == {"pretraining", "fine-tuning"}
    for row in records[records.kind == "well-trained"].drop_duplicates("contender").to_dict("records"):
        pick = chosen[(chosen.contender == row["contender"]) & (chosen.depth == row["depth"])]
        assert pick.learning_rate.iloc[0] == row["learning_rate"]


def test_bad_study_sizes_are_refused_before_any_work(draws_asked):
    with pytest.raises(ValueError, match="pretrained_depths must be >= 3"):
        well_trained.well_trained_study(2, 2, 4, 1, [2], [2])
    # Deeper stacks only are fine: the study goes on to ask for its data.
    assert draws_asked(well_trained, well_trained.well_trained_study, n_seeds=2, n_tuning_draws=2, width=4, epochs=1,
                       depths=[2], pretrained_depths=[4, 6])  # fmt: skip
    with pytest.raises(ValueError, match="n_tuning_draws"):
        well_trained.well_trained_study(2, 0, 4, 1, [2], [3])


def test_each_comparison_is_glued_under_its_own_key():
    best = well_trained.best_well_trained(_tuning_table())
    records = _records({"plain": 0.60, "batch_norm": 0.66, "supervised": 0.68, "autoencoder": 0.66})
    comparisons = well_trained.against_well_trained(records, best)
    numbers = well_trained.comparison_numbers(comparisons)
    row = comparisons[comparisons.key == "supervised_depth4_minus_best"].iloc[0]
    assert numbers["supervised_depth4_minus_best_diff"] == row.difference
    assert numbers["supervised_depth4_minus_plain_p_holm"] < 0.05 and "autoencoder_depth4_minus_best_n" in numbers
    assert numbers["n_ahead"] == 3 and numbers["n_behind"] == 0  # autoencoder ties batch norm


def test_each_family_is_tuned_and_trained_with_its_own_settings(monkeypatch):
    seen = []

    def spy(data, config, seeds, **options):
        seen.append((config.corruption, config.corruption_level, config.tied_weights, config.weight_decay))
        return jax_engine.autoencoder_greedy(data, config, seeds, **options)

    stacked = replace(well_trained.PRETRAINED["stacked_denoising"], run=spy)
    monkeypatch.setattr(well_trained, "WELL_TRAINED", {})
    monkeypatch.setattr(well_trained, "PRETRAINED", {"stacked_denoising": stacked})
    well_trained.well_trained_study(n_seeds=2, n_tuning_draws=2, width=4, epochs=1, depths=[3], pretrained_depths=[3])
    assert seen and set(seen) == {("masking", MASKED_FRACTION, True, 0.0)}  # every tuning and evaluation run


def test_each_depth_is_compared_at_its_own_depth_and_pretraining_behind_is_said_so():
    records = pd.concat(
        [
            _records({"plain": 0.60, "batch_norm": 0.66, "supervised": 0.68}).assign(depth=4),
            _records({"plain": 0.60, "batch_norm": 0.66, "supervised": 0.50}).assign(depth=6),
        ],
        ignore_index=True,
    )
    best = pd.DataFrame({"depth": [4, 6], "contender": "batch_norm"})
    comparisons = well_trained.against_well_trained(records, best)
    keys = [f"supervised_depth{d}_minus_{minus}" for d in (4, 6) for minus in ("best", "plain")]
    assert list(comparisons.key) == keys
    assert np.allclose(comparisons.difference, [0.02, 0.08, -0.16, -0.10], atol=0.003)
    text = well_trained.verdict(comparisons)
    assert text.startswith(
        "- depth 4, supervised greedy + fine-tuning minus ReLU MLP + batch norm (best at this depth)"
    )
    depth6 = text.splitlines()[2]
    assert depth6.startswith("- depth 6, supervised greedy") and depth6.endswith("**pretraining behind**.")
    numbers = well_trained.comparison_numbers(comparisons)
    assert (numbers["n_ahead"], numbers["n_behind"]) == (2, 2)


def test_tuning_draws_are_numbered_on_from_the_first_tuning_draw(draws_asked):
    study = well_trained.well_trained_study
    seen = draws_asked(
        well_trained, study, n_seeds=3, n_tuning_draws=12, width=4, epochs=1, depths=[3], pretrained_depths=[3]
    )
    assert seen == {
        "name": "mnist1d",
        "seeds": [0, 1, 2],
        "tuning": list(range(TUNING_DRAW_START, TUNING_DRAW_START + 12)),
    }


@pytest.mark.parametrize("grid", [well_trained.LEARNING_RATES, well_trained.FINE_TUNE_RATES])
def test_each_rate_grid_rises_in_rounded_half_decades(grid):
    # 1, 3, 10, ...: tune_extending extends a grid past an edge by its first step's ratio
    assert np.allclose(np.diff(np.log10(grid)), 0.5, atol=0.03)


def test_fine_tuning_searches_one_step_below_the_pretraining_grid():
    assert well_trained.FINE_TUNE_RATES[1:] == well_trained.LEARNING_RATES[:-1]
