"""``stat`` over 10,000 jobs: its time and its DynamoDB requests, against one DescribeExecution per job.

Jobs are set up through the SDK in Amazon DynamoDB Local (the real engine, on this machine),
spread over four states. ``stat`` reads the table's ``pipeline-jobs`` index: one Query per index
shard and per 1 MB page, whatever the number of jobs in a page. (moto would not do: it copies the
whole table for every transaction, so setting up 10,000 jobs takes hours, and its index queries
scan the table.)
tibanna's stat called DescribeExecution once per job, throttled by Step Functions at a bucket of
300 refilled at 15 per second (REFERENCE.md §5): its time below is computed from that quota.

    .venv/bin/python bench/stat_jobs.py [--jobs 10000]

(Not ``bench/stat.py``, which would shadow the standard library's ``stat`` for scripts in bench/.)
"""

from __future__ import annotations

import argparse
import collections
import os
import secrets
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from pynamodb.connection.base import Connection

import pipelinejobs
from pipelinejobs import orchestration
from pipelinejobs.local.dynamodb_local import DynamoDBLocal

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    jobs = parser.parse_args().jobs
    with pytest.MonkeyPatch.context() as monkeypatch, DynamoDBLocal() as endpoint:
        for name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL")]:
            monkeypatch.delenv(name)
        for name, value in {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "bench",
                            "AWS_SECRET_ACCESS_KEY": "bench", "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
                            "PIPELINEJOBS_TABLE": f"pj-bench-{secrets.token_hex(4)}",
                            "PIPELINEJOBS_TOKEN_SECRET": secrets.token_urlsafe(32)}.items():
            monkeypatch.setenv(name, value)
        pipelinejobs.create_tables()
        pipeline = pipelinejobs.register_pipeline("stat-bench")
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(lambda n: setup_job(pipeline.uuid, n), range(jobs)))
        print(f"set up {jobs:,} jobs in DynamoDB Local in {time.perf_counter() - started:.1f} s\n")

        calls: collections.Counter[str] = collections.Counter()
        make_api_call = Connection._make_api_call
        monkeypatch.setattr(Connection, "_make_api_call",
                            lambda self, operation, kwargs: calls.update([operation]) or make_api_call(self, operation,
                                                                                                      kwargs))
        print(f"{'stat(...)':<40} {'rows':>6} {'seconds':>8} {'DynamoDB requests':>18}")
        for label, kwargs in [("stat(pipeline)", {}), ("stat(pipeline, state='FAILED')", {"state": "FAILED"}),
                              ("stat(pipeline, limit=50)", {"limit": 50})]:
            calls.clear()
            started = time.perf_counter()
            rows = orchestration.stat(pipeline.uuid, **kwargs)
            elapsed = time.perf_counter() - started
            requests = ", ".join(f"{n} {op}" for op, n in sorted(calls.items()))
            print(f"{label:<40} {len(rows):>6,} {elapsed:>8.2f} {requests:>18}")
        print(f"\none DescribeExecution per job (tibanna): {jobs:,} requests, at least "
              f"{describe_per_job_seconds(jobs):,.0f} s under the {DESCRIBE_BUCKET}-request bucket refilled at "
              f"{DESCRIBE_REFILL}/s")


if __name__ == "__main__":
    main()
