"""Tables for reading: no code identifier, no NaN, one precision, whole numbers whole."""

import numpy as np
import pandas as pd
import pytest

from greedy.analysis.tables import MISSING, labels_in_words, plain_name, readable


def test_record_labels_read_as_words():
    assert plain_name("autoencoder_greedy+fine_tune") == "autoencoder greedy + fine-tuned"
    assert plain_name("end_to_end+regularized") == "end to end + regularized"
    assert plain_name("relu + he_uniform") == "ReLU + He uniform"
    assert plain_name("leaky_relu") == "leaky ReLU"
    assert plain_name("pca_logistic_regression") == "PCA + logistic regression"
    assert plain_name("mnist1d") == "MNIST-1D"
    assert plain_name("labeled_per_class") == "labeled per class"
    assert plain_name("ReLU MLP + batch norm") == "ReLU MLP + batch norm"  # already words: unchanged
    assert plain_name(3) == 3


def test_a_table_shows_words_one_precision_whole_counts_and_no_nan():
    table = pd.DataFrame(
        {
            "method": ["supervised_greedy+fine_tune", "end_to_end"],
            "validation_accuracy": [0.81234, 0.79],
            "rank": [1.0, 2.0],
            "learning_rate": [0.0009, 0.03],
            "p (Holm)": [0.000123, 0.5],
            "pretraining_rate": [3.33, np.nan],
            "diverged": [0.25, 0.0],
        }
    ).set_index("method")
    shown = readable(table, percent=["diverged"])
    assert list(shown.index) == ["supervised greedy + fine-tuned", "end to end"]
    assert shown.index.name == "method"
    assert list(shown.columns) == [
        "validation accuracy", "rank", "learning rate", "p (Holm)", "pretraining rate", "diverged"
    ]  # fmt: skip
    assert list(shown["validation accuracy"]) == ["0.812", "0.790"]
    assert list(shown["rank"]) == ["1", "2"]
    assert list(shown["learning rate"]) == ["0.0009", "0.03"]  # not rounded away
    assert list(shown["p (Holm)"]) == ["0.00012", "0.5"]
    assert list(shown["pretraining rate"]) == ["3.33", MISSING]
    assert list(shown["diverged"]) == ["25%", "0%"]
    assert "NaN" not in shown.to_html() and "_" not in shown.to_html().replace("</", "")


def test_a_multi_index_is_relabelled_level_by_level():
    table = pd.DataFrame(
        {"data": ["mnist1d", "digits"], "labeled_per_class": [1, 10], "method": ["label_spreading", "self_training"],
         "test_accuracy": [0.1234, np.nan]}
    ).set_index(["data", "labeled_per_class", "method"])  # fmt: skip
    shown = readable(table)
    assert shown.index.names == ["data", "labeled per class", "method"]
    assert list(shown.index) == [("MNIST-1D", 1, "label spreading"), ("digits", 10, "self-training")]
    assert list(shown["test accuracy"]) == ["0.123", MISSING]


def test_a_percent_column_the_table_lacks_is_refused_by_name():
    with pytest.raises(ValueError, match="percent names columns the table lacks: \\['collapsed'\\]"):
        readable(pd.DataFrame({"diverged": [0.1]}), percent=["collapsed"])


def test_flags_read_yes_or_no_p_values_two_digits_and_missing_words_a_dash():
    table = pd.DataFrame(
        {
            "on_edge": [True, False],
            "p": [0.012345, 0.5],
            "difference": [0.12345, -0.5],
            "stage": ["fine_tune", None],
            "note": ["training", np.nan],
        }
    )
    shown = readable(table)
    assert list(shown["on edge"]) == ["yes", "no"]
    assert list(shown["p"]) == ["0.012", "0.5"]
    assert list(shown["difference"]) == ["0.123", "-0.500"]
    assert list(shown["stage"]) == ["fine-tuned", MISSING]
    assert list(shown["note"]) == ["training", MISSING]


def test_a_label_count_reads_as_a_reader_says_it():
    assert labels_in_words(3) == "3 per class" and labels_in_words("all") == "every label"
