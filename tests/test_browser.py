"""Every page of the built book, as a reader's browser shows it (headless Chromium), at desktop and phone width.

Runs on ``make book``'s output (``_build/html``; built here if missing) and keeps a screenshot of
every page in ``_build/screenshots``. Under CI it must run; elsewhere, without a browser, it skips
and says how to install one.
"""

import re
import shutil
import subprocess
from pathlib import Path

import browser
import pytest

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
NOT_READER_PAGES = {"genindex.html", "search.html", "index.html"}  # index.html only redirects to intro

if not browser.available():
    if browser.must_run():
        pytest.fail(f"CI=true but no browser for the browser check: {browser.HOW_TO_INSTALL}", pytrace=False)
    pytest.skip(f"no browser for the browser check: {browser.HOW_TO_INSTALL}", allow_module_level=True)


@pytest.fixture(scope="module")
def html() -> Path:
    if not (HTML / "intro.html").is_file():
        subprocess.run(["make", "book"], cwd=ROOT, check=True, capture_output=True)
    return HTML


@pytest.fixture(scope="module")
def driver():
    chrome = browser.browser()
    yield chrome
    chrome.quit()


def _pages(html: Path) -> list[Path]:
    return sorted(p for p in html.glob("*.html") if p.name not in NOT_READER_PAGES)


def test_every_page_is_clean_in_a_real_browser(html, driver):
    problems = {}
    for page in _pages(html):
        found = browser.check_page(driver, page, SCREENSHOTS / f"{page.stem}.png")
        if found:
            problems[page.name] = found
    assert not problems, "\n".join(f"{name}: {p}" for name, found in problems.items() for p in found)
    assert len(list(SCREENSHOTS.glob("*.png"))) >= len(_pages(html))
    import matplotlib.image as mpimg
    import numpy as np

    for page in ("intro", "supervised"):  # a screenshot that shows the page, not a blank
        img = mpimg.imread(SCREENSHOTS / f"{page}.png")[..., :3]
        assert img.std() > 0.05 and float(np.mean(img.min(-1) < 0.9)) > 0.02, page


def test_the_book_is_also_one_pdf(html):
    pdf = html / "greedy-book.pdf"
    assert pdf.is_file() and pdf.read_bytes()[:5] == b"%PDF-", "make book prints the PDF"
    assert 'href="greedy-book.pdf"' in (html / "reproduce.html").read_text()


def test_every_local_link_of_every_page_resolves(html):
    for page in html.glob("*.html"):
        for target in re.findall(r'(?:href|src)="([^"#?]+)', page.read_text()):
            if not re.match(r"^[a-z]+:", target):
                assert (page.parent / target).exists(), f"{page.name} links to missing {target}"


BROKEN = """
<script>console.error("a script failed");</script>
<p>| labels | accuracy |</p>
<p>|---|---|</p>
<div style="width: 3000px">a table that does not fit</div>
<img src="no-such-figure.png">
<img src="http://127.0.0.1:9/remote.png">
<span class="xref std std-numref">fig-missing</span>
<p>{glue:text}`chapter.ipynb::value`</p>
"""


def test_the_check_fails_on_a_deliberately_broken_page(html, driver, tmp_path):
    broken = html / "zz-broken-page-for-the-check.html"
    page = (html / "intro.html").read_text()
    heading = 'title="Link to this heading">#</a></h1>'  # the article's title, not the print header's
    assert heading in page
    broken.write_text(page.replace(heading, heading + BROKEN, 1))
    try:
        problems = "\n".join(browser.check_page(driver, broken))
    finally:
        broken.unlink()
    for expected in [
        "console error",
        "raw Markdown table text",
        "desktop: wider than the column",
        "phone: wider than the column",
        "image did not load",
        "request leaves the local files: http://127.0.0.1:9/remote.png",
        "unresolved reference: 'fig-missing'",
        "unresolved glue",
    ]:
        assert expected in problems, f"the check missed: {expected}\n{problems}"
    assert shutil.which("chromedriver")
