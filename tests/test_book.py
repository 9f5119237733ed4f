"""The built book: strict build, every TOC page, every image and local link, citations, no remote assets."""

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIB_KEYS = [
    "goodfellow2016deep",
    "bengio2007greedy",
    "hinton2006fast",
    "erhan2010why",
    "glorot2010understanding",
    "larochelle2009exploring",
    "brownlee2019greedy",
]
pytestmark = pytest.mark.slow


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.images, self.scripts, self.styles = [], [], [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "img" and a.get("src"):
            self.images.append(a["src"])
        elif tag == "script" and a.get("src"):
            self.scripts.append(a["src"])
        elif tag == "link" and a.get("href") and "stylesheet" in (a.get("rel") or ""):
            self.styles.append(a["href"])


@pytest.fixture(scope="session")
def html(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("book")
    jb = Path(sys.executable).parent / "jupyter-book"
    proc = subprocess.run(
        [str(jb), "build", str(ROOT / "book"), "-W", "-n", "--keep-going", "--path-output", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return out / "_build" / "html"


def _pages():
    toc = yaml.safe_load((ROOT / "book" / "_toc.yml").read_text())
    return [toc["root"], *[c["file"] for part in toc["parts"] for c in part["chapters"]]]


def _parse(path: Path) -> _Refs:
    p = _Refs()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def test_every_toc_page_exists(html):
    for page in _pages():
        assert (html / f"{page}.html").is_file(), page


def test_images_and_local_links_resolve(html):
    for page in html.glob("*.html"):
        refs = _parse(page)
        for target in refs.images + refs.links:
            url = urlparse(target)
            if url.scheme or target.startswith(("#", "mailto:")) or not url.path:
                continue
            if url.path == "greedy-book.pdf":  # printed by make book after this build; tests/test_browser.py checks it
                continue
            assert (page.parent / url.path).resolve().exists(), f"{page.name}: {target} does not resolve"


def test_no_page_loads_a_script_or_stylesheet_from_another_host(html):
    for page in html.rglob("*.html"):
        refs = _parse(page)
        for src in refs.scripts + refs.styles:
            assert not urlparse(src).netloc and not src.startswith("//"), f"{page.name} loads {src}"
    assert (html / "_static" / "mathjax" / "tex-chtml.js").is_file()


def test_bibliography_and_citations(html):
    bib = (html / "bibliography.html").read_text(encoding="utf-8")
    titles = re.findall(r"^\s*title = \{(.+)\},?$", (ROOT / "book" / "references.bib").read_text(), re.M)
    assert len(titles) >= len(BIB_KEYS)
    letters = re.sub(r"[^a-z]", "", _article_text(html / "bibliography.html").lower())
    for title in titles:  # the bibliography style may change case and punctuation
        assert re.sub(r"[^a-z]", "", title.lower())[:30] in letters, title
    intro = (html / "intro.html").read_text(encoding="utf-8")
    targets = set(re.findall(r'href="bibliography.html#([^"]+)"', intro))
    assert len(targets) >= len(BIB_KEYS)
    for target in targets:
        assert f'id="{target}"' in bib, f"citation target {target} missing from the bibliography"


def _article_text(page: Path) -> str:
    """The visible text of a page's main article (no navigation, no scripts)."""
    html = page.read_text(encoding="utf-8")
    article = html[html.index("<article") : html.index("</article>")]
    return re.sub(r"<[^>]+>", "", article)


def test_glued_numbers_are_rendered(html):
    for page in ("conclusions", "literature"):
        text = _article_text(html / f"{page}.html")
        assert not re.search(r"glue:|NaN|\bnan\b|\binf\b", text), page
    assert "0.840" in _article_text(html / "conclusions.html")  # Bayes test accuracy, glued from problem.ipynb


def test_the_reproduce_page_tables_every_chapters_run_and_records(html):
    page = (html / "reproduce.html").read_text(encoding="utf-8")
    assert "run-records" not in page  # the marker was replaced
    for record in sorted((ROOT / "book" / "results").glob("*.run.json")):
        name = record.name.removesuffix(".run.json")
        seconds = yaml.safe_load(record.read_text())["seconds"]
        assert f"{seconds:,.0f} s" in page, name
        link = re.search(rf'href="(_downloads/[^"]+/{name}\.csv)"', page)
        assert link and (html / link.group(1)).is_file(), f"{name}.csv is not downloadable"
