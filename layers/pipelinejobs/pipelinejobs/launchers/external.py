"""External: nothing is launched. An outside system runs the job and reports
through the webhook, using the callback URL it finds in the execution input."""

from __future__ import annotations

from typing import Any

from .base import Launched, Launcher, LaunchRequest, Phase, TaskStatus


class ExternalLauncher(Launcher):
    default_mode = "callback"
    cancellable = False

    def launch(self, request: LaunchRequest) -> Launched:
        return Launched(handle={})

    def check(self, handle: dict[str, Any]) -> TaskStatus:
        return TaskStatus(Phase.RUNNING, "EXTERNAL")

    def cancel(self, handle: dict[str, Any], reason: str) -> None:
        """Nothing of ours runs; the outside system learns of the kill from the job's state."""
