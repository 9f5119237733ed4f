import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import t as student

from greedy.analysis.stats import (
    holm,
    holm_direction,
    holm_outcome,
    mean_ci,
    paired_comparison,
    rate_ci,
    seed_summary,
    simultaneous_level,
    slope_over_seeds,
    summarize,
    with_holm,
)


def test_mean_ci_known_values():
    e = mean_ci([1.0, 2.0, 3.0, np.nan])
    assert e.mean == 2.0 and e.n == 3
    assert e.high - 2.0 == pytest.approx(4.302653 * 1.0 / np.sqrt(3), rel=1e-5)


def test_an_interval_is_clipped_to_the_range_its_quantity_can_take():
    two_survivors = [0.35, 0.95]  # a t interval over two spread accuracies reaches far past [0, 1]
    free, bounded = mean_ci(two_survivors), mean_ci(two_survivors, bounds=(0.0, 1.0))
    assert free.low < 0 and free.high > 1
    assert (bounded.low, bounded.high) == (0.0, 1.0) and bounded.mean == free.mean == pytest.approx(0.65)
    narrow = mean_ci([0.80, 0.81, 0.82], bounds=(0.0, 1.0))
    assert (narrow.low, narrow.high) == (mean_ci([0.80, 0.81, 0.82]).low, mean_ci([0.80, 0.81, 0.82]).high)


def test_ci_covers_the_true_mean_about_95_percent():
    rng = np.random.default_rng(0)
    covered = 0
    for _ in range(2000):
        e = mean_ci(rng.normal(1.0, 2.0, 20))
        covered += e.low <= 1.0 <= e.high
    assert 0.93 < covered / 2000 < 0.97


def test_paired_comparison_detects_a_shift_and_pairs_by_seed():
    rng = np.random.default_rng(2)
    base = rng.normal(0.8, 0.05, 30)
    df = pd.DataFrame(
        {
            "seed": np.r_[np.arange(30), np.arange(30)],
            "method": ["a"] * 30 + ["b"] * 30,
            "acc": np.r_[base + 0.01, base],
        }
    )
    c = paired_comparison(df, "acc", "method", "a", "b")
    assert c.difference.mean == pytest.approx(0.01) and c.difference.low == pytest.approx(0.01)
    assert "higher" in c.sentence()
    nums = c.glue_numbers("x")
    assert nums["x_diff"] == pytest.approx(0.01) and nums["x_n"] == 30


def test_paired_comparison_no_difference():
    rng = np.random.default_rng(3)
    df = pd.DataFrame(
        {"seed": np.r_[np.arange(40), np.arange(40)], "m": ["a"] * 40 + ["b"] * 40, "v": rng.normal(size=80)}
    )
    assert "no detectable difference" in paired_comparison(df, "v", "m", "a", "b").sentence()


def test_summarize_groups():
    df = pd.DataFrame({"depth": [2, 2, 3, 3], "acc": [0.8, 0.82, 0.7, 0.72]})
    s = summarize(df, "acc", ["depth"])
    assert s.depth.tolist() == [2, 3] and s["mean"].tolist() == pytest.approx([0.81, 0.71])


def test_rate_ci_wilson():
    e = rate_ci(2, 10)
    assert e.mean == 0.2 and 0.05 < e.low < 0.06 and 0.50 < e.high < 0.52


def test_the_wilson_interval_solves_its_quadratic_away_from_one_half():
    # The bounds are the two roots in pi of (p - pi)^2 = z^2 pi (1 - pi) / n, found here by numpy.
    for successes, n in ((1, 20), (17, 20), (3, 7)):
        p, z = successes / n, 1.959963984540054
        roots = sorted(np.roots([1 + z**2 / n, -(2 * p + z**2 / n), p**2]).real)
        e = rate_ci(successes, n)
        assert (e.low, e.high) == pytest.approx(roots, abs=1e-12)


def test_a_rate_over_no_trials_is_refused_by_name():
    for n in (0, -3):  # zero trials would divide by zero: the error names the parameter first
        with pytest.raises(ValueError, match="n must be >= 1"):
            rate_ci(0, n)


def test_a_comparison_as_a_table_row():
    df = pd.DataFrame({"seed": [0, 1, 2, 0, 1, 2], "m": ["a"] * 3 + ["b"] * 3, "v": [1.0, 2.0, 4.0, 0.0, 1.0, 2.0]})
    row = paired_comparison(df, "v", "m", "a", "b").table_row(a="new", b="old")
    assert list(row) == ["new", "old", "difference", "CI low", "CI high", "n"]
    assert row["new"] == pytest.approx(7 / 3) and row["difference"] == pytest.approx(4 / 3) and row["n"] == 3
    assert row["CI low"] < row["difference"] < row["CI high"]


def test_an_estimate_of_nothing_counts_no_values():
    with warnings.catch_warnings():  # quietly: NumPy warns of an empty mean or a variance of one value
        warnings.simplefilter("error")
        empty = mean_ci([np.nan, np.inf])
        one = mean_ci([0.7, np.nan])
    assert empty.n == 0 and np.isnan(empty.mean) and np.isnan(empty.low)
    # one value: its mean, and no interval
    assert one.n == 1 and one.mean == 0.7 and np.isnan(one.low) and np.isnan(one.high)


def test_a_seed_summary_counts_the_diverged_seeds():
    group = pd.DataFrame(
        {
            "status": ["ok", "diverged", "ok", "ok"],
            "test_accuracy": [0.5, np.nan, 0.7, 0.9],
            "train_accuracy": [0.6, np.nan, 0.8, 1.0],
        }
    )
    row = seed_summary(group, "test_accuracy")
    assert row["n"] == 4 and row["diverged"] == 1 and row["mean"] == pytest.approx(0.7)
    assert row["train accuracy"] == pytest.approx(0.8)


def test_paired_differences_without_spread_have_p_one_when_zero_and_zero_otherwise():
    def frame(shift: float) -> pd.DataFrame:
        base = np.arange(10) / 4  # exact in binary: every paired difference is exactly `shift`
        return pd.DataFrame(
            {"seed": np.r_[np.arange(10), np.arange(10)], "m": ["a"] * 10 + ["b"] * 10, "v": np.r_[base + shift, base]}
        )

    assert paired_comparison(frame(0.0), "v", "m", "a", "b").p_value == 1.0
    assert paired_comparison(frame(0.25), "v", "m", "a", "b").p_value == 0.0
    assert paired_comparison(frame(-0.25), "v", "m", "a", "b").p_value == 0.0


def test_holm_matches_the_step_down_by_hand():
    # Sorted 0.01, 0.02, 0.03, 0.04 over m = 4: 0.04, 0.06, 0.06 (monotone), 0.06; back in the given order.
    adjusted = holm([0.03, 0.01, 0.04, 0.02])
    np.testing.assert_allclose(adjusted, [0.06, 0.04, 0.06, 0.06])
    np.testing.assert_allclose(holm([0.5, 0.9]), [1.0, 1.0])  # capped at one
    np.testing.assert_allclose(holm([0.2]), [0.2])  # a family of one is left as it is


def test_holm_controls_the_familywise_error_under_the_null():
    rng = np.random.default_rng(0)
    trials, m = 4000, 10
    raw = rng.uniform(size=(trials, m))  # every null hypothesis true
    any_raw = (raw < 0.05).any(axis=1).mean()
    any_holm = np.mean([(holm(row) < 0.05).any() for row in raw])
    assert any_raw > 0.35  # uncorrected: 1 - 0.95**10 = 0.40
    assert 0.03 < any_holm <= 0.06


def test_holm_refuses_what_is_not_a_p_value():
    for bad in ([0.1, np.nan], [1.2], [[0.1, 0.2]]):
        with pytest.raises(ValueError, match="p_values"):
            holm(bad)
    with pytest.raises(ValueError, match=r"got \[1\.5\]"):  # the error names the bad values only; 0 and 1 are p-values
        holm([0.0, 0.5, 1.0, 1.5])


def test_a_family_of_comparisons_gets_holm_p_values_and_simultaneous_intervals():
    table = pd.DataFrame({"label": ["x", "y", "z"], "p": [0.01, 0.04, 0.5]})
    out = with_holm(table)
    np.testing.assert_allclose(out["p (Holm)"], [0.03, 0.08, 0.5])
    assert list(out.p) == [0.01, 0.04, 0.5]  # the raw ones stay beside
    assert simultaneous_level(5) == pytest.approx(0.99) and simultaneous_level(1) == pytest.approx(0.95)
    with pytest.raises(ValueError, match="n_tests"):
        simultaneous_level(0)


def test_holm_direction_is_the_sign_of_each_decided_difference():
    table = pd.DataFrame({"difference": [0.02, -0.03, 0.05, -0.01], "p (Holm)": [0.01, 0.04, 0.05, 0.5]})
    assert list(holm_direction(table)) == [1, -1, 0, 0]  # 0.05 is not below 0.05
    assert list(holm_direction(table, alpha=0.1)) == [1, -1, 1, 0]
    assert list(holm_outcome(table)) == ["ahead", "behind", "no difference detected", "no difference detected"]


def test_a_trend_is_the_mean_per_seed_slope_against_log_x_over_the_seeds_with_every_x():
    rows = [
        {"seed": seed, "k": k, "gain": 0.1 + (-0.04 + 0.002 * (seed - 1.5)) * np.log10(k) + 0.01 * seed}
        for seed in range(4)
        for k in (1, 10, 100)
    ]
    rows.append({"seed": 9, "k": 1, "gain": 5.0})  # a seed missing two counts is left out, not guessed
    trend, p = slope_over_seeds(pd.DataFrame(rows), "gain", "k")
    assert trend.n == 4 and trend.mean == pytest.approx(-0.04) and p < 1e-3  # slopes -0.043 to -0.037
    noisy = pd.DataFrame(rows[:-1]).assign(gain=lambda d: d.gain + np.random.default_rng(0).normal(0, 0.01, len(d)))
    trend, p = slope_over_seeds(noisy, "gain", "k", level=0.99)
    assert trend.low < -0.04 < trend.high and p < 0.05
    with pytest.raises(ValueError, match="a trend needs two values of k or more"):
        slope_over_seeds(pd.DataFrame(rows[:1]), "gain", "k")
    one_count = pd.DataFrame([r for r in rows[:-1] if r["k"] == 10])  # four seeds, one count: no slope
    with pytest.raises(ValueError, match="a trend needs two values of k or more"):
        slope_over_seeds(one_count, "gain", "k")


def test_a_trends_p_value_is_the_t_test_of_the_per_seed_slopes():
    rng = np.random.default_rng(1)
    log_k = np.log10([1.0, 10.0, 100.0])
    gains = {seed: 0.2 - 0.01 * log_k + rng.normal(0, 0.02, 3) for seed in range(6)}
    frame = pd.DataFrame(
        [{"seed": s, "k": k, "gain": g} for s, row in gains.items() for k, g in zip((1, 10, 100), row, strict=True)]
    )
    # Each seed's least-squares slope by its closed form: covariance over variance of log10 k.
    slopes = [
        np.sum((log_k - log_k.mean()) * (g - g.mean())) / np.sum((log_k - log_k.mean()) ** 2) for g in gains.values()
    ]
    trend, p = slope_over_seeds(frame, "gain", "k")
    assert trend.mean == pytest.approx(np.mean(slopes)) and trend.n == 6
    t = np.mean(slopes) / (np.std(slopes, ddof=1) / np.sqrt(6))
    assert p == pytest.approx(2 * student.sf(abs(t), 5))


def test_a_trend_every_seed_shows_exactly_is_certain_and_no_trend_on_any_seed_is_none():
    # The same slope on every seed: no spread for a t-test (which would warn of it), and no doubt either way.
    def trend_of(gain):
        rows = [{"seed": seed, "k": k, "gain": gain(k)} for seed in range(4) for k in (1, 10, 100)]
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return slope_over_seeds(pd.DataFrame(rows), "gain", "k")

    trend, p = trend_of(lambda k: 0.1 - 0.04 * np.log10(k))
    assert trend.mean == pytest.approx(-0.04) and trend.sd == 0 and p == 0.0
    trend, p = trend_of(lambda k: 0.0)
    assert trend.mean == 0 and trend.sd == 0 and p == 1.0
