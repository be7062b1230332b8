#!/usr/bin/env python3
"""What one event costs, at a short and a long history, on Amazon DynamoDB Local.

For a job with ``--base`` (10) history entries and one with ``--long`` (10,000), applies ``--events``
update events of each kind (without an id, and with one) to each, in rounds of one event of each
kind per job, in a shuffled order, so that drift in the engine falls on both alike. It prints per
event: write capacity consumed (ReturnConsumedCapacity, as DynamoDB Local reports it), read
capacity, DynamoDB requests, latency, and the job item's size. The design claim is that none of
these depends on the history's length; the verdict lines compare the long job with the short one
against the goal (equal within 5%): write capacity and item size are count goals, latency a timing
goal (benchkit.Verdicts: a missed timing goal fails a full run, not a ``--short`` one).

The long history is written directly, in batches, as the items the store writes for each event
(history entries beside the job, and the job's version): the same partition the events would leave,
in seconds rather than the minutes 10,000 events take. The measured events go through handle_event.

    .venv/bin/python bench/event_cost.py [--short] [--base 10] [--long 10000] [--events 300]
"""

from __future__ import annotations

import random
import statistics
import sys
import time

import benchkit

GOAL = 0.05
#: Events without an id (one GetItem + one TransactWriteItems) and with one, as every callback, SQS message
#: and EventBridge event has (a TransactGetItems of the job and the id's marker, and the marker written too).
KINDS = ("plain", "with id")


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


def grow(job_uuid: str, entries: int) -> None:
    """Give the job ``entries`` history entries, written as the store writes them, and the matching version."""
    import pipelinejobs as pj
    from pipelinejobs.records import HistoryEntry, now_iso

    store = pj.service.get_store()
    job = store.get_job(job_uuid)
    with store.models.event.batch_write() as batch:
        for seq in range(job.version + 1, entries + 1):
            entry = HistoryEntry(seq=seq, date=now_iso(), name="update", data={"fill": seq}, state=job.state,
                                 applied=True, id=None, reason=None, source="benchmark")
            batch.save(store._event_item(job_uuid, entry))
    store._connection.client.update_item(
        TableName=store.config.table, Key={"pk": {"S": f"JOB#{job_uuid}"}, "sk": {"S": "JOB"}},
        UpdateExpression="SET #v = :v", ExpressionAttributeNames={"#v": "version"},
        ExpressionAttributeValues={":v": {"N": str(entries)}})


def main() -> int:
    cli = benchkit.parser(__doc__)
    cli.add_argument("--base", type=int, default=10, help="history length of the short job")
    cli.add_argument("--long", type=int, default=10_000, help="history length of the long job")
    cli.add_argument("--events", type=int, help="events of each kind per job (default 300; 150 with --short)")
    args = cli.parse_args()
    events = args.events or (150 if args.short else 300)

    with benchkit.dynamodb(args.endpoint) as endpoint:
        import boto3

        import pipelinejobs as pj

        config = pj.Config.from_env()
        pipeline = pj.register_pipeline("benchmark")
        jobs = {length: pj.PipelineJob(pipeline.uuid, {"history": length}).setup().run()
                for length in (args.base, args.long)}
        print(f"DynamoDB at {endpoint}; histories of {args.base} and {args.long} entries ...", flush=True)
        for length, job in jobs.items():
            grow(job.uuid, length)
        meter = benchkit.Meter().listen_to_store()
        samples: dict[tuple[int, str], list[tuple[int, float, float, float]]] = {
            (length, kind): [] for length in jobs for kind in KINDS}
        order = random.Random(10_000)  # each round sends the four kinds of event in a new order: no position bias
        for n in range(events):
            for length, kind in order.sample(list(samples), len(samples)):
                rows = samples[length, kind]
                message = {"uuid": jobs[length].uuid, "event": "update", "data": {"n": n, "note": "benchmark"}}
                if kind == "with id":
                    message["id"] = f"bench-{n}"
                requests0, wcu0, rcu0 = meter.snapshot()
                started = time.perf_counter()
                pj.handle_event(message, trusted=True)
                elapsed_ms = (time.perf_counter() - started) * 1000
                requests1, wcu1, rcu1 = meter.snapshot()
                rows.append((requests1 - requests0, wcu1 - wcu0, rcu1 - rcu0, elapsed_ms))
        raw = boto3.client("dynamodb", endpoint_url=endpoint)
        items = {length: raw.get_item(TableName=config.table, Key={"pk": {"S": f"JOB#{job.uuid}"}, "sk": {"S": "JOB"}},
                                      ConsistentRead=True)["Item"] for length, job in jobs.items()}

    results = {}
    for (length, kind), rows in samples.items():
        columns = list(zip(*rows, strict=True))
        results[length, kind] = {
            "history": int(items[length]["version"]["N"]) - events * len(KINDS), "kind": kind,
            "requests": sum(columns[0]) / events, "wcu": sum(columns[1]) / events, "rcu": sum(columns[2]) / events,
            "p50_ms": benchkit.percentile(columns[3], 50), "p99_ms": benchkit.percentile(columns[3], 99),
            "item_bytes": item_size(items[length]),
        }
    print(f"\n{'history before':>15} {'event':>8} {'WCU/event':>10} {'RCU/event':>10} {'requests/event':>15} "
          f"{'p50 ms':>8} {'p99 ms':>8} {'job item bytes':>15}")
    for r in results.values():
        print(f"{r['history']:>15} {r['kind']:>8} {r['wcu']:>10.2f} {r['rcu']:>10.2f} {r['requests']:>15.2f} "
              f"{r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} {r['item_bytes']:>15}")
    verdicts = benchkit.Verdicts(args.short)
    for kind in KINDS:
        short, long = results[args.base, kind], results[args.long, kind]
        # Latency: the median of each round's ratio (long job's event / short job's, sent in the same round),
        # which cancels the engine's drift between rounds; the p50s above are the same samples, unpaired.
        paired = statistics.median(b[3] / a[3] for a, b in zip(samples[args.base, kind], samples[args.long, kind],
                                                               strict=True))
        ratios = [(verdicts.count, "write capacity per event", long["wcu"] / short["wcu"]),
                  (verdicts.timing, "latency per event (paired)", paired)]
        if kind == "plain":
            ratios.append((verdicts.count, "job item size", long["item_bytes"] / short["item_bytes"]))
        for verdict, label, ratio in ratios:
            verdict(f"{label} ({kind}), {long['history']}-entry / {short['history']}-entry history",
                    f"{ratio:.3f}", f"within {GOAL:.0%} of 1", abs(ratio - 1) <= GOAL)
        print(f"latency ratios, unpaired ({kind}): p50 {long['p50_ms'] / short['p50_ms']:.2f}, p99 "
              f"{long['p99_ms'] / short['p99_ms']:.2f} (informational: the engine's and the machine's noise)")
    return verdicts.exit_status()


if __name__ == "__main__":
    sys.exit(main())
