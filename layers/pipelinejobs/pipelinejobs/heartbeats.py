"""When a job went silent: its deadline, kept on the job item, moved by every sign of life.

A job given ``heartbeat_seconds`` (at setup, by ``POST /jobs``, or by its pipeline's task template) must be
heard from that often while it is *live*: RUNNING, or CREATED once an attempt was launched. Its deadline,
``due_at``, is written in the same request as whatever the job heard (an event's transaction, a refusal's,
a repeated callback's small update), so a sign of life never costs a request of its own; it is removed by
the event that ends the live part of the job. Only live jobs with a heartbeat carry it, so the index on
it (``due``, see ``storage/models.py``) holds them and nothing else, and the sweep (:mod:`.sweep`) reads the
jobs that are due from it, never a Scan.

A job a callback-mode Step Functions execution waits on is watched by the execution's own
``HeartbeatSeconds``, which retries the attempt; its deadline here is later by
:data:`ORCHESTRATED_GRACE_SECONDS`, so the sweep only fails such a job whose execution did not act.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from .errors import InvalidEvent
from .records import JobRecord

#: The longest heartbeat accepted: a year, Step Functions' own limit on a run (and the task template's).
MAX_HEARTBEAT_SECONDS = 365 * 24 * 3600
#: Extra time given to a job a Step Functions execution waits on (see the module doc).
ORCHESTRATED_GRACE_SECONDS = 60


def is_live(job: JobRecord) -> bool:
    """Whether silence is a fault now: the task is running, or was launched and has not said so yet."""
    return job.state == "RUNNING" or (job.state == "CREATED" and job.attempt > 0)


def due_at(job: JobRecord, heard: str) -> str | None:
    """The job's deadline when it was last heard from at ``heard`` (ISO 8601 UTC); None when the job has no
    heartbeat or is not live (nothing to watch)."""
    if not job.heartbeat_seconds or not is_live(job):
        return None
    grace = ORCHESTRATED_GRACE_SECONDS if job.task_token else 0
    return later(heard, job.heartbeat_seconds + grace)


def later(when: str, seconds: float) -> str:
    """``when`` (ISO 8601 UTC, as ``records.now_iso`` writes it) plus ``seconds``, in the same form."""
    moment = datetime.fromisoformat(when.replace("Z", "+00:00")) + timedelta(seconds=seconds)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def checked(seconds: object, field: str = "heartbeat_seconds") -> int | None:
    """``seconds`` as an int if it is a whole number of seconds in range (or None: no heartbeat); else
    InvalidEvent naming ``field``. ``600.0`` is whole (JSON, and JSON Schema's "integer", say so)."""
    if seconds is None:
        return None
    whole = isinstance(seconds, int) or (isinstance(seconds, float) and seconds.is_integer())
    if isinstance(seconds, bool) or not whole or not 1 <= seconds <= MAX_HEARTBEAT_SECONDS:
        raise InvalidEvent.single(field, f"must be a whole number of seconds from 1 to {MAX_HEARTBEAT_SECONDS}, "
                                         f"not {seconds!r}")
    return int(seconds)
