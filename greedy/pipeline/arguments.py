"""The ``greedy`` command line's arguments (``greedy.pipeline.cli`` runs them)."""

from __future__ import annotations

import argparse


def _run_parser(sub) -> None:
    run = sub.add_parser("run", help="execute the study's notebooks (skips experiments that are up to date)")
    run.add_argument("experiments", nargs="*", help="experiment names (default: all in the manifest)")
    run.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a notebook parameter (YAML value), e.g. -p n_seeds=30; the run then lands in runs/, "
        "not in the book, unless --publish",
    )
    run.add_argument(
        "--publish", action="store_true", help="with -p: write the run into the book (replacing the study's outputs)"
    )
    run.add_argument("--force", action="store_true", help="re-run even if inputs are unchanged")
    run.add_argument(
        "--workers",
        type=int,
        default=0,
        help="run on a local Dask cluster (127.0.0.1) with this many workers; 0 (default): serially in this process",
    )
    run.add_argument(
        "--scheduler", metavar="tcp://HOST:PORT", help="use a Dask scheduler someone already runs (tcp:// or tls://)"
    )
    run.add_argument(
        "--connect-timeout", type=float, default=None, metavar="SECONDS", help="give up on --scheduler after this (5)"
    )
    run.add_argument("--tls-ca-file", help="for a tls:// scheduler: the CA certificate to trust")
    run.add_argument("--tls-cert", help="for a tls:// scheduler: this client's certificate")
    run.add_argument("--tls-key", help="for a tls:// scheduler: this client's private key")
    run.add_argument("--root", default=".", help="project root holding study.yml (default: .)")


def parser(description: str) -> argparse.ArgumentParser:
    """The ``greedy`` command's arguments: one subcommand each for run, list, partition, readme, compare, pdf, bench."""
    p = argparse.ArgumentParser(prog="greedy", description=description)
    sub = p.add_subparsers(dest="command", required=True)
    _run_parser(sub)

    lst = sub.add_parser("list", help="list the experiments and whether each is up to date")
    lst.add_argument("--why", action="store_true", help="name what changed for each experiment that is not")
    lst.add_argument("--root", default=".")

    parts = sub.add_parser(
        "partition",
        help="the executed notebooks in N groups of near-equal last run time, one line each: CORES NOTEBOOK...",
    )
    parts.add_argument("parts", type=int, help="how many groups (e.g. one per core)")
    parts.add_argument("--root", default=".")

    readme = sub.add_parser("readme", help="render the README's findings from the executed notebooks")
    readme.add_argument("--check", action="store_true", help="only check; exit 1 if the README is out of date")
    readme.add_argument("--root", default=".")

    compare = sub.add_parser("compare", help="compare the study's records and glued values with a git revision's")
    compare.add_argument("revision", help="a git revision, e.g. HEAD or a commit")
    compare.add_argument(
        "--renamed", metavar="FILE.json", help="{experiment: {old name: new name}} of glue keys and record columns"
    )
    compare.add_argument("--root", default=".")

    pdf = sub.add_parser("pdf", help="print the single-page HTML book to one PDF with headless Chromium")
    pdf.add_argument("page", help="the single-page HTML build's index.html")
    pdf.add_argument("output", help="the PDF to write")
    pdf.add_argument("--if-browser", action="store_true", help="without a browser, say so and succeed")

    bench = sub.add_parser("bench", help="time the straightforward Keras procedure against the fast engine")
    bench.add_argument("--seeds", type=int, action="append", help="seeds for the multi-seed figure (default 30)")
    bench.add_argument("--fast-only", action="store_true", help="only the fast engine's multi-seed figures (GPU)")
    bench.add_argument("--quick", action="store_true", help="fewer layers and epochs, for a smoke test")
    bench.add_argument(
        "--machine-limit", action="store_true", help="the fast engine's throughput as a fraction of float32 matmul's"
    )
    bench.add_argument(
        "--shards", type=int, metavar="WORKERS", help="one run's seeds serially against shards on WORKERS Dask workers"
    )
    bench.add_argument(
        "--estimator", action="store_true", help="GreedyPretrainedClassifier against MLPClassifier, cross-validated"
    )
    return p
