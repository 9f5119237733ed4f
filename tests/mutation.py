"""Mutation testing of the modules that produce the study's numbers: ``make mutants``.

Each module is mutated by cosmic-ray's operators, one mutation at a time, in scratch copies of the
repository (the working tree is never touched), and the unit tests that cover it (``MODULES``) run
against each mutant. A mutant is killed when they fail (or time out), survives when they pass.
Mutants with no observable difference are listed in ``EQUIVALENT`` with the reason and the line as
the mutant reads it, and not counted while the line still reads so (a run names any entry that code
edits have moved onto another site, whose mutant then counts); nor are mutants inside annotations
of a module that postpones them (``from __future__ import annotations``: Python never evaluates them).

To be quick without changing a verdict: the tests first run once, unmutated, under coverage with a
context per test (``mutation_contexts``), which maps each line to the tests that reach it. A mutant
then runs those tests first (they fail soonest); only a mutant they miss, or one on a line no test
reaches by itself (run at import, or in a subprocess), runs all the module's tests, whose verdict
it is. Mutants are tested ``--workers`` at a time. Slow end-to-end tests (``-m slow``) are left to
``make test``.

A full run takes hours on two cores, so by default a sample of each module's mutants runs
(``--sample``; ``--sample 0`` runs them all), seeded by ``--seed`` and the module's name (a module's
sample is the same whichever others run), and the report says how many of how many it ran.

    python tests/mutation.py [--sample N] [--seed S] [--module PATH ...] [--workers N] [--fail-under PERCENT]
"""

from __future__ import annotations

import argparse
import ast
import difflib
import json
import multiprocessing
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from mutation_contexts import FIXTURE_PREFIX

ROOT = Path(__file__).resolve().parents[1]

# Each module that computes numbers, and the unit tests that exercise it.
MODULES: dict[str, list[str]] = {
    "greedy/analysis/stats.py": ["tests/test_stats.py"],
    "greedy/analysis/diagnostics.py": ["tests/test_diagnostics.py", "tests/test_guards.py", "tests/test_studies.py"],
    "greedy/learning/tuning.py": ["tests/test_guards.py", "tests/test_families.py", "tests/test_tuning.py"],
    "greedy/analysis/well_trained.py": ["tests/test_well_trained.py"],
    "greedy/analysis/few_labels.py": ["tests/test_few_labels.py"],
    "greedy/analysis/summary.py": ["tests/test_summary.py"],
    "greedy/analysis/tables.py": ["tests/test_tables.py"],
    "greedy/learning/held_out.py": ["tests/test_held_out.py"],
    "greedy/learning/records.py": ["tests/test_records.py"],
    "greedy/pipeline/executed_code.py": ["tests/test_staleness.py"],
    "greedy/learning/data/dataset.py": ["tests/test_data.py", "tests/test_config.py"],
    "greedy/learning/data/synthetic.py": ["tests/test_data.py"],
    "greedy/learning/data/benchmarks.py": ["tests/test_data.py", "tests/test_held_out.py"],
    "greedy/learning/data/splits.py": ["tests/test_data.py", "tests/test_config.py"],
    "greedy/learning/jax_engine/scores.py": ["tests/test_guards.py", "tests/test_jax_engine.py"],
    "greedy/learning/jax_engine/network.py": ["tests/test_jax_engine.py", "tests/test_fit_options.py"],
    "greedy/learning/jax_engine/fit.py": [
        "tests/test_guards.py",
        "tests/test_jax_engine.py",
        "tests/test_fit_options.py",
    ],
    "greedy/learning/jax_engine/runs.py": ["tests/test_trained.py", "tests/test_guards.py", "tests/test_jax_engine.py"],
    "greedy/learning/jax_engine/supervised.py": [
        "tests/test_trained.py",
        "tests/test_guards.py",
        "tests/test_jax_engine.py",
    ],
    "greedy/learning/jax_engine/unsupervised.py": [
        "tests/test_guards.py",
        "tests/test_jax_engine.py",
        "tests/test_fit_options.py",
        "tests/test_rbm.py",
    ],
    "greedy/learning/jax_engine/baseline.py": [
        "tests/test_trained.py",
        "tests/test_jax_engine.py",
        "tests/test_fit_options.py",
    ],
    "greedy/learning/jax_engine/reuse.py": ["tests/test_trained.py", "tests/test_fit_options.py"],
    "greedy/learning/jax_engine/keys.py": ["tests/test_keys.py"],
    "greedy/learning/jax_engine/rbm.py": ["tests/test_rbm.py"],
    "greedy/learning/jax_engine/programs.py": ["tests/test_programs.py"],
    "greedy/pipeline/publish.py": ["tests/test_faults.py", "tests/test_runner.py"],
}

# (module, operator, occurrence) -> (the line the mutant changes, as it reads mutated; why the mutant cannot be
# told apart from the original). The line pins the entry to its mutant: see _equivalent.
EQUIVALENT: dict[tuple[str, str, int], tuple[str, str]] = {
    ("greedy/learning/records.py", "core/RemoveDecorator", 2): (
        "def join(runs: Iterable[Trained]) -> Trained:",
        "Trained.join without @staticmethod: every caller calls it on the class (Trained.join(runs), and "
        "Trained.__add__ likewise), where a plain function takes the same argument",
    ),
    ("greedy/analysis/stats.py", "core/ReplaceComparisonOperator_Eq_LtE", 0): (
        "if n <= 0:",
        "mean_ci's `if n == 0` -> `if n <= 0`: n is a length, never negative",
    ),
    ("greedy/analysis/summary.py", "core/ReplaceBinaryOperator_BitAnd_Mul", 1): (
        'chosen = tuning[(tuning.data == data) * tuning.chosen & tuning.family.isin(["none", "none_equal_budget"])]',
        "better_budget's `(a == b) & chosen` -> `(a == b) * chosen`: the product of two boolean Series is their "
        "logical and",
    ),
    ("greedy/analysis/summary.py", "core/ReplaceComparisonOperator_Eq_LtE", 7): (
        "both = pd.concat([part, group[group.family <= reference]])",
        "families_rows' `group.family == reference` -> `<=`: the extra rows (other networks without pretraining) "
        "are never read, since paired_comparison keeps only the rows of the two families it compares",
    ),
    ("greedy/analysis/well_trained.py", "core/ReplaceBinaryOperator_BitAnd_Mul", 1): (
        'chosen = tuning[(tuning.kind == "well-trained") * tuning.chosen]',
        "best_well_trained's `(tuning.kind == 'well-trained') & tuning.chosen` -> `*`: the product of two boolean "
        "Series is their logical and",
    ),
    ("greedy/analysis/few_labels.py", "core/NumberReplacer", 12): (
        "if depth < MIN_DEPTH.get(key, 3):",
        "few_labels_study's `MIN_DEPTH.get(key, 2)` -> `3`: the study refuses a depth below 3 before this loop, and "
        "no MIN_DEPTH is above 3, so the skip is never taken whatever the default",
    ),
    ("greedy/analysis/few_labels.py", "core/NumberReplacer", 13): (
        "if depth < MIN_DEPTH.get(key, 1):",
        "as #12, with the default 2 -> 1",
    ),
    ("greedy/learning/data/dataset.py", "core/ReplaceComparisonOperator_Is_IsNot", 2): (
        'if y.dtype.kind == "O" and len({type(v) is not str for v in y}) > 1:',
        "_check_xy's `len({type(v) is str for v in y}) > 1` -> `is not str`: the set of the negated answers has "
        "the same size (two exactly when the labels mix strings and others)",
    ),
    ("greedy/learning/data/benchmarks.py", "core/ReplaceComparisonOperator_Lt_NotEq", 0): (
        "if not 0 != test_size < 1:",
        "digits' `0 < test_size` -> `0 != test_size`: check_positive_float refuses every test_size <= 0 on the line "
        "before",
    ),
    ("greedy/learning/data/dataset.py", "core/ReplaceComparisonOperator_Eq_LtE", 4): (
        'if y.dtype.kind <= "O" and any(v is None or (isinstance(v, float) and not np.isfinite(v)) for v in y):',
        "_check_xy's `y.dtype.kind == 'O'` -> `<= 'O'` before the missing-label scan: the only other kind "
        "that sorts before 'O' is 'M' (datetime64), whose values are never None nor a float, so the scan finds nothing",
    ),
    ("greedy/learning/data/dataset.py", "core/NumberReplacer", 3): (
        "if self.x_unlabeled is None or len(self.x_unlabeled) == -1:",
        "x_pretrain's `len(self.x_unlabeled) == 0` -> `== -1`: with no unlabeled rows the concatenation "
        "returns x_train's values unchanged (a copy of them instead of the array itself)",
    ),
    ("greedy/learning/tuning.py", "core/ReplaceComparisonOperator_Eq_GtE", 6): (
        "if side is None or step[side] >= max_extensions:",
        "tune_extending's `step[side] == max_extensions` -> `>=`: a step starts at 0 and grows by one, breaking "
        "when it equals max_extensions (>= 0), so it never exceeds it",
    ),
    ("greedy/learning/tuning.py", "core/ReplaceComparisonOperator_Eq_Is", 5): (
        "if side is None or step[side] is max_extensions:",
        "tune_extending's `step[side] == max_extensions` -> `is`: both are ints below 257, which CPython keeps "
        "one object each of, so identity is equality for any grid extended fewer than 257 times",
    ),
    ("greedy/learning/data/splits.py", "core/NumberReplacer", 5): (
        "if not -1 < fraction < 1:",
        "_stratified_hold_out's `0 < fraction < 1` -> `-1 < fraction < 1`: check_positive_float just before "
        "refuses every fraction <= 0 with its own error, so the lower bound is never what decides",
    ),
    ("greedy/learning/held_out.py", "core/ReplaceComparisonOperator_Eq_GtE", 0): (
        'if name >= "mnist1d":',
        "evaluation_and_tuning's `name == 'mnist1d'` -> `>=`: check_choice admits only 'mnist1d' and 'digits', "
        "and 'digits' < 'mnist1d'",
    ),
    ("greedy/learning/jax_engine/reuse.py", "core/NumberReplacer", 0): (
        "digest = hashlib.blake2b(x.tobytes(), digest_size= 17).hexdigest()",
        "run_key's blake2b digest_size 16 -> 17: any digest size tells the pretraining inputs apart; the size is a "
        "setting",
    ),
    ("greedy/learning/jax_engine/reuse.py", "core/NumberReplacer", 1): (
        "digest = hashlib.blake2b(x.tobytes(), digest_size= 15).hexdigest()",
        "run_key's blake2b digest_size 16 -> 15: as above",
    ),
    ("greedy/learning/jax_engine/reuse.py", "core/RemoveDecorator", 1): (
        "def run_key(chunk: SeedChunk, config: TrainConfig, method: str, learn_layer: Callable) -> tuple:",
        "run_key without @staticmethod: it is only called through the class, PretrainedStages.run_key(...), where a "
        "plain function takes the same arguments",
    ),
    ("greedy/learning/jax_engine/runs.py", "core/ReplaceComparisonOperator_NotEq_Gt", 0): (
        'return {name: x for name, (x, _) in splits.items() if name > "population"}',
        "small_splits' `name != 'population'` -> `>`: the scored splits are named train, test and population, "
        "and both other names sort after 'population'",
    ),
    ("greedy/learning/jax_engine/rbm.py", "core/ReplaceUnaryOperator_Delete_USub", 3): (
        "return jnp.mean((visible_mean(rbm, hidden_probabilities(rbm, v), visible) - v) ** 2, axis=1)",
        "reconstruction_error's `axis=-1` -> `axis=1`: its one caller, the vmapped trainer, passes one seed's batch "
        "(rows x units), where axis 1 is the last",
    ),
    ("greedy/learning/jax_engine/scores.py", "core/ReplaceComparisonOperator_Eq_LtE", 2): (
        'if name <= "population":  # large: scored in compiled row blocks',
        "network_accuracies' `name == 'population'` -> `<=`: the scored splits are named train, test and population, "
        "and both other names sort after 'population'",
    ),
    ("greedy/learning/jax_engine/scores.py", "core/ReplaceComparisonOperator_Eq_NotEq", 2): (
        'if name != "population":  # large: scored in compiled row blocks',
        "network_accuracies' `name == 'population'` -> `!=`: train and test then go through the row blocks and the "
        "population through one forward pass; both count the correct rows exactly and divide in float64 "
        "(test_correct_counts_equal_the_forward_pass_in_any_block_size), so only the memory of a large split differs",
    ),
    ("greedy/learning/jax_engine/scores.py", "core/ReplaceComparisonOperator_Eq_Is", 2): (
        'if name is "population":  # large: scored in compiled row blocks',
        "network_accuracies' `name == 'population'` -> `is`: CPython interns string constants that look like names, "
        "so the split names written in the code are the same object as the literal",
    ),
    ("greedy/learning/jax_engine/rbm.py", "core/ReplaceComparisonOperator_Eq_LtE", 1): (
        'if visible <= "bernoulli":',
        "free_energy's `visible == 'bernoulli'` -> `<=`: visible is checked against VISIBLE_UNITS before any RBM "
        "trains, and the other kind, 'gaussian', sorts after 'bernoulli'",
    ),
    ("greedy/learning/jax_engine/network.py", "core/ReplaceComparisonOperator_Eq_LtE", 8): (
        'if architecture <= "batch_norm":',
        "forward's `architecture == 'batch_norm'` -> `<=`: the architectures that reach it (plain, batch_norm, "
        "residual: checked against ARCHITECTURES; the tied autoencoder returns before) all sort after 'batch_norm' "
        "but itself",
    ),
    ("greedy/learning/jax_engine/network.py", "core/ReplaceComparisonOperator_Eq_GtE", 10): (
        'x = x + h if architecture >= "residual" and layout.units(x) == layout.units(h) else h',
        "forward's `architecture == 'residual'` -> `>=`: neither other architecture (plain, batch_norm) sorts "
        "after 'residual'",
    ),
    ("greedy/learning/jax_engine/network.py", "core/ReplaceUnaryOperator_USub_Not", 3): (
        "layout = _Layout.of([w.shape[not 1]])",
        "the tied autoencoder's layout from `w.shape[not 1]` (the input width) instead of `w.shape[-1]` (the "
        "code width): the layout only chooses where the units axis lies, the same arithmetic in another order "
        "(float rounding only)",
    ),
    ("greedy/learning/data/benchmarks.py", "core/ReplaceComparisonOperator_Lt_LtE", 0): (
        "if not 0 <= test_size < 1:",
        "digits' `0 < test_size` -> `0 <= test_size`: check_positive_float refuses 0 on the line before",
    ),
    ("greedy/pipeline/publish.py", "core/ReplaceTrueWithFalse", 6): (
        "leftover.unlink(missing_ok=False)",
        "recover's `leftover.unlink(missing_ok=True)` -> `False`: the file was just listed by iterdir, and only a "
        "run holding the run lock discards, so nothing removes it in between",
    ),
    ("greedy/pipeline/executed_code.py", "core/ReplaceBinaryOperator_Sub_BitXor", 0): (
        'return found ^ {""}',
        "_identifiers' `found - {''}` -> `found ^ {''}`: the empty name may then be among the names a unit reads, "
        "but no statement binds it, so no digest depends on it",
    ),
    ("greedy/pipeline/executed_code.py", "core/NumberReplacer", 5): (
        "return hashlib.sha256(ast.dump(node, annotate_fields=False).encode()).hexdigest()[: 15]",
        "a digest cut to 15 hex digits instead of 16: any length tells code apart (2**60 values); the length is a "
        "setting",
    ),
    ("greedy/learning/jax_engine/programs.py", "core/NumberReplacer", 1): (
        "MAX_COMPILED_PROGRAMS = 47  # about 240 MiB of programs at most",
        "MAX_COMPILED_PROGRAMS 48 -> 47: the bound is a setting (memory against recompiling); the tests pin that "
        "the engine keeps to whatever bound is set, not one value",
    ),
    ("greedy/learning/jax_engine/programs.py", "core/NumberReplacer", 2): (
        "libc.malloc_trim( 1)",
        "malloc_trim(0) -> malloc_trim(1): the pad glibc leaves at the top of the heap, one byte more",
    ),
    ("greedy/learning/jax_engine/programs.py", "core/NumberReplacer", 3): (
        "libc.malloc_trim( -1)",
        "malloc_trim(0) -> malloc_trim(-1): glibc (2.8 on) returns free pages inside the heap whatever the pad; "
        "the memory test sees the same release",
    ),
    ("greedy/pipeline/publish.py", "core/NumberReplacer", 0): (
        "write_atomic(_journal(book_dir, name), json.dumps(plan, indent= 2))",
        "the publish journal's `json.dumps(plan, indent=1)` -> `indent=2`: as #1, whitespace only",
    ),
    ("greedy/pipeline/publish.py", "core/NumberReplacer", 1): (
        "write_atomic(_journal(book_dir, name), json.dumps(plan, indent= 0))",
        "the publish journal's `json.dumps(plan, indent=1)` -> `indent=0`: only the whitespace between its items "
        "changes (one per line either way), and it is read back by json.loads alone",
    ),
}


def _work_items(module: str):
    from cosmic_ray.commands.init import _all_work_items

    return list(_all_work_items([Path(module)], {}))


def mutated_line(module: str, operator: str, occurrence: int) -> str | None:
    """The first line the mutant changes, as it reads mutated (stripped); None if the module has no such mutant."""
    from cosmic_ray.mutating import mutate_code
    from cosmic_ray.plugins import get_operator

    original = (ROOT / module).read_text()
    mutated = mutate_code(original, get_operator(operator)(), occurrence)
    if mutated is None:
        return None
    return next((b.strip() for a, b in zip(original.split("\n"), mutated.split("\n"), strict=False) if a != b), "")


def _equivalent(module: str, operator: str, occurrence: int) -> bool:
    """Listed in ``EQUIVALENT``, and still the mutant the entry describes: an occurrence is a count of the
    operator's sites in the module, so an edit above it can move the number onto another site."""
    entry = EQUIVALENT.get((module, operator, occurrence))
    return entry is not None and mutated_line(module, operator, occurrence) == entry[0]


def stale_equivalents(modules: list[str]) -> list[tuple[str, str, int]]:
    """The ``EQUIVALENT`` entries of these modules whose mutant no longer reads as the entry says."""
    return [key for key in EQUIVALENT if key[0] in modules and not _equivalent(*key)]


def _annotation_spans(module: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Where ``module``'s annotations stand, if it postpones their evaluation (``from __future__ import
    annotations``): a mutant there changes only a string Python never evaluates, so it is equivalent."""
    tree = ast.parse(Path(module).read_text())
    postponed = any(
        isinstance(node, ast.ImportFrom)
        and node.module == "__future__"
        and any(a.name == "annotations" for a in node.names)
        for node in tree.body
    )
    if not postponed:
        return []
    annotations = []
    for node in ast.walk(tree):
        if isinstance(node, ast.arg | ast.AnnAssign) and node.annotation is not None:
            annotations.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns is not None:
            annotations.append(node.returns)
    return [((a.lineno, a.col_offset), (a.end_lineno, a.end_col_offset)) for a in annotations]


def _in_annotation(mutation, spans: list) -> bool:
    return any(start <= tuple(mutation.start_pos) and tuple(mutation.end_pos) <= end for start, end in spans)


def _scratch_copy() -> Path:
    """The repository's tracked and new files in a temporary folder (mutations happen there)."""
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True
    ).stdout.split()
    scratch = Path(tempfile.mkdtemp(prefix="greedy-mutants-"))
    for name in files:
        if (ROOT / name).is_file():
            (scratch / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, scratch / name)
    return scratch


def _environment(scratch: Path, **extra: str) -> dict[str, str]:
    # The copy's greedy, not the installed working tree's; no bytecode files, which could outlive a
    # mutation written within the same second as the source they were compiled from.
    return {
        **os.environ,
        "PYTHONPATH": f"{scratch}{os.pathsep}{scratch / 'tests'}",
        "PYTHONDONTWRITEBYTECODE": "1",
    } | extra


def _tests_pass(tests: list[str], timeout: float, scratch: Path) -> bool:
    """Whether ``tests`` (files or node ids) pass in ``scratch``; running past ``timeout`` is failing."""
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-m", "not slow", *tests]
    process = subprocess.Popen(
        command,
        cwd=scratch,
        env=_environment(scratch),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a timeout kills the whole process group
    )
    try:
        return process.wait(timeout=timeout) == 0
    except subprocess.TimeoutExpired:
        return False
    finally:
        if process.poll() is None:  # timed out, or the run was stopped: the tests' whole group goes
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@dataclass
class CoverageMap:
    """Which tests reach each line of the mutated modules, from one run of their tests under coverage."""

    contexts: dict[str, dict[int, set[str]]]  # module -> line -> node ids (or shared fixtures' labels)
    fixture_users: dict[str, list[str]]
    seconds: dict[str, float]  # node id -> seconds it took

    def file_seconds(self, tests: list[str]) -> float:
        return sum(t for node, t in self.seconds.items() if node.split("::")[0] in tests)

    def reaching(self, module: str, first_line: int, last_line: int) -> list[str] | None:
        """The tests that ran any of these lines, quickest first (a mutant most often fails them all);
        None when a line ran at import (no test of its own) or coverage saw none of them run (a
        subprocess, say)."""
        found: set[str] = set()
        for line in range(first_line, last_line + 1):
            for label in self.contexts.get(module, {}).get(line, ()):
                if not label:
                    return None
                found.update(self.fixture_users.get(label, [label]) if label.startswith(FIXTURE_PREFIX) else [label])
        if not found:
            return None
        return sorted(found, key=lambda node: (self.seconds.get(node, float("inf")), node))


def _test_map(modules: list[str], scratch: Path, workers: int) -> CoverageMap:
    """Run every test the modules map to once, under coverage with a context per test, the test files
    shared out among ``workers`` processes; the unmutated code must pass them."""
    from coverage import CoverageData

    tests = sorted({t for m in modules for t in MODULES[m]}, key=lambda t: -(scratch / t).stat().st_size)
    groups = [tests[i::workers] for i in range(min(workers, len(tests)))]  # by size, a rough balance
    runs = []
    for i, group in enumerate(groups):
        rcfile = scratch / f".mutation-coveragerc-{i}"
        rcfile.write_text(f"[run]\ndata_file = {scratch}/.mutation-coverage-{i}\ninclude =\n    {scratch}/greedy/*\n")
        command = [sys.executable, "-m", "coverage", "run", f"--rcfile={rcfile}", "-m", "pytest", "-q"]
        command += ["-p", "no:cacheprovider", "-p", "mutation_contexts", "-m", "not slow", *group]
        facts = scratch / f".mutation-facts-{i}.json"
        environment = _environment(scratch, GREEDY_MUTATION_FACTS=str(facts))
        process = subprocess.Popen(command, cwd=scratch, env=environment, stdout=subprocess.PIPE, text=True)
        runs.append((group, process, facts))
    try:
        outputs = [process.communicate()[0] for _, process, _ in runs]
    finally:
        for _, process, _ in runs:  # a stopped run stops its tests too
            if process.poll() is None:
                process.kill()
                process.wait()
    contexts: dict[str, dict[int, set[str]]] = {module: {} for module in modules}
    fixture_users: dict[str, list[str]] = {}
    seconds: dict[str, float] = {}
    for i, ((group, process, facts), output) in enumerate(zip(runs, outputs, strict=True)):
        if process.returncode != 0:
            raise SystemExit(f"the tests of the unmutated code fail: {' '.join(group)}\n{output[-3000:]}")
        data = CoverageData(basename=f"{scratch}/.mutation-coverage-{i}")
        data.read()
        for module in modules:
            for line, labels in data.contexts_by_lineno(str(scratch / module)).items():
                contexts[module].setdefault(line, set()).update(labels)
        recorded = json.loads(facts.read_text())
        for label, users in recorded["fixture_users"].items():
            fixture_users.setdefault(label, []).extend(users)
        seconds.update(recorded["seconds"])
    return CoverageMap(contexts, fixture_users, seconds)


@dataclass(frozen=True)
class Job:
    module: str
    operator: str
    occurrence: int
    reaching: list[str] | None  # the tests that ran the mutated lines; None: run all the module's tests
    timeout: float


_worker_scratch: Path | None = None


def _take_scratch(scratches) -> None:
    global _worker_scratch
    _worker_scratch = Path(scratches.get())


def _try(job: Job) -> tuple[str, str]:
    """('killed' | 'survived' | 'none', the diff) for one mutant, in this worker's copy. The tests that
    reach the mutated lines run first, since they fail soonest; a mutant they miss runs all the tests
    the module maps to, so the verdict is theirs."""
    from cosmic_ray.mutating import use_mutation
    from cosmic_ray.plugins import get_operator

    scratch = _worker_scratch
    with use_mutation(scratch / job.module, get_operator(job.operator)(), job.occurrence) as (original, mutated):
        if mutated is None:
            return "none", ""
        diff = "\n".join(
            difflib.unified_diff(
                original.split("\n"), mutated.split("\n"), f"a/{job.module}", f"b/{job.module}", lineterm="", n=1
            )
        )
        if job.reaching and not _tests_pass(job.reaching, job.timeout, scratch):
            return "killed", diff
        return ("survived" if _tests_pass(MODULES[job.module], job.timeout, scratch) else "killed"), diff


def _jobs(module: str, sample: int, seed: int, test_map: CoverageMap) -> tuple[list[Job], int]:
    """The module's mutants to run (a sample seeded by ``seed`` and the module's name, so that a module's
    sample is the same whichever other modules run) and how many it has in all."""
    items = _work_items(module)
    rng = random.Random(f"{seed}:{module}")
    chosen = items if not sample or sample >= len(items) else rng.sample(items, sample)
    own_seconds = test_map.file_seconds(MODULES[module])
    spans = _annotation_spans(module)
    jobs = []
    for item in chosen:
        [mutation] = item.mutations
        if _equivalent(module, mutation.operator_name, mutation.occurrence) or _in_annotation(mutation, spans):
            continue
        reaching = test_map.reaching(module, mutation.start_pos[0], mutation.end_pos[0])
        seconds = max(own_seconds, sum(test_map.seconds.get(node, 0.0) for node in reaching or []))
        # Tests run alone pay for compiling what other tests had compiled, and share the machine; an
        # endless loop is what a timeout is for, and each one costs the whole timeout.
        timeout = 3 * (seconds + 30) + 60
        jobs.append(Job(module, mutation.operator_name, mutation.occurrence, reaching, timeout))
    return jobs, len(items)


def stop_on_sigterm() -> None:
    """Make SIGTERM exit through SystemExit, so that a stopped run's ``finally`` blocks run: its scratch
    copies go, and its tests are stopped (workers inherit the handler)."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=10, help="mutants per module (0: all)")
    parser.add_argument("--seed", type=int, default=0, help="the sample's seed")
    parser.add_argument("--module", action="append", choices=sorted(MODULES), help="only these modules")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="mutants tested at once")
    parser.add_argument("--fail-under", type=float, default=0.0, help="exit 1 if a module's score is lower")
    args = parser.parse_args(argv)
    if args.sample < 0:
        parser.error(f"--sample must be >= 0, got {args.sample}")
    if args.workers < 1:
        parser.error(f"--workers must be >= 1, got {args.workers}")
    modules = args.module or list(MODULES)
    stop_on_sigterm()
    start = time.perf_counter()
    for module, operator, occurrence in stale_equivalents(modules):
        print(
            f"EQUIVALENT entry {module}: {operator} #{occurrence} no longer reads as listed "
            f"({mutated_line(module, operator, occurrence)!r}): its mutant runs and counts until the entry is updated",
            flush=True,
        )
    scratches = [_scratch_copy() for _ in range(args.workers)]
    try:
        test_map = _test_map(modules, scratches[0], args.workers)
        print(f"tests run once under coverage to map lines to tests: {time.perf_counter() - start:.0f} s", flush=True)
        with (
            multiprocessing.Manager() as manager,
            ProcessPoolExecutor(args.workers, initializer=_take_scratch, initargs=(queue := manager.Queue(),)) as pool,
        ):
            for scratch in scratches:
                queue.put(str(scratch))
            planned = {module: _jobs(module, args.sample, args.seed, test_map) for module in modules}
            futures = {module: [pool.submit(_try, job) for job in jobs] for module, (jobs, _) in planned.items()}
            try:
                worst = _report(modules, planned, futures, args)
            except BaseException:
                # Stopped: drop the queued mutants and stop the running ones (the workers inherit the SIGTERM
                # handler, and _tests_pass kills the tests of a stopped worker), rather than wait for them all.
                pool.shutdown(wait=False, cancel_futures=True)
                for child in multiprocessing.active_children():
                    child.terminate()
                raise
    finally:
        for scratch in scratches:
            shutil.rmtree(scratch, ignore_errors=True)
    print(f"{time.perf_counter() - start:.0f} s on {args.workers} worker(s)", flush=True)
    return 1 if worst < args.fail_under else 0


def _report(modules: list[str], planned: dict, futures: dict, args: argparse.Namespace) -> float:
    """Print each module's score and survivors as its mutants finish; the lowest score."""
    worst = 100.0
    for module in modules:
        results = [future.result() for future in futures[module]]
        counted = [(outcome, diff) for outcome, diff in results if outcome != "none"]
        killed = sum(outcome == "killed" for outcome, _ in counted)
        score = 100.0 * killed / len(counted) if counted else 100.0
        worst = min(worst, score)
        total = planned[module][1]
        ran = "all" if not args.sample or args.sample >= total else f"a sample (seed {args.seed}) of"
        print(f"{module}: {killed}/{len(counted)} killed ({score:.0f}%), {ran} {total} mutants", flush=True)
        for (outcome, diff), job in zip(results, planned[module][0], strict=True):
            if outcome == "survived":
                print(f"  survived: {module}: {job.operator} #{job.occurrence}\n{diff}", flush=True)
    return worst


if __name__ == "__main__":
    sys.exit(main())
