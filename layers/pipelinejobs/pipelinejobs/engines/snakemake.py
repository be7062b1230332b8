"""Snakemake's panoptes protocol (``snakemake --logger panoptes``, and ``--wms-monitor`` before it), as events.

The plugin asks ``create_workflow`` for an id, then POSTs each log record as a form: ``msg`` (the record as a
JSON string), ``timestamp``, ``id``. The id this door hands out is ``<run>~<session>``: ``run`` is the
``--logger-panoptes-workflow-id`` given (the same workflow on every re-run), else a new one per run;
``session`` is new on every ``create_workflow``, because Snakemake's ``jobid``s (the aliases its
``job_started``, ``job_finished`` and ``job_error`` name jobs by) count from 1 again in every run of it, and a
re-run's tasks are their jobs' next attempts (``TaskEvent.attempt`` is the session: it only grows).

A task is its rule and its wildcards (one job across re-runs); ``job_info`` says which task a jobid is and
brings its data (wildcards, threads, resources, input, output, log), its files giving the job's parents.
``progress`` gives the run's planned total (the workflow's ``expected``; its ``never_ran`` counts the tasks never
started). The plugin (0.3.0) forwards neither the dependency graph nor the per-rule job counts, so a task that never
started cannot be named. Captured from real runs: the samples in ``events/engines/snakemake/``; every other level
(``info``, ``shellcmd``...) means nothing to us.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import InvalidEvent
from ..events import compact_json
from .model import RUN_FAILED, RUN_FINISHED, RUN_PROGRESS, RUN_STARTED, RunEvent, TaskEvent

ENGINE = "snakemake"
#: Between the run and the session in the id ``create_workflow`` hands out.
SEPARATOR = "~"

#: ``msg.level`` of a record about jobs (by jobid) -> the job event it sends.
JOB_EVENTS = {"job_started": "run", "job_finished": "finish", "job_error": "fail"}
#: ``msg.level`` of a record about the whole run -> the run event it sends.
RUN_LEVELS = {"progress": RUN_PROGRESS, "workflow_success": RUN_FINISHED, "error": RUN_FAILED}
#: What of a ``job_info`` record goes into its job's data.
JOB_DATA = ("rule", "wildcards", "threads", "resources", "input", "output", "log")
#: Its lists of files, which grow with the run (a fan-in reads every file of the tasks before it).
FILE_LISTS = ("input", "output", "log")
#: Bytes (as JSON) of each file list kept in the job's data: the first files that fit, and ``<list>_total``
#: when some were left out. Whole, a fan-in's list outgrows an event's data (MAX_DATA_BYTES: ~1,800 paths of
#: 15 characters), and its job_info would be refused (413), its task never tracked; every input still names
#: the task's parents (``TaskEvent.inputs``).
FILES_KEPT_BYTES = 8 * 1024


def workflow_id(run: str, session: int) -> str:
    """The id ``create_workflow`` answers: what every later record of the run carries."""
    return f"{run}{SEPARATOR}{session}"


def parse_id(value: str) -> tuple[str, int]:
    """``(run, session)`` of an id :func:`workflow_id` made (an id of another making is a run of session 0)."""
    run, _, session = value.rpartition(SEPARATOR)
    return (run, int(session)) if run and session.isdigit() else (value, 0)


def started(run: str, session: int, name: str) -> RunEvent:
    """The event ``create_workflow`` sends: a run (or a re-run: a new session) begins."""
    return RunEvent(engine=ENGINE, run=run, kind=RUN_STARTED, key=f"{session}#started", name=name)


def events(form: Mapping[str, str]) -> list[RunEvent | TaskEvent]:
    """The events of one ``update_workflow_status`` form; [] for a record that means nothing to us. A form
    without ``id`` or with a ``msg`` that is not a JSON object raises InvalidEvent naming the field."""
    if not form.get("id"):
        raise InvalidEvent.single("id", "is required: the id create_workflow answered")
    if not form.get("msg"):
        raise InvalidEvent.single("msg", "is required: the log record, as JSON")
    try:
        msg = json.loads(form["msg"])
    except ValueError:
        raise InvalidEvent.single("msg", "is not JSON") from None
    if not isinstance(msg, dict):
        raise InvalidEvent.single("msg", "must be a JSON object")
    run, session = parse_id(form["id"])
    level = msg.get("level")
    make = _LEVELS.get(level) if isinstance(level, str) else None
    return make(run, session, msg) if make else []


def _jobid(msg: Mapping[str, Any], name: str = "jobid") -> str:
    value = msg.get(name)
    if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
        raise InvalidEvent.single(f"msg.{name}", "must be a job id (a number)")
    return str(value)


def _job_event(run: str, session: int, msg: Mapping[str, Any]) -> list[TaskEvent]:
    event = JOB_EVENTS[msg["level"]]
    if msg["level"] == "job_started":
        jobs = msg.get("jobs")
        if not isinstance(jobs, list):
            raise InvalidEvent.single("msg.jobs", "must be a list of job ids")
        ids = [_jobid({"jobid": job}) for job in jobs]
        data: dict[str, Any] = {}
    else:
        ids = [_jobid(msg)]
        data = {"reason": f"rule {msg.get('name') or '?'} failed"} if event == "fail" else {}
    return [TaskEvent(engine=ENGINE, run=run, event=event, key=f"{session}#{msg['level']}#{jobid}",
                      alias=f"{session}:{jobid}", attempt=session, data=data) for jobid in ids]


def _job_info(run: str, session: int, msg: Mapping[str, Any]) -> list[TaskEvent]:
    jobid, rule = _jobid(msg), msg.get("name")
    if not isinstance(rule, str) or not rule:
        raise InvalidEvent.single("msg.name", "must be the rule's name")
    wildcards = msg.get("wildcards") or {}
    if not isinstance(wildcards, dict):
        raise InvalidEvent.single("msg.wildcards", "must be an object")
    files = {}
    for name in ("input", "output"):
        value = msg.get(name) or []
        if not isinstance(value, list) or not all(isinstance(path, str) for path in value):
            raise InvalidEvent.single(f"msg.{name}", "must be a list of file names")
        files[name] = tuple(value)
    data = {"rule": rule, **{name: msg[name] for name in JOB_DATA if name in msg and name != "rule"}}
    for name in FILE_LISTS:
        if isinstance(data.get(name), list):
            data |= _files_kept(name, data[name])
    return [TaskEvent(engine=ENGINE, run=run, event="update", key=f"{session}#job_info#{jobid}",
                      task=compact_json([rule, wildcards]), name=rule, alias=f"{session}:{jobid}", attempt=session,
                      data=data, inputs=files["input"], outputs=files["output"])]


def _files_kept(name: str, paths: list[Any]) -> dict[str, Any]:
    """``{name: the first paths that fit in FILES_KEPT_BYTES}``, and ``{name}_total`` if that is not all."""
    size = 2  # the brackets
    for kept, path in enumerate(paths):
        size += len(compact_json(path).encode()) + 1
        if size > FILES_KEPT_BYTES:
            return {name: paths[:kept], f"{name}_total": len(paths)}
    return {name: paths}


def _run_event(run: str, session: int, msg: Mapping[str, Any]) -> list[RunEvent]:
    kind = RUN_LEVELS[msg["level"]]
    key = f"{session}#{msg['level']}"
    if kind == RUN_PROGRESS:
        total = msg.get("total")
        if isinstance(total, bool) or not isinstance(total, int) or total < 0:
            raise InvalidEvent.single("msg.total", "must be a whole number")
        return [RunEvent(engine=ENGINE, run=run, kind=kind, key=f"{key}#{msg.get('done')}", expected=total)]
    reason = msg.get("msg") if kind == RUN_FAILED and isinstance(msg.get("msg"), str) else None
    return [RunEvent(engine=ENGINE, run=run, kind=kind, key=key, reason=reason)]


_LEVELS: dict[str, Callable[[str, int, Mapping[str, Any]], list]] = {
    **dict.fromkeys(JOB_EVENTS, _job_event), **dict.fromkeys(RUN_LEVELS, _run_event),
    "job_info": _job_info,
}
