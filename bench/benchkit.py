"""What the benchmarks in bench/ share: a DynamoDB Local to run on, a request meter, percentiles, verdicts.

Each benchmark prints its figures, then one verdict line per goal (the measured figure next to the
goal, MET or MISSED), and its exit status from the goals' two kinds (:class:`Verdicts`):

- COUNT goals are deterministic (capacity units, item sizes, requests per event, state transitions,
  stat's requests, and every "nothing lost" check): a missed one always exits 1.
- TIMING goals are ratios of times (latency, cold import, throughput): a missed one exits 1 in a full
  run, but in a ``--short`` run it is printed as ``MISSED (timing)`` and exits 0, unless
  ``BENCH_STRICT_TIMING=1``. Short runs are CI's (scripts/bench-short), on a shared 2-core runner where
  times are noisy; the full runs are the reference for timing goals (docs/benchmarks.md).

``--short`` runs a smaller version that still measures for real. A crash exits non-zero (Python's 1).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
#: DynamoDB Local runs on a JVM: its first few hundred requests are several times slower than the rest
#: (JIT compilation). Figures are taken after this many warm-up requests.
WARM_UP_REQUESTS = 300


def tests_on_path() -> None:
    """Put tests/ on sys.path: the handler-driving helpers (frontdoors.py, loadrun.py) live there."""
    if str(ROOT / "tests") not in sys.path:
        sys.path.insert(0, str(ROOT / "tests"))


def parser(doc: str | None) -> argparse.ArgumentParser:
    """An argument parser with the options every benchmark takes."""
    cli = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument("--short", action="store_true", help="a smaller run, for CI (still real measurements)")
    cli.add_argument("--endpoint", help="an already running DynamoDB endpoint (default: start DynamoDB Local)")
    return cli


@contextmanager
def dynamodb(endpoint: str | None = None, warm_up: int = WARM_UP_REQUESTS) -> Iterator[str]:
    """DynamoDB Local (or ``endpoint``), with this process's environment pointed at a fresh table in it,
    the table created, and the engine warmed up. Yields the endpoint URL."""
    from pipelinejobs.local.dynamodb_local import DynamoDBLocal

    local = DynamoDBLocal() if endpoint is None else None
    try:
        endpoint = endpoint or local.start()
        os.environ.update({
            "AWS_ENDPOINT_URL": endpoint, "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
            "PIPELINEJOBS_TABLE": f"pj-bench-{uuid.uuid4().hex[:8]}", "PIPELINEJOBS_TOKEN_SECRET": "benchmark-secret",
        })
        import pipelinejobs as pj

        pj.create_tables()
        _warm(endpoint, warm_up)
        yield endpoint
    finally:
        if local is not None:
            local.stop()


def _warm(endpoint: str, requests: int) -> None:
    import boto3

    client = boto3.client("dynamodb", endpoint_url=endpoint)
    table = os.environ["PIPELINEJOBS_TABLE"]
    for n in range(requests):
        key = {"pk": {"S": "WARMUP"}, "sk": {"S": str(n % 10)}}
        client.transact_write_items(TransactItems=[{"Put": {"TableName": table, "Item": {**key, "n": {"N": str(n)}}}}])
        client.get_item(TableName=table, Key=key, ConsistentRead=True)
    client.batch_write_item(RequestItems={table: [
        {"DeleteRequest": {"Key": {"pk": {"S": "WARMUP"}, "sk": {"S": str(n)}}}} for n in range(10)]})


def store_clients() -> tuple[Any, ...]:
    """The botocore clients of the store: its transactions' connection and the job model's (reads)."""
    import pipelinejobs as pj

    store = pj.service.get_store()
    return store._connection.client, store.models.job._get_connection().connection.client


class Meter:
    """Counts DynamoDB requests and the capacity they report, by listening to botocore clients."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.wcu = 0.0
        self.rcu = 0.0

    def listen(self, *clients: Any) -> Meter:
        for client in {id(c): c for c in clients}.values():
            client.meta.events.register("after-call.dynamodb", self._after_call)
        return self

    def listen_to_store(self) -> Meter:
        """Listen to both clients the store makes its requests with (transactions; the models' reads)."""
        return self.listen(*store_clients())

    def _after_call(self, parsed: dict, model: Any, **_: Any) -> None:
        self.requests[model.name] += 1
        consumed = parsed.get("ConsumedCapacity") or []
        units = sum(entry.get("CapacityUnits", 0) for entry in (consumed if isinstance(consumed, list) else [consumed]))
        if model.name.startswith(("TransactWrite", "Put", "Update", "Delete", "BatchWrite")):
            self.wcu += units
        else:
            self.rcu += units

    def snapshot(self) -> tuple[int, float, float]:
        """(requests, WCU, RCU) so far."""
        return sum(self.requests.values()), self.wcu, self.rcu


@contextmanager
def quiet_stdout():
    """Log lines and metrics still get written, to /dev/null (as Lambda writes them to CloudWatch)."""
    saved, devnull = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    sys.stdout.flush()
    os.dup2(devnull, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(devnull)
        os.close(saved)


def percentile(values: Sequence[float], p: int) -> float:
    """The ``p``-th percentile (inclusive method: for 100 samples, p99 is the second largest)."""
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


COUNT, TIMING = "count", "timing"


class Verdicts:
    """One run's goals: prints each verdict line as it is given, and gives the run's exit status.

    A missed COUNT goal fails the run. A missed TIMING goal fails it when timing is strict: in a full
    run, or in a short run with ``BENCH_STRICT_TIMING=1`` in the environment; otherwise it is reported
    (``MISSED (timing)``) and the run still exits 0.
    """

    def __init__(self, short: bool = False):
        self.strict_timing = not short or os.environ.get("BENCH_STRICT_TIMING") == "1"
        self.missed: dict[str, list[str]] = {COUNT: [], TIMING: []}

    def count(self, label: str, measured: str, goal: str, met: bool) -> bool:
        """A deterministic goal (counts, sizes, capacity, correctness). Returns ``met``."""
        return self._line(COUNT, label, measured, goal, met)

    def timing(self, label: str, measured: str, goal: str, met: bool) -> bool:
        """A goal on measured times (a ratio of two paths timed side by side). Returns ``met``."""
        return self._line(TIMING, label, measured, goal, met)

    def _line(self, kind: str, label: str, measured: str, goal: str, met: bool) -> bool:
        outcome = "MET" if met else ("MISSED" if kind == COUNT else "MISSED (timing)")
        print(f"{label}: {measured} (goal: {goal}) {outcome}", flush=True)
        if not met:
            self.missed[kind].append(label)
        return met

    def exit_status(self) -> int:
        """1 if a COUNT goal was missed, or a TIMING goal with strict timing; else 0. Says which, and why."""
        count, timing = self.missed[COUNT], self.missed[TIMING]
        if count:
            print(f"missed {len(count)} count goal(s): the run fails")
        if timing:
            print(f"missed {len(timing)} timing goal(s): "
                  + ("the run fails (a full run, or BENCH_STRICT_TIMING=1)" if self.strict_timing else
                     "reported, not failing this short run (timing on a shared machine is noisy; the full runs "
                     "are the reference; BENCH_STRICT_TIMING=1 makes it fail)"))
        return 1 if count or (timing and self.strict_timing) else 0


class BareLoop:
    """What one event is at the DynamoDB level, with nothing around it: read the job, write entry + update."""

    def __init__(self, client: Any, table: str, uuid: str):
        self.client, self.table = client, table
        self.key = {"pk": {"S": f"JOB#{uuid}"}, "sk": {"S": "JOB"}}

    def event(self, n: int) -> None:
        job = self.client.get_item(TableName=self.table, Key=self.key, ConsistentRead=True,
                                   ReturnConsumedCapacity="TOTAL")["Item"]
        version, now = int(job["version"]["N"]), datetime.now(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"
        entry = {**self.key, "sk": {"S": f"EV#{version + 1:012d}"}, "applied": {"BOOL": True},
                 "data": {"S": json.dumps({"n": n})}, "date": {"S": now}, "name": {"S": "update"},
                 "seq": {"N": str(version + 1)}, "source": {"S": "invoke"}, "state": job["state"]}
        gsi_sk = f"{job['state']['S']}#{job['created']['S']}#{job['uuid']['S']}"
        self.client.transact_write_items(ReturnConsumedCapacity="TOTAL", TransactItems=[
            {"Put": {"TableName": self.table, "Item": entry, "ConditionExpression": "attribute_not_exists (#0)",
                     "ExpressionAttributeNames": {"#0": "pk"}}},
            {"Update": {"TableName": self.table, "Key": self.key, "ConditionExpression": "#0 = :0",
                        "UpdateExpression": "SET #1 = :1, #2 = :2, #3 = :3, #4 = :4 ADD #0 :5",
                        "ExpressionAttributeNames": {"#0": "version", "#1": "state", "#2": "last_event",
                                                     "#3": "updated", "#4": "gsi_sk"},
                        "ExpressionAttributeValues": {":0": {"N": str(version)}, ":1": job["state"],
                                                      ":2": {"S": "update"}, ":3": {"S": now}, ":4": {"S": gsi_sk},
                                                      ":5": {"N": "1"}}}},
        ])
