"""The study manifest (study.yml): every experiment, its notebook and its parameters, checked whole
before anything runs: its shape against a JSON Schema, then paths, notebooks and parameter values."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from greedy.pipeline.parameters import check_values, declared_parameters

MANIFEST = "study.yml"
NAME_PATTERN = "^[a-z][a-z0-9_]*$"
PACKAGE_PATTERN = "^[A-Za-z_][A-Za-z0-9_]*$"
EXPERIMENT_KEYS = ("notebook", "parameters", "title", "uses")
SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["experiments"],
    "properties": {
        "book_dir": {"type": "string", "minLength": 1},
        "library": {"type": "array", "minItems": 1, "items": {"type": "string", "pattern": PACKAGE_PATTERN}},
        "experiments": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"pattern": NAME_PATTERN},
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "required": ["notebook"],
                "properties": {
                    "notebook": {"type": "string", "pattern": r"\.ipynb$"},
                    "parameters": {"type": "object"},
                    "title": {"type": "string"},
                    # experiments whose results CSVs this one's notebook reads (run before it)
                    "uses": {
                        "type": "array",
                        "uniqueItems": True,
                        "items": {"type": "string", "pattern": NAME_PATTERN},
                    },
                },
            },
        },
    },
}


@dataclass(frozen=True)
class Experiment:
    name: str
    notebook: Path  # the parameterized source notebook
    parameters: dict[str, object] = field(default_factory=dict)
    title: str = ""
    declared: dict[str, object] = field(default_factory=dict)  # the notebook's parameters and defaults
    uses: tuple[str, ...] = ()  # experiments whose results this one reads

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
    # The packages whose executed code an experiment's outputs depend on (greedy.pipeline.staleness).
    library: tuple[str, ...] = ("greedy",)

    def select(self, names: list[str] | None) -> list[Experiment]:
        if not names:
            return list(self.experiments.values())
        unknown = [n for n in names if n not in self.experiments]
        if unknown:
            raise ValueError(f"unknown experiment(s) {unknown}; the manifest has: {', '.join(self.experiments)}")
        return [self.experiments[n] for n in names]


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping (YAML would keep the last)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise ValueError(f"line {key_node.start_mark.line + 1}: {key!r} is given twice")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _read(path: Path) -> object:
    try:
        return yaml.load(path.read_text(), Loader=_UniqueKeyLoader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as err:
        raise ValueError(f"{path.name} is not valid YAML: {' '.join(str(err).split())}") from None
    except ValueError as err:
        raise ValueError(f"{path.name}: {err}") from None


def _check_shape(raw: object, path: Path) -> None:
    import jsonschema

    errors = sorted(jsonschema.Draft202012Validator(SCHEMA).iter_errors(raw), key=lambda e: list(e.absolute_path))
    if not errors:
        return
    err = errors[0]
    where = list(err.absolute_path)
    if "propertyNames" in err.absolute_schema_path:
        place, accepted = "experiments", f"experiment names match {NAME_PATTERN}"
    elif len(where) >= 2 and where[0] == "experiments":
        place, accepted = f"experiment {where[1]!r}", f"accepted keys: {', '.join(EXPERIMENT_KEYS)}"
        if len(where) > 2:
            place += f", key {where[2]!r}"
    else:
        place, accepted = "top level", "accepted keys: book_dir, library (package names), experiments"
    raise ValueError(f"{path.name}: {place}: {err.message} ({accepted})")


def _inside(root: Path, relative: str, what: str) -> Path:
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        raise ValueError(f"{what} {relative!r} points outside the project root {root}")
    return path


def load_study(root: str | Path = ".", manifest: str = MANIFEST) -> Study:
    """Read and check the manifest whole; raises ValueError naming the experiment, the key and what is accepted."""
    root = Path(root).resolve()
    path = root / manifest
    if not path.is_file():
        raise FileNotFoundError(f"no study manifest at {path}")
    raw = _read(path)
    _check_shape(raw, path)
    book_dir = _inside(root, raw.get("book_dir", "book"), "book_dir")
    experiments: dict[str, Experiment] = {}
    for name, spec in raw["experiments"].items():
        notebook = _inside(root, spec["notebook"], f"experiment {name!r}: notebook")
        if not notebook.is_file():
            raise ValueError(f"experiment {name!r}: notebook {spec['notebook']} does not exist")
        declared = declared_parameters(notebook)
        parameters = dict(spec.get("parameters") or {})
        check_values(name, parameters, declared)
        uses = tuple(spec.get("uses", ()))
        experiments[name] = Experiment(name, notebook, parameters, spec.get("title", name), declared, uses)
    _check_uses(experiments)
    return Study(root, book_dir, experiments, tuple(raw.get("library", ("greedy",))))


def _check_uses(experiments: dict[str, Experiment]) -> None:
    """Every used experiment exists, and none uses itself, directly or through others."""
    for exp in experiments.values():
        unknown = [u for u in exp.uses if u not in experiments]
        if unknown:
            raise ValueError(
                f"experiment {exp.name!r}, key 'uses': {unknown} are not experiments of the manifest "
                f"(accepted: {', '.join(n for n in experiments if n != exp.name)})"
            )
    for exp in experiments.values():
        frontier, seen = list(exp.uses), set()
        while frontier:
            name = frontier.pop()
            if name == exp.name:
                raise ValueError(f"experiment {exp.name!r}, key 'uses': it uses itself, directly or through others")
            if name not in seen:
                seen.add(name)
                frontier += experiments[name].uses


def in_waves(experiments: list[Experiment]) -> list[list[Experiment]]:
    """``experiments`` in waves: each after every experiment of this list that it uses."""
    names = {e.name for e in experiments}
    done: set[str] = set()
    waves, left = [], list(experiments)
    while left:
        wave = [e for e in left if all(u in done or u not in names for u in e.uses)]
        waves.append(wave)
        done |= {e.name for e in wave}
        left = [e for e in left if e.name not in done]
    return waves


def parse_overrides(items: list[str]) -> dict[str, object]:
    """``key=value`` pairs from the command line; values are read as YAML (numbers, lists, ...)."""
    out: dict[str, object] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"parameter override {item!r} must look like name=value")
        try:
            out[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError:
            raise ValueError(f"parameter override {item!r}: {value!r} is not a YAML value") from None
    return out


def apply_overrides(experiments: list[Experiment], overrides: dict[str, object]) -> list[Experiment]:
    """Each override must name a parameter that every selected experiment's notebook declares, with a valid value."""
    out = []
    for exp in experiments:
        check_values(exp.name, overrides, exp.declared)
        out.append(replace(exp, parameters={**exp.parameters, **overrides}))
    return out


EXPLORATIONS = "runs"  # where runs with other parameters land, beside the book (ignored by git)


def exploration(study: Study, experiments: list[Experiment], overrides: dict[str, object]) -> Study:
    """The study with its outputs in a folder of their own, named by the experiments and the overrides."""
    settings = ",".join(f"{key}={value}" for key, value in sorted(overrides.items()))
    full = f"{'+'.join(e.name for e in experiments)}--{settings}"
    name = re.sub(r"[^A-Za-z0-9_.=,+-]", "", full)
    if len(name) > 200 or name != full:  # shortened: the whole settings' digest keeps two runs apart
        name = f"{name[:180]}-{hashlib.sha256(full.encode()).hexdigest()[:12]}"
    return replace(study, book_dir=study.root / EXPLORATIONS / name)
