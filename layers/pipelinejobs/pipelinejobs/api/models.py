"""The webhook's answers as pydantic models: what the OpenAPI document says each route returns."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class OutcomeBody(BaseModel):
    """An event's result: the job's state after it (a duplicate answers with the first result)."""

    uuid: str
    event: str
    state: str = Field(description="The job's state after the event.")
    previous_state: str
    seq: int = Field(description="Sequence number of the history entry that recorded the event.")
    applied: bool
    duplicate: bool = Field(description="True if this event id was applied before; nothing new was written.")


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


class HistoryEntryBody(BaseModel):
    seq: int
    date: str
    name: str = Field(description="The event.")
    data: dict[str, Any]
    state: str = Field(description="The job's state after the entry.")
    applied: bool = Field(description="False for a refused event (then ``reason`` says why).")
    id: str | None = None
    reason: str | None = None
    source: str | None = None


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
    history: list[HistoryEntryBody]
    next_cursor: int | None = Field(description="Pass as ``after`` for the next page; null on the last page.")
