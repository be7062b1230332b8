"""Orchestration: Step Functions run each job's task, and the job record follows every step.

``handlers`` are the state machine's task steps (the orchestrator function);
``statemachines/pipelinejob.asl.json`` is the state machine; docs/orchestration.md
explains the design and its costs.

The SDK side (start, kill, rerun, stat, attempts, logs) lives with the rest of the
client SDK; its names stay importable from here (``pipelinejobs.orchestration.start``,
README and the CLI use them), imported on first use (PEP 562 ``__getattr__``) so that
the orchestrator function, which imports this package for its handlers, never loads the SDK.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .spec import PollSettings, TaskSpec

if TYPE_CHECKING:  # what IDEs, type checkers and help() see; at run time __getattr__ imports them
    from ..sdk.runs import (
        Attempt,
        AttemptLog,
        Run,
        attempts,
        kill,
        kill_all,
        killable,
        logs,
        rerun,
        rerun_many,
        start,
        start_many,
        stat,
    )

#: The SDK's orchestration names, and the module they are imported from on first use.
_SDK_MODULE = "..sdk.runs"

__all__ = [
    "Attempt",
    "AttemptLog",
    "PollSettings",
    "Run",
    "TaskSpec",
    "attempts",
    "kill",
    "kill_all",
    "killable",
    "logs",
    "rerun",
    "rerun_many",
    "start",
    "start_many",
    "stat",
]
_SDK_NAMES = frozenset(__all__) - {"PollSettings", "TaskSpec"}


def __getattr__(name: str) -> Any:
    """Import one of the SDK's names on first use, and keep it (the next lookup finds it in the module)."""
    if name not in _SDK_NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_SDK_MODULE, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
