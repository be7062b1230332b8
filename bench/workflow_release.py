"""Workflow release: what releasing one job costs, and how long it takes, at every fan-out size.

A workflow ``root -> fan (each over N items) -> gather`` runs on Amazon DynamoDB Local (the real engine and
its real stream). The release consumer (``pipelinejobs.workflows.release``, the WorkflowsFunction) is fed by
the local stack's stream poller with the template's own filter and batch size, in this process, as Lambda's
poller would. Step Functions is a recorder: the consumer's ``StartExecution`` calls are counted and timed,
no execution runs (a run's events are sent by this script, as the orchestrator would: ``run`` then
``finish`` with outputs).

Three phases per size, each waited for before the next:

1. *fan-out*: ``root`` finishes; the consumer releases ``fan``'s N jobs (a slot and a queue item each, a place,
   the job created with its data resolved, its run claimed and started);
2. *fan-in*: all N ``fan`` jobs finish (8 threads); the consumer counts them and releases ``gather``, whose
   data is the list of the N outputs;
3. ``gather`` finishes; the workflow ends FINISHED.

Figures, per size: DynamoDB requests the consumer made per released job (every request of the consumer's
threads: reads, writes, transactions; stream reads apart) and Step Functions calls per released job; the
release latency from a parent's ``finish`` commit to each dependent's StartExecution (p50, p99: for a
fan-out, the N jobs are released one after another, so this grows with N; the fan-in's one figure does
not); and the counters (``workflows.get``: one Query) against a count of the jobs' own states.

Goals: count goals (benchkit.Verdicts): one StartExecution per released job, exactly; DynamoDB requests per
released job the same at every size (the largest over the smallest within 10%); the counters equal to the
jobs' count; in the redelivery run (every stream batch handed to the consumer twice, as Lambda may), the
same counters and still one execution per job (a record handled twice at once may call StartExecution
twice for one run: the second call finds the execution, and is reported, not failed). Latency is reported,
with no goal: it is the machine's and DynamoDB Local's (~10 ms of CPU per transaction on the same 2 cores).

    .venv/bin/python bench/workflow_release.py [--short] [--sizes 100 1000 10000]

Full: 100, 1,000 and 10,000; ``--short``: 10 and 50 (CI's: ~1 min on a quiet machine; the release runs at a
few jobs per second against DynamoDB Local on 2 cores, so 1,000 takes minutes). The redelivery run is at the
smallest size.
"""

from __future__ import annotations

import collections
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import benchkit
import boto3
from botocore.client import BaseClient

import pipelinejobs
from pipelinejobs import observability, workflows
from pipelinejobs.local.pollers import StreamPoller
from pipelinejobs.orchestration import launch
from pipelinejobs.service import handle_event
from pipelinejobs.storage.tables import load_template
from pipelinejobs.workflows import release

MAPPING = "WorkflowsFunctionTableStream"
STATE_MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:pipelinejobs-bench-job"
#: Threads of this script (they send the runs' events): their requests are not the consumer's.
BENCH_THREAD = "bench"
TIMEOUT_S = 1800.0


class ExecutionAlreadyExists(Exception):
    pass


class StepFunctions:
    """Stands in for the Step Functions client: records each StartExecution (name, time); a name started
    before is refused, as Step Functions refuses a name it has seen."""

    class exceptions:  # botocore spelling
        ExecutionAlreadyExists = ExecutionAlreadyExists
        ExecutionDoesNotExist = LookupError

    def __init__(self) -> None:
        self.started: dict[str, float] = {}
        #: The same moments by job (an execution's name is ``<job>-<run>``): read while the consumer writes.
        self.started_jobs: dict[str, float] = {}
        self.calls: collections.Counter[str] = collections.Counter()
        self.lock = threading.Lock()

    def start_execution(self, stateMachineArn: str, name: str, input: str) -> dict[str, Any]:
        with self.lock:
            self.calls["StartExecution"] += 1
            if name in self.started:
                raise ExecutionAlreadyExists(name)
            self.started[name] = time.monotonic()
            self.started_jobs.setdefault(name.rpartition("-")[0], self.started[name])
        return {"executionArn": stateMachineArn.replace(":stateMachine:", ":execution:") + f":{name}"}

    def stop_execution(self, **_: Any) -> dict[str, Any]:
        with self.lock:
            self.calls["StopExecution"] += 1
        return {}

    def start_of(self, job: str) -> float | None:
        """When ``job``'s first execution was started."""
        with self.lock:
            return self.started_jobs.get(job)


class ConsumerMeter:
    """Counts the AWS requests made by every thread but this script's: the poller's and the consumer's own
    pool (a released node writes its slots on 8 threads)."""

    def __init__(self) -> None:
        self.requests: collections.Counter[str] = collections.Counter()
        self.lock = threading.Lock()
        self._real = BaseClient._make_api_call

    @contextmanager
    def listening(self) -> Iterator[ConsumerMeter]:
        real, meter = self._real, self

        def counted(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
            if not threading.current_thread().name.startswith((BENCH_THREAD, "MainThread")):
                with meter.lock:
                    meter.requests[f"{client.meta.service_model.service_name}:{operation}"] += 1
            return real(client, operation, params)

        BaseClient._make_api_call = counted
        try:
            yield self
        finally:
            BaseClient._make_api_call = real

    def dynamodb(self) -> int:
        return sum(n for name, n in self.requests.items() if name.startswith("dynamodb:"))


@dataclass
class Result:
    size: int
    released: int
    dynamodb_requests: int
    stepfunctions_calls: int
    started_jobs: int
    fan_out_latency: list[float]
    fan_in_latency: float
    fan_out_seconds: float
    counters: dict[str, int]
    counted: dict[str, int]
    state: str
    requests: dict[str, int] = field(default_factory=dict)

    @property
    def dynamodb_per_job(self) -> float:
        return self.dynamodb_requests / self.released

    @property
    def stepfunctions_per_job(self) -> float:
        return self.stepfunctions_calls / self.released


def finish(job: str, outputs: dict[str, Any]) -> float:
    """Play the job's run to its end (``run``, then ``finish`` with outputs); when the finish committed."""
    handle_event({"uuid": job, "event": "run", "data": {"bench": True}}, trusted=True, source="bench")
    handle_event({"uuid": job, "event": "finish", "data": {"outputs": outputs}}, trusted=True, source="bench")
    return time.monotonic()


def wait(predicate: Callable[[], Any], what: str, timeout: float = TIMEOUT_S) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.02)
    return value


def poller(endpoint: str, function: Callable[[Any], Any]) -> StreamPoller:
    """The WorkflowsFunction's event source mapping, as the local stack runs it."""
    mapping = load_template()["Resources"][MAPPING]["Properties"]
    table = os.environ["PIPELINEJOBS_TABLE"]
    stream_arn = boto3.client("dynamodb", endpoint_url=endpoint).describe_table(TableName=table)["Table"][
        "LatestStreamArn"]
    return StreamPoller(boto3.client("dynamodbstreams", endpoint_url=endpoint), stream_arn, function,
                        batch_size=mapping["BatchSize"], starting_position="LATEST",
                        filters=[f["Pattern"] for f in mapping["FilterCriteria"]["Filters"]],
                        reports_failures=True, max_retries=mapping["MaximumRetryAttempts"])


def run(size: int, endpoint: str, redeliver: bool = False) -> Result:
    """One workflow of a fan-out of ``size``, through the three phases (see the module doc)."""
    sfn = StepFunctions()
    launch.client = lambda service, **kw: sfn if service == "stepfunctions" else real_client(service, **kw)
    tag = f"{size}-{time.monotonic_ns() % 10**8}"
    for name in ("root", "fan", "gather"):
        pipelinejobs.register_pipeline(f"bench-{name}-{tag}", task={"launcher": "external"})

    def consume(event: dict[str, Any]) -> dict[str, Any]:
        answer = release.process(event["Records"])
        if redeliver and not answer["batchItemFailures"]:
            answer = release.process(event["Records"])  # the same batch again: Lambda may hand it over twice
        return answer

    meter = ConsumerMeter()
    stream = poller(endpoint, consume)
    stream.idle_s = 0.05
    with meter.listening():
        stream.start()
        try:
            workflow = workflows.submit({"name": f"bench-{tag}", "inputs": {"items": list(range(size))}, "jobs": {
                "root": {"pipeline": f"bench-root-{tag}", "data": {"size": size}},
                "fan": {"pipeline": f"bench-fan-{tag}", "after": ["root"], "each": "${inputs.items}",
                        "data": {"item": "${item}", "root": "${root.outputs.id}"}},
                "gather": {"pipeline": f"bench-gather-{tag}", "after": ["fan"],
                           "data": {"values": "${fan.outputs.value}"}},
            }})
            [root] = wait(lambda: workflows.get(workflow.uuid).jobs["root"], "root's release")
            wait(lambda: sfn.start_of(root), "root's start")
            committed = finish(root, {"id": root})
            fans = wait(lambda: (w := workflows.get(workflow.uuid).jobs["fan"]) and len(w) == size and w,
                        "the fan-out's jobs")
            wait(lambda: all(sfn.start_of(job) for job in fans), "the fan-out's starts")
            fan_out = [sfn.start_of(job) - committed for job in fans]
            with ThreadPoolExecutor(8, thread_name_prefix=BENCH_THREAD) as pool:
                last = max(pool.map(lambda pair: finish(pair[1], {"value": pair[0]}), enumerate(fans)))
            [gather] = wait(lambda: workflows.get(workflow.uuid).jobs["gather"], "gather's release")
            fan_in = wait(lambda: sfn.start_of(gather), "gather's start") - last
            finish(gather, {"total": size})
            ended = wait(lambda: (w := workflows.get(workflow.uuid)).state != "RUNNING" and w, "the workflow's end")
        finally:
            stream.stop()
    jobs = [job for uuids in ended.jobs.values() for job in uuids]
    counted = dict(collections.Counter(pipelinejobs.get_job(job).state for job in jobs))
    data = pipelinejobs.get_job(gather).data
    assert data == {"values": list(range(size))}, f"gather's data: {str(data)[:200]}"
    return Result(size=size, released=len(jobs), dynamodb_requests=meter.dynamodb(),
                  stepfunctions_calls=sum(sfn.calls.values()), started_jobs=len(sfn.started),
                  fan_out_latency=fan_out, fan_in_latency=fan_in, fan_out_seconds=max(fan_out),
                  counters=ended.counts, counted=counted, state=ended.state, requests=dict(meter.requests))


real_client = launch.client


def report(result: Result) -> None:
    print(f"fan-out of {result.size}: {result.released} jobs released, workflow {result.state}", flush=True)
    print(f"  DynamoDB requests by the consumer: {result.dynamodb_requests} "
          f"({result.dynamodb_per_job:.2f} per released job)")
    calls = ", ".join(f"{name.split(':')[1]} {n}" for name, n in sorted(result.requests.items())
                      if name.startswith("dynamodb:"))
    print(f"    by operation: {calls}")
    print(f"  Step Functions calls: {result.stepfunctions_calls} ({result.stepfunctions_per_job:.2f} per released "
          f"job), executions started: {result.started_jobs}")
    latencies = result.fan_out_latency
    print(f"  release latency, root's finish -> each fan job's StartExecution: p50 "
          f"{benchkit.percentile(latencies, 50):.2f} s, p99 {benchkit.percentile(latencies, 99):.2f} s "
          f"(all {result.size} released in {result.fan_out_seconds:.1f} s: "
          f"{result.size / result.fan_out_seconds:.1f} jobs/s)")
    print(f"  release latency, the last fan job's finish -> gather's StartExecution: {result.fan_in_latency:.2f} s")
    print(f"  counters (one read): {result.counters}; the jobs' own states: {result.counted}")


def main() -> int:
    cli = benchkit.parser(__doc__)
    cli.add_argument("--sizes", type=int, nargs="+", help="fan-out sizes (default: 100 1000 10000; short: 10 50)")
    args = cli.parse_args()
    sizes = args.sizes or ([10, 50] if args.short else [100, 1000, 10_000])
    observability.logger().setLevel("WARNING")  # not the consumer's line per launched job, 10,000 times
    verdicts = benchkit.Verdicts(short=args.short)
    os.environ["PIPELINEJOBS_STATE_MACHINE_ARN"] = STATE_MACHINE
    threading.current_thread().name = f"{BENCH_THREAD}-main"
    with benchkit.dynamodb(args.endpoint) as endpoint:
        results = []
        for size in sizes:
            results.append(run(size, endpoint))
            report(results[-1])
        twice = run(sizes[0], endpoint, redeliver=True)
        print(f"redelivery (every batch handed over twice), fan-out of {twice.size}:")
        report(twice)
    for result in (*results, twice):
        label = f"fan-out {result.size}" + (" (redelivered)" if result is twice else "")
        expected = {"FINISHED": result.size + 2}
        verdicts.count(f"{label}: counters vs the jobs' own states",
                       f"{result.counters} vs {result.counted}", f"equal, {expected}",
                       result.counters == result.counted == expected and result.state == "FINISHED")
        # Exactly once is one execution per job. A record handled twice at once may call StartExecution twice
        # for one run (the second call finds the execution: ExecutionAlreadyExists), so in the redelivery run
        # the calls are reported, and only the executions are the goal.
        once = result.started_jobs == result.released
        verdicts.count(f"{label}: executions per released job", f"{result.started_jobs / result.released:.2f} "
                       f"({result.started_jobs} executions for {result.released} jobs; "
                       f"{result.stepfunctions_per_job:.2f} StartExecution calls per job)", "1.00, one per job",
                       once if result is twice else once and result.stepfunctions_calls == result.released)
    per_job = [result.dynamodb_per_job for result in results]
    verdicts.count("DynamoDB requests per released job, largest / smallest over the sizes",
                   " vs ".join(f"{value:.2f} ({result.size})" for value, result in zip(per_job, results, strict=True))
                   + f": {max(per_job) / min(per_job):.3f}", "within 10% (<= 1.10)",
                   max(per_job) / min(per_job) <= 1.10)
    return verdicts.exit_status()


if __name__ == "__main__":
    sys.exit(main())
