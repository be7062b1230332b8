"""``stat`` over 10,000 jobs: its time and its DynamoDB requests, against one DescribeExecution per job.

Jobs are set up through the SDK in Amazon DynamoDB Local (the real engine, on this machine),
spread over four states. ``stat`` reads the table's ``pipeline-jobs`` index: one Query per index
shard and per 1 MB page, whatever the number of jobs in a page. (moto would not do: it copies the
whole table for every transaction, so setting up 10,000 jobs takes hours, and its index queries
scan the table.)
tibanna's stat called DescribeExecution once per job, throttled by Step Functions at a bucket of
300 refilled at 15 per second (AWS's published quota in the largest regions,
https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html): its time below is computed from it.

Verdicts (benchkit.Verdicts): every job listed, and fewer DynamoDB requests than one DescribeExecution
per job, are count goals (a miss always fails); ``stat``'s time under the throttled DescribeExecution
loop's minimum is a timing goal (a miss fails a full run, not a ``--short`` one).

    .venv/bin/python bench/stat_jobs.py [--short] [--jobs 10000]

``--short`` sets up 1,000 jobs (~15 s on 2 cores, against ~150 s for 10,000).
(Not ``bench/stat.py``, which would shadow the standard library's ``stat`` for scripts in bench/.)
"""

from __future__ import annotations

import collections
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import benchkit
from pynamodb.connection.base import Connection

import pipelinejobs
from pipelinejobs import orchestration

#: DescribeExecution throttling (large regions): bucket size and refill per second.
DESCRIBE_BUCKET, DESCRIBE_REFILL = 300, 15
STATES = ("FINISHED", "FAILED", "RUNNING", "CREATED")


def describe_per_job_seconds(jobs: int) -> float:
    return max(0.0, (jobs - DESCRIBE_BUCKET) / DESCRIBE_REFILL)


def setup_job(pipeline_uuid: str, n: int) -> None:
    """Job ``n`` in state STATES[n % 4], moved there by its events."""
    job = pipelinejobs.PipelineJob(pipeline_uuid, {"sample": n}).setup()
    state = STATES[n % len(STATES)]
    if state != "CREATED":
        job.run()
    if state == "FINISHED":
        job.finish()
    elif state == "FAILED":
        job.fail({"reason": "bench"})


def main() -> int:
    cli = benchkit.parser(__doc__)
    cli.add_argument("--jobs", type=int, help="jobs to set up (default 10,000; 1,000 with --short)")
    args = cli.parse_args()
    jobs = args.jobs or (1_000 if args.short else 10_000)
    with benchkit.dynamodb(args.endpoint):
        pipeline = pipelinejobs.register_pipeline("stat-bench")
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(lambda n: setup_job(pipeline.uuid, n), range(jobs)))
        print(f"set up {jobs:,} jobs in DynamoDB Local in {time.perf_counter() - started:.1f} s\n")

        # Every request any PynamoDB connection makes (the store's transactions and its models' reads).
        calls: collections.Counter[str] = collections.Counter()
        make_api_call = Connection._make_api_call

        def counted(self: Connection, operation: str, kwargs: dict) -> dict:
            calls[operation] += 1
            return make_api_call(self, operation, kwargs)

        Connection._make_api_call = counted
        results = {}
        try:
            print(f"{'stat(...)':<40} {'rows':>6} {'seconds':>8} {'DynamoDB requests':>18}")
            for label, kwargs, expected in [
                    ("stat(pipeline)", {}, jobs),
                    ("stat(pipeline, state='FAILED')", {"state": "FAILED"}, len(range(1, jobs, len(STATES)))),
                    ("stat(pipeline, limit=50)", {"limit": 50}, min(50, jobs))]:
                calls.clear()
                started = time.perf_counter()
                rows = orchestration.stat(pipeline.uuid, **kwargs)
                elapsed = time.perf_counter() - started
                results[label] = (len(rows), expected, elapsed, sum(calls.values()))
                requests = ", ".join(f"{n} {op}" for op, n in sorted(calls.items()))
                print(f"{label:<40} {len(rows):>6,} {elapsed:>8.2f} {requests:>18}")
        finally:
            Connection._make_api_call = make_api_call

    describe_seconds = describe_per_job_seconds(jobs)
    print(f"{'one DescribeExecution per job (tibanna)':<40} {jobs:>6,} {describe_seconds:>8,.0f}+ "
          f"{jobs:>7,} DescribeExecution\n(its seconds: the least the {DESCRIBE_BUCKET}-request bucket refilled "
          f"at {DESCRIBE_REFILL}/s allows)\n")

    verdicts = benchkit.Verdicts(args.short)
    for label, (rows, expected, _, _) in results.items():
        verdicts.count(f"{label}, rows", f"{rows:,} of {jobs:,} jobs", f"{expected:,}", rows == expected)
    rows, _, elapsed, requests = results["stat(pipeline)"]
    verdicts.count(f"stat(pipeline) DynamoDB requests / DescribeExecution requests ({jobs:,} jobs)",
                   f"{requests} / {jobs:,} = {requests / jobs:.4f}", "< 1", requests < jobs)
    if describe_seconds:
        verdicts.timing(f"stat(pipeline) seconds / throttled DescribeExecution seconds ({jobs:,} jobs)",
                        f"{elapsed:.2f} / {describe_seconds:,.0f} = {elapsed / describe_seconds:.4f}", "< 1",
                        elapsed < describe_seconds)
    else:
        print(f"(no timing verdict: {jobs:,} DescribeExecution calls fit in the {DESCRIBE_BUCKET}-request bucket)")
    return verdicts.exit_status()


if __name__ == "__main__":
    sys.exit(main())
