"""The study manifest (study.yml): every experiment, its notebook and its parameters."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

MANIFEST = "study.yml"


@dataclass(frozen=True)
class Experiment:
    name: str
    notebook: Path  # the parameterized source notebook
    parameters: dict[str, object] = field(default_factory=dict)
    title: str = ""

    def output_notebook(self, book_dir: Path) -> Path:
        """Where the executed notebook lands (what the book renders)."""
        return book_dir / f"{self.name}.ipynb"

    def results_name(self) -> str:
        return f"results/{self.name}.csv"


@dataclass(frozen=True)
class Study:
    root: Path
    book_dir: Path
    experiments: dict[str, Experiment]

    def select(self, names: list[str] | None) -> list[Experiment]:
        if not names:
            return list(self.experiments.values())
        unknown = [n for n in names if n not in self.experiments]
        if unknown:
            raise ValueError(f"unknown experiment(s) {unknown}; the manifest has: {', '.join(self.experiments)}")
        return [self.experiments[n] for n in names]


def load_study(root: str | Path = ".", manifest: str = MANIFEST) -> Study:
    """Read and validate the manifest; every notebook must exist and carry a ``parameters`` cell."""
    root = Path(root).resolve()
    path = root / manifest
    if not path.is_file():
        raise FileNotFoundError(f"no study manifest at {path}")
    raw = yaml.safe_load(path.read_text()) or {}
    book_dir = root / raw.get("book_dir", "book")
    defaults = raw.get("defaults", {}) or {}
    experiments: dict[str, Experiment] = {}
    for name, spec in (raw.get("experiments") or {}).items():
        if not str(name).replace("_", "").isalnum():
            raise ValueError(f"experiment name {name!r} must be letters, digits and underscores")
        notebook = root / spec["notebook"]
        if not notebook.is_file():
            raise FileNotFoundError(f"experiment {name!r}: notebook {notebook} does not exist")
        params = {**defaults, **(spec.get("parameters") or {})}
        experiments[name] = Experiment(name, notebook, params, spec.get("title", name))
    if not experiments:
        raise ValueError(f"{path} lists no experiments")
    return Study(root, book_dir, experiments)


def parse_overrides(items: list[str]) -> dict[str, object]:
    """``key=value`` pairs from the command line; values are read as YAML (numbers, lists, ...)."""
    out: dict[str, object] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"parameter override {item!r} must look like name=value")
        out[key.strip()] = yaml.safe_load(value)
    return out


def apply_overrides(experiments: list[Experiment], overrides: dict[str, object]) -> list[Experiment]:
    """Each override must name a parameter that every selected experiment declares."""
    out = []
    for exp in experiments:
        unknown = sorted(set(overrides) - set(exp.parameters))
        if unknown:
            raise ValueError(
                f"experiment {exp.name!r} has no parameter(s) {unknown}; accepted: {', '.join(sorted(exp.parameters))}"
            )
        out.append(Experiment(exp.name, exp.notebook, {**exp.parameters, **overrides}, exp.title))
    return out
