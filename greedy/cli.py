"""Command line: ``greedy run`` executes the study, ``greedy list`` shows it, ``greedy readme`` renders the
README's findings, ``greedy bench`` times engines."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="greedy", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="execute the study's notebooks (skips experiments that are up to date)")
    run.add_argument("experiments", nargs="*", help="experiment names (default: all in the manifest)")
    run.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a notebook parameter (YAML value), e.g. -p seeds=30",
    )
    run.add_argument("--force", action="store_true", help="re-run even if inputs are unchanged")
    run.add_argument(
        "--workers",
        type=int,
        default=0,
        help="run on a local Dask cluster (127.0.0.1) with this many workers; 0 (default): serially in this process",
    )
    run.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="use a Dask scheduler someone already runs")
    run.add_argument("--root", default=".", help="project root holding study.yml (default: .)")

    lst = sub.add_parser("list", help="list the experiments and whether each is up to date")
    lst.add_argument("--root", default=".")

    readme = sub.add_parser("readme", help="render the README's findings from the executed notebooks")
    readme.add_argument("--check", action="store_true", help="only check; exit 1 if the README is out of date")
    readme.add_argument("--root", default=".")

    bench = sub.add_parser("bench", help="time the straightforward Keras procedure against the fast engine")
    bench.add_argument("--seeds", type=int, action="append", help="seeds for the multi-seed figure (default 30)")
    bench.add_argument("--fast-only", action="store_true", help="only the fast engine's multi-seed figures (GPU)")
    bench.add_argument("--quick", action="store_true", help="fewer layers and epochs, for a smoke test")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "bench":
        from greedy import bench

        seeds = args.seeds or [30]
        if args.fast_only:
            return bench.fast_only(seeds, quick=args.quick)
        return bench.main(seeds=seeds[0], quick=args.quick)

    if args.command == "readme":
        from greedy import readme

        try:
            changed = readme.update(Path(args.root), check=args.check)
        except (ValueError, FileNotFoundError) as err:
            print(f"greedy: error: {err}", file=sys.stderr)
            return 2
        if args.check and changed:
            print("greedy: README.md's findings are out of date: run `greedy readme`", file=sys.stderr)
            return 1
        return 0

    from greedy.manifest import apply_overrides, load_study, parse_overrides
    from greedy.runner import ExperimentFailed, is_up_to_date, run_study

    try:
        study = load_study(Path(args.root))
        if args.command == "list":
            for exp in study.experiments.values():
                state = "up to date" if is_up_to_date(exp, study) else "to run"
                print(f"{exp.name:24s} {state:11s} {exp.notebook.relative_to(study.root)}")
            return 0
        if args.workers < 0:
            raise ValueError(f"--workers must be >= 0, got {args.workers}")
        experiments = apply_overrides(study.select(args.experiments), parse_overrides(args.param))
    except (ValueError, FileNotFoundError) as err:
        print(f"greedy: error: {err}", file=sys.stderr)
        return 2
    try:
        outcomes = run_study(study, experiments, force=args.force, workers=args.workers, scheduler=args.scheduler)
    except ExperimentFailed as err:
        print(f"greedy: {err}", file=sys.stderr)
        return 1
    for o in outcomes:
        memory = f"{o.peak_memory_mib:7.0f} MiB peak (runner + kernel)" if o.status == "ran" else ""
        print(f"{o.name:24s} {o.status:8s} {o.seconds:7.1f} s {memory}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
