"""The steps of ``statemachines/pipelinejob.asl.json``, as the Python side names them.

Every handler returns the run state with ``next`` set to one of these; the
state machine's Dispatch Choice routes on it. A unit test checks that the
Choice has exactly one rule per step, so the two sides cannot drift apart.
"""

from __future__ import annotations

from enum import StrEnum

from ..fsm import FINISHED_STATES, LIVE_STATES
from ..task_tokens import SOURCE

__all__ = ["FINISHED_STATES", "LAUNCH_STEPS", "LIVE_STATES", "SOURCE", "Mode", "Step", "claim_id"]


class Step(StrEnum):
    LAUNCH = "launch"  # polling: launch, then Wait → Check → Dispatch until the task ends
    LAUNCH_AWAIT = "launch_await"  # callback: launch and wait on a task token
    LAUNCH_AWAIT_HEARTBEAT = "launch_await_heartbeat"  # callback, with HeartbeatSeconds
    WAIT = "wait"
    CONTINUE = "continue"  # continue as a new execution (history limit)
    FINISHED = "finished"
    FAILED = "failed"
    SUPERSEDED = "superseded"  # the job is no longer this run's (killed, rerun)
    NOT_CLAIMED = "not_claimed"  # the job was never this run's: an execution started outside start/rerun


class Mode(StrEnum):
    POLLING = "polling"
    CALLBACK = "callback"


#: (mode, heartbeat asked) → the step that launches an attempt.
LAUNCH_STEPS: dict[tuple[Mode, bool], Step] = {
    (Mode.POLLING, False): Step.LAUNCH,
    (Mode.CALLBACK, False): Step.LAUNCH_AWAIT,
    (Mode.CALLBACK, True): Step.LAUNCH_AWAIT_HEARTBEAT,
}


def claim_id(run_id: str) -> str:
    """The id of the event by which ``start``/``rerun`` claim a job for run ``run_id``: its marker is the
    proof, for a step that finds the job not its run's, that the run was ever the job's."""
    return f"{run_id}.start"

