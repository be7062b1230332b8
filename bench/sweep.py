"""The sweep's DynamoDB reads per run with 10,000 live jobs, of which 10 are due, then 100.

The jobs are written straight into a table in Amazon DynamoDB Local (the real engine, on this machine) as the
store writes a RUNNING job with a heartbeat: 10,000 live jobs, every one in the sparse ``due`` index, each with
its deadline (``due_at``). A first run of the sweep finds 10 past their deadline, a second run (later) 100 more.
Every request the store makes is counted with the capacity DynamoDB reports for it (reads are asked for
``ReturnConsumedCapacity``); a Scan of the same table, which the sweep never makes, is measured for comparison.

Verdicts (benchkit.Verdicts), all count goals: every due job failed and no other; the index items read equal
the due jobs (nothing read for a live job that is not due); read requests are one Query per index shard plus
one GetItem per due job; so the reads grow with the due jobs, not with the live ones.

    .venv/bin/python bench/sweep.py [--short] [--jobs 10000]

``--short`` writes 1,000 live jobs (the due ones are the same 10 and 100).
"""

from __future__ import annotations

import sys
import time

import benchkit

from pipelinejobs import heartbeats
from pipelinejobs.config import INDEX_SHARDS
from pipelinejobs.records import JobRecord
from pipelinejobs.service import get_store
from pipelinejobs.sweep import sweep

NOW = "2026-11-26T12:00:00.000Z"
#: The first run is at NOW; the second a minute later.
FIRST_DUE, SECOND_DUE = 10, 100
HEARTBEAT_SECONDS = 600
READS = ("GetItem", "Query", "Scan", "TransactGetItems", "BatchGetItem")
#: Items each Query read (its ScannedCount): for the due index, the due jobs it returned.
INDEX_ITEMS_READ: list[int] = []


def live_job(n: int, due_at: str) -> JobRecord:
    """Job ``n``, RUNNING since its last event with a deadline ``due_at``, as the store writes one."""
    heard = heartbeats.later(due_at, -HEARTBEAT_SECONDS)
    return JobRecord(uuid=f"{n:08x}-0000-4000-8000-{n:012x}", pipeline_uuid="00000000-0000-4000-8000-00000000b0b0",
                     state="RUNNING", last_event="run", created=heard, updated=heard, started=heard, version=2,
                     path=f"/bench/{n}", last_heartbeat=heard, heartbeat_seconds=HEARTBEAT_SECONDS, due_at=due_at)


def write_jobs(live: int) -> None:
    """``live`` jobs: FIRST_DUE due before NOW, SECOND_DUE more within the minute after, the rest in an hour."""
    store = get_store()
    Job = store.models.job
    with Job.batch_write() as batch:
        for n in range(live):
            if n < FIRST_DUE:
                due_at = heartbeats.later(NOW, -1 - n)
            elif n < FIRST_DUE + SECOND_DUE:
                due_at = heartbeats.later(NOW, 1 + n % 50)
            else:
                due_at = heartbeats.later(NOW, 3600 + n)
            batch.save(store._job_item(live_job(n, due_at)))


def measured_run(meter: benchkit.Meter, now: str) -> dict:
    """One sweep at ``now``: what it did, its read requests (by operation) and read units, its time."""
    before, scanned_before = (dict(meter.requests), meter.rcu), sum(INDEX_ITEMS_READ)
    started = time.perf_counter()
    with benchkit.quiet_stdout():  # its log lines and metrics, written as in Lambda, to /dev/null
        report = sweep(now)
    elapsed = time.perf_counter() - started
    requests = {op: meter.requests[op] - before[0].get(op, 0) for op in meter.requests}
    return {"report": report, "reads": {op: n for op, n in requests.items() if op in READS and n},
            "rcu": meter.rcu - before[1], "seconds": elapsed, "index_items": sum(INDEX_ITEMS_READ) - scanned_before}


def ask_for_capacity(client) -> None:
    """Have every read report its consumed capacity (the store asks it of its transactions only)."""
    def ask(params: dict, **_: object) -> None:
        params.setdefault("ReturnConsumedCapacity", "INDEXES")

    for operation in READS:
        client.meta.events.register(f"before-parameter-build.dynamodb.{operation}", ask)
    client.meta.events.register("after-call.dynamodb.Query",
                                lambda parsed, **_: INDEX_ITEMS_READ.append(parsed.get("ScannedCount", 0)))


def main() -> int:
    cli = benchkit.parser(__doc__)
    cli.add_argument("--jobs", type=int, help="live jobs (default 10,000; 1,000 with --short)")
    args = cli.parse_args()
    live = args.jobs or (1_000 if args.short else 10_000)
    with benchkit.dynamodb(args.endpoint):
        started = time.perf_counter()
        write_jobs(live)
        print(f"wrote {live:,} live jobs with a heartbeat in {time.perf_counter() - started:.1f} s\n")
        clients = benchkit.store_clients()
        for client in {id(c): c for c in clients}.values():
            ask_for_capacity(client)
        meter = benchkit.Meter().listen(*clients)
        runs = [("first run", FIRST_DUE, measured_run(meter, NOW)),
                ("a minute later", SECOND_DUE, measured_run(meter, heartbeats.later(NOW, 60)))]
        table = benchkit.store_clients()[1]
        scan = table.scan(TableName=get_store().config.table, Select="COUNT", ReturnConsumedCapacity="TOTAL")
        scan_rcu, scanned = scan["ConsumedCapacity"]["CapacityUnits"], scan["ScannedCount"]
        while "LastEvaluatedKey" in scan:
            scan = table.scan(TableName=get_store().config.table, Select="COUNT", ReturnConsumedCapacity="TOTAL",
                              ExclusiveStartKey=scan["LastEvaluatedKey"])
            scan_rcu, scanned = scan_rcu + scan["ConsumedCapacity"]["CapacityUnits"], scanned + scan["ScannedCount"]

    print(f"{'run':<16} {'live':>7} {'due':>5} {'failed':>7} {'index items read':>17} {'read requests':<26} "
          f"{'RCU':>6} {'seconds':>8}")
    for label, _, run in runs:
        report, reads = run["report"], ", ".join(f"{n} {op}" for op, n in sorted(run["reads"].items()))
        print(f"{label:<16} {live:>7,} {report.due:>5} {len(report.failed):>7} {run['index_items']:>17} "
              f"{reads:<26} {run['rcu']:>6.1f} {run['seconds']:>8.2f}")
    print(f"{'(a Scan)':<16} {live:>7,} {'':>5} {'':>7} {scanned:>17,} {'Scan (never made)':<26} {scan_rcu:>6.1f}\n")

    verdicts = benchkit.Verdicts(args.short)
    for label, due, run in runs:
        report, reads = run["report"], run["reads"]
        verdicts.count(f"{label}: jobs failed as stale", f"{len(report.failed)} of {report.due} read as due",
                       f"{due}", len(report.failed) == report.due == due and not report.skipped)
        verdicts.count(f"{label}: index items read", f"{run['index_items']}", f"{due} (the due jobs)",
                       run["index_items"] == due)
        verdicts.count(f"{label}: read requests", ", ".join(f"{n} {op}" for op, n in sorted(reads.items())),
                       f"{INDEX_SHARDS} Query + {due} GetItem", reads == {"Query": INDEX_SHARDS, "GetItem": due})
    per_due = [run["rcu"] / due for _, due, run in runs]
    verdicts.count(f"RCU per due job, {FIRST_DUE} then {SECOND_DUE} due ({live:,} live)",
                   f"{per_due[0]:.2f}, {per_due[1]:.2f}", "under 2 (one strong read each, and the index's share)",
                   all(units < 2 for units in per_due))
    verdicts.count("a run's RCU / a Scan's RCU", f"{runs[0][2]['rcu']:.1f} / {scan_rcu:.1f}", "< 1",
                   runs[0][2]["rcu"] < scan_rcu)
    return verdicts.exit_status()


if __name__ == "__main__":
    sys.exit(main())
