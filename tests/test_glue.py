"""Numbers into the book: glued values are plain Python numbers that format in the book."""

import numpy as np

from greedy.analysis.glue import plain


def test_numpy_scalars_become_plain_python_numbers():
    assert type(plain(np.float64(0.5))) is float and type(plain(np.float32(0.5))) is float
    assert type(plain(np.int64(3))) is int and type(plain(np.bool_(True))) is bool
    assert plain("x") == "x" and format(plain(np.float32(0.25)), ".2f") == "0.25"


def test_keyed_numbers_name_each_rows_columns_by_its_key():
    import pandas as pd

    from greedy.analysis.glue import keyed_numbers

    table = pd.DataFrame({"key": ["a", "b"], "difference": [0.1, -0.2], "n": [10, 20]})
    assert keyed_numbers(table, {"diff": "difference", "n": "n"}) == {
        "a_diff": 0.1,
        "a_n": 10,
        "b_diff": -0.2,
        "b_n": 20,
    }
