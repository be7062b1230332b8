"""A job's attempts, folded from its history: one row per execution of its task.

What the SDK's ``orchestration.attempts`` returns, what the dashboard's job page shows and what ``kill`` reads
to find a task: computed once here from history entries alone (no read, no SDK), so that a Lambda handler may
use it as well as the SDK.

Orchestration numbers its attempts (``attempt`` in each event's data); AWS events of a job nothing
orchestrates carry Batch's attempt number, or, for an ECS task, only the task (``handle``): each task
is then an attempt of its own, numbered after those before it. Each row keeps how its attempt ended
(``exit_code``, ``reason``, ``failure``: see :mod:`pipelinejobs.failures`), the latest word winning.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from .failures import Failure
from .records import HistoryEntry

#: History data keys that describe an attempt.
ATTEMPT_KEYS = ("launcher", "handle", "log", "started", "stopped", "exit_code", "reason", "failure")


@dataclass(frozen=True)
class Attempt:
    """One execution of a job's task, folded from the job's history."""

    number: int
    launcher: str | None = None
    handle: dict[str, Any] | None = None
    log: dict[str, Any] | None = None
    started: str | None = None
    stopped: str | None = None
    exit_code: int | None = None
    reason: str | None = None
    #: Why it failed (pipelinejobs.failures): None while it runs and when it succeeded.
    failure: str | None = None
    succeeded: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def fold(history: Iterable[HistoryEntry]) -> list[Attempt]:
    """Every attempt, oldest first (see :func:`rows`)."""
    return [Attempt(**row) for row in rows(history)]


def rows(history: Iterable[HistoryEntry]) -> list[dict[str, Any]]:
    """Every attempt, oldest first, as ``{"number", "succeeded", <ATTEMPT_KEYS>...}`` (refused entries
    included: a task that ended before its launch was recorded still left its handle there). An applied
    ``finish`` or ``fail`` that names no attempt (an outside task's own) ends the latest one."""
    found: dict[int, dict[str, Any]] = {}
    latest: int | None = None
    for entry in history:
        if entry.name == "ready":  # ready only announces the next one
            continue
        number = _number(entry.data, found)
        if number is not None:
            latest = number
            row = found.setdefault(number, {"number": number})
            row.update({key: entry.data[key] for key in ATTEMPT_KEYS if entry.data.get(key) is not None})
        elif latest is not None and entry.name in ("finish", "fail") and entry.applied:
            row = found[latest]
            row.setdefault("stopped", entry.date)
            for key in ("reason", "failure"):
                if entry.data.get(key) is not None:
                    row.setdefault(key, entry.data[key])
        else:
            continue
        row["succeeded"] = row.get("succeeded", False) or (entry.name == "finish" and entry.applied)
    for row in found.values():
        if row["succeeded"]:
            row.pop("failure", None)  # an earlier word (a Batch retry inside the attempt) was not the end
    return [found[number] for number in sorted(found)]


def _number(data: dict[str, Any], rows: dict[int, dict[str, Any]]) -> int | None:
    """The attempt an entry speaks of: its number, or the row of its task, or a new row for a new task."""
    number = data.get("attempt")
    if isinstance(number, int):
        return number
    handle = data.get("handle")
    if not isinstance(handle, dict) or not handle:
        return None
    same = [n for n, row in rows.items() if row.get("handle") == handle]
    return same[0] if same else max(rows, default=0) + 1


def last_failure(newest_first: Iterable[HistoryEntry]) -> Failure:
    """The class of the job's latest applied ``fail`` (``unknown`` if it names none)."""
    for entry in newest_first:
        if entry.name == "fail" and entry.applied:
            return Failure(entry.data["failure"]) if entry.data.get("failure") in set(Failure) else Failure.UNKNOWN
    return Failure.UNKNOWN
