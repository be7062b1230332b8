#!/usr/bin/env python3
"""What one event costs, at a short and a long history, on Amazon DynamoDB Local.

For a job with 10 history entries and one with 5,000 (``--long``), applies
``--events`` update events to each and prints, per event: write capacity consumed
(ReturnConsumedCapacity, as reported by DynamoDB Local), read capacity, DynamoDB
requests, latency, and the job item's size. The design claim is that none of
these depends on history length; the last lines print the ratios and the verdict
against the goal (equal within 5%), and the exit status is 1 if it is missed.

    .venv/bin/python bench/event_cost.py [--long 5000] [--events 50] [--endpoint URL]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from collections import Counter
from contextlib import ExitStack

GOAL = 0.05


def item_size(item: dict) -> int:
    """Bytes of a DynamoDB item as DynamoDB counts them (names + values; numbers approximated)."""

    def value_size(value: dict) -> int:
        (kind, v), = value.items()
        if kind == "S":
            return len(v.encode())
        if kind == "N":
            return len(v.strip("-").replace(".", "")) // 2 + 1
        if kind in ("BOOL", "NULL"):
            return 1
        if kind == "L":
            return 3 + sum(1 + value_size(e) for e in v)
        if kind == "M":
            return 3 + sum(1 + len(k.encode()) + value_size(e) for k, e in v.items())
        return len(str(v))

    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


class Meter:
    """Counts DynamoDB requests and consumed capacity by listening to botocore clients."""

    def __init__(self):
        self.requests: Counter[str] = Counter()
        self.wcu = 0.0
        self.rcu = 0.0

    def listen(self, client) -> None:
        client.meta.events.register("after-call.dynamodb", self._after_call)

    def _after_call(self, http_response, parsed, model, **_):
        self.requests[model.name] += 1
        consumed = parsed.get("ConsumedCapacity") or []
        units = sum(entry.get("CapacityUnits", 0) for entry in (consumed if isinstance(consumed, list) else [consumed]))
        if model.name.startswith(("TransactWrite", "Put", "Update", "Delete", "BatchWrite")):
            self.wcu += units
        else:
            self.rcu += units

    def snapshot(self) -> tuple[int, float, float]:
        return sum(self.requests.values()), self.wcu, self.rcu


def measure(job_uuid: str, events: int, meter: Meter, raw_client, table: str) -> dict:
    import pipelinejobs as pj

    latencies = []
    requests0, wcu0, rcu0 = meter.snapshot()
    for n in range(events):
        started = time.perf_counter()
        pj.handle_event({"uuid": job_uuid, "event": "update", "data": {"n": n, "note": "benchmark"}}, trusted=True)
        latencies.append((time.perf_counter() - started) * 1000)
    requests1, wcu1, rcu1 = meter.snapshot()
    item = raw_client.get_item(TableName=table, Key={"pk": {"S": f"JOB#{job_uuid}"}, "sk": {"S": "JOB"}},
                               ConsistentRead=True)["Item"]
    return {
        "history": pj.get_job(job_uuid).record.version,
        "wcu": (wcu1 - wcu0) / events,
        "rcu": (rcu1 - rcu0) / events,
        "requests": (requests1 - requests0) / events,
        "p50_ms": statistics.median(latencies),
        "p99_ms": statistics.quantiles(latencies, n=100)[98] if events >= 2 else latencies[0],
        "item_bytes": item_size(item),
    }


def grow(job_uuid: str, entries: int) -> None:
    import pipelinejobs as pj

    store = pj.service.get_store()
    have = store.get_job(job_uuid).version
    for n in range(entries - have):
        pj.handle_event({"uuid": job_uuid, "event": "update", "data": {"fill": n}}, trusted=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--short", type=int, default=10, help="history length of the short job")
    parser.add_argument("--long", type=int, default=5000, help="history length of the long job")
    parser.add_argument("--events", type=int, default=50, help="events measured per job")
    parser.add_argument("--endpoint", help="an already running DynamoDB endpoint (default: start DynamoDB Local)")
    args = parser.parse_args()

    with ExitStack() as stack:
        endpoint = args.endpoint
        if endpoint is None:
            from pipelinejobs.local.dynamodb_local import DynamoDBLocal

            endpoint = stack.enter_context(DynamoDBLocal())
        os.environ.update({
            "AWS_ENDPOINT_URL": endpoint, "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local", "PIPELINEJOBS_TABLE": f"pj-bench-{uuid.uuid4().hex[:8]}",
            "PIPELINEJOBS_TOKEN_SECRET": "benchmark-secret",
        })
        import boto3

        import pipelinejobs as pj

        pj.create_tables()
        config = pj.Config.from_env()
        pipeline = pj.register_pipeline("benchmark")
        jobs = {length: pj.PipelineJob(pipeline.uuid, {"history": length}).setup().run() for length in
                (args.short, args.long)}
        print(f"DynamoDB at {endpoint}; growing histories to {args.short} and {args.long} entries ...",
              flush=True)
        for length, job in jobs.items():
            grow(job.uuid, length)

        store = pj.service.get_store(config)
        meter = Meter()
        meter.listen(store._connection.client)
        meter.listen(store.models.job._get_connection().connection.client)
        raw = boto3.client("dynamodb", endpoint_url=endpoint)
        results = {length: measure(job.uuid, args.events, meter, raw, config.table) for length, job in jobs.items()}

    short, long = results[args.short], results[args.long]
    print(f"\n{'history before':>15} {'WCU/event':>10} {'RCU/event':>10} {'requests/event':>15} "
          f"{'p50 ms':>8} {'p99 ms':>8} {'job item bytes':>15}")
    for length, r in results.items():
        print(f"{length:>15} {r['wcu']:>10.2f} {r['rcu']:>10.2f} {r['requests']:>15.2f} "
              f"{r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} {r['item_bytes']:>15}")
    ok = True
    for key, label in (("wcu", "write capacity per event"), ("item_bytes", "job item size")):
        ratio = long[key] / short[key] if short[key] else float("inf")
        met = abs(ratio - 1) <= GOAL
        ok &= met
        print(f"{label}: {args.long}-entry / {args.short}-entry = {ratio:.3f} "
              f"(goal: within {GOAL:.0%}) {'MET' if met else 'MISSED'}")
    print(f"latency p50 ratio: {long['p50_ms'] / short['p50_ms']:.2f} (informational; DynamoDB Local on 2 cores)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
