"""The study designs return tidy frames with the conditions they promise (tiny settings)."""

import numpy as np
import pandas as pd
import pytest

import greedy
from greedy.analysis.diagnostics import dead_unit_fractions, input_variance, mark_collapse
from greedy.analysis.semi_supervised import (
    REGULARIZED,
    against_references,
    comparison_numbers,
    gain_trend,
    gains_verdict,
)
from greedy.analysis.stats import holm
from greedy.analysis.studies import (
    autoencoder_dead_units,
    collapse_summary,
    gradient_profile,
    label_scarcity,
    methods_by_depth,
)
from greedy.learning import jax_engine
from greedy.learning.data import standardized

TINY = greedy.TrainConfig(epochs=2, head_epochs=2, n_added_layers=1, fine_tune_epochs=2)


def test_methods_by_depth_covers_every_method_config_and_depth(blob_data):
    # Standardized inputs: no seed diverges, so every method has a record at every depth and seed.
    configs = {"relu": TINY, "tanh": TINY.with_(activation="tanh")}
    df, networks = methods_by_depth(standardized(blob_data), configs, [0, 1])
    assert networks == {}  # kept only when asked for
    assert (df.status == "ok").all()
    methods = ["end_to_end", "supervised_greedy", "supervised_greedy+fine_tune"]
    methods += ["autoencoder_greedy", "autoencoder_greedy+fine_tune"]
    cells = df.groupby(["config", "method", "depth"]).seed.apply(sorted)
    expected = {(c, m, d) for c in configs for m in methods for d in (2, 3)}
    assert set(cells.index) == expected and all(seeds == [0, 1] for seeds in cells)


def test_gradient_profile_shows_sigmoid_vanishing(blob_data):
    cfgs = {
        "relu": TINY.with_(n_added_layers=6),
        "sigmoid small": TINY.with_(n_added_layers=6, activation="sigmoid", initializer="small_uniform"),
    }
    g = gradient_profile(blob_data, cfgs, [0, 1], depth=8)
    init = g[g.when == "initialization"].groupby(["config", "layer"]).gradient_norm.mean()
    assert init["sigmoid small"][1] < 1e-6 * init["sigmoid small"][8]  # vanishes through 7 sigmoid layers
    assert init["relu"][1] > 1e-2 * init["relu"][8]


def test_gradient_profile_reuses_the_networks_methods_by_depth_trained(blob_data, monkeypatch):
    cfgs = {"relu": TINY, "tanh": TINY.with_(activation="tanh", initializer="glorot_uniform")}
    fresh = gradient_profile(blob_data, cfgs, [0, 1], depth=3)
    _, networks = methods_by_depth(blob_data, cfgs, [0, 1], fine_tune="none", keep_networks=True)
    assert set(networks) == set(cfgs) and set(networks["relu"]) == {2, 3} and set(networks["relu"][3]) == {0, 1}

    def no_training(*args, **kwargs):
        raise AssertionError("gradient_profile trained again")

    monkeypatch.setattr("greedy.analysis.studies.jax_engine.end_to_end", no_training)
    reused = gradient_profile(blob_data, cfgs, [0, 1], depth=3, trained=networks)
    pd.testing.assert_frame_equal(reused, fresh)


def test_dead_units_and_collapse_summary(blob_data):
    data = standardized(blob_data)
    assert abs(data.x_train.mean()) < 1e-5 and abs(data.x_train.std() - 1) < 1e-2
    records, dead = autoencoder_dead_units(data, TINY, [0, 1, 2])
    assert set(dead.depth) <= {2, 3} and dead.dead_fraction.between(0, 1).all()
    s = collapse_summary(records, dead, data.x_train)
    assert 0 <= s["diverged_low"] <= s["diverged"] <= s["diverged_high"] <= 1


def test_dead_units_and_collapse_are_measured_on_each_seeds_own_data():
    data = greedy.resampled_blobs([0, 1], n_population=0)
    assert data[0].x_population is None  # nothing to score on a population
    records, dead = autoencoder_dead_units(data, TINY, [0, 1])
    again = jax_engine.autoencoder_greedy(data, TINY, [0, 1], keep_networks=True)  # the same networks again
    kept = again.networks["autoencoder_greedy"]
    for (depth, seed), part in dead.groupby(["depth", "seed"]):
        expected = dead_unit_fractions(kept[depth][seed], data[seed].x_train).dead_fraction.to_numpy()
        np.testing.assert_array_equal(part.sort_values("layer").dead_fraction.to_numpy(), expected)
    assert not dead.empty
    # Each seed's reconstruction is measured against its own inputs' variance.
    own = {0: data[0].x_train, 1: data[1].x_train}
    mse = records.test_mse.to_numpy()
    expected = mse >= 0.9 * records.seed.map({s: input_variance(x) for s, x in own.items()}).to_numpy()
    np.testing.assert_array_equal(mark_collapse(records, own).collapsed.to_numpy(), expected)
    with pytest.raises(ValueError, match="seeds \\[1\\]"):
        mark_collapse(records, {0: data[0].x_train})
    s = collapse_summary(records, dead, own)
    assert 0 <= s["diverged_low"] <= s["diverged"] <= s["diverged_high"] <= 1


def test_label_scarcity_pairs_methods_on_the_same_subset():
    df = label_scarcity(greedy.digits(), [1, 3, None], [0, 1], TINY.with_(width=8), depth=3)
    assert set(df.labeled_per_class) == {"1", "3", "all"}
    # 6 networks and 4 baselines with few labels; with every label, the 2 supervised baselines.
    methods = df.groupby(["labeled_per_class", "seed"]).method.nunique()
    assert methods.loc["1"].eq(10).all() and methods.loc["all"].eq(8).all()
    assert set(df[df.labeled_per_class == "1"].method) >= {"label_spreading", "self_training", REGULARIZED}
    # Early stopping needs a labeled example per class to hold out: not with one label per class.
    regularized = df[df.method == REGULARIZED].groupby("labeled_per_class").early_stopping.all()
    assert regularized.to_dict() == {"1": False, "3": True, "all": True}
    # One autoencoder pretraining serves every label count: its reconstruction error is the same at each.
    stacks = df[df.method == "autoencoder_greedy"].pivot(index="seed", columns="labeled_per_class", values="test_mse")
    assert stacks.nunique(axis=1).eq(1).all()


def test_label_scarcity_runs_fewer_seeds_where_labels_are_plentiful():
    config = TINY.with_(width=8)
    df = label_scarcity(greedy.digits(), [1, 3, None], [0, 1, 2], config, depth=3, baselines=False, plentiful=(3, 2))
    assert df.groupby("labeled_per_class").seed.unique().map(sorted).to_dict() == {
        "1": [0, 1, 2],
        "3": [0, 1],
        "all": [0, 1],
    }
    # The first seeds' numbers do not depend on how many seeds run (seeds train in fixed-size chunks).
    every = label_scarcity(greedy.digits(), [3], [0, 1, 2], config, depth=3, baselines=False)
    columns = ["method", "seed", "test_accuracy"]
    fewer = df[df.labeled_per_class == "3"][columns].reset_index(drop=True)
    pd.testing.assert_frame_equal(fewer, every[every.seed < 2][columns].reset_index(drop=True))


def test_baselines_see_the_labeled_rows_only_as_labeled():
    """Logistic regression on the k labeled rows fits them; label spreading uses the unlabeled rows too."""
    from greedy.analysis.semi_supervised import baseline_records

    parts = [greedy.with_labeled_per_class(greedy.digits(random_state=s), 3, random_state=s) for s in range(3)]
    df = baseline_records(parts, range(3))
    assert len(df) == 12 and df.train_accuracy[df.method == "logistic_regression"].eq(1.0).all()
    assert df.test_accuracy.between(0.3, 1).all()


def test_the_pretrained_network_is_compared_with_every_baseline_in_one_holm_family():
    from greedy.analysis.semi_supervised import BASELINES, baselines_verdict

    rng = np.random.default_rng(0)
    shifts = {"pretrained": 0.0, "logistic_regression": -0.05, "label_spreading": 0.05, "self_training": 0.0}
    rows = [
        {"data": "d", "labeled_per_class": k, "method": method, "seed": seed,
         "test_accuracy": 0.6 + shift + rng.normal(0, 0.01)}
        for k in ("1", "all") for method, shift in shifts.items() for seed in range(8)
        if not (k == "all" and method == "label_spreading")  # not run with every label
    ]  # fmt: skip
    table = against_references(pd.DataFrame(rows), "pretrained", BASELINES)
    assert len(table) == 5  # 3 baselines at one label, 2 with every label; none picked by its test accuracy
    np.testing.assert_allclose(table["p (Holm)"], holm(table.p))
    outcome = dict(zip(zip(table["labels per class"], table.against, strict=True), table.outcome, strict=True))
    assert outcome["1", BASELINES["logistic_regression"]] == "ahead"
    assert outcome["1", BASELINES["label_spreading"]] == "behind"
    assert outcome["1", BASELINES["self_training"]] == "no difference detected"
    numbers = comparison_numbers(table)
    assert numbers["d_k1_minus_label_spreading_diff"] == pytest.approx(-0.05, abs=0.02)
    assert numbers["d_k1_minus_label_spreading_n"] == 8 and "d_kall_minus_label_spreading_diff" not in numbers
    text = baselines_verdict(table, "d", "D", "X")
    assert "| 1 | ahead | behind | no difference detected |" in text
    assert "| all | ahead | not run | no difference detected |" in text


def test_fair_comparison_trains_every_contender_with_its_chosen_settings():
    from greedy.analysis.baselines import against, at_depth_summary, fair_comparison
    from greedy.learning.config import TrainConfig
    from greedy.learning.data import resampled_blobs
    from greedy.learning.tuning import settings_grid

    data, tuning_data = resampled_blobs(range(3), n_population=500), resampled_blobs(range(50, 53), n_population=500)
    config = TrainConfig(epochs=3, head_epochs=3)
    grid = settings_grid(optimizer=["sgd", "adam"], learning_rate=[0.01])
    records, tuning = fair_comparison(
        data, {"relu + he_uniform": config}, range(3), tuning_data, range(50, 53), [2, 3], grid
    )
    assert tuning.chosen.sum() == 4  # one choice per contender
    assert set(records.contender) == {
        "supervised_greedy",
        "end_to_end",
        "batch_norm",
        "residual",
        "end_to_end_equal_budget",
    }
    assert set(records.depth) == {2, 3} and records.population_accuracy.notna().all()
    for contender in ("supervised_greedy", "end_to_end"):
        assert set(records[records.contender == contender].settings) == {"tuned", "tutorial"}
    # The equal-budget network of depth 2 is the tuned one (one stage's epochs); at depth 3 it trained twice as long.
    tuned = records[(records.contender == "end_to_end") & (records.settings == "tuned")].set_index(["depth", "seed"])
    equal = records[records.contender == "end_to_end_equal_budget"].set_index(["depth", "seed"])
    assert tuned.loc[2].final_loss.equals(equal.loc[2].final_loss)
    assert not tuned.loc[3].final_loss.equals(equal.loc[3].final_loss)
    summary = at_depth_summary(records, 3, ceiling=0.8)
    assert len(summary) == 7 and (summary.n == 3).all()
    table, numbers = against(records, 3, "greedy_tuned")
    assert len(table) == 6 and "relu_he_greedy_tuned_minus_batch_norm_diff" in numbers


def test_revival_verdict_follows_the_rates():
    from greedy.analysis.studies import revival_verdict

    def row(collapsed, low, high, diverged_any=0.0, d_low=0.0, d_high=0.05, survivors=40):
        return pd.Series(
            dict(collapsed=collapsed, collapsed_low=low, collapsed_high=high, survivors=survivors,
                 diverged_any=diverged_any, diverged_any_low=d_low, diverged_any_high=d_high, dead_newest_layer=0.5)
        )  # fmt: skip

    without = row(0.8, 0.7, 0.9)
    assert "**reduces collapse**" in revival_verdict(without, row(0.1, 0.05, 0.2))
    assert "**does not detectably change collapse**" in revival_verdict(without, row(0.75, 0.6, 0.85))
    text = revival_verdict(without, row(0.75, 0.6, 0.85, diverged_any=0.5, d_low=0.35, d_high=0.65))
    assert "diverge at some stage in 50% of seeds" in text and "selected subset" in text
    assert "collapse among survivors 75% (60% to 85%, 40 survivors) against 80% (70% to 90%, 40)" in text
    assert "no stack survives" in revival_verdict(without, row(0.0, 0.0, 0.0, survivors=0))


def test_against_the_population_compares_the_deepest_stack_with_the_base_and_the_bayes_rule():
    from greedy.analysis.chapters import against_the_population

    rng = np.random.default_rng(0)
    base = rng.uniform(0.70, 0.80, 10)
    rows = [{"depth": 2, "seed": s, "population_accuracy": base[s], "status": "ok"} for s in range(10)]
    rows += [{"depth": 5, "seed": s, "population_accuracy": base[s] + 0.01, "status": "ok"} for s in range(10)]
    rows += [{"depth": 5, "seed": 10, "population_accuracy": 0.0, "status": "diverged"}]
    change, numbers = against_the_population(pd.DataFrame(rows), 0.85, "x")
    assert change.difference.n == 10 and abs(numbers["x_diff"] - 0.01) < 1e-12
    assert abs(numbers["x_below"] - (0.85 - base.mean() - 0.01)) < 1e-12
    assert abs(numbers["x_base_below"] - (0.85 - base.mean())) < 1e-12
    assert numbers["x_base_below_low"] < numbers["x_base_below"] < numbers["x_base_below_high"]
    assert numbers["bayes_population"] == 0.85


def _gains_records(gains: dict[str, float], seeds_at: dict[str, int]) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for k, gain in gains.items():
        for seed in range(seeds_at.get(k, 10)):
            base = 0.5 + rng.normal(0, 0.01)
            pretrained = base + gain + rng.normal(0, 0.002)
            for method, accuracy in (("end_to_end", base), ("pre", pretrained)):
                rows.append(
                    {"data": "d", "labeled_per_class": k, "method": method, "seed": seed, "test_accuracy": accuracy}
                )
    return pd.DataFrame(rows)


def _gains(records: pd.DataFrame) -> pd.DataFrame:
    return against_references(records, "pre", {"end_to_end": "random initialization"})


def test_gains_over_label_counts_are_one_holm_family_with_their_glue_numbers():
    records = _gains_records({"1": 0.1, "3": 0.05, "all": 0.0}, {"all": 5})
    table = _gains(records)
    numbers = comparison_numbers(table)
    assert list(table["labels per class"]) == ["1", "3", "all"]
    assert list(table.outcome) == ["ahead", "ahead", "no difference detected"]
    np.testing.assert_allclose(table["p (Holm)"], holm(table.p))
    assert numbers["d_k1_minus_end_to_end_diff"] == pytest.approx(0.1, abs=0.003)
    assert numbers["d_kall_minus_end_to_end_n"] == 5
    assert numbers["d_k3_minus_end_to_end_p_holm"] == table["p (Holm)"].iloc[1]


def test_the_gain_trend_uses_every_label_count_and_the_seeds_that_ran_them_all():
    # The gain falls by 0.05 per tenfold more labels: 1 -> 10 -> 100 per class; "all" is 1,000 per class.
    records = _gains_records({"1": 0.15, "10": 0.10, "100": 0.05, "all": 0.0}, {"all": 5})
    trend, p = gain_trend(records, "d", "pre", "end_to_end", every_label=1000.0)
    assert trend.n == 5 and trend.mean == pytest.approx(-0.05, abs=0.003) and p < 0.001
    # Two points would miss what the middle does: a gain that rises and falls back has no trend.
    bump = _gains_records({"1": 0.0, "10": 0.2, "100": 0.0}, {})
    trend, _ = gain_trend(bump, "d", "pre", "end_to_end", every_label=1000.0)
    assert trend.low < 0 < trend.high


def test_the_gains_verdict_says_what_the_tests_say():
    shrinking = _gains_records({"1": 0.1, "3": 0.05, "all": 0.0}, {})
    table = _gains(shrinking)
    text = gains_verdict(table, gain_trend(shrinking, "d", "pre", "end_to_end", 100.0)[0], "d", "D", 0.975)
    assert "ahead with 1 and 3 per class; behind with none; no difference detected with every label" in text
    assert "largest with 1 per class (+0.1" in text and "it **shrinks**" in text and "97.5% interval" in text
    rising = _gains_records({"1": 0.01, "3": 0.05, "all": 0.08}, {})
    table = _gains(rising)
    text = gains_verdict(table, gain_trend(rising, "d", "pre", "end_to_end", 100.0)[0], "d", "D")
    assert "largest with every label" in text and "it **grows**" in text
    level = _gains_records({"1": 0.05, "all": 0.05}, {})
    table = _gains(level)
    text = gains_verdict(table, gain_trend(level, "d", "pre", "end_to_end", 100.0)[0], "d", "D")
    assert "**no trend detected**" in text


def test_label_counts_read_as_words():
    from greedy.analysis.semi_supervised import _counts_in_words

    assert _counts_in_words(["1", "3", "10"]) == "1, 3 and 10 per class"
    assert _counts_in_words(["30", "all"]) == "30 per class, and every label"
    assert _counts_in_words(["all"]) == "every label"
    assert _counts_in_words([]) == "none"
