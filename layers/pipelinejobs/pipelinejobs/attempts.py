"""A job's attempts, folded from its history: what the SDK's ``orchestration.attempts`` returns and what the
dashboard's job page shows, computed once here from history entries alone (no read, no SDK), so that a
Lambda handler may use it as well as the SDK.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from .records import HistoryEntry

#: History data keys that describe an attempt.
_ATTEMPT_KEYS = ("launcher", "handle", "log", "started", "stopped", "exit_code", "reason")


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
    succeeded: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def fold(history: Iterable[HistoryEntry]) -> list[Attempt]:
    """Every attempt in ``history`` (oldest first), refused entries included: a task that ended before its
    launch was recorded still left its handle there. An applied ``finish`` or ``fail`` that names no attempt
    (an external task's own, sent through the webhook) ends the latest one."""
    rows: dict[int, dict[str, Any]] = {}
    latest: int | None = None
    for entry in history:
        number = entry.data.get("attempt")
        if entry.name == "ready":  # ready only announces the next one
            continue
        if isinstance(number, int):
            latest = number
            row = rows.setdefault(number, {"number": number})
            row.update({key: entry.data[key] for key in _ATTEMPT_KEYS if entry.data.get(key) is not None})
        elif latest is not None and entry.name in ("finish", "fail") and entry.applied:
            row = rows[latest]
            row.setdefault("stopped", entry.date)
            if entry.data.get("reason") is not None:
                row.setdefault("reason", entry.data["reason"])
        else:
            continue
        row["succeeded"] = row.get("succeeded", False) or (entry.name == "finish" and entry.applied)
    return [Attempt(**rows[number]) for number in sorted(rows)]
