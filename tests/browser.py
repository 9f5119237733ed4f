"""The built book as a reader's browser shows it: headless Chromium driven by Selenium.

``check_page`` loads one page and lists what a reader should not meet: console errors, failed
requests, requests that leave the local files, images that did not load, elements wider than the
text column (unless inside a box that scrolls), raw Markdown table text, unresolved glue or
references. It saves a screenshot of the whole page.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
CHROMEDRIVER = shutil.which("chromedriver")
HOW_TO_INSTALL = "install Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)"
WIDTHS = {"desktop": 1280, "phone": 390}
# Chromium's own background traffic (updates, sync, metrics) stays off: only the page's requests are made.
QUIET = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
)

# Run in the page: elements that stick out of the article, raw Markdown tables, unresolved references.
_INSPECT = """
if (!document.body) return JSON.stringify({wide: [], rawTables: [], unresolved: [], glue: [], images: [], height: 900});
const article = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
// The column ends at the article's right edge, and never beyond the viewport (an article that grew
// to hold a too-wide child would otherwise hide it).
const limit = Math.min(article.getBoundingClientRect().right, document.documentElement.clientWidth) + 1;
function scrolls(el) {
  for (let p = el.parentElement; p && p !== article; p = p.parentElement) {
    const o = getComputedStyle(p).overflowX;
    if (o === 'auto' || o === 'scroll' || o === 'hidden') return true;
  }
  return false;
}
const wide = [];
for (const el of article.querySelectorAll('*')) {
  const r = el.getBoundingClientRect();
  if (r.width > 0 && r.right > limit && !scrolls(el)) {
    const cls = el.className && typeof el.className === 'string' ? '.' + el.className.split(' ')[0] : '';
    const where = ' reaches ' + Math.round(r.right) + ' px, the column ends at ' + Math.round(limit);
    wide.push(el.tagName.toLowerCase() + cls + where);
  }
}
const prose = [];
const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
for (let n = walker.nextNode(); n; n = walker.nextNode()) {
  if (!n.parentElement.closest('pre, code, .highlight, script, style')) prose.push(n.textContent);
}
const text = prose.join('\\n');
const rawTables = text.split('\\n').filter(l => /^\\s*\\|.*\\|.*\\|\\s*$/.test(l) || /\\|\\s*-{3,}\\s*\\|/.test(l));
const unresolved = [...article.querySelectorAll('.xref')].filter(x => !x.closest('a')).map(x => x.innerText);
const glue = (text.match(/\\{glue:[a-z]+\\}|glue:text|::[a-z_0-9]+:\\.[0-9]f/g) || []);
const images = [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src);
return JSON.stringify({wide: wide.slice(0, 5), rawTables: rawTables.slice(0, 3), unresolved, glue, images,
                       height: document.documentElement.scrollHeight});
"""


# Resolves once the page is still: MathJax has typeset (it rewrites the article asynchronously after
# the load event), fonts are in, and a frame has been laid out.
_SETTLED = """
const done = arguments[arguments.length - 1];
const typeset = window.MathJax && MathJax.startup && MathJax.startup.promise;
Promise.resolve(typeset).then(() => document.fonts.ready)
  .then(() => requestAnimationFrame(() => requestAnimationFrame(() => done(true))));
"""


def browser():
    """A headless Chromium with console and network logging."""
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (*QUIET, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"):
        options.add_argument(argument)
    options.add_argument("--allow-file-access-from-files")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    driver.set_script_timeout(30)
    return driver


def _network_problems(driver) -> list[str]:
    problems = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message["method"] == "Network.requestWillBeSent":
            url = params["request"]["url"]
            if not url.startswith(("file://", "data:", "blob:", "about:")):
                problems.append(f"request leaves the local files: {url}")
        elif message["method"] == "Network.loadingFailed" and not params.get("canceled"):
            problems.append(f"request failed: {params.get('errorText')} ({params.get('type')})")
    return problems


def check_page(driver, page: Path, screenshot: Path | None = None) -> list[str]:
    """Everything wrong with ``page`` at desktop and phone width; saves a desktop screenshot."""
    problems: list[str] = []
    for name, width in WIDTHS.items():
        driver.set_window_size(width, 900)
        driver.get_log("performance"), driver.get_log("browser")  # what an earlier page left
        driver.get(page.resolve().as_uri())
        driver.execute_async_script(_SETTLED)
        found = json.loads(driver.execute_script(_INSPECT))
        problems += [f"{name}: wider than the column: {w}" for w in found["wide"]]
        if name == "desktop":
            for entry in driver.get_log("browser"):
                if entry["level"] == "SEVERE":
                    problems.append(f"console error: {entry['message'][:300]}")
            problems += _network_problems(driver)
            problems += [f"raw Markdown table text: {line.strip()[:80]!r}" for line in found["rawTables"]]
            problems += [f"unresolved reference: {ref!r}" for ref in found["unresolved"]]
            problems += [f"unresolved glue: {g!r}" for g in found["glue"]]
            problems += [f"image did not load: {src}" for src in found["images"]]
            if screenshot is not None:
                driver.set_window_size(width, min(int(found["height"]), 16000))
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                driver.save_screenshot(str(screenshot))
    return problems


def available() -> bool:
    return bool(CHROMIUM and CHROMEDRIVER)


def must_run() -> bool:
    """Under CI the browser check runs, never skips."""
    return os.environ.get("CI", "").lower() == "true"
