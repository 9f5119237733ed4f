"""The README's findings are rendered from the executed notebooks, never typed by hand."""

import json
import re
from pathlib import Path

import pytest

from greedy.pipeline import readme

ROOT = Path(__file__).resolve().parents[1]


def test_readme_findings_match_the_executed_notebooks():
    current, rendered = readme.rendered_readme(ROOT)
    assert current == rendered, "README.md's findings are out of date: run `greedy readme`"


def _notebook_with(tmp_path: Path, values: dict[str, object]) -> Path:
    outputs = [
        {
            "output_type": "display_data",
            "data": {"application/papermill.record/text/plain": repr(v)},
            "metadata": {"scrapbook": {"name": k, "mime_prefix": "application/papermill.record/"}},
        }
        for k, v in values.items()
    ]
    nb = {"cells": [{"cell_type": "code", "source": "", "outputs": outputs, "metadata": {}}], "metadata": {}}
    path = tmp_path / "exp.ipynb"
    path.write_text(json.dumps(nb))
    return path


def test_render_formats_glued_values_and_names_what_is_missing(tmp_path):
    _notebook_with(tmp_path, {"mean": 0.82664, "n": 100})
    template = "{glue:text}`exp.ipynb::mean:.3f` over {glue:text}`exp.ipynb::n:.0f`"
    assert readme.render(template, tmp_path) == "0.827 over 100"
    with pytest.raises(ValueError, match="glues no 'gap'"):
        readme.render("{glue:text}`exp.ipynb::gap:.3f`", tmp_path)
    with pytest.raises(ValueError, match="no executed notebook"):
        readme.render("{glue:text}`other.ipynb::mean`", tmp_path)


def test_chapter_links_point_into_the_book_and_figure_references_are_dropped(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    text = "gap ([The problem](problem.ipynb), {numref}`fig-problem`) and [x](https://example.org/a.ipynb)"
    assert readme.render(text, book) == "gap ([The problem](book/problem.ipynb)) and [x](https://example.org/a.ipynb)"


def test_update_rewrites_only_the_marked_block(tmp_path):
    (tmp_path / "book").mkdir()
    _notebook_with(tmp_path / "book", {"x": 1.5})
    (tmp_path / readme.TEMPLATE).write_text("x is {glue:text}`exp.ipynb::x:.1f`\n")
    (tmp_path / "README.md").write_text(f"intro\n{readme.BEGIN}\nold\n{readme.END}\noutro\n")
    assert readme.update(tmp_path, check=True)
    assert "old" in (tmp_path / "README.md").read_text()  # --check writes nothing
    assert readme.update(tmp_path)
    assert (tmp_path / "README.md").read_text() == f"intro\n{readme.BEGIN}\nx is 1.5\n{readme.END}\noutro\n"
    assert not readme.update(tmp_path, check=True)


def test_glossary_terms_render_as_plain_words(tmp_path):
    text = "after {term}`fine-tuning`, {term}`stacks <Frozen stack>` differ"
    assert readme.render(text, tmp_path) == "after fine-tuning, stacks differ"


SHORT_ANSWER = (ROOT / readme.TEMPLATE).read_text()
MAX_VERDICTS, MAX_NUMBERS_PER_VERDICT = 7, 1
_GLUED = re.compile(r"\{glue:text\}`[^`]*`")
_MARKUP = re.compile(r"\{(?:term|doc|numref)\}`[^`]*`|\]\([^)]*\)")  # roles and link targets: no numbers
PROPER_NAMES = ("MNIST-1D", "Keras 3")  # names with a digit in them, not numbers


def _verdicts() -> list[str]:
    return [item.strip() for item in re.split(r"^- ", SHORT_ANSWER, flags=re.M) if item.strip()]


def test_the_short_answer_is_a_few_verdicts_each_with_at_most_one_number():
    verdicts = _verdicts()
    assert 3 <= len(verdicts) <= MAX_VERDICTS
    for verdict in verdicts:
        glued = _GLUED.findall(verdict)
        prose = _MARKUP.sub("", _GLUED.sub("", verdict))
        for name in PROPER_NAMES:
            prose = prose.replace(name, "")
        typed = re.findall(r"\d+(?:[.,]\d+)?", prose)
        assert len(glued) + len(typed) <= MAX_NUMBERS_PER_VERDICT, verdict
        # Bold for the verdict alone: one bold span, first, then the sentence behind it with its link.
        assert verdict.startswith("**") and verdict.count("**") == 2, verdict
        assert re.search(r"\]\([\w-]+\.ipynb\)", verdict), f"no chapter link: {verdict}"


def _glossary_terms() -> set[str]:
    text = (ROOT / "book" / "glossary.md").read_text()
    block = text.split("```{glossary}", 1)[1].split("```", 1)[0]
    return {line.strip().lower() for line in block.splitlines() if line.strip() and not line.startswith(" ")}


def test_the_glossary_defines_every_term_the_short_answer_uses():
    used = {
        (m.group(2) or m.group(1)).strip().lower()
        for m in re.finditer(r"\{term\}`([^`<]*?)\s*(?:<([^>]*)>)?`", SHORT_ANSWER)
    }
    assert used, "the short answer marks no glossary term"
    assert used <= _glossary_terms(), used - _glossary_terms()
