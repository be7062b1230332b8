#!/usr/bin/env python3
"""Each Lambda handler's cold import vs ``import boto3; boto3.client("dynamodb")``, in fresh processes.

Every run is a new Python process that imports one handler the way Lambda does (``functions/<name>``
first on sys.path, then ``import app``) and reports the time the import took; the baseline process
does ``import boto3; boto3.client("dynamodb")``. Rounds run every target once, in a shuffled order,
and the medians are compared.

"Import + first event" goes on to handle one real event against DynamoDB Local in the same process
(the webhook: a callback; the events function: a direct invoke): that is the cold start a caller
waits for, with the first client, connection, schema and validator made. Its baseline goes on to
make the same two requests with boto3 (the bare loop of bench/throughput.py). The stream and
orchestrator functions are measured on import only: their first event calls EventBridge, Step
Functions or a launcher, which are not here.

The layer does not ship aws-xray-sdk (Lambda's Python runtime has no X-Ray SDK either), so the
processes run as if it were absent (``sys.modules["aws_xray_sdk"] = None``): the test environment
has it, through moto, and Powertools' Tracer would import it. One extra line shows what installing it
would cost.

    .venv/bin/python bench/cold_import.py [--short] [--rounds 15] [--explain]

Goal (issue 6): each handler's cold import <= 1.3 x the baseline (a timing goal: a miss fails a full
run, not a ``--short`` one unless BENCH_STRICT_TIMING=1).
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import benchkit

GOAL = 1.3
FUNCTIONS = benchkit.ROOT / "functions"
BASELINE = "baseline"
#: The sample event each handler's first event is made from (None: measured on import only).
FIRST_EVENTS = {"webhook": "callback-json", "events": "direct", "stream": None, "orchestrator": None}

#: The child process. Its argument is a JSON task: what to import, and the first event (if any).
CHILD = r"""
import json, sys, time
task = json.loads(sys.argv[1])
if not task["xray"]:
    sys.modules["aws_xray_sdk"] = None  # not in the layer, not in Lambda's runtime
if task["function"]:
    sys.path.insert(0, task["function"])
started = time.perf_counter()
if task["function"]:
    import app
else:
    import boto3
    client = boto3.client("dynamodb")
imported = time.perf_counter()
first = None
if task["event"] is not None:
    if task["function"]:
        from types import SimpleNamespace
        context = SimpleNamespace(function_name="cold", function_version="$LATEST", memory_limit_in_mb=256,
                                  invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:cold",
                                  aws_request_id="cold-start", get_remaining_time_in_millis=lambda: 30000)
        began = time.perf_counter()
        answer = app.handler(task["event"], context)
        first = time.perf_counter() - began
        assert answer["statusCode"] == 200, answer
    else:
        sys.path.insert(0, task["bench"])
        import benchkit
        began = time.perf_counter()
        benchkit.BareLoop(client, task["table"], task["event"]["uuid"]).event(0)
        first = time.perf_counter() - began
print(json.dumps({"import": imported - started, "first": first}))
"""


@dataclass(frozen=True)
class Target:
    label: str
    function: str | None  # functions/<name>, or None for the baseline
    first_event: str | None = None
    xray: bool = False


def targets(with_xray: bool) -> list[Target]:
    found = [Target(BASELINE, None, "bare")]
    for name in sorted(p.parent.name for p in FUNCTIONS.glob("*/app.py")):
        found.append(Target(name, name, FIRST_EVENTS.get(name)))
    if with_xray:
        found.append(Target("events, with aws-xray-sdk", "events", None, xray=True))
    return found


def run(target: Target, event: dict | None) -> dict[str, float]:
    task = {"function": str(FUNCTIONS / target.function) if target.function else None, "event": event,
            "xray": target.xray, "bench": str(Path(__file__).parent), "table": os.environ["PIPELINEJOBS_TABLE"]}
    env = {**os.environ, "POWERTOOLS_LOG_LEVEL": "WARNING"}
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(task)], capture_output=True, text=True,
                          env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{target.label}: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def first_event(target: Target) -> dict | None:
    """A fresh job's first event for ``target``, or None: each run must apply a new event, not a duplicate."""
    if target.first_event is None:
        return None
    from frontdoors import sample

    from support import new_job

    job = new_job("cold-start", {"run": random.random()})
    if target.function is None:
        return {"uuid": job.uuid}
    return sample(target.function, target.first_event, job.uuid, job.token)


def explain(target: Target) -> list[tuple[str, float]]:
    """Self time of the import by top-level package (``python -X importtime``), largest first."""
    folder = str(FUNCTIONS / target.function)
    code = f"import sys; sys.modules['aws_xray_sdk'] = None; sys.path.insert(0, {folder!r}); import app"
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, check=True)
    by_package: dict[str, float] = defaultdict(float)
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line and "self [us]" not in line:
            self_us, _, name = (part.strip() for part in line.removeprefix("import time:").split("|"))
            by_package[name.split(".")[0]] += int(self_us) / 1000
    return sorted(by_package.items(), key=lambda kv: -kv[1])


def main() -> int:
    cli = benchkit.parser(__doc__)
    cli.add_argument("--rounds", type=int, help="fresh processes per target (default 15; 7 with --short)")
    cli.add_argument("--explain", action="store_true", help="also print where each handler's import time goes")
    args = cli.parse_args()
    rounds = args.rounds or (7 if args.short else 15)
    benchkit.tests_on_path()
    shuffle = random.Random(6)
    with_xray = subprocess.run([sys.executable, "-c", "import aws_xray_sdk"], capture_output=True).returncode == 0
    measured: dict[str, list[dict[str, float]]] = defaultdict(list)

    with benchkit.dynamodb(args.endpoint, warm_up=benchkit.WARM_UP_REQUESTS):
        all_targets = targets(with_xray)
        for _ in range(rounds):
            for target in shuffle.sample(all_targets, len(all_targets)):
                measured[target.label].append(run(target, first_event(target)))

    def median(label: str, key: str) -> float:
        return statistics.median(r[key] for r in measured[label]) * 1000

    base_import = median(BASELINE, "import")
    base_cold = base_import + median(BASELINE, "first")
    print(f"\n{rounds} fresh processes per target; medians in ms (baseline: import boto3; boto3.client('dynamodb'),"
          f" then its first event = a GetItem and a TransactWriteItems)")
    print(f"{'target':<28} {'import':>8} {'x base':>7} {'import+1st event':>17} {'x base':>7}")
    for target in all_targets:
        imported = median(target.label, "import")
        cold = imported + median(target.label, "first") if target.first_event else None
        print(f"{target.label:<28} {imported:>8.1f} {imported / base_import:>7.2f} "
              + (f"{cold:>17.1f} {cold / base_cold:>7.2f}" if cold else f"{'-':>17} {'-':>7}"))
    verdicts = benchkit.Verdicts(args.short)
    for target in all_targets:
        if target.function and not target.xray:
            ratio = median(target.label, "import") / base_import
            verdicts.timing(f"cold import, {target.label} / baseline", f"{ratio:.2f}", f"<= {GOAL}", ratio <= GOAL)
    if args.explain:
        for target in all_targets:
            if target.function and not target.xray:
                top = ", ".join(f"{name} {ms:.0f}" for name, ms in explain(target)[:10])
                print(f"where {target.label}'s import goes (self ms by package): {top}")
    return verdicts.exit_status()


if __name__ == "__main__":
    sys.exit(main())
