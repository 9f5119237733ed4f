"""The figures' promises: the book's width, bands inside their quantity's range, every interval in view."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from greedy.analysis.plots import DPI, WIDTH_INCHES, differences_figure, facet_bands_figure  # noqa: E402


def test_differences_figure_shows_every_interval_and_zero():
    table = pd.DataFrame(
        {
            "config": ["a", "a", "b", "b"],
            "label": ["x", "y", "x", "y"],
            "difference": [0.002, 0.3, -0.001, 0.01],
            "CI low": [-0.001, 0.28, -0.003, 0.005],
            "CI high": [0.005, 0.32, 0.0005, 0.015],
        }
    )
    fig = differences_figure(table, "config", "label", "a minus b")
    assert tuple(fig.get_size_inches())[0] == WIDTH_INCHES and fig.dpi == DPI
    assert [ax.get_title() for ax in fig.axes] == ["a", "b"]
    for ax in fig.axes:
        low, high = ax.get_xlim()
        assert low < -0.003 and high > 0.32
        assert [t.get_text() for t in ax.get_yticklabels()] == ["x", "y"]


def test_differences_are_drawn_on_a_linear_axis_unless_asked():
    table = pd.DataFrame(
        {"config": ["a", "a"], "label": ["x", "y"], "difference": [-0.06, 0.004],
         "CI low": [-0.08, -0.002], "CI high": [-0.04, 0.01]}
    )  # fmt: skip
    assert differences_figure(table, "config", "label", "a minus b").axes[0].get_xscale() == "linear"
    assert differences_figure(table, "config", "label", "a minus b", symlog=True).axes[0].get_xscale() == "symlog"


def test_long_comparison_labels_wrap_and_ticks_read_as_plain_decimals():
    long = "supervised greedy + fine-tuning minus ReLU MLP + batch norm (best at this depth)"
    table = pd.DataFrame(
        {"config": ["a", "a"], "label": [long, "short"], "difference": [-0.06, 0.004],
         "CI low": [-0.08, -0.002], "CI high": [-0.04, 0.01]}
    )  # fmt: skip
    fig = differences_figure(table, "config", "label", "a minus b", symlog=True)
    fig.canvas.draw()
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0].replace("\n", " ") == long and all(len(line) <= 34 for line in labels[0].split("\n"))
    assert [t.get_text() for t in ax.get_xticklabels()] == ["-0.1", "-0.01", "0", "0.01"]
    # The intervals keep at least half the figure's width beside the wrapped labels.
    assert ax.get_position().width > 0.5


def test_bands_stay_inside_the_range_and_panels_may_keep_their_own_axis():
    rng = np.random.default_rng(0)
    rows = [
        {
            "config": c,
            "method": m,
            "depth": d,
            "seed": s,
            "acc": min(1.0, 0.99 + 0.02 * rng.random()) if c == "p" else 0.5,
        }
        for c in ("p", "q")
        for m in ("m1", "m2")
        for d in (2, 3)
        for s in range(5)
    ]
    fig = facet_bands_figure(pd.DataFrame(rows), "acc", "config", "method", share_y=False, ceiling=0.9)
    first, second = fig.axes[:2]
    assert first.get_ylim() != second.get_ylim()
    for ax in fig.axes[:2]:
        for band in ax.collections:
            ys = np.concatenate([p.vertices[:, 1] for p in band.get_paths()])
            assert ys.max() <= 1.0


def test_a_few_whole_depths_get_a_tick_each_and_fractional_steps_keep_matplotlibs():
    few = pd.DataFrame(
        [{"panel": "a", "method": "m", "depth": d, "seed": s, "acc": 0.5} for d in (2, 3, 4) for s in range(3)]
    )
    fig = facet_bands_figure(few, "acc", "panel", "method")
    assert list(fig.axes[0].get_xticks()) == [2, 3, 4]  # not 2.0, 2.5, 3.0, ...
    fractional = few.assign(depth=few.depth * 0.25)  # left to matplotlib
    fig = facet_bands_figure(fractional, "acc", "panel", "method")
    assert list(fig.axes[0].get_xticks()) != [0.5, 0.75, 1.0]


def test_panels_stack_one_per_row_and_the_legend_stays_inside_the_figure():
    long_names = [f"a method with a long descriptive name number {i}" for i in range(5)]
    rows = [
        {"panel": p, "method": m, "depth": d, "seed": s, "acc": 0.5}
        for p in ("first", "second", "third")
        for m in long_names
        for d in (2, 3)
        for s in range(3)
    ]
    fig = facet_bands_figure(pd.DataFrame(rows), "acc", "panel", "method", ceiling=0.9, xlabel="depth (layers)")
    fig.canvas.draw()
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in panels] == ["first", "second", "third"]
    assert len({round(ax.get_position().x0, 6) for ax in panels}) == 1  # one column
    assert all(ax.get_position().width > 0.75 for ax in panels)  # each panel about the full width
    tops = [ax.get_position().y1 for ax in panels]
    assert tops == sorted(tops, reverse=True)  # first panel on top
    assert [ax.get_xlabel() for ax in panels] == ["", "", "depth (layers)"]  # named once, under the lowest
    legend = fig.legends[0]
    box = legend.get_window_extent()
    assert 0 <= box.x0 and box.x1 <= fig.bbox.width  # no wider than the figure: the image keeps its width
    assert len(legend.get_texts()) == 6  # five methods and the ceiling


def test_titles_and_legends_name_methods_in_words():
    rows = [
        {"config": "relu + he_uniform", "method": m, "depth": d, "seed": s, "acc": 0.5}
        for m in ("autoencoder_greedy+fine_tune", "end_to_end")
        for d in (2, 3)
        for s in range(3)
    ]
    fig = facet_bands_figure(pd.DataFrame(rows), "acc", "config", "method")
    assert fig.axes[0].get_title() == "ReLU + He uniform"
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["autoencoder greedy + fine-tuned", "end to end"]
