"""The README's findings are rendered from the executed notebooks, never typed by hand."""

import json
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
