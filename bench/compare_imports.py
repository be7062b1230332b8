#!/usr/bin/env python3
"""Each Lambda handler's cold import in this tree vs another checkout (a base commit), paired in every round.

``cold_import.py`` compares a handler with ``import boto3`` in one tree; two of its runs, one per commit, meet
different loads on a shared machine (its ratios moved 1.02-1.50 for one handler across three runs within an
hour). Here both trees are measured side by side: each round runs every handler of both in fresh processes, in
a shuffled order, the base tree's package first on ``PYTHONPATH``; the verdict is the median of the per-round
ratios (this tree / base), which a burst of load from elsewhere sways less than a median of either side.

    git worktree add /tmp/base <commit>     # or a clone at the base commit
    .venv/bin/python bench/compare_imports.py --base /tmp/base [--short] [--rounds 20]

Without ``--base`` (as ``scripts/bench-short`` runs it) the tree is compared with itself: the ratios are then the
pairing's own noise on this machine, the margin within which a comparison of two commits says nothing.
Informational (no goal): the goal is ``cold_import.py``'s, against boto3.
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
from pathlib import Path

import benchkit

FUNCTIONS = ("events", "webhook", "stream", "orchestrator", "sweep", "workflows")
#: The child: import the handler as Lambda does (its folder first on sys.path), without aws-xray-sdk (not in the
#: layer), and print the seconds it took.
CHILD = ("import sys, time; sys.modules['aws_xray_sdk'] = None; sys.path.insert(0, sys.argv[1]); "
         "started = time.perf_counter(); import app; print(time.perf_counter() - started)")


def import_ms(root: Path, function: str) -> float:
    env = {**os.environ, "POWERTOOLS_LOG_LEVEL": "WARNING", "PIPELINEJOBS_TABLE": "bench",
           "PYTHONPATH": str(root / "layers" / "pipelinejobs")}
    answer = subprocess.run([sys.executable, "-c", CHILD, str(root / "functions" / function)], capture_output=True,
                            text=True, env=env, cwd="/", check=True)
    return float(answer.stdout.split()[-1]) * 1000


def main() -> None:
    cli = benchkit.parser(__doc__)
    cli.add_argument("--base", type=Path, default=benchkit.ROOT,
                     help="the other checkout (its functions/ and layers/); default: this one (the noise)")
    cli.add_argument("--rounds", type=int, help="fresh processes per handler and tree (default 20; 7 with --short)")
    args = cli.parse_args()
    rounds = args.rounds or (7 if args.short else 20)
    trees = {"base": args.base.resolve(), "this": benchkit.ROOT}
    functions = [f for f in FUNCTIONS if all((root / "functions" / f / "app.py").is_file() for root in trees.values())]
    times: dict[tuple[str, str], list[float]] = {(f, tree): [] for f in functions for tree in trees}
    for _ in range(rounds):
        order = list(times)
        random.shuffle(order)
        for function, tree in order:
            times[function, tree].append(import_ms(trees[tree], function))
    print(f"{rounds} rounds; median import in ms; base {trees['base']}")
    print(f"{'handler':13s} {'base':>8s} {'this':>8s}  this/base (median of per-round ratios)")
    for f in functions:
        base, this = times[f, "base"], times[f, "this"]
        ratio = statistics.median(t / b for b, t in zip(base, this, strict=True))
        print(f"{f:13s} {statistics.median(base):8.1f} {statistics.median(this):8.1f}  {ratio:.3f}")


if __name__ == "__main__":
    main()
