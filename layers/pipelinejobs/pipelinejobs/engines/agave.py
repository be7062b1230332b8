"""Agave/Tapis v2 job notifications: a webhook subscribed to a job's events, POSTing the job's JSON.

What an Agave job is here: **a workflow of one job**. The Agave job id is the run (one workflow per job,
named after the job's ``name``) and its one task (a job in the workflow's one node, ``job``; its ``appId`` and
the rest of the job's JSON are in the job's data), so the job's statuses move a pipelinejobs job (its history,
its failure, its counters) and its end ends the workflow, and ``pipelinejobs workflow status`` and the dashboard
show it like any engine run. The node's name is fixed, not the app's: a notification whose body is not the job's
JSON names no app, and a task's node must not change from one message to the next. One workflow per pipeline
instead would never end; a resubmitted Agave job has a new id, so it is a new workflow.

Agave's body cannot be customised but its URL can (``${JOB_STATUS}``, ``${JOB_ID}``...). As the original
PipelineJobs manager did, the status is read from the body first (the job JSON's ``status``), then from the
URL's ``?status=``; the job id from the body's ``id``, then ``?job=``. A status in no table below (a
HEARTBEAT, a permission change) is acknowledged and changes nothing.

Each status repeats the steps its job must already have taken (a FINISHED also says it ran), with the keys
those steps' own notifications get, so any order of delivery ends in the same state.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..errors import InvalidEvent
from .model import RUN_FAILED, RUN_FINISHED, RUN_KILLED, RUN_STARTED, RunEvent, TaskEvent
from .wire import event_key

ENGINE = "agave"
#: The one node of an Agave job's workflow.
NODE = "job"

#: Statuses of a job not yet running: each one noted in its history (an ``update``).
WAITING: tuple[str, ...] = ("CREATED", "PENDING", "PROCESSING_INPUTS", "STAGING_INPUTS", "STAGED",
                            "STAGING_JOB", "SUBMITTING", "QUEUED", "PAUSED")
#: Statuses of a job that has run and is winding down (its outputs being archived): it ran, and the status
#: is noted.
WINDING_DOWN: tuple[str, ...] = ("CLEANING_UP", "ARCHIVING", "ARCHIVING_FINISHED")

#: Agave status -> (the job's PipelineJob events, in order; how the run ends, or None).
STATUSES: Mapping[str, tuple[tuple[str, ...], str | None]] = {
    **{status: (("update",), None) for status in WAITING},
    "RUNNING": (("run",), None),
    **{status: (("run", "update"), None) for status in WINDING_DOWN},
    "FINISHED": (("run", "finish"), RUN_FINISHED),
    "FAILED": (("fail",), RUN_FAILED),  # it may have failed before it ran (staging its inputs)
    "ARCHIVING_FAILED": (("run", "fail"), RUN_FAILED),  # it ran; its outputs were not archived
    "KILLED": (("fail",), RUN_KILLED),
    "STOPPED": (("fail",), RUN_KILLED),
}

#: A job's step each event is, for its key: one ``run`` and one end per job, whichever status said it; each
#: ``update`` is its status's own.
STEPS: Mapping[str, str] = {"run": "run", "finish": "end", "fail": "end"}

#: A URL macro Agave did not fill in (``${JOB_STATUS}``; ``$JOB_STATUS`` once a shell or curl took the braces).
_MACRO = re.compile(r"\$\{?[A-Z_]+\}?")


def _first_filled(candidates: tuple[tuple[str, Any], ...]) -> tuple[str, str] | None:
    """The first candidate (field, value) that is a non-empty string and not an unfilled macro; a 400 naming
    the macro's place if the only ones are macros, None if there is no candidate at all."""
    unfilled = None
    for field, value in candidates:
        if not isinstance(value, str) or not value.strip():
            continue
        if not _MACRO.fullmatch(value.strip()):
            return field, value.strip()
        unfilled = unfilled or (field, value)
    if unfilled is not None:
        raise InvalidEvent.single(unfilled[0], f"is the macro {unfilled[1]}, not filled in: the notification's "
                                               "URL must use a macro Agave fills (e.g. ${JOB_STATUS}, ${JOB_ID})")
    return None


def events(body: Mapping[str, Any], query: Mapping[str, str | None]) -> list[RunEvent | TaskEvent]:
    """The run and job events one notification stands for: ``body`` is what it POSTed, as data (the job's JSON,
    or a form's fields), ``query`` its URL's query parameters."""
    found_id = _first_filled((("id", body.get("id")), ("job", query.get("job"))))
    if found_id is None:
        raise InvalidEvent.single("id", "is required: the body's id (the job's JSON) or the URL's ?job=${JOB_ID}")
    found_status = _first_filled((("status", body.get("status")), ("status", query.get("status"))))
    if found_status is None:
        raise InvalidEvent.single("status", "is required: the body's status (the job's JSON) or the URL's "
                                            "?status=${JOB_STATUS}")
    job, status = found_id[1], found_status[1].upper()
    steps, end = STATUSES.get(status, ((), None))
    if not steps:
        return []
    name = body.get("name") if isinstance(body.get("name"), str) else None
    reason = None if end in (None, RUN_FINISHED) else f"Agave says the job is {status}"
    data = {**body, "status": status}
    fail_data = {**data, "reason": reason, **({"failure": "killed"} if end == RUN_KILLED else {})}
    found: list[RunEvent | TaskEvent] = [
        RunEvent(engine=ENGINE, run=job, kind=RUN_STARTED, key=event_key(ENGINE, job, RUN_STARTED), name=name)]
    found.extend(TaskEvent(engine=ENGINE, run=job, event=event, key=event_key(ENGINE, job, STEPS.get(event, status)),
                           task=job, name=NODE, data=fail_data if event == "fail" else data) for event in steps)
    if end is not None:
        found.append(RunEvent(engine=ENGINE, run=job, kind=end, key=event_key(ENGINE, job, end), name=name,
                              reason=reason, data={"status": status}))
    return found
