"""The README's findings, rendered from the numbers the executed notebooks glued: none typed by hand.

The findings (``book/readme_findings.md``) are MyST, included as is by the book's introduction: a
number is cross-document glue, ``{glue:text}`NOTEBOOK.ipynb::KEY:FORMAT```, a chapter a link to its
notebook, a figure a ``{numref}``, a glossary term ``{term}``. ``greedy readme`` renders them into the
README between the two markers (numbers filled in, links pointed into ``book/``, figure references
dropped, terms as plain words), so the README
and the book say the same; ``greedy readme --check`` fails when the README is out of date.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

TEMPLATE = Path("book") / "readme_findings.md"
BEGIN = "<!-- findings:begin (rendered by `greedy readme` from book/readme_findings.md; do not edit) -->"
END = "<!-- findings:end -->"
_PLACEHOLDER = re.compile(r"\{glue:text\}`([\w.-]+\.ipynb)::(\w+)(?::([^`]*))?`")
_CHAPTER_LINK = re.compile(r"\]\(([\w-]+\.ipynb)\)")
_FIGURE_REFERENCE = re.compile(r",?\s*\{numref\}`[^`]*`")
_TERM = re.compile(r"\{term\}`([^`<]*?)\s*(?:<[^>]*>)?`")  # a glossary term: its text, plain
_RECORD = "application/papermill.record/text/plain"


def glued_values(notebook: Path | str) -> dict[str, object]:
    """Every value a notebook (a path, or the notebook's JSON text) glued as text, by key (its Python literal)."""
    nb = json.loads(notebook if isinstance(notebook, str) else notebook.read_text())
    values: dict[str, object] = {}
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            text = output.get("data", {}).get(_RECORD)
            if name and text is not None:
                try:
                    values[name] = ast.literal_eval(text if isinstance(text, str) else "".join(text))
                except (ValueError, SyntaxError):
                    values[name] = text
    return values


def render(template: str, book_dir: Path) -> str:
    """The template with every placeholder replaced by the glued value, formatted."""
    cache: dict[str, dict[str, object]] = {}

    def value(match: re.Match) -> str:
        notebook, key, fmt = match.group(1), match.group(2), match.group(3) or ""
        if notebook not in cache:
            path = book_dir / notebook
            if not path.is_file():
                raise ValueError(f"{match.group(0)}: no executed notebook {path}")
            cache[notebook] = glued_values(path)
        if key not in cache[notebook]:
            raise ValueError(f"{match.group(0)}: {notebook} glues no {key!r}")
        return format(cache[notebook][key], fmt)

    text = _PLACEHOLDER.sub(value, template)
    text = _FIGURE_REFERENCE.sub("", text)
    text = _TERM.sub(lambda m: m.group(1), text)
    return _CHAPTER_LINK.sub(lambda m: f"]({book_dir.name}/{m.group(1)})", text)


def rendered_readme(root: Path) -> tuple[str, str]:
    """(current README text, README text with the findings block rendered anew)."""
    readme = (root / "README.md").read_text()
    if BEGIN not in readme or END not in readme:
        raise ValueError(f"README.md lacks the findings markers {BEGIN!r} ... {END!r}")
    head, rest = readme.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    block = render((root / TEMPLATE).read_text(), root / "book").strip("\n")
    return readme, f"{head}{BEGIN}\n{block}\n{END}{tail}"


def update(root: Path, check: bool = False) -> bool:
    """Rewrite the README's findings block; True if it was (or, with ``check``, would be) changed."""
    current, new = rendered_readme(root)
    if new != current and not check:
        (root / "README.md").write_text(new)
    return new != current
