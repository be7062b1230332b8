"""Load through the real handlers, for the load tests (tests/integration/test_load.py) and bench/load.py.

Each worker is a forked process, as each concurrent Lambda invocation is its own execution
environment. Threads would not do for the webhook: Powertools' resolver keeps the request being
handled in a class attribute (``BaseRouter.current_event``), so two requests handled at once in one
process can read each other's path, query and body. Lambda never does that; threads would, rarely,
and a lost callback would then be the harness's fault, not the system's.

What a run proves is checked on the raw table items (a consistent Scan), not through the code under
test: every job's history entries, their gapless sequence numbers and its final state.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from frontdoors import LambdaContext, callback_request, handler_module

import pipelinejobs as pj
from pipelinejobs import service
from pipelinejobs.storage import models

#: The handlers the workers call, loaded once before forking (a forked worker starts warm, like a reused
#: Lambda environment; cold starts are bench/cold_import.py's business).
_HANDLERS: dict[str, Callable[[Any, Any], Any]] = {}
_START: Any = None  # a multiprocessing.Barrier, set in each worker: concurrent callbacks start together

#: How many times a callback answered 503 is sent again (a job runner's retry policy).
RUNNER_RETRIES = 5
#: A job runner's lifecycle, as the events function receives it (5 events per job).
LIFECYCLE = ("run", "update", "update", "update", "finish")


@dataclass
class Run:
    """What a load run measured: one (status, start, end) per event, in seconds of the shared monotonic clock."""

    calls: list[tuple[int, float, float]] = field(default_factory=list)

    @property
    def events(self) -> int:
        return len(self.calls)

    @property
    def seconds(self) -> float:
        return max(end for _, _, end in self.calls) - min(start for _, start, _ in self.calls)

    @property
    def statuses(self) -> Counter[int]:
        return Counter(status for status, _, _ in self.calls)

    @property
    def latencies_ms(self) -> list[float]:
        return [(end - start) * 1000 for _, start, end in self.calls]


def load_handlers() -> None:
    """Import the webhook and events functions as Lambda does, once, before any worker is forked."""
    for function in ("webhook", "events"):
        _HANDLERS.setdefault(function, handler_module(function).handler)


def _worker_init(start: Any) -> None:
    global _START
    _START = start
    # A forked worker must not share the parent's HTTP connections: drop the cached store and model
    # classes (which hold botocore clients), so this process opens its own, as a new Lambda environment would.
    service._store_for.cache_clear()
    models.bind.cache_clear()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # the handlers still format and write every log line and metric; nobody reads them here


def _pool(processes: int, start: Any = None) -> Any:
    load_handlers()
    # Forked workers share the parent's memory until they write to it, and a garbage collection in a
    # worker writes to every object it visits: frozen objects are left alone, so each worker copies only
    # what it uses instead of the whole parent (a test run's parent holds hundreds of MB).
    gc.freeze()
    try:
        return multiprocessing.get_context("fork").Pool(processes, initializer=_worker_init, initargs=(start,))
    finally:
        gc.unfreeze()


def _callback(task: tuple[str, str, int]) -> tuple[tuple[int, float, float], int]:
    uuid, token, n = task
    request = callback_request(uuid, {"token": token, "status": "HEARTBEAT"}, json.dumps({"progress": n}))
    store = service.get_store()
    store.load(uuid), store.load(uuid, "warm-up")  # open both clients first: a warm environment, as Lambda reuses
    _START.wait()
    started = time.perf_counter()
    for retries in range(RUNNER_RETRIES + 1):
        response = _HANDLERS["webhook"](request, LambdaContext())
        if response["statusCode"] != 503 or retries == RUNNER_RETRIES:
            break
        time.sleep(float(response["headers"]["Retry-After"]))  # what a job runner is told to do
    return (response["statusCode"], started, time.perf_counter()), retries


def concurrent_callbacks(job: pj.PipelineJob, count: int) -> tuple[Run, int]:
    """``count`` distinct callbacks on one job, each from its own (warm) process, released at once. A callback
    answered 503 (it lost every write race) is sent again after Retry-After, as a runner would; its latency
    runs from its first try to its answer. Returns the run and how many resends there were."""
    start = multiprocessing.get_context("fork").Barrier(count)
    with _pool(count, start) as pool:
        results = pool.map(_callback, [(job.uuid, job.token, n) for n in range(count)], chunksize=1)
    return Run([call for call, _ in results]), sum(retries for _, retries in results)


def _setup(task: tuple[str, int]) -> tuple[str, str]:
    pipeline_uuid, n = task
    job = pj.PipelineJob(pipeline_uuid, {"load": n}).setup()
    return job.uuid, job.token


def _lifecycle(task: tuple[str, str]) -> list[tuple[int, float, float]]:
    uuid, token = task
    calls = []
    for n, event in enumerate(LIFECYCLE):
        message = {"uuid": uuid, "event": event, "token": token, "data": {"step": n}}
        started = time.perf_counter()
        answer = _HANDLERS["events"](message, LambdaContext())
        calls.append((answer["statusCode"], started, time.perf_counter()))
    return calls


def many_jobs(pipeline_uuid: str, jobs: int, workers: int) -> tuple[list[str], Run]:
    """Set up ``jobs`` jobs, then send each its LIFECYCLE through the events function (direct invoke),
    ``workers`` processes at a time; only the events are timed."""
    with _pool(workers) as pool:
        created = pool.map(_setup, [(pipeline_uuid, n) for n in range(jobs)], chunksize=16)
        per_job = pool.map(_lifecycle, created, chunksize=4)
    return [uuid for uuid, _ in created], Run([call for calls in per_job for call in calls])


def history_problems(items: Iterable[dict], expected: dict[str, tuple[str, Sequence[str]]]) -> list[str]:
    """Compare the raw table items with ``expected``: job uuid -> (final state, applied event names in order).

    Each job's history must hold entries 1..version, no gaps and no repeats, all applied, with the
    expected names; a job in the table that is not expected is a problem too.
    """
    jobs: dict[str, dict] = {}
    entries: dict[str, list[dict]] = defaultdict(list)
    for item in items:
        pk, sk = item["pk"]["S"], item["sk"]["S"]
        if not pk.startswith("JOB#"):
            continue
        uuid = pk.removeprefix("JOB#")
        if sk == "JOB":
            jobs[uuid] = item
        elif sk.startswith("EV#"):
            entries[uuid].append(item)
    problems = [f"{uuid}: not in the table" for uuid in expected if uuid not in jobs]
    problems += [f"{uuid}: not expected" for uuid in jobs if uuid not in expected]
    for uuid, (state, names) in expected.items():
        if uuid not in jobs:
            continue
        job, history = jobs[uuid], sorted(entries[uuid], key=lambda e: int(e["seq"]["N"]))
        seqs = [int(e["seq"]["N"]) for e in history]
        got = [e["name"]["S"] for e in history]
        if seqs != list(range(1, len(history) + 1)) or int(job["version"]["N"]) != len(history):
            problems.append(f"{uuid}: sequence numbers {seqs} for version {job['version']['N']}")
        if got != list(names):
            problems.append(f"{uuid}: history {got}, expected {list(names)}")
        if not all(e["applied"]["BOOL"] for e in history):
            problems.append(f"{uuid}: a refused entry in a history where every event is allowed")
        if job["state"]["S"] != state:
            problems.append(f"{uuid}: state {job['state']['S']}, expected {state}")
    return problems


def callback_data_problems(items: Iterable[dict], uuid: str, count: int) -> list[str]:
    """Each of the ``count`` callbacks' data must be in the job's history exactly once."""
    progress = Counter(json.loads(item["data"]["S"]).get("progress") for item in items
                       if item["pk"]["S"] == f"JOB#{uuid}" and item["sk"]["S"].startswith("EV#")
                       and item["name"]["S"] == "update")
    missing = [n for n in range(count) if progress[n] == 0]
    repeated = [n for n in range(count) if progress[n] > 1]
    return ([f"callbacks lost: {missing}"] if missing else []) + ([f"callbacks repeated: {repeated}"]
                                                                   if repeated else [])
