"""The chapters read alike: a question and its short answer first, a short summary last, accuracies
to one precision, rates as percentages, tables through ``readable``."""

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = yaml.safe_load((ROOT / "study.yml").read_text())["experiments"]
CHAPTERS = [name for name in EXPERIMENTS if name != "summary"]  # the summary is itself the short answer
GLUE = re.compile(r"\{glue:text\}`(?:[\w.]+::)?(\w+)(?::([^`]*))?`")
RATE = re.compile(r"(diverged|collapsed|dead|share)")


def _cells(name: str, kind: str) -> list[str]:
    notebook = json.loads((ROOT / EXPERIMENTS[name]["notebook"]).read_text())
    return ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == kind]


def _prose() -> list[tuple[str, str]]:
    pages = [(p.name, p.read_text()) for p in (ROOT / "book").glob("*.md")]
    return pages + [(name, text) for name in EXPERIMENTS for text in _cells(name, "markdown")]


@pytest.mark.parametrize("name", CHAPTERS)
def test_each_chapter_opens_with_its_question_and_ends_with_a_short_summary(name):
    markdown = _cells(name, "markdown")
    assert "The question, and the short answer" in markdown[0]
    assert re.search(r"^## In short$", markdown[-1], re.MULTILINE)


def test_accuracies_share_one_precision_and_rates_are_percentages():
    wrong = []
    for where, text in _prose():
        for key, form in GLUE.findall(text):
            if form.endswith(".4f") and not key.startswith("bayes_population"):
                wrong.append((where, key, form))  # only the Monte Carlo Bayes accuracy, with its error, has 4
            if RATE.search(key) and not key.endswith("_n") and form and form not in (".0%", ".0f"):
                wrong.append((where, key, form))
    assert not wrong


def test_a_glued_rate_is_not_called_a_share_of_itself():
    assert not [where for where, text in _prose() if re.search(r"a share (of )?\{glue:text\}", text)]


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_tables_reach_the_page_through_readable(name):
    shown = [code.strip().splitlines()[-1] for code in _cells(name, "code") if code.strip()]
    tables = [line for line in shown if not line.startswith("print(")]
    assert not [line for line in tables if re.search(r"\.round\(\d\)\)?$", line)]
