"""What the commands' arguments accept, checked as they are parsed: a bad value is refused (exit 2)
with the values that would do, rather than answering nothing (``0 row(s)``) or waiting for ever."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from .. import fsm

#: What a JSON value is called, by the Python type json.loads gives it.
JSON_KINDS = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "true or false",
              type(None): "null", dict: "an object"}


class JsonValue(click.ParamType):
    """JSON text; ``object_only`` refuses anything but an object (a job's data, an event's, overrides)."""

    name = "JSON"

    def __init__(self, object_only: bool = True):
        self.object_only = object_only

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as exc:
            self.fail(f"not valid JSON: {exc.msg} at column {exc.colno}", param, ctx)
        if self.object_only and not isinstance(parsed, dict):
            self.fail(f"must be a JSON object ({{...}}), not {JSON_KINDS[type(parsed)]}", param, ctx)
        return parsed


class Job(click.ParamType):
    """A job: its uuid or an unambiguous prefix of it (lookup.job_uuid)."""

    name = "JOB"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from ..lookup import job_uuid

        return job_uuid(value)


class Pipeline(click.ParamType):
    """A pipeline: its uuid, its name, or an unambiguous prefix of its uuid (lookup.pipeline); gives the uuid."""

    name = "PIPELINE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from ..lookup import pipeline

        return pipeline(value).uuid


#: An age, as ``--since`` takes it: a number and a unit.
AGE = re.compile(r"(\d+)\s*([smhdw])")
AGE_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class Since(click.ParamType):
    """A time to list jobs from: ISO 8601 (``2026-11-25``, ``2026-11-25T14:00``, with or without a zone;
    none means this machine's) or an age (``90m``, ``12h``, ``3d``, ``2w``). Gives a UTC datetime."""

    name = "TIME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        age = AGE.fullmatch(value.strip().lower())
        if age:
            return datetime.now(UTC) - timedelta(**{AGE_UNITS[age[2]]: int(age[1])})
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            self.fail(f"{value!r} is neither an ISO 8601 time (2026-11-25, 2026-11-25T14:00, "
                      "2026-11-25T14:00:00Z) nor an age (90m, 12h, 3d, 2w)", param, ctx)
        return (moment if moment.tzinfo else moment.astimezone()).astimezone(UTC)


class State(click.ParamType):
    """A job state, in any case (``running`` is RUNNING); anything else is refused with the states."""

    name = "STATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        if value.upper() not in fsm.STATES:
            self.fail(f"{value!r} is not a state; the states are {', '.join(fsm.STATES)}", param, ctx)
        return value.upper()

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "[" + "|".join(fsm.STATES) + "]"


STATE = State()
JOB = Job()
PIPELINE = Pipeline()
SINCE = Since()
JSON_OBJECT = JsonValue()
