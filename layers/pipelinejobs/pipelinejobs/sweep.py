"""The sweep: fail the jobs that went silent (``failure: stale``), run on a schedule.

Each run reads the jobs that are due from the sparse ``due`` index (``JobStore.due_jobs``: one Query per
index shard, each returning only jobs whose ``due_at`` has passed), so what it reads grows with the jobs that
are due, never with the jobs that are live. It sends each one ``fail`` through ``handle_event`` (trusted, as
a scheduled function authenticated by IAM), like any other event: history, notification, a waiting Step
Functions task settled.

The fail expects the deadline the index gave (``expect={"due_at": ...}``), checked against the job's
strongly consistent read, and its write is conditional on that deadline (``JobStore.commit_applied``). So:

* a job heard from since (an event, a repeated callback) has a later deadline: nothing is written;
* a sign of life arriving while the fail is written makes the write lose its race, and the retry sees the
  new deadline: nothing is written;
* a job that ended, was deleted, or was failed by an earlier run (or twice by overlapping runs) has no
  such deadline: nothing is written. The fail is applied once, whatever runs overlap.

Bound: run every minute (``template.yaml``, ``SweepFunction``; locally, the local stack), a job is failed
within a minute past its deadline, plus the index's propagation (usually under a second) and the run.
A run that finds more than it can fail before its own deadline stops there; the next run goes on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import deadline, observability
from .config import Config
from .errors import JobNotFound, OutOfTime, PipelineJobsError, PreconditionFailed
from .records import now_iso
from .service import get_store, handle_event

#: The event's source in the job's history.
SOURCE = "sweep"
#: The failure class a silent job's ``fail`` carries in its data.
STALE = "stale"
#: Time a fail needs left before the run's deadline to start it: its read and its write, each of which botocore
#: starts only with its connect and read timeouts ahead (``clients.TIMEOUTS``, 1 s + 3 s), and room to spare.
SECONDS_PER_JOB = 10.0


@dataclass
class SweepReport:
    """What one run did: the jobs the index said were due, those failed, those skipped (heard from, ended
    or gone since), and those left for the next run (a fault, or out of time)."""

    due: int = 0
    failed: list[str] = field(default_factory=list)
    skipped: int = 0
    left: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"due": self.due, "failed": self.failed, "skipped": self.skipped, "left": self.left}


def sweep(now: str | None = None, *, config: Config | None = None) -> SweepReport:
    """Fail every live job whose deadline is at or before ``now`` (default: the clock's now) as stale."""
    config = config or Config.from_env()
    now = now or now_iso()
    due = get_store(config).due_jobs(now)
    report = SweepReport(due=len(due))
    log = observability.logger()
    for n, job in enumerate(due):
        data = {"failure": STALE, "reason": f"no event for {job.heartbeat_seconds} s", "due_at": job.due_at,
                "last_heartbeat": job.last_heartbeat, "heartbeat_seconds": job.heartbeat_seconds}
        try:
            deadline.ensure(SECONDS_PER_JOB, "failing a stale job")
            outcome = handle_event({"uuid": job.uuid, "event": "fail", "data": data}, trusted=True, source=SOURCE,
                                   config=config, expect={"due_at": job.due_at})
        except (PreconditionFailed, JobNotFound):
            report.skipped += 1
            continue
        except OutOfTime:
            report.left += len(due) - n  # this job and those after it
            break
        except PipelineJobsError as exc:  # throttled, contended: still due, so the next run tries again
            report.left += 1
            log.warning("stale job not failed; the next run retries", extra={"uuid": job.uuid, "error": exc.to_dict()})
            continue
        observability.count_applied(outcome.event, SOURCE)
        log.info("stale job failed", extra={"uuid": job.uuid, "due_at": job.due_at})
        report.failed.append(job.uuid)
    return report


@observability.lambda_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The sweep function's entry point (a scheduled event; its content is not needed)."""
    with deadline.from_lambda(context):
        report = sweep()
    observability.logger().info("sweep done", extra=report.to_dict())
    return report.to_dict()
