"""State transitions of a simulated 10-hour job, in polling and in callback mode.

Runs statemachines/pipelinejob.asl.json under moto's engine with the real handlers
(tests/sfn_harness.py). Time is simulated: a polled task reports RUNNING until the
simulated clock reaches its duration, and every Wait advances that clock by its
nominal seconds while really sleeping a few milliseconds. The figures come from
get_execution_history of every execution the job used.

    .venv/bin/python bench/state_transitions.py [--hours 10]

(Not ``bench/transitions.py``: a script's directory comes first on sys.path, and a file of that
name would shadow the ``transitions`` library for every script in bench/.)

Goals (issue 6): callback mode <= 10, polling mode <= 150 for a 10-hour job. They are count goals
(benchkit.Verdicts): the exit status is 1 if one is missed. The run takes ~10 s, so it has no short mode:
scripts/bench-short runs it as it is.
"""

from __future__ import annotations

import argparse
import math
import os
import secrets
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import benchkit
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the harness
from sfn_harness import Harness, running, state_transitions, wait_until

import pipelinejobs
from pipelinejobs import orchestration
from pipelinejobs.orchestration.spec import PollSettings

HISTORY_LIMIT = 25_000
GOALS = {"callback": 10, "polling": 150}


def predicted_checks(seconds: float, poll: PollSettings) -> int:
    """N(D): checks until the first one at or after D, the waits growing by ``factor`` to ``cap``."""
    waits, wait = [], float(poll.first)
    while sum(waits) < seconds:
        waits.append(math.ceil(wait))
        wait = min(poll.cap, wait * poll.factor)
    return len(waits)


def polling(harness: Harness, monkeypatch: pytest.MonkeyPatch, seconds: float, poll: dict) -> list[str]:
    harness.use_simulated_launcher(monkeypatch)
    task = {"launcher": "simulated", "params": {"duration": seconds}, "poll": poll}
    orchestration.start(pipelinejobs.register_pipeline(f"sim-{secrets.token_hex(4)}", task=task).uuid)
    return [e["executionArn"] for e in harness.finish_all(timeout=600)]


def callback(harness: Harness, monkeypatch: pytest.MonkeyPatch, seconds: float, poll: dict) -> list[str]:
    pipeline = pipelinejobs.register_pipeline(f"outside-{secrets.token_hex(4)}", task={"launcher": "external"})
    run = orchestration.start(pipeline.uuid)
    wait_until(lambda: pipelinejobs.get_job(run.uuid).record.task_token, what="the execution to wait on its token")
    harness.clock.advance(seconds)  # the outside job runs its 10 hours
    pipelinejobs.get_job(run.uuid).run().finish()
    return [e["executionArn"] for e in harness.finish_all(timeout=60)]


def measure(mode: Callable, seconds: float, poll: dict) -> dict:
    with pytest.MonkeyPatch.context() as monkeypatch, tempfile.TemporaryDirectory() as workdir:
        for name, value in {"AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
                            "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                            "PIPELINEJOBS_TABLE": f"pj-bench-{secrets.token_hex(4)}",
                            "PIPELINEJOBS_TOKEN_SECRET": secrets.token_urlsafe(32),
                            "PIPELINEJOBS_API_URL": "http://127.0.0.1:9/api"}.items():
            monkeypatch.setenv(name, value)
        for name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL") or n == "AWS_PROFILE"]:
            monkeypatch.delenv(name)
        with running(monkeypatch, Path(workdir)) as harness:
            executions = mode(harness, monkeypatch, seconds, poll)
            histories = [harness.history(arn) for arn in executions]
            checks = sum(1 for h in histories for e in h
                         if e["type"] == "TaskStateEntered" and e["stateEnteredEventDetails"]["name"] == "Check")
            return {"executions": len(executions), "checks": checks,
                    "transitions": sum(state_transitions(h) for h in histories),
                    "events": sum(len(h) for h in histories), "simulated_waits": sum(harness.waits)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=10.0)
    seconds = parser.parse_args().hours * 3600
    default = PollSettings()
    rows = [
        ("callback", "callback", callback, {}),
        ("polling", f"polling, first {default.first} s x{default.factor:g} to {default.cap} s (default)", polling, {}),
        (None, "polling, capped at 600 s", polling, {"cap": 600}),
    ]
    print(f"State transitions for a {seconds / 3600:g}-hour job (real ASL under moto; simulated time)\n")
    print(f"{'mode':<48} {'checks':>6} {'N(D)':>5} {'3+3N':>5} {'transitions':>11} {'events':>7} {'executions':>10}"
          f" {'goal':>5}")
    measured = {}
    for goal_key, label, mode, poll in rows:
        figures = measure(mode, seconds, poll)
        predicted = predicted_checks(seconds, PollSettings(**poll)) if mode is polling else 0
        formula = f"{3 + 3 * predicted:>5}" if mode is polling else f"{'3':>5}"
        goal = f"<={GOALS[goal_key]}" if goal_key else ""
        if goal_key:
            measured[goal_key] = figures["transitions"]
        print(f"{label:<48} {figures['checks']:>6} {predicted if mode is polling else '-':>5} {formula} "
              f"{figures['transitions']:>11} {figures['events']:>7} {figures['executions']:>10} {goal:>5}")
        if goal_key == "polling":
            per_poll = (figures["events"] - 2 * figures["executions"]) / max(1, figures["checks"])
            print(f"{'':<48} history events per poll: {per_poll:.1f}; the {HISTORY_LIMIT:,}-event limit would"
                  f" come after ~{int(HISTORY_LIMIT / per_poll):,} polls; runs continue as new after "
                  f"{default.max_iterations:,}")
    print("\nPolling: transitions = 3 + 3 N(D) (Dispatch, Launch, Finished; then Wait, Check, Dispatch per check).")
    print("Callback: transitions = 3 (Dispatch, LaunchAndAwait, Finished), whatever the job's length.\n")
    verdicts = benchkit.Verdicts()
    for mode, transitions in measured.items():
        verdicts.count(f"state transitions, {mode} mode, {seconds / 3600:g}-hour job", f"{transitions}",
                       f"<= {GOALS[mode]}", transitions <= GOALS[mode])
    return verdicts.exit_status()


if __name__ == "__main__":
    sys.exit(main())
