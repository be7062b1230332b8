#!/usr/bin/env python3
"""What one engine event costs, in a run of 10 tasks and in one of 1,000, on Amazon DynamoDB Local.

A Snakemake run of N tasks in the shape of a scatter-gather: one root task (``split``) writes a file, N - 2
tasks (``work``, one per wildcard) each read it and write their own, and one task (``merge``) reads all of
theirs. Each task's messages are the panoptes plugin's (built as the captures in
``events/engines/snakemake/`` are): ``job_started``, ``job_info`` (its rule, wildcards, input and output:
the job is created, its parents found from its inputs), ``job_finished``, then ``progress``. Each message is
what one ``POST .../update_workflow_status`` hands the tracker: the real adapter (``engines.snakemake.events``)
then ``engines.tracker.apply``, in this process, one message after another, as the door would.

Figures, per message kind: DynamoDB requests, and the capacity they consumed (every request asked for
``ReturnConsumedCapacity=TOTAL`` by a botocore hook: the tracker's own client and the store's), over the
ordinary tasks (``work``: N - 2 of them, each reading one input), and apart for ``split`` (the first task
of the run and of its node) and ``merge`` (a fan-in reads N - 2 ``OUT#`` items, in BatchGetItems of 100,
draws its edges and creates a job with N - 2 parents: its cost grows with its inputs by design), and the
run's end (``workflow_success``: the workflow and its nodes read in one Query, whatever the tasks).

Goal (a count goal, benchkit.Verdicts): an ordinary task's events cost the same in the large run as in
the small one: requests, WCU and RCU per message of each kind, large / small, within 5% of 1. Events/s (all
the run's messages over its wall time) is a figure, not a goal: it is the machine's and DynamoDB Local's.

    .venv/bin/python bench/engine_events.py [--short] [--sizes 10 1000]

Full: N = 10 and 1,000; ``--short`` (CI): 10 and 200 (about a minute on a quiet 2-core machine).
"""

from __future__ import annotations

import json
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import benchkit

GOAL = 0.05
ENGINE = "snakemake"
#: The messages of one task, in the order Snakemake's panoptes plugin sends them.
KINDS = ("job_started", "job_info", "job_finished", "progress")
#: The run's three nodes: the root, the ordinary (fanned-out) tasks, the fan-in.
ROOT, WORK, MERGE = "split", "work", "merge"


def form(run_id: str, msg: dict[str, Any]) -> dict[str, str]:
    """One ``update_workflow_status`` form, as the plugin posts it (``msg`` a JSON string)."""
    return {"msg": json.dumps(msg), "timestamp": "Thu Nov 26 03:56:28 2026", "id": run_id}


def tasks(size: int) -> Iterator[tuple[str, int, list[str], list[str], dict[str, str]]]:
    """(rule, jobid, input, output, wildcards) of each task of a run of ``size``, in an order Snakemake may run
    them: the root first, the fan-in last."""
    shards = [f"work/{n:06d}.txt" for n in range(size - 2)]
    yield ROOT, size - 1, [], ["split.txt"], {}
    for n, path in enumerate(shards):
        yield WORK, n + 1, ["split.txt"], [path], {"n": str(n)}
    yield MERGE, 0, shards, ["merged.txt"], {}


def messages(run_id: str, size: int) -> Iterator[tuple[str, str, dict[str, str]]]:
    """(rule, kind, form) of every message of the run's tasks, task by task."""
    for done, (rule, jobid, inputs, outputs, wildcards) in enumerate(tasks(size), start=1):
        yield rule, "job_started", form(run_id, {"level": "job_started", "jobs": [jobid]})
        yield rule, "job_info", form(run_id, {
            "level": "job_info", "jobid": jobid, "name": rule, "msg": None, "input": inputs, "output": outputs,
            "log": [], "wildcards": wildcards, "is_checkpoint": False, "shellcmd": f"make {' '.join(outputs)}",
            "threads": 1, "priority": 0, "reason": "Missing output files", "resources": {"tmpdir": "/tmp"}})
        yield rule, "job_finished", form(run_id, {"level": "job_finished", "jobid": jobid})
        yield rule, "progress", form(run_id, {"level": "progress", "done": done, "total": size})


class CapacityMeter(benchkit.Meter):
    """A Meter that also has every request it listens to ask for its consumed capacity (the tracker's requests
    do not: nothing reads it in production)."""

    def listen(self, *clients: Any) -> CapacityMeter:
        for client in {id(c): c for c in clients}.values():
            client.meta.events.register("before-parameter-build.dynamodb", self._ask_capacity)
        super().listen(*clients)
        return self

    @staticmethod
    def _ask_capacity(params: dict[str, Any], model: Any, **_: Any) -> None:
        if "ReturnConsumedCapacity" in model.input_shape.members:
            params.setdefault("ReturnConsumedCapacity", "TOTAL")


@dataclass
class Cost:
    """Requests and capacity of some messages of one kind."""

    messages: int = 0
    requests: int = 0
    wcu: float = 0.0
    rcu: float = 0.0
    by_operation: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def per_message(self) -> tuple[float, float, float]:
        return self.requests / self.messages, self.wcu / self.messages, self.rcu / self.messages


@dataclass
class Result:
    size: int
    costs: dict[tuple[str, str], Cost]
    seconds: float
    messages: int
    summary: dict[str, Any]
    #: (requests, WCU, RCU) of the run's end (``workflow_success``: the workflow and its nodes in one Query).
    end: tuple[int, float, float]

    def task(self, rule: str) -> tuple[float, float, float]:
        """Per task of ``rule``: requests, WCU, RCU over all its messages."""
        costs = [self.costs[rule, kind] for kind in KINDS]
        tasks = costs[0].messages
        return (sum(c.requests for c in costs) / tasks, sum(c.wcu for c in costs) / tasks,
                sum(c.rcu for c in costs) / tasks)


def run(size: int, pipeline: Any, meter: CapacityMeter) -> Result:
    """One run of ``size`` tasks through the adapter and the tracker, every message metered."""
    import pipelinejobs as pj
    from pipelinejobs.engines import snakemake, tracker

    config = pj.Config.from_env()
    name = f"bench-{size}-{time.monotonic_ns() % 10**8}"
    session = time.time_ns() // 1_000_000
    # What create_workflow does: the run (a new session of it) starts.
    tracker.apply([snakemake.started(name, session, name)], pipeline, source=ENGINE, config=config)
    run_id = snakemake.workflow_id(name, session)
    costs: dict[tuple[str, str], Cost] = defaultdict(Cost)
    started, count = time.perf_counter(), 0
    for rule, kind, message in messages(run_id, size):
        before = dict(meter.requests)
        requests0, wcu0, rcu0 = meter.snapshot()
        tracker.apply(snakemake.events(message), pipeline, source=ENGINE, config=config)
        requests1, wcu1, rcu1 = meter.snapshot()
        cost = costs[rule, kind]
        cost.messages += 1
        cost.requests += requests1 - requests0
        cost.wcu += wcu1 - wcu0
        cost.rcu += rcu1 - rcu0
        for operation, n in meter.requests.items():
            if n - before.get(operation, 0):
                cost.by_operation[operation] += n - before.get(operation, 0)
        count += 1
    seconds = time.perf_counter() - started
    before = meter.snapshot()
    summary = tracker.apply(snakemake.events(form(run_id, {"level": "workflow_success"})), pipeline, source=ENGINE,
                            config=config)
    end = tuple(after - was for after, was in zip(meter.snapshot(), before, strict=True))
    return Result(size=size, costs=dict(costs), seconds=seconds, messages=count, summary=summary, end=end)


def check(result: Result) -> list[str]:
    """What is wrong with the run's outcome, as the tracker left it (nothing, if it tracked every task)."""
    import pipelinejobs as pj
    from pipelinejobs import workflows

    problems = []
    workflow = workflows.get(result.summary["workflow"])
    if workflow.state != "FINISHED":
        problems.append(f"workflow {workflow.state}")
    jobs = {node: len(uuids) for node, uuids in workflow.jobs.items()}
    if jobs != {ROOT: 1, WORK: result.size - 2, MERGE: 1}:
        problems.append(f"jobs by node {jobs}")
    [merge] = workflow.jobs.get(MERGE) or [None]
    job = pj.get_job(merge) if merge else None
    if job is None or job.state != "FINISHED" or len(job.parents) != result.size - 2:
        problems.append(f"merge job {job and job.state}, {job and len(job.parents)} parents")
    return problems


def main() -> int:
    cli = benchkit.parser(__doc__)
    cli.add_argument("--sizes", type=int, nargs=2, metavar=("SMALL", "LARGE"),
                     help="tasks in the small and the large run (default: 10 1000; short: 10 200)")
    args = cli.parse_args()
    small, large = args.sizes or ((10, 200) if args.short else (10, 1000))
    if small < 3:
        cli.error("--sizes: a run needs at least 3 tasks (a root, one ordinary task, the fan-in)")
    with benchkit.dynamodb(args.endpoint) as endpoint:
        import pipelinejobs as pj
        from pipelinejobs import clients, observability

        observability.logger().setLevel("WARNING")  # no log line per event, thousands of times
        config = pj.Config.from_env()
        pipeline = pj.register_pipeline("bench-engine-events")
        meter = CapacityMeter().listen(*benchkit.store_clients(), clients.client(
            "dynamodb", region=config.region, endpoint_url=config.endpoint_url))
        print(f"DynamoDB at {endpoint}; Snakemake runs of {small} and {large} tasks ...", flush=True)
        with benchkit.quiet_stdout():
            results = [run(size, pipeline, meter) for size in (small, large)]
        problems = {result.size: check(result) for result in results}
    report(results)
    verdicts = benchkit.Verdicts(args.short)
    for result in results:
        verdicts.count(f"run of {result.size}: every task tracked, the run FINISHED",
                       "; ".join(problems[result.size]) or "yes", "yes", not problems[result.size])
    low, high = results
    for kind in KINDS:
        a, b = low.costs[WORK, kind].per_message(), high.costs[WORK, kind].per_message()
        ratios = [y / x if x else (1.0 if y == x else float("inf")) for x, y in zip(a, b, strict=True)]
        verdicts.count(f"{WORK} task's {kind}: requests, WCU, RCU per message, {high.size} / {low.size} tasks",
                       ", ".join(f"{r:.3f}" for r in ratios), f"each within {GOAL:.0%} of 1",
                       all(abs(r - 1) <= GOAL for r in ratios))
    return verdicts.exit_status()


def report(results: list[Result]) -> None:
    print(f"\n{'tasks':>6} {'node':>6} {'message':>13} {'messages':>9} {'requests/msg':>13} {'WCU/msg':>9} "
          f"{'RCU/msg':>9}  requests by operation (per message)")
    for result in results:
        for rule in (ROOT, WORK, MERGE):
            for kind in KINDS:
                cost = result.costs[rule, kind]
                requests, wcu, rcu = cost.per_message()
                operations = ", ".join(f"{op} {n / cost.messages:.2f}".rstrip("0").rstrip(".")
                                       for op, n in sorted(cost.by_operation.items()))
                print(f"{result.size:>6} {rule:>6} {kind:>13} {cost.messages:>9} {requests:>13.2f} {wcu:>9.2f} "
                      f"{rcu:>9.2f}  {operations}")
    for result in results:
        per_task = {rule: result.task(rule) for rule in (ROOT, WORK, MERGE)}
        print(f"run of {result.size}: per task (its 4 messages) requests / WCU / RCU: "
              + "; ".join(f"{rule} {r:.1f} / {w:.1f} / {c:.1f}" for rule, (r, w, c) in per_task.items())
              + f". {result.messages} messages in {result.seconds:.1f} s: {result.messages / result.seconds:.1f} "
              "events/s (a figure, not a goal)")
        print(f"run of {result.size}: its end (workflow_success): {result.end[0]} requests, {result.end[1]:.1f} WCU, "
              f"{result.end[2]:.1f} RCU")


if __name__ == "__main__":
    sys.exit(main())
