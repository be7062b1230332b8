"""Launchers: where a job's task runs. Each offers ``launch``, ``check`` and ``cancel``.

The table below is the one list of launchers; a pipeline's task template names
one of its keys, and the template schema is built from it.
"""

from __future__ import annotations

from .aws_lambda import LambdaLauncher
from .base import ENDED_PHASES, Launched, Launcher, LaunchRequest, Phase, TaskStatus
from .batch import BatchLauncher
from .ecs import EcsLauncher
from .external import ExternalLauncher
from .local import LocalLauncher

LAUNCHERS: dict[str, Launcher] = {
    "batch": BatchLauncher(),
    "ecs": EcsLauncher(),
    "lambda": LambdaLauncher(),
    "external": ExternalLauncher(),
    "local": LocalLauncher(),
}


def get_launcher(name: str) -> Launcher:
    return LAUNCHERS[name]


__all__ = [
    "ENDED_PHASES",
    "LAUNCHERS",
    "LaunchRequest",
    "Launched",
    "Launcher",
    "Phase",
    "TaskStatus",
    "get_launcher",
]
