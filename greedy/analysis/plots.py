"""The study's figures, drawn for the book's text column and legible on a phone.

Every figure is 6.5 inches wide at 150 dpi with 10-point text (the column shows it about 670 px
wide, where 10 points stay above 9), multi-panel figures stack their panels one per row (a phone shows
each panel at the full width of its screen) with one legend shared below them inside the figure's width,
axes are linear unless a caller asks for a log axis (and its caption says why), titles and legends name
methods in words (``tables.plain_name``), and a confidence band never leaves the range its quantity can
take.
"""

from __future__ import annotations

import math
from contextlib import contextmanager

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from greedy.analysis.stats import summarize
from greedy.analysis.tables import plain_name
from greedy.learning.data import Dataset, bayes_predict

CLASS_COLORS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02")
WIDTH_INCHES, DPI, FONT_POINTS = 6.5, 150, 10
Bounds = tuple[float | None, float | None]
FRACTION: Bounds = (0.0, 1.0)  # accuracies, rates, fractions of units
NON_NEGATIVE: Bounds = (0.0, None)  # errors, norms
# A shared legend below the panels: at most two columns, about 72 characters of 9-point text across.
LEGEND_COLUMNS, LEGEND_CHARACTERS = 2, 72


@contextmanager
def _book_style():
    with plt.rc_context({"font.size": FONT_POINTS, "legend.fontsize": FONT_POINTS - 1, "figure.dpi": DPI}):
        yield


def _figure(rows: int = 1, cols: int = 1, height: float = 4.0, **kwargs):
    with _book_style():
        return plt.subplots(rows, cols, figsize=(WIDTH_INCHES, height), dpi=DPI, squeeze=False, **kwargs)


def _band(ax, s: pd.DataFrame, x: str, color: str, label: str, bounds: Bounds) -> None:
    low, high = bounds
    ax.plot(s[x], s["mean"], marker=".", color=color, label=label)
    ax.fill_between(s[x], s.low.clip(low, high), s.high.clip(low, high), color=color, alpha=0.2)


def problem_figure(data: Dataset, centers: np.ndarray):
    """Training points coloured by class over the Bayes-optimal decision regions."""
    fig, axes = _figure(height=5.0)
    ax = axes[0][0]
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
    ax.legend(loc="best")
    fig.tight_layout()
    return fig


def single_seed_figure(df: pd.DataFrame, title: str, value: str = "accuracy"):
    """The tutorial's plot: train and test value against depth for one seed (its diverged stages said, not drawn)."""
    fig, axes = _figure(height=3.6)
    ax = axes[0][0]
    ok = df[df.status == "ok"]
    for split in ("train", "test"):
        ax.plot(ok.depth, ok[f"{split}_{value}"], marker=".", label=split)
    diverged = df[df.status != "ok"]
    if len(diverged):
        depth = int(diverged.depth.min())
        note = f"diverged at depth {depth}: no {value} from there on"
        ax.text(0.5, 0.5, note, transform=ax.transAxes, ha="center", va="center", color="C3")
        ax.set_xlim(df.depth.min() - 0.5, df.depth.max() + 0.5)
        ax.set_xticks(sorted(df.depth.unique()))
        if not len(ok):
            ax.set_ylim(0, 1)
    ax.set(xlabel="depth (Dense layers)", ylabel=value, title=title)
    if len(ok):
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
    bounds: Bounds = FRACTION,
):
    """Mean over seeds with 95% CI band against depth, one line per value of ``group``."""
    fig, axes = _figure(height=4.0)
    ax = axes[0][0]
    for i, (name, part) in enumerate(df.groupby(group, sort=True)):
        s = summarize(part, value, ["depth"])
        _band(ax, s, "depth", f"C{i}", f"{plain_name(name)} (n={int(s.n.max())})", bounds)
    if ceiling is not None:
        ax.axhline(ceiling, color="black", linestyle="--", linewidth=1, label=ceiling_label)
    ax.set(xlabel="depth (Dense layers)", ylabel=ylabel or value, title=title)
    ax.legend()
    fig.tight_layout()
    return fig


def _band_or_point(ax, s: pd.DataFrame, x: str, color: str, label: str, bounds: Bounds) -> None:
    """A mean and CI band over ``x``; at a single x (e.g. fine-tuned at the deepest depth only), a point with its CI."""
    if s.empty:
        return
    if len(s) == 1:
        low, high = s.low.clip(*bounds), s.high.clip(*bounds)
        ax.errorbar(
            s[x], s["mean"], yerr=[s["mean"] - low, high - s["mean"]], fmt="o", color=color, capsize=3, label=label
        )
        return
    _band(ax, s, x, color, label, bounds)


def _legend_entries(axes) -> dict:
    """Every panel's legend entries, each label once, in the order first seen."""
    handles: dict = {}
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    return handles


def facet_bands_figure(
    df: pd.DataFrame,
    value: str,
    facet: str,
    group: str,
    x: str = "depth",
    ylabel: str | None = None,
    xlabel: str | None = None,
    log_y: bool = False,
    bounds: Bounds = FRACTION,
    ceiling: float | None = None,
    ceiling_label: str = "Bayes-optimal",
    share_y: bool | None = None,
):
    """One panel per value of ``facet``, one panel per row; in each, mean and 95% CI band of ``value`` per
    ``group``, with one legend below the panels.

    ``ceiling``, if given, is drawn in every panel as a dashed line (a reference such as the Bayes rate).
    Panels share their y axis unless ``share_y`` is False (by default they do, except on a log scale).
    """
    import textwrap

    facets = list(dict.fromkeys(df[facet]))
    groups = sorted(df[group].unique())
    entries = len(groups) + (ceiling is not None)
    legend_columns = min(LEGEND_COLUMNS, entries)
    fig, axes = _figure(
        len(facets), 1, height=2.2 * len(facets) + 0.25 * math.ceil(entries / legend_columns) + 0.4,
        sharey=(not log_y) if share_y is None else share_y,
    )  # fmt: skip
    for ax, name in zip(axes.flat, facets, strict=True):
        part = df[df[facet] == name]
        for i, g in enumerate(groups):
            _band_or_point(ax, summarize(part[part[group] == g], value, [x]), x, f"C{i}", str(plain_name(g)), bounds)
        if ceiling is not None:
            ax.axhline(ceiling, color="black", linestyle="--", linewidth=1, label=ceiling_label)
        ax.set_title(str(plain_name(name)))
        ax.set(ylabel=ylabel or value)
        steps = np.sort(part[x].unique())
        if len(steps) <= 12 and np.all(steps == np.round(steps)):  # a few whole steps (depths): tick each
            ax.set_xticks(steps)
        if log_y:
            ax.set_yscale("log")
    handles = _legend_entries(axes)
    # Labels wrapped to their column's share of the width, so that the legend never widens the image.
    labels = [textwrap.fill(label, LEGEND_CHARACTERS // legend_columns) for label in handles]
    legend = fig.legend(list(handles.values()), labels, loc="lower center", ncol=legend_columns, frameon=False)
    axes.flat[-1].set_xlabel(xlabel or x)  # every panel has the same x: named once, under the lowest
    legend_inches = legend.get_window_extent(fig.canvas.get_renderer()).height / fig.dpi + 0.05
    fig.tight_layout(rect=(0, legend_inches / fig.get_figheight(), 1, 1))
    return fig


def _decade_ticks(ax, limits: tuple[float, float]) -> None:
    """Ticks at 0 and at the powers of ten from the linear region's edge (0.01) within ``limits``, written as
    plain decimals (0.01, not 10^-2); finer ones would crowd the narrow linear region around zero."""
    decades = [0.01, 0.1, 1.0]
    ticks = [-d for d in reversed(decades)] + [0.0] + decades
    ax.set_xticks([t for t in ticks if limits[0] <= t <= limits[1]])
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda value, _: f"{value:g}"))
    ax.xaxis.set_minor_locator(plt.NullLocator())


def differences_figure(
    table: pd.DataFrame, facet: str, label: str, xlabel: str, label_characters: int = 34, symlog: bool = False
):
    """Paired differences with their CIs as horizontal bars, one panel (row) per ``facet``, zero marked.

    ``table`` has one row per comparison: ``facet``, ``label``, ``difference``, ``CI low``, ``CI high``.
    The x axis is linear, or with ``symlog`` linear within 0.01 of zero and logarithmic beyond (for
    differences that span decades; the caption must say so). Labels wrap at ``label_characters``, so
    the intervals keep most of the width.
    """
    # Local, as in its neighbours: at the top it would stale only the runs that read it (statements count by
    # the names a run reads), but moving it now would re-run every chapter that draws a figure.
    import textwrap

    facets = list(dict.fromkeys(table[facet]))
    labels = list(dict.fromkeys(table[label]))
    wrapped = [textwrap.fill(str(plain_name(text)), label_characters) for text in labels]
    lines = max(text.count("\n") + 1 for text in wrapped)
    row_inches = 0.18 * lines + 0.17
    fig, axes = _figure(len(facets), 1, height=len(facets) * (row_inches * len(labels) + 0.7) + 0.5, sharex=True)
    # One x range for every panel, with room around the extreme intervals.
    low, high = min(float(table["CI low"].min()), 0.0), max(float(table["CI high"].max()), 0.0)
    margin = 0.05 * (high - low)
    limits = (1.6 * low - 0.002, 1.6 * high + 0.002) if symlog else (low - margin, high + margin)
    for ax, name in zip(axes.flat, facets, strict=True):
        part = table[table[facet] == name].set_index(label).reindex(labels)
        y = np.arange(len(labels))
        errors = [part["difference"] - part["CI low"], part["CI high"] - part["difference"]]
        ax.errorbar(part["difference"], y, xerr=errors, fmt="o", color="C0", capsize=3)
        ax.axvline(0, color="black", linewidth=1)
        ax.set(title=str(plain_name(name)), yticks=y, yticklabels=wrapped)
        if symlog:
            ax.set_xscale("symlog", linthresh=0.01)
            _decade_ticks(ax, limits)
        else:
            ax.grid(axis="x", alpha=0.3)
        ax.set_xlim(limits)
        ax.invert_yaxis()
    fig.supxlabel(xlabel, fontsize=FONT_POINTS)
    fig.tight_layout()
    return fig


VERDICT_COLORS = {"helps": "#1b9e77", "no difference detected": "#737373", "hurts": "#d95f02"}


def summary_figure(table: pd.DataFrame, group: str, label: str, xlabel: str, label_characters: int = 46):
    """Paired differences with their CIs on a linear axis, one row per ``label``, the rows of each ``group``
    in a panel of their own, each point coloured by its ``verdict`` (a ``VERDICT_COLORS`` key), zero marked.

    ``table`` has ``group``, ``label``, ``difference``, ``CI low``, ``CI high`` and ``verdict`` columns.
    """
    import textwrap

    groups = list(dict.fromkeys(table[group]))
    parts = [table[table[group] == name] for name in groups]
    wrapped = [[textwrap.fill(str(text), label_characters) for text in part[label]] for part in parts]
    # Each panel as tall as its labels' lines, plus room for its title.
    heights = [sum(0.17 * (t.count("\n") + 1) + 0.1 for t in texts) + 0.35 for texts in wrapped]
    fig, axes = _figure(len(groups), 1, height=sum(heights) + 0.9, sharex=True, gridspec_kw={"height_ratios": heights})
    low, high = min(float(table["CI low"].min()), 0.0), max(float(table["CI high"].max()), 0.0)
    margin = 0.05 * (high - low)
    for ax, part, texts in zip(axes.flat, parts, wrapped, strict=True):
        y = np.arange(len(part))
        for verdict, color in VERDICT_COLORS.items():
            at = (part["verdict"] == verdict).to_numpy()
            if at.any():
                rows = part[at]
                errors = [rows["difference"] - rows["CI low"], rows["CI high"] - rows["difference"]]
                ax.errorbar(rows["difference"], y[at], xerr=errors, fmt="o", color=color, capsize=3, label=verdict)
        ax.axvline(0, color="black", linewidth=1)
        ax.set(xlim=(low - margin, high + margin), yticks=y, yticklabels=texts, ylim=(len(part) - 0.5, -0.5))
        ax.set_title(" ", fontsize=FONT_POINTS)  # its room kept; its text placed once the layout is done
        ax.grid(axis="x", alpha=0.3)
    handles = [
        plt.Line2D([], [], color=color, marker="o", linestyle="", label=verdict)
        for verdict, color in VERDICT_COLORS.items()
    ]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False)
    fig.supxlabel(xlabel, fontsize=FONT_POINTS, y=0.035)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    for ax, name in zip(axes.flat, groups, strict=True):  # each title from the figure's left edge
        box = ax.get_position()
        ax.set_title(str(name), fontsize=FONT_POINTS, fontweight="bold", ha="left", x=(0.01 - box.x0) / box.width)
    return fig
