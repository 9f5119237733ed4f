"""The reproduce page's table of runs, made at build time from the run records.

``<!-- run-records -->`` in a page becomes a table with one row per experiment of ``study.yml``:
its chapter, how long its last run took, its peak memory, the machine it ran on, and its records
as a download. Nothing in it is typed by hand: a re-run changes the table.
"""

from __future__ import annotations

import json
from pathlib import Path

MARKER = "<!-- run-records -->"


def _machine(record: dict) -> str:
    settings = record.get("inputs", {}).get("settings", {})
    accelerator = settings.get("accelerator", "cpu")
    where = "CPU only" if accelerator == "cpu" else accelerator
    return f"{record.get('platform', '?')}, {record.get('cpu_count', '?')} cores, {where}"


def table(root: Path) -> str:
    from greedy.pipeline.manifest import load_study

    study = load_study(root)
    rows = [
        "| chapter | last run | peak memory | machine | records |",
        "|---|---|---|---|---|",
    ]
    for exp in study.experiments.values():
        path = study.book_dir / "results" / f"{exp.name}.run.json"
        if not path.is_file():
            rows.append(f"| [{exp.title}]({exp.name}.ipynb) | not run yet | | | |")
            continue
        record = json.loads(path.read_text())
        csv = f"{{download}}`{exp.name}.csv <results/{exp.name}.csv>`"
        rows.append(
            f"| [{exp.title}]({exp.name}.ipynb) | {record['seconds']:,.0f} s | {record['peak_memory_mib']:,} MiB "
            f"| {_machine(record)} | {csv} |"
        )
    return "\n".join(rows)


def _fill(app, docname, source) -> None:
    if MARKER in source[0]:
        source[0] = source[0].replace(MARKER, table(Path(app.srcdir).parent))


def setup(app):
    app.connect("source-read", _fill)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
