"""Statistics over seeds: means with 95% CIs, paired comparisons, multiple-comparison corrections,
numbers ready for glue."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps


@dataclass(frozen=True)
class Estimate:
    """A mean over seeds with its t-based confidence interval."""

    mean: float
    low: float
    high: float
    sd: float
    n: int


def mean_ci(values: object, level: float = 0.95, bounds: tuple[float, float] | None = None) -> Estimate:
    """Mean and t confidence interval of the finite values (NaN = a diverged run, left out).

    ``bounds``: the range the quantity can take (an accuracy's is (0, 1)); the interval is clipped
    to it, since with few or spread values a t interval reaches past what the quantity can be.
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    n = len(v)
    if n == 0:
        return Estimate(np.nan, np.nan, np.nan, np.nan, 0)
    m = float(v.mean())
    if n == 1:
        return Estimate(m, np.nan, np.nan, np.nan, 1)
    sd = float(v.std(ddof=1))
    half = float(sps.t.ppf(0.5 + level / 2, n - 1) * sd / np.sqrt(n))
    low, high = m - half, m + half
    if bounds is not None:
        low, high = max(low, bounds[0]), min(high, bounds[1])
    return Estimate(m, low, high, sd, n)


def summarize(df: pd.DataFrame, value: str, by: list[str], level: float = 0.95) -> pd.DataFrame:
    """One row per group: n, mean, CI low/high and sd of ``value``."""
    rows = []
    for key, group in df.groupby(by, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(by, key, strict=True)), **asdict(mean_ci(group[value], level))})
    return pd.DataFrame(rows)


def seed_summary(group: pd.DataFrame, value: str) -> dict[str, float]:
    """A condition's records (one per seed) at a glance: seeds, how many diverged, the mean of ``value``
    with its 95% CI, and the mean training accuracy (the gap between the two shows overfitting)."""
    est = mean_ci(group[value])
    return {
        "n": len(group),
        "diverged": int((group.status == "diverged").sum()),
        "mean": est.mean,
        "CI low": est.low,
        "CI high": est.high,
        "train accuracy": float(group.train_accuracy.mean()),
    }


@dataclass(frozen=True)
class Comparison:
    """Paired difference a - b over the seeds both have, with CI and a paired t-test p-value."""

    a: Estimate
    b: Estimate
    difference: Estimate
    p_value: float

    def glue_numbers(self, prefix: str) -> dict[str, float]:
        """Flat numbers for myst-nb glue, e.g. ``{prefix}_diff``, ``{prefix}_diff_low``."""
        out = {}
        for name, est in (("a", self.a), ("b", self.b), ("diff", self.difference)):
            out[f"{prefix}_{name}"] = est.mean
            out[f"{prefix}_{name}_low"] = est.low
            out[f"{prefix}_{name}_high"] = est.high
        out[f"{prefix}_n"] = self.difference.n
        out[f"{prefix}_p"] = self.p_value
        return out

    def table_row(self, a: str = "a", b: str = "b") -> dict[str, float]:
        """The comparison as one row of a table: both means, the paired difference, its 95% CI and n."""
        d = self.difference
        return {a: self.a.mean, b: self.b.mean, "difference": d.mean, "CI low": d.low, "CI high": d.high, "n": d.n}

    def test_row(self, a: str = "a", b: str = "b") -> dict[str, float]:
        """``table_row`` with the paired t-test's p-value (column ``p``), for a family of tests (see ``holm``)."""
        return {**self.table_row(a, b), "p": self.p_value}

    def sentence(self, what: str = "accuracy", digits: int = 3) -> str:
        f = f"{{:.{digits}f}}"
        d = self.difference
        verdict = "no detectable difference" if d.low <= 0 <= d.high else ("higher" if d.mean > 0 else "lower")
        return (
            f"{what} {f.format(self.a.mean)} vs {f.format(self.b.mean)}: paired difference "
            f"{f.format(d.mean)} (95% CI {f.format(d.low)} to {f.format(d.high)}, n={d.n} seeds) — {verdict}"
        )


def paired_comparison(
    df: pd.DataFrame, value: str, column: str, a: object, b: object, on: str = "seed", level: float = 0.95
) -> Comparison:
    """Compare ``value`` where ``column == a`` against ``column == b``, paired on ``on`` (the seed)."""
    left = df[df[column] == a].set_index(on)[value]
    right = df[df[column] == b].set_index(on)[value]
    if left.index.has_duplicates or right.index.has_duplicates:
        raise ValueError(f"each {on} must appear once per group; filter to one configuration first")
    joined = pd.concat([left.rename("a"), right.rename("b")], axis=1, join="inner").dropna()
    if len(joined) < 2:
        raise ValueError(f"need at least two paired {on}s with finite {value}, got {len(joined)}")
    diff = joined["a"] - joined["b"]
    p = float(sps.ttest_rel(joined["a"], joined["b"]).pvalue) if diff.std() > 0 else (1.0 if diff.mean() == 0 else 0.0)
    return Comparison(mean_ci(joined["a"], level), mean_ci(joined["b"], level), mean_ci(diff, level), p)


def slope_over_seeds(
    df: pd.DataFrame, value: str, x: str, on: str = "seed", level: float = 0.95
) -> tuple[Estimate, float]:
    """A trend of ``value`` over every value of ``x`` (all points, not two): per ``on`` (the seed) that
    has every ``x``, the least-squares slope of ``value`` against log10 of ``x`` (the change per tenfold
    ``x``); the slopes' mean over seeds with its t confidence interval, and the one-sample t-test's p."""
    table = df.pivot(index=on, columns=x, values=value).dropna()
    if table.shape[1] < 2 or len(table) < 2:
        raise ValueError(
            f"a trend needs two values of {x} or more, each at two {on}s or more; got {table.shape[1]} values "
            f"at {len(table)} {on}s with every one"
        )
    slopes = np.polyfit(np.log10(table.columns.to_numpy(dtype=float)), table.to_numpy().T, 1)[0]
    p = float(sps.ttest_1samp(slopes, 0.0).pvalue) if slopes.std() > 0 else (1.0 if slopes.mean() == 0 else 0.0)
    return mean_ci(slopes, level), p


def rate_ci(successes: int, n: int, level: float = 0.95) -> Estimate:
    """A proportion with its Wilson score interval (e.g. the share of seeds that diverge)."""
    if n <= 0:
        raise ValueError(f"n must be >= 1, got {n}")
    z = float(sps.norm.ppf(0.5 + level / 2))
    p = successes / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    # Clip rounding error: the interval always contains p and stays within [0, 1].
    low, high = max(0.0, min(p, float(centre - half))), min(1.0, max(p, float(centre + half)))
    return Estimate(p, low, high, float("nan"), n)


def holm(p_values: object) -> np.ndarray:
    """Holm's (1979) step-down adjusted p-values, in the order given.

    Rejecting where the adjusted p-value is below alpha controls the chance of any false rejection
    in the family at alpha, whatever the dependence between the tests.
    """
    p = np.asarray(p_values, dtype=float)
    if p.ndim != 1:
        raise ValueError(f"p_values must be one-dimensional, got shape {p.shape}")
    if not np.all((p >= 0) & (p <= 1)):  # NaN fails too: a missing test cannot be silently dropped from a family
        raise ValueError(f"p_values must all lie in [0, 1], got {p[~((p >= 0) & (p <= 1))][:3].tolist()}")
    m = len(p)
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted


def simultaneous_level(n_tests: int, level: float = 0.95) -> float:
    """The per-interval level at which ``n_tests`` intervals cover their differences jointly with
    probability at least ``level`` (Bonferroni): the intervals that go with Holm-adjusted p-values."""
    if n_tests < 1:
        raise ValueError(f"n_tests must be >= 1, got {n_tests}")
    return 1 - (1 - level) / n_tests


def with_holm(table: pd.DataFrame, p: str = "p") -> pd.DataFrame:
    """``table`` (one row per test of one family) with ``p (Holm)`` beside its raw p-values."""
    return table.assign(**{"p (Holm)": holm(table[p].to_numpy())})


def holm_direction(table: pd.DataFrame, alpha: float = 0.05) -> pd.Series:
    """Per row of a ``with_holm`` table: +1 where the difference is decided positive (``p (Holm)`` below
    ``alpha``), -1 where decided negative, 0 where undecided."""
    return np.sign(table["difference"]).where(table["p (Holm)"] < alpha, 0).astype(int)


HOLM_OUTCOMES = {1: "ahead", -1: "behind", 0: "no difference detected"}


def holm_outcome(table: pd.DataFrame, alpha: float = 0.05) -> pd.Series:
    """Per row of a ``with_holm`` table, in words: ahead, behind or no difference detected (``holm_direction``)."""
    return holm_direction(table, alpha).map(HOLM_OUTCOMES)
