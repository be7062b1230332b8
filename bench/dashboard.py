"""The dashboard's API (``/ui/api``, issue 13) at 1,000 and 10,000 jobs: the time and the DynamoDB requests of
the overview and of the first page of the job table.

Jobs are set up through the SDK in Amazon DynamoDB Local, spread over four states as ``bench/stat_jobs.py`` does
(its ``setup_job``). The webhook's handler is called in process with API Gateway's event for each route and a
viewer token, as the HTTP API would call it; every request any PynamoDB connection makes is counted. Both reads
are ``stat``'s: the catalog index's 8 partitions (one Query each per 1 MB page), plus, for the overview, the
pipelines' names (one Query of the catalog and one BatchGetItem); never a Scan.

Verdicts (benchkit.Verdicts): the answers count every job and the first page has its 50 rows, and no request is a
Scan (count goals); the first page of the table and the overview each answer in under a second at 1,000 jobs
(timing goals). At 10,000 jobs the figures are printed, and their requests held to a count goal: no more than
8 Queries per 1 MB of index read plus the pipelines' two.

    .venv/bin/python bench/dashboard.py [--short]

``--short`` measures at 1,000 jobs only (~20 s on 2 cores; the full run sets up 10,000, ~3 min).
"""

from __future__ import annotations

import collections
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import benchkit
from pynamodb.connection.base import Connection
from stat_jobs import setup_job

import pipelinejobs
from pipelinejobs import tokens

ROUTES = {"overview": "/ui/api/overview", "first page": "/ui/api/jobs"}
#: Requests a listing may make beyond its index pages: the overview's pipelines (a Query and a BatchGetItem).
PIPELINE_REQUESTS = 2
#: Index partitions (config.INDEX_SHARDS) and a generous bound on the 1 MB pages each holds at 10,000 jobs.
SHARDS, PAGES_PER_SHARD = 8, 2


def request(route: str, token: str) -> dict:
    """API Gateway's payload 2.0 event for ``GET route`` with the token in its header."""
    benchkit.tests_on_path()
    from frontdoors import sample

    event = sample("webhook", "get-job")
    event.update(routeKey=f"GET {route}", rawPath=f"/dev{route}", rawQueryString="", queryStringParameters=None,
                 pathParameters=None)
    event["requestContext"].update(routeKey=f"GET {route}")
    event["requestContext"]["http"]["path"] = f"/dev{route}"
    event["headers"] = {**event["headers"], "authorization": f"Bearer {token}"}
    return event


def measure(handler, token: str, calls: collections.Counter) -> dict[str, tuple[float, int, dict]]:
    """Each route's (seconds, DynamoDB requests, answer), the best of three calls (the requests are the same)."""
    from frontdoors import LambdaContext

    measured = {}
    for label, route in ROUTES.items():
        best = None
        for _ in range(3):
            calls.clear()
            started = time.perf_counter()
            answer = handler(request(route, token), LambdaContext())
            elapsed = time.perf_counter() - started
            assert answer["statusCode"] == 200, answer
            if best is None or elapsed < best[0]:
                best = (elapsed, sum(calls.values()), json.loads(answer["body"]), dict(calls))
        measured[label] = best
    return measured


def main() -> int:
    args = benchkit.parser(__doc__).parse_args()
    sizes = (1_000,) if args.short else (1_000, 10_000)
    verdicts = benchkit.Verdicts(args.short)
    with benchkit.dynamodb(args.endpoint):
        benchkit.tests_on_path()
        from frontdoors import handler_module

        handler = handler_module("webhook").handler
        token = tokens.viewer_token(tokens.secret(pipelinejobs.Config.from_env()))
        pipeline = pipelinejobs.register_pipeline("dashboard-bench")
        calls: collections.Counter[str] = collections.Counter()
        make_api_call = Connection._make_api_call

        def counted(self: Connection, operation: str, kwargs: dict) -> dict:
            calls[operation] += 1
            return make_api_call(self, operation, kwargs)

        made = 0
        print(f"{'jobs':>7} {'answer':<11} {'seconds':>8}  DynamoDB requests")
        for size in sizes:
            with ThreadPoolExecutor(max_workers=16) as pool:
                list(pool.map(lambda n: setup_job(pipeline.uuid, n), range(made, size)))
            made = size
            Connection._make_api_call = counted
            try:
                measured = measure(handler, token, calls)
            finally:
                Connection._make_api_call = make_api_call
            for label, (elapsed, requests, _, by_operation) in measured.items():
                detail = ", ".join(f"{n} {op}" for op, n in sorted(by_operation.items()))
                print(f"{size:>7,} {label:<11} {elapsed:>8.3f}  {requests} ({detail})")
            overview, page = measured["overview"], measured["first page"]
            verdicts.count(f"overview counts every job ({size:,})", f"{overview[2]['total']:,}", f"{size:,}",
                           overview[2]["total"] == size)
            verdicts.count(f"first page: 50 rows of {size:,}", f"{len(page[2]['jobs'])} of {page[2]['total']:,}",
                           f"50 of {size:,}", len(page[2]["jobs"]) == 50 and page[2]["total"] == size)
            scans = sum(m[3].get("Scan", 0) for m in measured.values())
            verdicts.count(f"Scan requests ({size:,} jobs)", str(scans), "0", scans == 0)
            most = SHARDS * PAGES_PER_SHARD + PIPELINE_REQUESTS
            verdicts.count(f"overview DynamoDB requests ({size:,} jobs)", str(overview[1]), f"<= {most}",
                           overview[1] <= most)
            if size == 1_000:
                for label, (elapsed, *_) in measured.items():
                    verdicts.timing(f"{label} seconds (1,000 jobs)", f"{elapsed:.3f}", "< 1", elapsed < 1)
    return verdicts.exit_status()


if __name__ == "__main__":
    sys.exit(main())
