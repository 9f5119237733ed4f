"""Tables for reading: names in words instead of code identifiers, one precision for accuracies, no NaN.

The records keep their identifiers (``autoencoder_greedy+fine_tune``, ``labeled_per_class``): they are
what code filters on. A table shown in the book goes through ``readable`` on its way to the page.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection

import pandas as pd

from greedy.learning.data import DATASET_TITLES

# Identifiers whose words alone would not read right; any other is read with its underscores as spaces.
WORDS = {
    "rbm_greedy": "RBM greedy",
    "fine_tune": "fine-tuned",
    "he_uniform": "He uniform",
    "glorot_uniform": "Glorot uniform",
    "glorot_init": "Glorot initialization",
    "pca_logistic_regression": "PCA + logistic regression",
    "self_training": "self-training",
    "batch_norm": "batch norm",
    "leaky_relu": "leaky ReLU",
    "relu": "ReLU",
    "mse": "MSE",
}
MISSING = "–"  # a cell with nothing to show (a method that has no such setting, a count it never ran at)
ACCURACY_DIGITS = 3  # every accuracy, difference and interval bound in the book's tables and prose
_IDENTIFIER = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b|\b(?:relu|mse)\b")


def plain_name(value: object) -> object:
    """A label in words (``autoencoder_greedy+fine_tune`` -> ``autoencoder greedy + fine-tuned``); a data
    set by its title; anything that is not a string as it is."""
    if not isinstance(value, str):
        return value
    if value in DATASET_TITLES:
        return DATASET_TITLES[value]
    words = _IDENTIFIER.sub(lambda m: WORDS.get(m[0], m[0].replace("_", " ")), value)
    return re.sub(r"\s*\+\s*", " + ", words)


def _is_p_value(column: str) -> bool:
    return column == "p" or column.startswith("p (")


def _format(column: str, values: pd.Series, digits: int, percent: bool) -> pd.Series:
    if values.dtype == bool:
        return values.map({True: "yes", False: "no"})
    if not pd.api.types.is_numeric_dtype(values):
        return values.map(lambda v: MISSING if v is None or (isinstance(v, float) and math.isnan(v)) else plain_name(v))
    finite = values.dropna()
    if percent:  # shares of seeds or units, written as every rate in the book is
        form = "{:.0%}"
    elif _is_p_value(column):
        form = "{:.2g}"
    elif "rate" in column or "decay" in column:  # learning rates and weight decay span decades
        form = "{:g}"
    elif len(finite) and (finite == finite.round()).all():  # counts, ranks, depths: whole numbers
        form = "{:.0f}"
    else:
        form = f"{{:.{digits}f}}"
    return values.map(lambda v: MISSING if pd.isna(v) else form.format(v))


def readable(table: pd.DataFrame, digits: int = ACCURACY_DIGITS, percent: Collection[str] = ()) -> pd.DataFrame:
    """``table`` for the page: column and index names and labels in words, numbers as text with
    ``digits`` decimals (whole numbers without, p-values to two significant digits, learning rates as
    written, the shares in the ``percent`` columns as whole percentages), empty cells as a dash. The
    index is kept (its levels renamed and relabelled alike)."""
    unknown = set(percent) - set(table.columns)
    if unknown:
        raise ValueError(f"percent names columns the table lacks: {sorted(unknown)}; it has {list(table.columns)}")
    shown = pd.DataFrame(
        {
            plain_name(str(column)): _format(str(column), table[column], digits, column in percent)
            for column in table.columns
        },
        index=table.index,
    )
    if isinstance(shown.index, pd.MultiIndex):
        shown.index = pd.MultiIndex.from_tuples(
            [tuple(plain_name(level) for level in key) for key in shown.index],
            names=[plain_name(name) for name in shown.index.names],
        )
    else:
        shown.index = pd.Index([plain_name(key) for key in shown.index], name=plain_name(shown.index.name))
    shown.columns.name = plain_name(table.columns.name)
    return shown


def labels_in_words(k: object) -> str:
    """A label count as a reader says it: ``3 per class``, or ``every label`` for the count "all"."""
    return "every label" if str(k) == "all" else f"{k} per class"
