"""The study's figures: the problem, single-seed depth curves, mean-and-CI bands over seeds."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from greedy.analysis.stats import summarize
from greedy.learning.data import Dataset, bayes_predict

CLASS_COLORS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02")


def problem_figure(data: Dataset, centers: np.ndarray):
    """Training points coloured by class over the Bayes-optimal decision regions."""
    fig, ax = plt.subplots(figsize=(6, 5))
    x = np.concatenate([data.x_train, data.x_test])
    lo, hi = x.min(0) - 1, x.max(0) + 1
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 300), np.linspace(lo[1], hi[1], 300))
    regions = bayes_predict(np.c_[gx.ravel(), gy.ravel()], centers).reshape(gx.shape)
    colors = CLASS_COLORS[: data.n_classes]
    ax.contourf(gx, gy, regions, levels=np.arange(data.n_classes + 1) - 0.5, colors=colors, alpha=0.15)
    for c in range(data.n_classes):
        pts = data.x_train[data.y_train == c]
        ax.scatter(pts[:, 0], pts[:, 1], s=10, color=colors[c], label=f"class {c}")
    ax.scatter(centers[:, 0], centers[:, 1], marker="x", s=120, color="black", label="true centres")
    ax.set(xlabel="$x_1$", ylabel="$x_2$", title="Training split and Bayes-optimal regions")
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    return fig


def single_seed_figure(df: pd.DataFrame, title: str, value: str = "accuracy"):
    """The tutorial's plot: train and test value against depth for one seed."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for split in ("train", "test"):
        ax.plot(df.depth, df[f"{split}_{value}"], marker=".", label=split)
    ax.set(xlabel="depth (Dense layers)", ylabel=value, title=title)
    ax.legend()
    fig.tight_layout()
    return fig


def bands_figure(
    df: pd.DataFrame,
    value: str,
    group: str,
    title: str,
    ceiling: float | None = None,
    ceiling_label: str = "Bayes-optimal",
    ylabel: str | None = None,
):
    """Mean over seeds with 95% CI band against depth, one line per value of ``group``."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for i, (name, part) in enumerate(df.groupby(group, sort=True)):
        s = summarize(part, value, ["depth"])
        color = f"C{i}"
        ax.plot(s.depth, s["mean"], marker=".", color=color, label=f"{name} (n={int(s.n.max())})")
        ax.fill_between(s.depth, s.low, s.high, color=color, alpha=0.2)
    if ceiling is not None:
        ax.axhline(ceiling, color="black", linestyle="--", linewidth=1, label=ceiling_label)
    ax.set(xlabel="depth (Dense layers)", ylabel=ylabel or value, title=title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def facet_bands_figure(
    df: pd.DataFrame, value: str, facet: str, group: str, x: str = "depth", ylabel: str | None = None, log_y=False
):
    """One panel per value of ``facet``; in each, mean and 95% CI band of ``value`` against ``x`` per ``group``."""
    facets = list(dict.fromkeys(df[facet]))
    fig, axes = plt.subplots(1, len(facets), figsize=(4.2 * len(facets), 4), sharey=not log_y, squeeze=False)
    groups = sorted(df[group].unique())
    for ax, name in zip(axes[0], facets, strict=True):
        part = df[df[facet] == name]
        for i, g in enumerate(groups):
            s = summarize(part[part[group] == g], value, [x])
            if s.empty:
                continue
            if len(s) == 1:  # a single x (e.g. fine-tuned at the deepest depth only): a point with its CI
                ax.errorbar(
                    s[x],
                    s["mean"],
                    yerr=[s["mean"] - s.low, s.high - s["mean"]],
                    fmt="o",
                    color=f"C{i}",
                    capsize=3,
                    label=str(g),
                )
                continue
            ax.plot(s[x], s["mean"], marker=".", color=f"C{i}", label=str(g))
            ax.fill_between(s[x], s.low, s.high, color=f"C{i}", alpha=0.2)
        ax.set(title=str(name), xlabel=x, ylabel=ylabel or value)
        if log_y:
            ax.set_yscale("log")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    return fig
