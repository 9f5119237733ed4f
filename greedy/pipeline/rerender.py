"""A source notebook whose prose alone changed, rendered with the outputs its last run stored.

As jupyter-cache merges stored outputs into new prose: the executed notebook's code cells (with
their outputs, the injected parameters among them) keep their order, and every markdown or raw
cell, and every code cell's metadata (its tags), comes from the current source notebook.
"""

from __future__ import annotations

from pathlib import Path

INJECTED = "injected-parameters"


def _tags(cell) -> list[str]:
    return cell.metadata.get("tags", [])


def merge_prose(source, executed):
    """``executed`` with the prose of ``source``; raises ValueError if their code cells differ."""
    ran = [c for c in executed.cells if c.cell_type == "code" and INJECTED not in _tags(c)]
    injected = [c for c in executed.cells if INJECTED in _tags(c)]
    code = [c for c in source.cells if c.cell_type == "code"]
    if [c.source for c in ran] != [c.source for c in code]:
        raise ValueError("the executed notebook's code cells are not the source's: it must be executed again")
    ran_cells = iter(ran)
    cells = []
    for cell in source.cells:
        if cell.cell_type != "code":
            cells.append(cell)
            continue
        executed_cell = next(ran_cells)
        executed_cell.metadata = cell.metadata  # its tags (hide-input, say) are presentation, as prose is
        cells.append(executed_cell)
        if "parameters" in _tags(cell):  # papermill puts its injected cell right after this one
            cells += injected
    executed.cells = cells
    return executed


def rerender(source_path: Path, executed_path: Path, output_path: Path) -> None:
    """Write the executed notebook with the source's current prose to ``output_path``."""
    import nbformat

    merged = merge_prose(nbformat.read(source_path, as_version=4), nbformat.read(executed_path, as_version=4))
    nbformat.write(merged, output_path)
