"""A notebook's declared parameters, and the values a run gives them, checked before any kernel starts.

A notebook declares its parameters in its one cell tagged ``parameters``: plain assignments of
literals, whose values are the defaults. A value given by the manifest or by ``-p`` must have the
default's type, and, for the parameters the study's notebooks share, lie in the range the library
accepts (the same checks the library makes, made here in well under a second instead of inside
a kernel that has already spent seconds starting).
"""

from __future__ import annotations

import ast
import json
import math
from collections.abc import Callable
from numbers import Integral, Real
from pathlib import Path

from greedy.learning.config import check_choice, check_positive_float, check_positive_int

RESULTS_PATH = "results_path"  # every notebook declares it; the runner sets it
BACKENDS = ("tensorflow", "jax")  # greedy.learning.backend.BACKENDS, without importing NumPy here
DATASETS = ("mnist1d", "digits")  # greedy.learning.data.PER_SEED_DATASETS, likewise

# Upper bounds on every size a run can be given: far above what the study uses, low enough that a
# typo (n_seeds=1000000000000) is refused at once instead of starting a kernel that never ends.
MAX_SEEDS = 10_000
MAX_EPOCHS = 100_000
MAX_UPDATES = 10_000_000  # Adam updates of one fit
MAX_LAYERS = 100
MAX_WIDTH = 4_096
MAX_POPULATION = 10_000_000
MAX_DRAWS = 100_000_000
MAX_LABELS_PER_CLASS = 100_000


def declared_parameters(notebook: Path) -> dict[str, object]:
    """The parameters the notebook's one ``parameters`` cell assigns, with their default values."""
    try:
        nb = json.loads(notebook.read_text())
    except (OSError, ValueError) as err:
        raise ValueError(f"{notebook} is not a readable notebook: {err}") from None
    cells = [c for c in nb.get("cells", []) if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise ValueError(
            f"{notebook} must have exactly one cell tagged 'parameters' (papermill injects the run's values "
            f"after it), found {len(cells)}"
        )
    source = cells[0]["source"]
    tree = ast.parse(source if isinstance(source, str) else "".join(source))
    declared: dict[str, object] = {}
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            raise ValueError(f"{notebook}: the parameters cell may hold only assignments `name = literal`")
        try:
            declared[node.targets[0].id] = ast.literal_eval(node.value)
        except ValueError:
            raise ValueError(f"{notebook}: parameter {node.targets[0].id} must default to a literal") from None
    if RESULTS_PATH not in declared:
        raise ValueError(f"{notebook}: the parameters cell must declare {RESULTS_PATH} (where the records go)")
    return declared


def _at_most(bound: int, name: str, value: int) -> int:
    if value > bound:
        raise ValueError(f"{name} must be at most {bound:,}, got {value!r}")
    return value


def _count(bound: int, *, allow_zero: bool = False) -> Callable[[str, object], int]:
    """An integer in [1 (or 0), bound]."""
    return lambda name, value: _at_most(bound, name, check_positive_int(name, value, allow_zero=allow_zero))


def _non_negative_int(name: str, value: object) -> None:
    check_positive_int(name, value, allow_zero=True)


def _depth(name: str, value: object) -> None:
    if check_positive_int(name, value) < 2:
        raise ValueError(f"{name} must be an integer >= 2 (Dense layers incl. the output), got {value!r}")
    _at_most(MAX_LAYERS + 2, name, value)


def _labels_per_class(name: str, value: object) -> None:
    if not isinstance(value, list) or not value:
        raise ValueError(f"{name} must be a non-empty list of integers >= 1 or null (every label), got {value!r}")
    for k in value:
        if k is not None:
            _count(MAX_LABELS_PER_CLASS)(name, k)


def _datasets(name: str, value: object) -> None:
    if not isinstance(value, list) or not value or any(d not in DATASETS for d in value):
        raise ValueError(f"{name} must be a non-empty list drawn from {list(DATASETS)}, got {value!r}")


def _depths(name: str, value: object) -> None:
    if not isinstance(value, list) or not value:
        raise ValueError(f"{name} must be a non-empty list of integers >= 2 (Dense layers incl. output), got {value!r}")
    for d in value:
        _depth(name, d)


# The parameters the study's notebooks share, checked as the library checks them.
RANGES: dict[str, Callable[[str, object], object]] = {
    "n_seeds": _count(MAX_SEEDS),
    "n_seeds_plentiful": _count(MAX_SEEDS),
    "seed": _non_negative_int,
    "tutorial_seed": _non_negative_int,
    "epochs": _count(MAX_EPOCHS),
    "fine_tune_epochs": _count(MAX_EPOCHS),
    "n_added_layers": _count(MAX_LAYERS, allow_zero=True),
    "width": _count(MAX_WIDTH),
    "depth": _depth,
    "gradient_depth": _depth,
    "depths": _depths,
    "n_tuning_seeds": _count(MAX_SEEDS),
    "n_tuning_draws": _count(MAX_SEEDS),
    "pretrained_depths": _depths,
    "n_population": _count(MAX_POPULATION),
    "updates": _count(MAX_UPDATES),
    "pretraining_epochs": _count(MAX_EPOCHS),
    "population_draws": _count(MAX_DRAWS),
    "plentiful_from": _count(MAX_LABELS_PER_CLASS),
    "fine_tune_learning_rate": check_positive_float,
    "backend": lambda name, value: check_choice(name, value, BACKENDS),
    "labeled_per_class": _labels_per_class,
    "datasets": _datasets,
}


def _type_name(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _same_kind(value: object, default: object) -> bool:
    if default is None:
        return True
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, Integral):
        return isinstance(value, Integral)
    if isinstance(default, Real):
        return isinstance(value, Real) and math.isfinite(value)
    return isinstance(value, type(default))


def check_values(experiment: str, values: dict[str, object], declared: dict[str, object]) -> None:
    """Every value names a declared parameter, has its default's type and lies in the accepted range."""
    for name, value in values.items():
        where = f"experiment {experiment!r}: parameter {name}={value!r}"
        if name == RESULTS_PATH:
            raise ValueError(f"{where}: {RESULTS_PATH} is set by the runner, not by the manifest or -p")
        if name not in declared:
            accepted = ", ".join(sorted(k for k in declared if k != RESULTS_PATH))
            raise ValueError(f"experiment {experiment!r} has no parameter {name!r}; accepted: {accepted}")
        default = declared[name]
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{where}: must be a finite number")
        if not _same_kind(value, default):
            raise ValueError(
                f"{where}: must be {_type_name(default)} like its default {default!r}, got {_type_name(value)}"
            )
        if name in RANGES:
            try:
                RANGES[name](name, value)
            except ValueError as err:
                raise ValueError(f"{where}: {err}") from None
