"""What nbval masks: only addresses and absolute paths; a changed number or figure still shows."""

import configparser
import re
from pathlib import Path

import pytest

CONFIG = Path(__file__).resolve().parent / "nbval_sanitize.cfg"


def _patterns() -> list[tuple[str, str, str]]:
    parser = configparser.ConfigParser()
    parser.read(CONFIG)
    return [(name, parser[name]["regex"], parser[name]["replace"]) for name in parser.sections()]


def _sanitize(text: str) -> str:
    for _, regex, replace in _patterns():
        text = re.sub(regex, replace, text)
    return text


# Per pattern: an output line it must mask, the same line from another run, and the line with a number changed.
SAMPLES = {
    "memory addresses": (
        "<Figure at 0x7f3a2c1d9e50> accuracy 0.8270",
        "<Figure at 0x7f99aa00bb10> accuracy 0.8270",
        "<Figure at 0x7f3a2c1d9e50> accuracy 0.8271",
    ),
    "absolute paths": (
        "wrote /home/ci/greedy/book/results/supervised.csv with 1200 rows",
        "wrote /tmp/tmpab12/book/results/supervised.csv with 1200 rows",
        "wrote /home/ci/greedy/book/results/supervised.csv with 1201 rows",
    ),
}


@pytest.mark.parametrize(("name", "regex", "replace"), _patterns())
def test_each_mask_hides_what_varies_and_never_a_number(name, regex, replace):
    assert name in SAMPLES, f"add a tamper sample for the sanitize pattern {name!r}"
    line, other_run, tampered = SAMPLES[name]
    assert re.search(regex, line), f"the sample for {name!r} does not exercise its pattern"
    assert _sanitize(line) == _sanitize(other_run)
    assert _sanitize(line) != _sanitize(tampered)


def test_figure_size_and_axes_are_compared():
    one = "<Figure size 1680x400 with 4 Axes>"
    assert _sanitize(one) != _sanitize("<Figure size 1680x400 with 3 Axes>")
    assert _sanitize(one) != _sanitize("<Figure size 1260x400 with 4 Axes>")
