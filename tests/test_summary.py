"""The study's answer in one table: each row's alternative chosen without test rows, one Holm family."""

import numpy as np
import pandas as pd
import pytest

from greedy.analysis import summary
from greedy.analysis.plots import VERDICT_COLORS, summary_figure

SEEDS = range(10)


def _arm(value: float, spread: float = 0.01, **columns) -> pd.DataFrame:
    rng = np.random.default_rng(int(value * 1000))
    return pd.DataFrame({"seed": list(SEEDS), "test_accuracy": value + spread * rng.standard_normal(10), **columns})


def test_well_trained_rows_take_the_best_network_by_validation_not_by_test():
    records = pd.concat(
        [
            _arm(0.60, kind="pretrained", contender="supervised", depth=4),
            _arm(0.65, kind="well-trained", contender="batch_norm", depth=4),
            _arm(0.70, kind="well-trained", contender="residual", depth=4),  # best on test rows
        ]
    )
    tuning = pd.DataFrame(
        [
            {"kind": "well-trained", "contender": "batch_norm", "depth": 4, "chosen": True, "validation_accuracy": 0.7},
            {"kind": "well-trained", "contender": "residual", "depth": 4, "chosen": True, "validation_accuracy": 0.6},
            {"kind": "well-trained", "contender": "residual", "depth": 4, "chosen": False, "validation_accuracy": 0.9},
        ]
    ).assign(learning_rate=0.01, standard_error=0.01)
    [row] = summary.well_trained_rows(records, tuning)
    assert row["against"] == "best well-trained network (ReLU MLP + batch norm)"
    assert row["difference"] == pytest.approx(-0.05, abs=0.02) and row["depth"] == 4
    # With few labels the best network is chosen per label count, and the row names its labels.
    per_count = records.assign(labeled_per_class=10)
    [row] = summary.well_trained_rows(
        per_count, tuning.assign(labeled_per_class=10), chapter="well_trained_few_labels", by="labeled_per_class"
    )
    assert row["chapter"] == "well_trained_few_labels" and row["labels"] == "10 per class" and row["depth"] == 4
    assert row["against"] == "best well-trained network (ReLU MLP + batch norm)"


def test_families_rows_take_the_better_budget_by_validation():
    def family(name, value, scored, label):
        return _arm(value, family=name, scored=scored, label=label, depth=4, data="mnist1d")

    records = pd.concat(
        [
            family("none", 0.50, "end to end", "no pretraining"),
            family("none_equal_budget", 0.55, "end to end", "no pretraining, equal budget"),
            family("rbm", 0.60, "fine-tuned", "RBM greedy"),
            family("rbm", 0.40, "frozen", "RBM greedy"),  # a frozen stack is never a row
            family("none", 0.90, "end to end", "no pretraining").assign(depth=2),  # only the deepest depth counts
        ]
    )
    tuning = pd.DataFrame(
        {
            "data": "mnist1d",
            "family": ["none", "none_equal_budget", "none_equal_budget"],
            "chosen": [True, True, False],
            "validation_accuracy": [0.8, 0.7, 0.95],
        }
    )
    [row] = summary.families_rows(records, tuning)
    assert row["against"] == "no pretraining" and row["pretraining"] == "RBM greedy + fine-tuning"
    assert row["difference"] == pytest.approx(0.10, abs=0.02) and row["data"] == "MNIST-1D"
    # With the equal budget the better on validation rows, it alone is the alternative (not "none" as well).
    [row] = summary.families_rows(records, tuning.assign(validation_accuracy=[0.6, 0.7, 0.1]))
    assert row["against"] == "no pretraining, equal budget" and row["difference"] == pytest.approx(0.05, abs=0.02)
    assert summary.better_budget(tuning.assign(validation_accuracy=[0.6, 0.7, 0.1]), "mnist1d") == "none_equal_budget"
    # Another data set's tuning never counts (digits sorts before mnist1d).
    digits = pd.DataFrame(
        {"data": "digits", "family": ["none_equal_budget"], "chosen": True, "validation_accuracy": 0.99}
    )
    both = pd.concat([tuning, digits], ignore_index=True)
    assert (
        summary.better_budget(both, "mnist1d") == "none"
        and summary.better_budget(both, "digits") == "none_equal_budget"
    )


def test_label_scarcity_rows_need_both_methods_at_a_label_count_and_keep_their_order():
    def arm(value, method, k):
        return _arm(value, method=method, data="digits", labeled_per_class=k, depth=4.0)

    records = pd.concat(
        [
            arm(0.9, summary.FEW_LABELS_PRETRAINED, "all"),  # no label spreading with every label: no row
            *(arm(0.5, summary.FEW_LABELS_PRETRAINED, k) for k in ("1", "3", "10")),
            *(arm(0.7, summary.FEW_LABELS_AGAINST, k).assign(depth=np.nan) for k in ("1", "3", "10")),
        ]
    )
    rows = summary.label_scarcity_rows(records)
    assert [r["labels"] for r in rows] == ["1 per class", "3 per class", "10 per class"]  # as the chapter ran them
    assert rows[0]["depth"] == 4 and rows[0]["difference"] < -0.15


def test_blobs_rows_compare_with_each_tuned_network_at_the_deepest_depth():
    def contender(name, value, settings="tuned", depth=12):
        arm = _arm(value, contender=name, settings=settings, depth=depth, config="sigmoid + glorot_uniform")
        return arm.assign(population_accuracy=1 - arm.test_accuracy)  # the chapter scores on the population

    records = pd.concat(
        [
            contender("supervised_greedy", 0.8),
            contender("end_to_end", 0.6),
            contender("batch_norm", 0.8),
            contender("end_to_end", 0.9, settings="tutorial"),
            contender("end_to_end", 0.1, depth=2),
        ]
    )
    rows = summary.blobs_rows(records)
    assert [r["against"] for r in rows] == ["the same network end to end", "batch norm"]
    assert rows[0]["difference"] == pytest.approx(-0.2, abs=0.02) and rows[0]["activation"] == "sigmoid"


def _table(differences_and_p):
    rows = [
        {"chapter": "well_trained", "data": "MNIST-1D", "labels": "every label", "activation": "ReLU", "depth": 4,
         "pretraining": f"p{i}", "against": "x", "a": 0.5, "b": 0.5 - d, "difference": d, "CI low": d - 0.01,
         "CI high": d + 0.01, "n": 10, "p": p}
        for i, (d, p) in enumerate(differences_and_p)
    ]  # fmt: skip
    return summary.summary_table(rows)


def test_verdicts_come_from_holm_adjusted_p_values():
    # 0.02 alone is below 0.05, not once adjusted over three tests (0.02 x 2 > 0.05 after the first).
    table = _table([(-0.1, 0.001), (0.05, 0.03), (0.02, 0.5)])
    assert list(table.verdict) == ["hurts", "no difference detected", "no difference detected"]
    assert _table([(0.1, 0.001)]).verdict.item() == "helps"
    counts = summary.verdict_counts(table)
    assert counts.loc["all"].to_dict() == {"helps": 0, "no difference detected": 2, "hurts": 1}
    labelled = summary.figure_labels(table)
    assert labelled.group.iloc[0] == "MNIST-1D, every label, ReLU: against the best well-trained network"
    assert labelled.row.iloc[0] == "depth 4: p0"
    readable = summary.readable(table)
    assert (
        "NaN" not in readable.to_string()
        and readable["difference (95% interval)"].iloc[0] == "-0.100 (-0.110 to -0.090)"
    )


def test_the_summary_figure_draws_a_panel_per_group_coloured_by_verdict():
    table = summary.figure_labels(_table([(-0.1, 0.001), (0.0, 0.9)]))
    table = pd.concat([table, table.assign(group="second group")], ignore_index=True)
    fig = summary_figure(table, "group", "row", "difference")
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == [table.group.iloc[0], "second group"]
    assert axes[0].get_xscale() == "linear" and axes[0].get_xlim()[0] < -0.11 < 0 < axes[0].get_xlim()[1]
    colors = {tuple(line.get_color()) if not isinstance(line.get_color(), str) else line.get_color()
              for line in axes[0].get_lines() if line.get_marker() == "o"}  # fmt: skip
    assert colors == {VERDICT_COLORS["hurts"], VERDICT_COLORS["no difference detected"]}
    assert [t.get_text() for t in axes[0].get_yticklabels()] == ["depth 4: p0", "depth 4: p1"]


def _claims_table(**changes) -> pd.DataFrame:
    spread = "label spreading"
    rows = [
        ("well_trained", "MNIST-1D", "ReLU", "best well-trained network (ReLU MLP + batch norm)", "hurts", 0.62, 0.68),
        ("families", "MNIST-1D", "sigmoid", "no pretraining, equal budget", "helps", 0.62, 0.53),
        ("families", "digits", "sigmoid", "no pretraining, equal budget", "no difference detected", 0.94, 0.94),
        ("families", "digits", "sigmoid", "no pretraining, equal budget", "helps", 0.95, 0.94),
        ("label_scarcity", "digits", "sigmoid", spread, "hurts", 0.5, 0.6),
        ("fair_comparison", "blobs", "sigmoid", summary.BLOBS_AGAINST["end_to_end"], "helps", 0.82, 0.64),
        ("fair_comparison", "blobs", "sigmoid", summary.BLOBS_AGAINST["batch_norm"], "hurts", 0.816, 0.819),
        ("fair_comparison", "blobs", "ReLU", summary.BLOBS_AGAINST["residual"], "helps", 0.81, 0.80),
        ("well_trained_few_labels", "MNIST-1D", "ReLU", "best well-trained network", "hurts", 0.30, 0.34),
    ]
    table = pd.DataFrame(rows, columns=["chapter", "data", "activation", "against", "verdict", "a", "b"])
    for index, values in changes.items():
        table.loc[int(index.removeprefix("row")), list(values)] = list(values.values())
    return table


def test_the_short_answers_claims_are_checked_against_the_numbers():
    assert summary.broken_claims(_claims_table()) == []
    # Two well-trained rows, one behind: "most rows" needs more than half of them behind.
    second = pd.concat([_claims_table().iloc[:1]] * 2, ignore_index=True).assign(verdict=["hurts", "hurts"])
    both = pd.concat([second, _claims_table().iloc[1:]], ignore_index=True)
    assert summary.broken_claims(both) == []
    assert summary.broken_claims(
        both.assign(verdict=lambda t: t.verdict.where(t.index != 1, "no difference detected"))
    ) == ["on MNIST-1D, pretraining is never ahead of the best well-trained network and trails it in most rows"]
    assert "on MNIST-1D, pretraining is never ahead of the best well-trained network and trails it in most rows" in (
        summary.broken_claims(_claims_table(row0={"verdict": "helps"}))
    )
    broken = summary.broken_claims(_claims_table(row4={"verdict": "helps"}))
    assert "with few labels, pretraining never beats label spreading" in broken
    assert any("never ahead" in claim for claim in broken)
    assert summary.broken_claims(_claims_table(row1={"a": 0.70})) == [
        "no fine-tuned sigmoid network on MNIST-1D reaches the best well-trained network"
    ]
    assert summary.broken_claims(_claims_table(row3={"verdict": "no difference detected"})) == [
        "on sigmoid networks with every label, fine-tuned pretraining helps in most rows and hurts in none"
    ]
    assert summary.broken_claims(_claims_table(row5={"verdict": "no difference detected"})) == [
        "on the blobs, supervised greedy beats the same sigmoid network trained end to end"
    ]
    assert summary.broken_claims(_claims_table(row8={"verdict": "helps"})) == [
        "on MNIST-1D with 1 to 100 labels per class, pretraining is never ahead of the best well-trained network",
        "against batch normalization, the best well-trained network or label spreading, pretraining is never ahead",
    ]
    assert summary.broken_claims(_claims_table(row8={"verdict": "no difference detected"})) == []
    assert summary.broken_claims(_claims_table(row6={"verdict": "helps"})) == [
        "on the blobs, supervised greedy never beats batch normalization",
        "against batch normalization, the best well-trained network or label spreading, pretraining is never ahead",
    ]


def test_summary_numbers_count_each_chapters_rows_and_the_largest_gap_behind():
    table = _claims_table().assign(difference=[-0.06, 0.09, 0.0, 0.01, -0.1, 0.18, -0.003, 0.01, -0.04])
    table["against"] = table.against.astype(str)
    numbers = summary.summary_numbers(table)
    assert numbers["n_rows"] == numbers["all_rows"] == 9
    assert numbers["families_rows"] == 3 and numbers["families_helps"] == 2
    assert numbers["well_trained_few_labels_rows"] == 1 and numbers["well_trained_few_labels_hurts"] == 1
    assert numbers["well_trained_few_labels_most_behind"] == pytest.approx(0.04)
    assert numbers["well_trained_most_behind"] == pytest.approx(0.06)
