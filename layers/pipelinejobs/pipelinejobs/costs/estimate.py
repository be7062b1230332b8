"""A job's cost estimate, from its history: the compute its tasks used and what tracking it cost us.

**Compute**: the tasks the history names (:func:`tasks`), each priced by :mod:`.compute`.

**Tracking**: what pipelinejobs itself spent on the job, counted from its history (each entry is one event
applied or refused) with the per-request costs measured by ``bench/event_cost.py`` (docs/design.md):

* DynamoDB: an event is one strongly consistent read (a transactional read of job and id marker when it has
  an id) and one transaction writing the history entry, the id marker, the job and its two index entries;
  transactions cost twice. The stream function reads the entry of each change of state once, and the
  estimate reads the whole history once and writes itself once.
* Lambda: one invocation for each event that came through a function (the webhook, the events function, the
  orchestrator; not the SDK or the CLI, which write to the table themselves), and one stream invocation per
  change of state (an upper bound: the stream batches), at :data:`FUNCTION_MEMORY_GB` for
  :data:`FUNCTION_SECONDS` each.
* Step Functions: for each orchestrated attempt, the launch and end states and three transitions per check
  (Wait, Check, Dispatch), the checks counted from the attempt's duration and the task's poll backoff.
* EventBridge: one custom event per change of state; API Gateway: one request per webhook event; SQS: a send,
  a receive and a delete per queued event.

It is an estimate: a retried request, a duplicate callback or a throttled write costs more, and free tiers,
Savings Plans and spot prices cost less (docs/operations.md, "What a job cost").
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from ..events import compact_json
from ..orchestration.flow import SOURCE as ORCHESTRATOR
from ..orchestration.spec import PollSettings
from ..records import HistoryEntry, now_iso
from .compute import Task, TaskCost, price
from .prices import Prices

#: Event sources that write to the table themselves: no function, no request was paid for.
DIRECT_SOURCES = frozenset({"sdk", "cli", "message", None})
#: The functions' memory (template.yaml's Globals) and a typical warm duration of one invocation.
FUNCTION_MEMORY_GB = 0.5
FUNCTION_SECONDS = 0.1
#: Transitions of an orchestrated attempt besides its checks: Dispatch, Launch, Dispatch, the end, Dispatch.
ATTEMPT_TRANSITIONS = 5
CHECK_TRANSITIONS = 3
#: The job item and its two index entries (each under 1 KB), and the id marker.
JOB_WRITE_UNITS = 3
KB = 1024


def _entry_kb(entry: HistoryEntry) -> int:
    """The entry's size in KB, rounded up as DynamoDB bills it (its data and ~200 bytes of keys and fields)."""
    return max(1, math.ceil((len(compact_json(entry.data)) + 200) / KB))


def tasks(entries: Iterable[HistoryEntry]) -> list[Task]:
    """Every task the history names, in order: launched by orchestration (``launcher`` and ``handle`` in an
    entry's data), or reported by AWS Batch or ECS (``jobId``, ``taskArn``). An applied ``finish`` or ``fail``
    ends the latest task, unless an entry gave its ``stopped`` time already."""
    found: dict[tuple[str, str], Task] = {}
    latest: Task | None = None
    for entry in entries:
        data = entry.data
        named = _named(data)
        if named is not None:
            launcher, handle = named
            task = Task(launcher, handle, started=_text(data.get("started")) or entry.date)
            latest = found.setdefault(task.key, task)
        if latest is not None and entry.applied and entry.name in ("finish", "fail") and latest.stopped is None:
            latest.stopped = _text(data.get("stopped")) or entry.date
    return list(found.values())


def _text(value: Any) -> str | None:
    """A time the history's data gives, if it is text (a client's data may hold anything under any key)."""
    return value if isinstance(value, str) else None


def _poll(data: dict[str, Any]) -> PollSettings | None:
    """The poll settings a run's claim carries (``task.poll``); None for data that is not a claim's, such as a
    client's own ``task`` of another shape: an estimate must never fail on what a job's data holds."""
    task = data.get("task")
    poll = task.get("poll") if isinstance(task, dict) else None
    if not isinstance(poll, dict):
        return None
    try:
        settings = PollSettings(**poll)
        settings.grow(float(settings.first))
    except (TypeError, ValueError):
        return None
    return settings


def _named(data: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    if isinstance(data.get("launcher"), str) and isinstance(data.get("handle"), dict):
        return data["launcher"], data["handle"]
    if data.get("source") == "aws.batch" and data.get("jobId"):
        return "batch", {"job_id": data["jobId"]}
    if data.get("source") == "aws.ecs" and data.get("taskArn") and data.get("clusterArn"):
        return "ecs", {"cluster": data["clusterArn"], "task_arn": data["taskArn"]}
    return None


def _checks(seconds: float, poll: PollSettings) -> int:
    """How many checks a polled attempt of ``seconds`` made: waits of ``first``, growing to ``cap``."""
    checks, waited, interval = 0, 0.0, float(poll.first)
    while waited < seconds and checks < 100_000:
        waited += interval
        checks += 1
        interval = poll.grow(interval)
    return max(1, checks)


def tracking_usage(entries: list[HistoryEntry], costs: list[TaskCost]) -> dict[str, float]:
    """What pipelinejobs did for the job, in billed units."""
    usage = dict.fromkeys(("write_units", "read_units", "lambda_invocations", "state_transitions",
                           "events_published", "api_requests", "sqs_requests"), 0.0)
    state, poll, history_kb = None, PollSettings(), 0
    for entry in entries:
        kb = _entry_kb(entry)
        history_kb += kb
        usage["write_units"] += 2 * (kb + JOB_WRITE_UNITS + (1 if entry.id else 0))
        usage["read_units"] += 4 if entry.id else 1
        if entry.source not in DIRECT_SOURCES:
            usage["lambda_invocations"] += 1
        usage["api_requests"] += entry.source == "webhook"
        usage["sqs_requests"] += 3 * (entry.source == "sqs")
        poll = _poll(entry.data) or poll
        if entry.applied and entry.state != state:  # a change of state: the stream publishes it
            usage["events_published"] += 1
            usage["lambda_invocations"] += 1
            usage["read_units"] += 1
        state = entry.state if entry.applied else state
        if entry.source == ORCHESTRATOR and entry.data.get("status") == "LAUNCHED":
            usage["state_transitions"] += ATTEMPT_TRANSITIONS
    for cost in costs:  # the checks of polled attempts (a callback attempt makes none)
        if cost.launcher in ("batch", "ecs", "local") and cost.seconds is not None:
            usage["state_transitions"] += CHECK_TRANSITIONS * _checks(cost.seconds, poll)
    usage["read_units"] += math.ceil(history_kb / 4)  # this estimate's read of the history
    usage["write_units"] += 1  # and its write
    return usage


def tracking_usd(usage: dict[str, float], prices: Prices) -> float:
    lam = prices["lambda"]
    per_invocation = lam["request"] + FUNCTION_MEMORY_GB * FUNCTION_SECONDS * lam["x86_64"]["gb_second"]
    return (usage["write_units"] * prices["dynamodb"]["write_request_unit"]
            + usage["read_units"] * prices["dynamodb"]["read_request_unit"]
            + usage["lambda_invocations"] * per_invocation
            + usage["state_transitions"] * prices["stepfunctions"]["state_transition"]
            + usage["events_published"] * prices["eventbridge"]["custom_event"]
            + usage["api_requests"] * prices["apigateway"]["http_request"]
            + usage["sqs_requests"] * prices["sqs"]["request"])


def job_estimate(uuid: str, entries: list[HistoryEntry], prices: Prices,
             before: dict[str, Any] | None = None) -> dict[str, Any]:
    """The job's estimate. A task ``before`` (the job's previous estimate) priced is not looked up again:
    a rerun's estimate keeps what its earlier attempts cost, though their tasks may be forgotten by now."""
    known = {Task(c["launcher"], c["handle"]).key: TaskCost(**c) for c in (before or {}).get("compute", [])
             if c.get("usd") is not None}
    costs = [known.get(task.key) or price(task, prices) for task in tasks(entries)]
    usage = tracking_usage(entries, costs)
    compute_usd = sum(c.usd for c in costs if c.usd is not None)
    tracking = tracking_usd(usage, prices)
    return {
        "uuid": uuid, "compute_usd": round(compute_usd, 8), "tracking_usd": round(tracking, 8),
        "total_usd": round(compute_usd + tracking, 8), "complete": all(c.usd is not None for c in costs),
        "estimated": now_iso(), "prices": {key: prices.get(key) for key in ("date", "region", "currency")},
        "compute": [c.to_dict() for c in costs], "tracking": usage,
    }
