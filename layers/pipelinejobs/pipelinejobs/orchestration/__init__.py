"""Orchestration: Step Functions run each job's task, and the job record follows every step.

``operations`` is the SDK side (start, kill, rerun, stat, attempts, logs);
``handlers`` are the state machine's task steps; ``statemachines/pipelinejob.asl.json``
is the state machine; docs/orchestration.md explains the design and its costs.
"""

from .operations import (
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
from .spec import PollSettings, TaskSpec

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
