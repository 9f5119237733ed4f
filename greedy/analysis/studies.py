"""The study's experiment designs beyond the tutorial, as functions the notebooks call.

Each returns a tidy DataFrame (one row per seed and condition) so that the notebooks only
summarize, compare and plot. Everything runs on the fast JAX engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from greedy.analysis.diagnostics import dead_unit_fractions, gradient_norms, mark_collapse
from greedy.analysis.semi_supervised import baseline_records, regularized_end_to_end
from greedy.analysis.stats import mean_ci, rate_ci
from greedy.learning import jax_engine
from greedy.learning.config import TrainConfig, check_positive_int, check_seeds
from greedy.learning.data import Dataset, one_per_seed, with_labeled_per_class
from greedy.learning.records import Networks, to_frame


def methods_by_depth(
    data: Dataset | Sequence[Dataset],
    configs: dict[str, TrainConfig],
    seeds: Sequence[int],
    *,
    fine_tune: str = "every",
    keep_networks: bool = False,
) -> tuple[pd.DataFrame, dict[str, Networks]]:
    """Per named config: end-to-end at every depth, supervised and autoencoder greedy (+ fine-tuning).

    ``fine_tune`` is "every" (fine-tune each stage's stack), "last" (the deepest only) or "none".
    Returns the records and, with ``keep_networks``, the trained end-to-end networks by config,
    ``[config][depth][seed]`` (for ``gradient_profile``, so they are not trained twice).
    """
    frames, networks = [], {}
    for name, config in configs.items():
        trained = jax_engine.end_to_end(data, config, seeds, keep_networks=keep_networks)
        trained += jax_engine.supervised_greedy(data, config, seeds, fine_tune=fine_tune)
        trained += jax_engine.autoencoder_greedy(data, config, seeds, fine_tune=fine_tune)
        frames.append(to_frame(trained).assign(config=name))
        if keep_networks:
            networks[name] = trained.networks["end_to_end"]
    return pd.concat(frames, ignore_index=True), networks


def gradient_profile(
    data: Dataset | Sequence[Dataset],
    configs: dict[str, TrainConfig],
    seeds: Sequence[int],
    depth: int,
    *,
    trained: dict[str, Networks] | None = None,
) -> pd.DataFrame:
    """Per-layer gradient norm of end-to-end networks of ``depth`` Dense layers, at init and after training.

    Gradients are of the mean cross-entropy on the whole training split (each seed's own, where
    ``data`` has one data set per seed). ``trained`` (as filled by
    ``methods_by_depth``) supplies networks already trained with these seeds; the rest are trained
    here. The end-to-end engine keys every network by seed and depth, so both are the same networks.
    """
    seeds = check_seeds(seeds)
    per_seed = dict(zip(seeds, one_per_seed(data, len(seeds)), strict=True))
    shape = per_seed[seeds[0]]
    rows = []
    for name, config in configs.items():
        keys = jax.vmap(jax.random.PRNGKey)(jnp.asarray(seeds))
        initial = jax_engine.export_layers(
            jax_engine.initial_network(keys, shape.n_features, shape.n_classes, depth, config),
            config.activation,
            "softmax",
        )
        given = (trained or {}).get(name, {}).get(depth, {})
        if all(seed in given for seed in seeds):
            after = {seed: given[seed] for seed in seeds}
        else:
            fresh = jax_engine.end_to_end(data, config, seeds, depths=[depth], keep_networks=True)
            after = fresh.networks["end_to_end"][depth]
        for when, nets in (
            ("initialization", dict(zip(seeds, initial, strict=True))),
            ("after training", after),
        ):
            for seed, layers in nets.items():
                if not all(np.all(np.isfinite(layer.kernel)) for layer in layers):
                    continue
                g = gradient_norms(layers, per_seed[seed].x_train, per_seed[seed].y_train)
                rows.append(g.assign(config=name, when=when, seed=seed))
    return pd.concat(rows, ignore_index=True)


def autoencoder_dead_units(
    data: Dataset | Sequence[Dataset], config: TrainConfig, seeds: Sequence[int]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Autoencoder greedy records and, per stage and encoder layer, the fraction of dead ReLU units
    (on each seed's own training inputs, where ``data`` holds one data set per seed)."""
    seeds = check_seeds(seeds)
    per_seed = dict(zip(seeds, one_per_seed(data, len(seeds)), strict=True))
    trained = jax_engine.autoencoder_greedy(data, config, seeds, keep_networks=True)
    records = to_frame(trained)
    rows = []
    for depth, nets in trained.networks.get("autoencoder_greedy", {}).items():
        for seed, layers in nets.items():
            if not all(np.all(np.isfinite(layer.kernel)) for layer in layers):
                continue
            d = dead_unit_fractions(layers, per_seed[seed].x_train)
            rows.append(d.assign(depth=depth, seed=seed))
    dead = (
        pd.concat(rows, ignore_index=True)
        if rows
        else pd.DataFrame(columns=["layer", "dead_fraction", "depth", "seed"])
    )
    ok = records[records.status == "ok"][["depth", "seed"]]
    return records, dead.merge(ok, on=["depth", "seed"])  # only stages that were recorded as ok


def label_scarcity(
    data: Dataset | Sequence[Dataset],
    labeled_per_class: list[int | None],
    seeds: Sequence[int],
    config: TrainConfig,
    depth: int,
    baselines: bool = True,
    plentiful: tuple[int, int] | None = None,
) -> pd.DataFrame:
    """Test accuracy at ``depth`` with k labels per class: no pretraining (plain, and regularized: weight
    decay + early stopping) vs the greedy methods (+ fine-tuning), and (with ``baselines``) the
    scikit-learn baselines of ``greedy.analysis.semi_supervised``.

    ``data`` is one data set, or one per seed (each seed its own train/test split). Seed s draws
    the labeled subset (the same for every method at that seed, so comparisons pair) and the
    networks' initialization; every training input, without its label, feeds the autoencoder and
    the semi-supervised baselines. The autoencoder stacks do not depend on the labels: they are
    trained once per seed and probed and fine-tuned at every k. A k above the smallest class's
    count of training examples is refused. ``plentiful=(k0, n)`` runs only the first n seeds at
    label counts of k0 or more (and with every label), where differences are small and fits long.
    """
    seeds = check_seeds(seeds)
    per_seed = one_per_seed(data, len(seeds))
    if plentiful is not None:
        check_positive_int("plentiful's label count", plentiful[0])
        check_positive_int("plentiful's number of seeds", plentiful[1])
    greedy_config = config.with_(n_added_layers=depth - 2)
    pretrained = jax_engine.PretrainedStages()
    frames = []
    for k in labeled_per_class:
        n = len(seeds)
        if plentiful is not None and (k is None or k >= plentiful[0]):
            n = min(n, plentiful[1])
        run_seeds = seeds[:n]
        parts = [with_labeled_per_class(d, k, random_state=s) for d, s in zip(per_seed[:n], run_seeds, strict=True)]
        trained = jax_engine.end_to_end(parts, config, run_seeds, depths=[depth])
        trained += jax_engine.supervised_greedy(parts, greedy_config, run_seeds, fine_tune="last")
        trained += jax_engine.autoencoder_greedy(
            parts, greedy_config, run_seeds, fine_tune="last", pretrained=pretrained
        )
        networks = [r for r in trained.records if r.depth == depth]
        frame = pd.concat(
            [to_frame(networks), regularized_end_to_end(parts, config, run_seeds, depth)], ignore_index=True
        )
        if baselines:
            frame = pd.concat([frame, baseline_records(parts, run_seeds)], ignore_index=True)
        frames.append(frame.assign(labeled_per_class="all" if k is None else str(k)))
    return pd.concat(frames, ignore_index=True)


def collapse_summary(
    records: pd.DataFrame, dead: pd.DataFrame, x_reference: np.ndarray | Mapping[int, np.ndarray]
) -> dict[str, float]:
    """Divergence of the base autoencoder, collapse at the deepest stage, dead units, accuracy: rates with CIs.

    ``x_reference``: the inputs a constant reconstruction is measured against, as in ``mark_collapse``
    (``{seed: training inputs}`` where each seed has data of its own).
    """
    base = records[(records.method == "autoencoder_greedy") & (records.depth == 2)]
    diverged = rate_ci(int((base.status == "diverged").sum()), len(base))
    # A seed's procedure stops at its first diverged stage: count the seeds that diverged at any stage.
    per_seed = records.groupby("seed").status.apply(lambda s: (s == "diverged").any())
    diverged_any = rate_ci(int(per_seed.sum()), len(per_seed))
    ok = mark_collapse(records[records.status == "ok"], x_reference)
    deepest = ok[ok.depth == ok.depth.max()]
    collapsed = rate_ci(int(deepest.collapsed.sum()), max(len(deepest), 1))
    first_layer = dead[(dead.depth == 2) & (dead.layer == 1)].dead_fraction
    newest = dead[dead.layer == dead.depth - 1]
    acc = mean_ci(deepest.test_accuracy, bounds=(0.0, 1.0))
    return {
        "diverged": diverged.mean,
        "diverged_low": diverged.low,
        "diverged_high": diverged.high,
        "collapsed": collapsed.mean,
        "collapsed_low": collapsed.low,
        "collapsed_high": collapsed.high,
        "survivors": len(deepest),
        "dead_first_layer": float(first_layer.mean()),
        "dead_newest_layer": float(newest.dead_fraction.mean()),
        "deepest_accuracy": acc.mean,
        "deepest_accuracy_low": acc.low,
        "deepest_accuracy_high": acc.high,
        "diverged_any": diverged_any.mean,
        "diverged_any_low": diverged_any.low,
        "diverged_any_high": diverged_any.high,
    }


def revival_verdict(without: pd.Series, revived: pd.Series) -> str:
    """The dead-unit intervention's verdict, in Markdown, from two rows of collapse summaries (see
    ``collapse_summary``): the same settings without and with dead units re-initialized after each stage."""
    collapse = (
        f"collapse among survivors {revived.collapsed:.0%} ({revived.collapsed_low:.0%} to "
        f"{revived.collapsed_high:.0%}, {revived.survivors:.0f} survivors) against {without.collapsed:.0%} "
        f"({without.collapsed_low:.0%} to {without.collapsed_high:.0%}, {without.survivors:.0f})"
    )
    if revived.survivors == 0:
        effect = "no stack survives to be judged"
    elif revived.collapsed_high < without.collapsed_low:
        effect = "re-initializing dead units **reduces collapse** among the stacks that survive"
    elif revived.collapsed_low > without.collapsed_high:
        effect = "re-initializing dead units **increases collapse**"
    else:
        effect = "re-initializing dead units **does not detectably change collapse**"
    diverges = (
        f"; it makes stacks diverge at some stage in {revived.diverged_any:.0%} of seeds "
        f"({revived.diverged_any_low:.0%} to {revived.diverged_any_high:.0%}) against {without.diverged_any:.0%}"
        if revived.diverged_any_low > without.diverged_any_high
        else ""
    )
    selected = (
        " The survivors are then a selected subset of the seeds, so the change in collapse mixes the "
        "intervention's effect with which seeds survive it."
        if diverges
        else ""
    )
    return (
        f"**The intervention:** {effect} ({collapse}){diverges}. As trained, "
        f"{revived.dead_newest_layer:.0%} of each new layer's units are dead again (against "
        f"{without.dead_newest_layer:.0%} without the intervention).{selected}"
    )
