"""The whole book as one PDF, printed offline by headless Chromium from the single-page HTML build."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
HOW_TO_INSTALL = "install Debian's chromium (apt-get install chromium) to build the PDF"


def browser() -> str | None:
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def print_pdf(page: Path, pdf: Path, *, timeout_s: float = 180) -> Path:
    """Print ``page`` (an HTML file) to ``pdf``, MathJax typeset first; raise RuntimeError on failure."""
    chromium = browser()
    if chromium is None:
        raise RuntimeError(f"no browser to print the PDF with: {HOW_TO_INSTALL}")
    if not page.is_file():
        raise RuntimeError(f"no single-page HTML build at {page}")
    pdf.parent.mkdir(parents=True, exist_ok=True)
    partial = pdf.with_suffix(".pdf.partial")
    command = [
        chromium,
        "--headless=new",
        "--no-sandbox",
        "--disable-background-networking",  # Chromium's own traffic (updates, sync, metrics) stays off
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-gpu",
        "--no-pdf-header-footer",
        "--virtual-time-budget=20000",  # lets MathJax typeset before printing
        f"--print-to-pdf={partial}",
        page.resolve().as_uri(),
    ]
    with tempfile.TemporaryDirectory() as profile:
        command.insert(1, f"--user-data-dir={profile}")
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)
    if done.returncode != 0 or not partial.is_file() or partial.stat().st_size == 0:
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"chromium could not print {page}: {done.stderr.strip()[-500:]}")
    partial.replace(pdf)
    return pdf
