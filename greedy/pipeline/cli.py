"""Command line: ``greedy run`` executes the study, ``greedy list`` shows it, ``greedy readme`` renders the
README's findings, ``greedy compare`` checks outputs against a git revision's, ``greedy pdf`` prints the
book, ``greedy bench`` times engines."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from greedy.pipeline.arguments import parser

TCP_WARNING = (
    "a tcp:// scheduler is neither encrypted nor authenticated: Dask exchanges pickled tasks with whoever "
    "answers at that address, which can run code here; use tls:// with --tls-ca-file, --tls-cert and --tls-key "
    "unless the network is yours alone"
)


def main(argv: list[str] | None = None) -> int:
    args = parser(__doc__).parse_args(argv)
    try:
        return _command(args)
    except KeyboardInterrupt:
        print(
            "greedy: interrupted; the book holds complete outputs (a publication cut short is completed "
            "by the next greedy command, an unfinished experiment left nothing)",
            file=sys.stderr,
        )
        return 130
    except OSError as err:  # a full disk, a folder without permission, a publication that cannot finish
        where = f" ({err.filename})" if err.filename else ""
        print(f"greedy: error: {err.strerror or err}{where}", file=sys.stderr)
        return 2


def _settle(root: str) -> None:
    """Complete a publication that a killed run committed, before reading the book."""
    from greedy.pipeline.manifest import load_study
    from greedy.pipeline.publish import settle

    settle(load_study(Path(root)).book_dir)


def _command(args: argparse.Namespace) -> int:
    if args.command == "bench":
        from greedy.pipeline import bench

        seeds = args.seeds or [30]
        if args.estimator:
            from greedy.pipeline import estimator_bench

            estimator_bench.report(quick=args.quick)
            return 0
        if args.machine_limit:
            from greedy.pipeline import compile_cache, throughput

            compile_cache.enable_here()
            throughput.report(quick=args.quick)
            return 0
        if args.shards is not None:
            if args.shards < 2:
                print(f"greedy: error: --shards must be a number of workers >= 2, got {args.shards}", file=sys.stderr)
                return 2
            return bench.sharded(args.shards, seeds=seeds[0] if args.seeds else 80, quick=args.quick)
        if args.fast_only:
            return bench.fast_only(seeds, quick=args.quick)
        return bench.main(seeds=seeds[0], quick=args.quick)

    if args.command == "readme":
        from greedy.pipeline import readme

        try:
            _settle(args.root)
            changed = readme.update(Path(args.root), check=args.check)
        except (ValueError, FileNotFoundError) as err:
            print(f"greedy: error: {err}", file=sys.stderr)
            return 2
        if args.check and changed:
            print("greedy: README.md's findings are out of date: run `greedy readme`", file=sys.stderr)
            return 1
        return 0

    if args.command == "compare":
        return _compare(args)
    if args.command == "pdf":
        return _pdf(args)
    if args.command == "list":
        return _list(args)
    if args.command == "partition":
        return _partition(args)
    return _run(args)


def _partition(args: argparse.Namespace) -> int:
    """Groups for running the notebooks' regression check side by side (``make nbval``), each on a core."""
    from greedy.pipeline.dispatch import balanced_parts, core_groups
    from greedy.pipeline.manifest import load_study
    from greedy.pipeline.runner import last_seconds

    try:
        if args.parts < 1:
            raise ValueError(f"the number of groups must be >= 1, got {args.parts}")
        study = load_study(Path(args.root))
    except (ValueError, FileNotFoundError) as err:
        print(f"greedy: error: {err}", file=sys.stderr)
        return 2
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else list(range(os.cpu_count() or 1))
    groups = balanced_parts(study.select([]), lambda e: last_seconds(e, study), args.parts)
    # The study's workers' rule: disjoint cores per group, or every core where there are too few.
    pinned = core_groups(cores, len(groups)) or [cores] * len(groups)
    for group, group_cores in zip(groups, pinned, strict=True):
        print(",".join(map(str, group_cores)), " ".join(f"{e.name}.ipynb" for e in group))
    return 0


def _list(args: argparse.Namespace) -> int:
    from greedy.pipeline.manifest import load_study
    from greedy.pipeline.staleness import state

    try:
        study = load_study(Path(args.root))
        states = {name: state(exp, study) for name, exp in study.experiments.items()}
    except (ValueError, FileNotFoundError) as err:
        print(f"greedy: error: {err}", file=sys.stderr)
        return 2
    for exp in study.experiments.values():
        now = states[exp.name]
        label = "up to date" if now.up_to_date else "to run" if now.reasons else "to render"
        print(f"{exp.name:24s} {label:11s} {exp.notebook.relative_to(study.root)}")
        if args.why:
            for reason in now.reasons or (
                ["its prose changed (re-rendered with its stored outputs)"] if now.rerender else []
            ):
                print(f"    {reason}")
    return 0


def _check_run_options(args: argparse.Namespace) -> None:
    """``greedy run``'s options checked before any work (a tcp:// scheduler is warned about)."""
    from greedy.pipeline.cluster import check_address

    cores = os.cpu_count() or 1
    if not 0 <= args.workers <= cores:
        raise ValueError(f"--workers must be from 0 to {cores} (this machine's cores), got {args.workers}")
    if args.connect_timeout is not None and not args.connect_timeout > 0:
        raise ValueError(f"--connect-timeout must be a number of seconds > 0, got {args.connect_timeout}")
    if args.scheduler is not None:
        check_address(args.scheduler)
        if args.scheduler.startswith("tcp://"):
            print(f"greedy: warning: {TCP_WARNING}", file=sys.stderr)
    for option in ("tls_ca_file", "tls_cert", "tls_key"):
        if getattr(args, option) is not None and not Path(getattr(args, option)).is_file():
            raise ValueError(f"--{option.replace('_', '-')} {getattr(args, option)!r}: no such file")


def _run(args: argparse.Namespace) -> int:
    from greedy.pipeline.cluster import ClusterUnavailable, TlsFiles
    from greedy.pipeline.dispatch import check_used_results, efficiency_line, run_study
    from greedy.pipeline.manifest import apply_overrides, exploration, load_study, parse_overrides
    from greedy.pipeline.publish import StudyBusy
    from greedy.pipeline.runner import ExperimentFailed

    try:
        study = load_study(Path(args.root))
        _check_run_options(args)
        overrides = parse_overrides(args.param)
        experiments = apply_overrides(study.select(args.experiments), overrides)
    except (ValueError, FileNotFoundError, ClusterUnavailable) as err:
        print(f"greedy: error: {err}", file=sys.stderr)
        return 2
    if overrides and not args.publish:
        # Exploring never touches the published study: the run gets a folder of its own.
        study = exploration(study, experiments, overrides)
        print(f"greedy: a run with other parameters: its notebooks and results go to {study.book_dir}", file=sys.stderr)
    try:
        check_used_results(study, experiments)
    except ValueError as err:
        print(f"greedy: error: {err}", file=sys.stderr)
        return 2
    tls = TlsFiles(args.tls_ca_file, args.tls_cert, args.tls_key)
    started = time.perf_counter()
    try:
        outcomes = run_study(
            study,
            experiments,
            force=args.force,
            workers=args.workers,
            scheduler=args.scheduler,
            connect_timeout=args.connect_timeout,
            tls=tls,
        )
    except (ClusterUnavailable, StudyBusy) as err:
        print(f"greedy: error: {err}", file=sys.stderr)
        return 2
    except ExperimentFailed as err:
        print(f"greedy: {err}", file=sys.stderr)
        return 1
    for o in outcomes:
        memory = f"{o.peak_memory_mib:7.0f} MiB peak (runner + kernel)" if o.status == "ran" else ""
        print(f"{o.name:24s} {o.status:8s} {o.seconds:7.1f} s {memory}")
    if summary := efficiency_line(outcomes, args.workers, time.perf_counter() - started):
        print(summary)
    return 0


def _pdf(args: argparse.Namespace) -> int:
    from greedy.pipeline import pdf

    if pdf.browser() is None and args.if_browser:
        print(
            f"greedy: warning: the PDF of the book was NOT built (no Chromium): {pdf.HOW_TO_INSTALL}", file=sys.stderr
        )
        return 0
    try:
        written = pdf.print_pdf(Path(args.page), Path(args.output))
    except RuntimeError as err:
        print(f"greedy: error: {err}", file=sys.stderr)
        return 1
    print(f"The book as one PDF: {written} ({written.stat().st_size / 2**20:.1f} MiB)")
    return 0


def _compare(args: argparse.Namespace) -> int:
    from greedy.pipeline.compare import compare, load_renames
    from greedy.pipeline.manifest import load_study

    try:
        _settle(args.root)
        problems, new, added = compare(load_study(Path(args.root)), args.revision, load_renames(args.renamed))
    except (ValueError, FileNotFoundError) as err:
        print(f"greedy: error: {err}", file=sys.stderr)
        return 2
    for line in problems:
        print(line)
    if new:
        print(f"not in {args.revision} (nothing to compare): {', '.join(new)}")
    for name, columns in added.items():
        print(f"{name}: new record columns (not in {args.revision}): {', '.join(columns)}")
    compared = f"every record (all {args.revision}'s columns but wall-clock time) and every glued value"
    print(f"identical: {compared}{' of the others' if new else ''}" if not problems else "")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
