"""What the supervised and unsupervised chapters share: the tutorial's procedure on one seed with the
Keras reference engine, the same on many seeds with the fast engine, and the comparison by depth."""

from __future__ import annotations

import pandas as pd

from greedy.analysis.plots import bands_figure
from greedy.analysis.stats import Comparison, mean_ci, paired_comparison, summarize
from greedy.analysis.tutorial import print_like_tutorial
from greedy.learning.config import TrainConfig
from greedy.learning.data import Dataset
from greedy.learning.procedures import run
from greedy.learning.records import to_frame


def one_seed_as_the_tutorial(method: str, data: Dataset, config: TrainConfig, seed: int, backend: str) -> pd.DataFrame:
    """The procedure once on the Keras reference engine, printed as the tutorial prints it."""
    single = to_frame(run(method, data, config, seeds=[seed], engine="keras"))
    print(f"backend={backend}, seed={seed}")
    print_like_tutorial(single[single.status == "ok"])
    print("stages that diverged:", int((single.status == "diverged").sum()))
    return single


def many_seeds(method: str, data: Dataset, config: TrainConfig, n_seeds: int) -> pd.DataFrame:
    """The procedure for seeds 0 .. n_seeds-1 on the fast engine."""
    return to_frame(run(method, data, config, seeds=range(n_seeds), engine="jax"))


def deepest_against_base(ok: pd.DataFrame, ceiling: float) -> tuple[Comparison, dict[str, float]]:
    """Test accuracy at the deepest depth against depth 2, paired by seed, and the numbers to glue.

    ``ok`` holds the records of the stages that did not diverge.
    """
    last = int(ok.depth.max())
    cmp = paired_comparison(ok[ok.depth.isin([2, last])], "test_accuracy", "depth", last, 2)
    depth_means = summarize(ok, "test_accuracy", ["depth"])["mean"]
    best_depth_mean = depth_means.max()
    numbers = {
        "base_mean": cmp.b.mean,
        "base_low": cmp.b.low,
        "base_high": cmp.b.high,
        "deep_mean": cmp.a.mean,
        "deep_low": cmp.a.low,
        "deep_high": cmp.a.high,
        "diff": cmp.difference.mean,
        "diff_low": cmp.difference.low,
        "diff_high": cmp.difference.high,
        "n_paired": cmp.difference.n,
        "last_depth": last,
        "ceiling": ceiling,
        "gap_to_ceiling": ceiling - best_depth_mean,
        "largest_gap_to_ceiling": ceiling - depth_means.min(),
    }
    return cmp, numbers


def against_the_population(records: pd.DataFrame, bayes: float, prefix: str) -> tuple[Comparison, dict[str, float]]:
    """On per-seed data scored on the population sample: the deepest stack against depth 2 (paired by
    seed) and each one's gap below the population's Bayes accuracy ``bayes``, with numbers to glue
    (``{prefix}_*``: the comparison's, ``{prefix}_below*`` at the deepest, ``{prefix}_base_below*`` at 2).

    ``records`` holds every stage; only those that did not diverge are compared.
    """
    ok = records[records.status == "ok"]
    last = int(ok.depth.max())
    change = paired_comparison(ok[ok.depth.isin([2, last])], "population_accuracy", "depth", last, 2)
    numbers: dict[str, float] = {**change.glue_numbers(prefix), "bayes_population": bayes}
    for name, depth in (("below", last), ("base_below", 2)):
        gap = mean_ci(bayes - ok[ok.depth == depth].population_accuracy)
        numbers.update(
            {f"{prefix}_{name}": gap.mean, f"{prefix}_{name}_low": gap.low, f"{prefix}_{name}_high": gap.high}
        )
    return change, numbers


def test_accuracy_bands(ok: pd.DataFrame, n_seeds: int, ceiling: float):
    """Mean test accuracy over seeds with its 95% CI band against depth, and the Bayes ceiling."""
    return bands_figure(
        ok.assign(split="test"),
        "test_accuracy",
        "split",
        f"Test accuracy over {n_seeds} seeds",
        ceiling=ceiling,
        ylabel="test accuracy",
    )
