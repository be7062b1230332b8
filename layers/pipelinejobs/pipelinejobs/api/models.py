"""The webhook's answers, for the OpenAPI document and response validation.

An event's outcome and history entries are served as the core's dataclasses are.
A job is served through ``JobView``, an allow-list: a field added to JobRecord
(orchestration's task token, say, which is a credential) is not served until it
is added here on purpose.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from ..records import HistoryEntry


class FieldProblem(BaseModel):
    field: str
    problem: str


class ErrorBody(BaseModel):
    """Every error answer: its kind and a message, plus what the kind adds."""

    error: str = Field(description="InvalidEvent, PayloadTooLarge, Unauthorized, Forbidden, JobNotFound, "
                                   "InvalidTransition, ConcurrencyConflict or InternalError.")
    message: str
    errors: list[FieldProblem] | None = Field(None, description="400/413: every field at fault.")
    state: str | None = Field(None, description="409: the job's current state.")
    event: str | None = Field(None, description="409: the event that was refused.")
    allowed: list[str] | None = Field(None, description="409: the events the current state accepts.")


class JobView(BaseModel):
    """A job, its last event and one page of its history."""

    uuid: str
    pipeline_uuid: str
    state: str
    last_event: str
    created: str
    updated: str
    started: str | None
    path: str
    data: dict[str, Any]
    parents: list[str]
    version: int = Field(description="Number of history entries, applied or refused.")
    rejections: int = Field(description="Number of refused events.")
    history: list[HistoryEntry]
    next_cursor: int | None = Field(description="Pass as ``after`` for the next page; null on the last page.")
