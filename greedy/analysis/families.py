"""The literature's greedy pretraining families side by side: Bengio et al. (2007)'s comparison, re-run.

No pretraining, supervised greedy, autoencoder greedy, denoising-autoencoder greedy (the tutorial's
design, and Vincent et al. (2008)'s stacked one with tied weights) and RBM greedy
(a deep belief network's stack) train the same sigmoid MLPs on each seed's own split of the data.
Every greedy stack is scored frozen (its top layer a softmax head) and fine-tuned. Each family's
pretraining learning rate is chosen on validation rows of tuning data that shares no row with any
evaluation split (``held_out``), then, with it fixed, its fine-tuning learning rate, both from one
stated grid at the deepest depth, extended where the choice lands on its edge; the equal-budget
network's rate is tuned at its own budget.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from greedy.analysis.baselines import equal_budget_end_to_end
from greedy.analysis.glue import keyed_numbers
from greedy.analysis.stats import holm_outcome, paired_comparison, seed_summary, with_holm
from greedy.learning import jax_engine
from greedy.learning.config import TrainConfig
from greedy.learning.data import PER_SEED_DATASETS, Dataset
from greedy.learning.held_out import evaluation_and_tuning
from greedy.learning.procedures import Method
from greedy.learning.records import to_frame
from greedy.learning.tuning import tune_extending

# The stated grid of every learning rate chosen here (SGD with the config's momentum), extended at
# most MAX_EXTENSIONS steps past an edge the choice lands on.
LEARNING_RATES = [0.003, 0.01, 0.03, 0.1, 0.3, 1.0]
MAX_EXTENSIONS = 2
# Masking noise as in Vincent et al. (2008): a quarter of the inputs zeroed.
MASKED_FRACTION = 0.25


FAMILIES = {
    "none": Method("no pretraining", jax_engine.end_to_end),
    "supervised": Method("supervised greedy", jax_engine.supervised_greedy),
    "autoencoder": Method("autoencoder greedy", jax_engine.autoencoder_greedy),
    "denoising": Method(
        "denoising autoencoder greedy",
        jax_engine.autoencoder_greedy,
        {},
        {"corruption": "masking", "corruption_level": MASKED_FRACTION},
    ),
    # Vincent et al. (2008)'s stacked denoising autoencoder: each stage reconstructs its own input
    # through the transpose of its weights (the two above reconstruct the raw input, as the tutorial).
    "stacked_denoising": Method(
        "stacked denoising autoencoder (tied weights)",
        jax_engine.autoencoder_greedy,
        {},
        {
            "corruption": "masking",
            "corruption_level": MASKED_FRACTION,
            "reconstruction_target": "stage_input",
            "tied_weights": True,
        },
    ),
    # Standardized inputs are real-valued: the first RBM has Gaussian visible units.
    "rbm": Method("RBM greedy (DBN)", jax_engine.rbm_greedy, {"visible": "gaussian"}),
}

# Bengio et al. (2007), Table 1: MNIST test error (%) of a deep network (3 hidden layers) by
# pretraining, and of a shallow network (1 hidden layer) without. Published figures, quoted.
BENGIO_2007_MNIST_TEST_ERROR = {"rbm": 1.2, "autoencoder": 1.4, "supervised": 2.0, "none": 2.4, "shallow": 1.9}


def _tune_rate(family: Method, tuning_data, config: TrainConfig, tuning_seeds, deepest: int, setting: str, **options):
    return tune_extending(
        family.run, tuning_data, config, tuning_seeds, setting, LEARNING_RATES, depth=deepest,
        max_extensions=MAX_EXTENSIONS, **dict(family.options, chunk_size=len(tuning_seeds)), **options,
    )  # fmt: skip


def _tuned(family: Method, tuning_data, config: TrainConfig, tuning_seeds, deepest: int) -> tuple[TrainConfig, list]:
    """The family's config with its learning rate(s) chosen, and the tuning tables."""
    if family.run is jax_engine.end_to_end:
        result = _tune_rate(family, tuning_data, config, tuning_seeds, deepest, "learning_rate", depths=[deepest])
        return result.config, [result.table.assign(stage="training")]
    frozen = _tune_rate(family, tuning_data, config, tuning_seeds, deepest, "learning_rate")
    tuned = _tune_rate(
        family, tuning_data, frozen.config, tuning_seeds, deepest, "fine_tune_learning_rate", fine_tune="last"
    )
    return tuned.config, [
        frozen.table.assign(stage="pretraining"),
        tuned.table.rename(columns={"fine_tune_learning_rate": "learning_rate"}).assign(stage="fine-tuning"),
    ]


EQUAL_BUDGET_LABEL = "no pretraining, equal budget"


def scored_as(method: str) -> str:
    """How a record's network was scored: trained end to end, frozen (greedy stack + head) or fine-tuned."""
    if method.startswith("end_to_end"):
        return "end to end"
    return "fine-tuned" if method.endswith("+fine_tune") else "frozen"


def family_comparison(
    data: Sequence[Dataset],
    config: TrainConfig,
    seeds: Sequence[int],
    tuning_data: Sequence[Dataset],
    tuning_seeds: Sequence[int],
    depths: Sequence[int],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every family at its tuned learning rates, on each seed's own data, at every depth in ``depths``.

    Rows are labelled ``family`` (a FAMILIES key), ``label`` and ``scored`` (see ``scored_as``).
    Returns the records and the tuning tables (every grid point's validation score, ``chosen`` marked).
    """
    depths = sorted(depths)
    config = config.with_(n_added_layers=depths[-1] - 2)  # the greedy stacks stop at the deepest depth
    frames, tables = [], []
    for key, family in FAMILIES.items():
        tuned, family_tables = _tuned(family, tuning_data, config.with_(**family.settings), tuning_seeds, depths[-1])
        tables += [t.assign(family=key) for t in family_tables]
        if family.run is jax_engine.end_to_end:
            df = to_frame(family.run(data, tuned, seeds, depths=depths, **family.options))
        else:
            df = to_frame(family.run(data, tuned, seeds, fine_tune="every", **family.options))
        df = df[df.depth.isin(depths)]
        frames.append(df.assign(family=key, label=family.label, scored=df.method.map(scored_as)))
        if key == "none":
            # A fine-tuned greedy stack's epochs over the labeled data: (depth - 1) stages and the
            # fine-tuning, depth times one fit's, at a learning rate tuned at the deepest one's budget.
            budget = config.with_(epochs=depths[-1] * config.epochs)
            equal, equal_tables = _tuned(family, tuning_data, budget, tuning_seeds, depths[-1])
            tables += [t.assign(family="none_equal_budget") for t in equal_tables]
            df = equal_budget_end_to_end(data, equal.with_(epochs=config.epochs), seeds, depths, fits=lambda d: d)
            df = df.assign(epochs=df.depth * config.epochs)
            frames.append(df.assign(family="none_equal_budget", label=EQUAL_BUDGET_LABEL, scored="end to end"))
    return pd.concat(frames, ignore_index=True), pd.concat(tables, ignore_index=True)


def family_summary(records: pd.DataFrame, depth: int) -> pd.DataFrame:
    """Per data set, family and way of scoring at ``depth``: seeds, diverged, mean test accuracy with its
    95% CI, mean training accuracy, and the test error in percent (the paper's unit)."""
    rows = []
    part = records[records.depth == depth]
    for (dataset, family, scored), group in part.groupby(["data", "family", "scored"], sort=False):
        row = seed_summary(group, "test_accuracy")
        rows.append(
            {
                "data": dataset,
                "family": family,
                "label": group.label.iloc[0],
                "scored": scored,
                **row,
                "test error %": 100 * (1 - row["mean"]),
            }
        )
    return pd.DataFrame(rows)


# The networks trained without pretraining that every pretrained one is compared with.
REFERENCES = {"none": "no pretraining", "none_equal_budget": EQUAL_BUDGET_LABEL}


def against_no_pretraining(records: pd.DataFrame, depth: int) -> tuple[pd.DataFrame, dict[str, float]]:
    """Each pretrained network (frozen and fine-tuned) minus each network trained without pretraining
    (at one fit's epochs, and at the equal budget), paired by seed.

    Every row is one test of the chapter's one family: ``p`` (paired t-test) with ``p (Holm)`` beside
    it, adjusted over all rows (every data set), from which the verdicts are drawn. Each row's ``key``
    names its glue numbers: ``{data}_{family}_{frozen|fine_tuned}_minus_{none|none_equal_budget}_*``.
    """
    part = records[records.depth == depth]
    part = part.assign(arm=part.family + "/" + part.scored)
    rows, numbers = [], {}
    for dataset, group in part.groupby("data", sort=False):
        for reference, reference_label in REFERENCES.items():
            for arm in dict.fromkeys(group.arm):
                family, scored = arm.split("/")
                if family in REFERENCES:
                    continue
                c = paired_comparison(group, "test_accuracy", "arm", arm, f"{reference}/end to end")
                key = f"{dataset}_{family}_{scored.replace('-', '_')}_minus_{reference}"
                numbers.update(c.glue_numbers(key))
                rows.append(
                    {
                        "key": key,
                        "data": dataset,
                        "minus": reference_label,
                        "label": f"{FAMILIES[family].label}, {scored}",
                        **c.test_row(a="pretrained", b="no pretraining"),
                    }
                )
    table = with_holm(pd.DataFrame(rows))
    numbers.update(keyed_numbers(table, {"p_holm": "p (Holm)"}))
    return table, numbers


def paper_side_by_side(summary: pd.DataFrame) -> pd.DataFrame:
    """The fine-tuned (or end-to-end) test error of each family here, beside Bengio et al. (2007)'s on
    MNIST, with each family's rank (1 = lowest error) in both."""
    trained = summary[summary.scored != "frozen"]
    table = trained.pivot(index="family", columns="data", values="test error %")
    paper = pd.Series(BENGIO_2007_MNIST_TEST_ERROR, name="Bengio et al. 2007, MNIST")
    table = table.join(paper, how="left")
    for column in list(table.columns):
        table[f"rank: {column}"] = table[column].rank(method="min")
    labels = dict(zip(trained.family, trained.label, strict=True))
    table.index = [labels[k] for k in table.index]
    return table


# Tuning networks' seeds (initializations and tuning splits no evaluation network shares).
TUNING_SEED_START = 10_000


def families_study(
    datasets: Sequence[str], config: TrainConfig, n_seeds: int, n_tuning_seeds: int, depths: Sequence[int]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``family_comparison`` on each named data set (see ``held_out.evaluation_and_tuning``); rows labelled ``data``."""
    for name in datasets:
        if name not in PER_SEED_DATASETS:
            raise ValueError(f"datasets must be drawn from {list(PER_SEED_DATASETS)}, got {name!r}")
    seeds, tuning_seeds = range(n_seeds), range(TUNING_SEED_START, TUNING_SEED_START + n_tuning_seeds)
    records, tables = [], []
    for name in datasets:
        evaluation, tuning = evaluation_and_tuning(name, seeds, tuning_seeds)
        df, table = family_comparison(evaluation, config, seeds, tuning, tuning_seeds, depths)
        records.append(df.assign(data=name))
        tables.append(table.assign(data=name))
    return pd.concat(records, ignore_index=True), pd.concat(tables, ignore_index=True)


def families_verdict(
    summary: pd.DataFrame, comparisons: pd.DataFrame, depth: int, alpha: float = 0.05, titles: dict | None = None
) -> str:
    """Markdown, one block per data set, computed from the summary and the paired comparisons: the means of
    the networks trained without pretraining, then a table of every pretrained network (by mean test
    accuracy) saying whether it is ahead of, behind or level with each of them, decided where the
    Holm-adjusted p-value (``p (Holm)``, over the chapter's whole family of tests) is below ``alpha``.
    ``titles``: how to name each data set (by default, as the ``data`` column does).
    """
    decided = comparisons.assign(outcome=holm_outcome(comparisons, alpha))
    blocks = []
    for dataset, part in summary.groupby("data", sort=False):
        references = part[part.family.isin(REFERENCES)]
        means = "; ".join(f"{r['label']} {r['mean']:.3f}" for r in references.to_dict("records"))
        lines = [
            "| pretrained network | scored | mean test accuracy | "
            + " | ".join(f"against {reference}" for reference in REFERENCES.values())
            + " |",
            "|---|---|---|" + "---|" * len(REFERENCES),
        ]
        pretrained = part[~part.family.isin(REFERENCES)].sort_values("mean", ascending=False)
        for r in pretrained.to_dict("records"):
            cells = []
            for reference in REFERENCES.values():
                match = decided[
                    (decided.data == dataset)
                    & (decided.minus == reference)
                    & (decided.label == f"{r['label']}, {r['scored']}")
                ]
                cells.append(str(match.outcome.iloc[0]) if len(match) else "not compared")
            lines.append(f"| {r['label']} | {r['scored']} | {r['mean']:.3f} | " + " | ".join(cells) + " |")
        title = (titles or {}).get(str(dataset), str(dataset))
        blocks.append(
            f"**{title}, depth {depth}, {int(part.n.min())} seeds.** Without pretraining: {means}.\n\n"
            + "\n".join(lines)
        )
    blocks.append(
        f"Ahead or behind: Holm-adjusted p below {alpha:g} over the chapter's {len(comparisons)} paired tests."
    )
    return "\n\n".join(blocks)
