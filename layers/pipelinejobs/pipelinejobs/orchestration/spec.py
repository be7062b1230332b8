"""A pipeline's task template, validated: how its jobs are launched and watched.

The template is ``PipelineRecord.task``, e.g.::

    {"launcher": "batch",
     "params": {"jobQueue": "q", "jobDefinition": "bwa:3"},
     "mode": "polling",              # or "callback"; default per launcher
     "max_attempts": 3,              # a failed task is relaunched up to this many times in all
     "timeout_seconds": 86400,       # the whole job, every attempt included
     "heartbeat_seconds": 600,       # callback mode: fail an attempt silent this long; every job of the
                                     # pipeline gets it too, and the sweep fails it as stale (docs/operations.md)
     "retry_on": ["spot_interruption", "out_of_memory"],  # the failure classes relaunched (default: all)
     "poll": {"first": 10, "factor": 2, "cap": 900, "max_iterations": 1000}}

A job may override any of it (``start(..., overrides=...)``); ``params`` and
``poll`` are merged key by key.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from functools import cache
from typing import Any, Self

from ..errors import InvalidTaskSpec
from ..failures import RETRYABLE
from ..launchers import LAUNCHERS
from .flow import LAUNCH_STEPS, Mode, Step

#: Step Functions' own limit on an execution chain's useful life, and our timeout's ceiling.
MAX_TASK_SECONDS = 365 * 24 * 3600
#: Per execution, at ~9 history events a poll (Wait 2, Task 5, Choice 2), 1,000 polls use
#: ~9,000 of the 25,000 events allowed, leaving room for retries before continuing as new.
DEFAULT_MAX_ITERATIONS = 1000
MAX_ITERATIONS_LIMIT = 2500


@dataclass(frozen=True)
class PollSettings:
    """Check after ``first`` s, then wait ``factor`` times longer each time, up to ``cap`` s."""

    first: int = 10
    factor: float = 2.0
    #: 15 minutes keeps a 10-hour job under 150 state transitions (docs/orchestration.md).
    cap: int = 900
    #: Polls per execution before continuing as a new one.
    max_iterations: int = DEFAULT_MAX_ITERATIONS

    def grow(self, interval: float) -> float:
        return min(float(self.cap), interval * self.factor)


@dataclass(frozen=True)
class TaskSpec:
    launcher: str
    params: dict[str, Any] = field(default_factory=dict)
    mode: Mode = Mode.POLLING
    max_attempts: int = 1
    timeout_seconds: int | None = None
    heartbeat_seconds: int | None = None
    poll: PollSettings = field(default_factory=PollSettings)
    #: The failure classes (pipelinejobs.failures) for which a failed attempt is relaunched, while attempts
    #: remain: e.g. only ``spot_interruption`` (not the task's fault) and not ``exit_nonzero``.
    retry_on: list[str] = field(default_factory=lambda: [failure.value for failure in RETRYABLE])

    @classmethod
    def resolve(cls, template: dict[str, Any] | None, overrides: dict[str, Any] | None = None, *,
                complete: bool = True) -> Self:
        """The pipeline's template with a job's overrides applied, validated; raises InvalidTaskSpec.

        ``complete=False`` checks a template as it is registered: everything but the launcher's required
        params, which each job's overrides may still give (``params`` are merged key by key)."""
        merged = {**(template or {}), **(overrides or {})}
        for key in ("params", "poll"):
            if isinstance((template or {}).get(key), dict) and isinstance((overrides or {}).get(key), dict):
                merged[key] = {**template[key], **overrides[key]}
        problems = _problems(_validator(), merged)
        if problems:
            raise InvalidTaskSpec(problems)
        if merged["launcher"] not in LAUNCHERS:
            raise InvalidTaskSpec.single("launcher", f"{merged['launcher']!r} is not one of {', '.join(LAUNCHERS)}")
        problems = _problems(_validator(merged["launcher"]), merged.get("params", {}), "params")
        if problems:
            raise InvalidTaskSpec(problems)
        merged.setdefault("mode", LAUNCHERS[merged["launcher"]].default_mode)
        spec = cls.from_dict(merged)
        spec._check_rules(complete)
        return spec

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """A spec from its dict form, trusted (it was validated when the run started)."""
        poll = PollSettings(**data.get("poll", {}))
        return cls(**{**data, "mode": Mode(data.get("mode", Mode.POLLING)), "poll": poll})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def launch_step(self) -> Step:
        return LAUNCH_STEPS[(self.mode, self.heartbeat_seconds is not None)]

    def _check_rules(self, complete: bool) -> None:
        """What a schema cannot say: rules between fields."""
        required = LAUNCHERS[self.launcher].required_params if complete else ()
        rules = [
            ("params", [p for p in required if p not in self.params],
             lambda missing: f"launcher '{self.launcher}' needs {', '.join(missing)}"),
            ("heartbeat_seconds", self.heartbeat_seconds is not None and self.mode != Mode.CALLBACK,
             lambda _: "heartbeats are for callback mode (a polled task is checked, not heard from)"),
            ("heartbeat_seconds", self.heartbeat_seconds is not None and self.timeout_seconds is not None
             and self.heartbeat_seconds >= self.timeout_seconds,
             lambda _: "must be less than timeout_seconds"),
            ("poll.cap", self.poll.cap < self.poll.first, lambda _: "must be at least poll.first"),
        ]
        problems = [{"field": name, "problem": say(broken)} for name, broken, say in rules if broken]
        if problems:
            raise InvalidTaskSpec(problems)


@cache
def schema() -> dict[str, Any]:
    seconds = {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_TASK_SECONDS}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "pipeline task template",
        "type": "object",
        "required": ["launcher"],
        "additionalProperties": False,
        "properties": {
            "launcher": {"type": "string"},
            "params": {"type": "object"},
            "mode": {"enum": [m.value for m in Mode]},
            "max_attempts": {"type": "integer", "minimum": 1, "maximum": 100},
            "timeout_seconds": seconds,
            "heartbeat_seconds": seconds,
            "retry_on": {"type": "array", "uniqueItems": True, "items": {"enum": [f.value for f in RETRYABLE]}},
            "poll": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "first": {"type": "integer", "minimum": 1, "maximum": 86400},
                    "factor": {"type": "number", "minimum": 1, "maximum": 10},
                    "cap": {"type": "integer", "minimum": 1, "maximum": 86400},
                    "max_iterations": {"type": "integer", "minimum": 1, "maximum": MAX_ITERATIONS_LIMIT},
                },
            },
        },
    }


@cache
def _validator(launcher: str | None = None):
    """The template's validator, or with ``launcher`` that of its ``params`` (the launcher's own schema)."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(LAUNCHERS[launcher].params_schema if launcher else schema())


def _problems(validator, value: Any, prefix: str = "") -> list[dict[str, str]]:
    """``{"field", "problem"}`` for each fault; where a value matches none of several forms, the
    schema's ``description`` says which forms (jsonschema's own message only repeats the value)."""
    problems = []
    for error in validator.iter_errors(value):
        name = ".".join(map(str, [*([prefix] if prefix else []), *error.absolute_path])) or "task"
        composite = error.validator in ("anyOf", "oneOf") and "description" in error.schema
        problems.append({"field": name, "problem": error.schema["description"] if composite else error.message})
    return problems
