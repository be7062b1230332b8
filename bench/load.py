#!/usr/bin/env python3
"""Load on Amazon DynamoDB Local through the real handlers, in worker processes (one per Lambda environment).

1. ``--callbacks`` concurrent callbacks on one job through the webhook (API Gateway HTTP API v2
   events), released together from as many processes;
2. ``--jobs`` jobs x 5 events each (run, update x3, finish) through the events function's direct
   invoke path, across ``--workers`` processes.

Prints events/s and p50/p99 latency per event for each, then checks the raw table: every history
entry once, gapless sequence numbers, the right final states. The issue sets no throughput goal,
only "nothing lost": its checks are count goals, and the exit status is 1 if any fails. DynamoDB Local on this machine's
cores is the server here, so the absolute figures are the engine's and the machine's, not AWS's.

    .venv/bin/python bench/load.py [--short] [--callbacks 50] [--jobs 2000] [--workers 8]
"""

from __future__ import annotations

import sys

import benchkit


def report(label: str, run, extra: str = "") -> None:
    latencies = run.latencies_ms
    print(f"{label:<34} {run.events:>7} {run.seconds:>8.2f} {run.events / run.seconds:>9.1f} "
          f"{benchkit.percentile(latencies, 50):>8.1f} {benchkit.percentile(latencies, 99):>8.1f}  {extra}")


def main() -> int:
    cli = benchkit.parser(__doc__)
    cli.add_argument("--callbacks", type=int, default=50)
    cli.add_argument("--jobs", type=int, help="default 2,000 (200 with --short)")
    cli.add_argument("--workers", type=int, default=8)
    args = cli.parse_args()
    jobs = args.jobs or (200 if args.short else 2000)
    benchkit.tests_on_path()

    with benchkit.dynamodb(args.endpoint):
        import loadrun

        import pipelinejobs as pj

        from support import new_job, table_items

        job = new_job("load-callbacks").run()
        callbacks, resends = loadrun.concurrent_callbacks(job, args.callbacks)
        pipeline = pj.register_pipeline("load-jobs")
        uuids, lifecycles = loadrun.many_jobs(pipeline.uuid, jobs, args.workers)
        items = table_items()
        expected = {job.uuid: ("RUNNING", ["create", "run"] + ["update"] * args.callbacks),
                    **{uuid: ("FINISHED", ["create", *loadrun.LIFECYCLE]) for uuid in uuids}}
        problems = loadrun.history_problems(items, expected)
        problems += loadrun.callback_data_problems(items, job.uuid, args.callbacks)
        indexed = len(pj.list_jobs(pipeline_uuid=pipeline.uuid, state="FINISHED"))

    print(f"\n{'run':<34} {'events':>7} {'seconds':>8} {'events/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
    report(f"{args.callbacks} callbacks on one job", callbacks, f"statuses {dict(callbacks.statuses)}, "
           f"{resends} resent after 503")
    report(f"{jobs} jobs x 5 events, {args.workers} workers", lifecycles, f"statuses {dict(lifecycles.statuses)}")
    verdicts = benchkit.Verdicts(args.short)
    verdicts.count("answers", f"{callbacks.statuses[200] + lifecycles.statuses[200]} of "
                          f"{callbacks.events + lifecycles.events} events applied (200)", "all",
                          callbacks.statuses[200] + lifecycles.statuses[200] == callbacks.events + lifecycles.events)
    verdicts.count("histories", f"{len(problems)} problems in {len(expected)} jobs' raw items"
                   + "".join(f"\n  {p}" for p in problems[:10]), "none lost, none twice, gapless, final "
                   "states right", not problems)
    verdicts.count("index", f"{indexed} of {jobs} jobs listed FINISHED by pipeline", "all", indexed == jobs)
    return verdicts.exit_status()


if __name__ == "__main__":
    sys.exit(main())
