"""Numbers into the book: glue plain Python numbers (myst-nb formats floats, not NumPy reprs)."""

from __future__ import annotations

import numbers

import numpy as np


def plain(value: object) -> object:
    """NumPy scalars as Python int/float, so the glued text/plain is a formattable number."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return value


def glue_numbers(values: dict[str, object]) -> None:
    """Glue every value under its key, without displaying it (the notebook shows its own tables)."""
    from myst_nb import glue

    for key, value in values.items():
        glue(key, plain(value), display=False)


def keyed_numbers(table: object, columns: dict[str, str]) -> dict[str, object]:
    """Glue numbers of a table with a ``key`` column: ``{key}_{suffix}`` for each ``{suffix: column}``."""
    return {
        f"{row['key']}_{suffix}": row[column]
        for row in table.to_dict("records")  # a pandas DataFrame
        for suffix, column in columns.items()
    }
