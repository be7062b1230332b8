"""Orchestration's logic without executing the state machine: task specs, backoff, the run
state, the state machine's wiring, and the error and phase tables."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from pipelinejobs.errors import InvalidTaskSpec
from pipelinejobs.orchestration.flow import LAUNCH_STEPS, Mode, Step
from pipelinejobs.orchestration.handlers import ACTIONS, HEARTBEAT, TIMEOUT, UNEXPECTED, recovery_for
from pipelinejobs.orchestration.spec import MAX_TASK_SECONDS, PollSettings, TaskSpec
from pipelinejobs.orchestration.state import RunState
from pipelinejobs.storage.tables import load_template

ROOT = Path(__file__).resolve().parents[2]
ASL = json.loads((ROOT / "statemachines" / "pipelinejob.asl.json").read_text())
LOCAL = {"launcher": "local", "params": {"command": ["true"]}}


def run_state(spec: TaskSpec, now: float = 1000.0, **kwargs) -> RunState:
    return RunState.first(job="j", pipeline="p", run_id="r", spec=spec, attempt=1, now=now, **kwargs)


# ---- task specs ---------------------------------------------------------------------------------


def test_a_template_gets_the_launchers_default_mode_and_poll_settings():
    assert TaskSpec.resolve(LOCAL).mode == Mode.POLLING
    assert TaskSpec.resolve({"launcher": "external"}).mode == Mode.CALLBACK
    assert TaskSpec.resolve(LOCAL).poll == PollSettings(first=10, factor=2.0, cap=900, max_iterations=1000)


def test_job_overrides_merge_params_and_poll_key_by_key():
    template = {**LOCAL, "params": {"command": ["a"], "cwd": "/tmp"}, "poll": {"first": 5, "cap": 60}}

    spec = TaskSpec.resolve(template, {"params": {"command": ["b"]}, "poll": {"cap": 120}, "timeout_seconds": 30})

    assert spec.params == {"command": ["b"], "cwd": "/tmp"}
    assert (spec.poll.first, spec.poll.cap, spec.timeout_seconds) == (5, 120, 30)


@pytest.mark.parametrize(("template", "field", "problem"), [
    ({"launcher": "mainframe"}, "launcher", "is not one of"),
    ({"launcher": "batch", "params": {"jobQueue": "q"}}, "params", "needs jobDefinition"),
    ({**LOCAL, "heartbeat_seconds": 60}, "heartbeat_seconds", "callback mode"),
    ({"launcher": "external", "heartbeat_seconds": 60, "timeout_seconds": 60}, "heartbeat_seconds", "less than"),
    ({**LOCAL, "poll": {"first": 60, "cap": 10}}, "poll.cap", "at least poll.first"),
    ({**LOCAL, "max_attempts": 0}, "max_attempts", "less than the minimum"),
    ({**LOCAL, "poll": {"max_iterations": 3000}}, "poll.max_iterations", "greater than the maximum"),
    ({**LOCAL, "retries": 3}, "task", "Additional properties"),
    (None, "task", "'launcher' is a required property"),
])
def test_invalid_templates_say_which_field_and_why(template, field, problem):
    with pytest.raises(InvalidTaskSpec) as raised:
        TaskSpec.resolve(template)
    assert raised.value.errors[0]["field"] == field
    assert problem in raised.value.errors[0]["problem"]


def test_the_launch_step_follows_mode_and_heartbeat():
    assert TaskSpec.resolve(LOCAL).launch_step == Step.LAUNCH
    assert TaskSpec.resolve({"launcher": "external"}).launch_step == Step.LAUNCH_AWAIT
    assert TaskSpec.resolve({"launcher": "external", "heartbeat_seconds": 5}).launch_step == Step.LAUNCH_AWAIT_HEARTBEAT


# ---- backoff and the run state ------------------------------------------------------------------


def waits_until(state: RunState, seconds: float) -> list[int]:
    """The waits of a job running ``seconds``, as the check step chooses them."""
    now, waits = 1000.0, [state.wait_seconds]
    while sum(waits) < seconds:
        now += waits[-1]
        state = state.polled(now, "RUNNING")
        waits.append(state.wait_seconds)
    return waits


def test_backoff_doubles_from_the_first_check_to_the_cap():
    waits = waits_until(run_state(TaskSpec.resolve(LOCAL)), 3 * 3600)
    assert waits[:8] == [10, 20, 40, 80, 160, 320, 640, 900]
    assert set(waits[7:]) == {900}


def test_ten_hours_of_polling_take_46_checks_by_default():
    """N(D) checks for a job of D seconds: the waits sum to D after k growth steps and then
    ceil((D - S_k) / cap) waits at the cap. 10 h: 7 + ceil((36000 - 1270) / 900) = 46."""
    waits = waits_until(run_state(TaskSpec.resolve(LOCAL)), 36000)
    growth = [10, 20, 40, 80, 160, 320, 640]
    assert len(waits) == len(growth) + math.ceil((36000 - sum(growth)) / 900) == 46


def test_no_wait_runs_past_the_deadline():
    state = run_state(TaskSpec.resolve({**LOCAL, "timeout_seconds": 45}))
    assert waits_until(state, 45) == [10, 20, 15]


def test_a_run_without_timeout_gives_callback_tasks_the_longest_timeout():
    assert run_state(TaskSpec.resolve({"launcher": "external"})).timeout_remaining == MAX_TASK_SECONDS
    state = run_state(TaskSpec.resolve({"launcher": "external", "timeout_seconds": 600}), now=1000.0)
    assert (state.deadline, state.timeout_remaining) == (1600.0, 600)
    assert state.relaunched(1450.5).timeout_remaining == 150


def test_a_relaunch_is_the_next_attempt_checked_soon_again():
    state = run_state(TaskSpec.resolve({**LOCAL, "max_attempts": 3}))
    polled = state.polled(1010, "RUNNING").polled(1030, "RUNNING")

    relaunched = polled.relaunched(1100)

    assert (relaunched.next, relaunched.attempt) == (Step.LAUNCH, 2)
    assert (relaunched.wait_seconds, relaunched.status) == (10, None)


def test_after_max_iterations_the_run_continues_as_new_with_its_state_carried():
    state = run_state(TaskSpec.resolve({**LOCAL, "poll": {"max_iterations": 2}}))

    second = state.polled(1010, "RUNNING").polled(1030, "RUNNING")

    assert (second.next, second.continue_name) == (Step.CONTINUE, "j-r-1")
    carried = RunState.from_dict(second.carry)
    assert (carried.next, carried.iterations, carried.segment, carried.wait_seconds) == (Step.WAIT, 0, 1, 40)
    assert carried.carry is None


def test_the_state_round_trips_and_ignores_what_step_functions_adds():
    state = run_state(TaskSpec.resolve({"launcher": "external", "heartbeat_seconds": 5}), webhook_url="u")
    data = json.loads(json.dumps(state.to_dict()))
    assert RunState.from_dict({**data, "result": {"Payload": "..."}}) == state


def test_an_execution_started_before_the_rename_keeps_its_webhook_url():
    """Executions in flight carry the URL under its old key, ``callback_url``; the task must still get it."""
    data = run_state(TaskSpec.resolve({"launcher": "external"})).to_dict()
    del data["webhook_url"]
    assert RunState.from_dict({**data, "callback_url": "u"}).webhook_url == "u"


# ---- errors a Catch hands to recover -------------------------------------------------------------


@pytest.mark.parametrize(("error", "template", "now", "recovery"), [
    ("States.Timeout", {"launcher": "external", "timeout_seconds": 100}, 1100, TIMEOUT),
    ("States.HeartbeatTimeout", {"launcher": "external", "heartbeat_seconds": 5, "timeout_seconds": 100}, 1100,
     TIMEOUT),
    ("States.Timeout", {"launcher": "external", "heartbeat_seconds": 5, "timeout_seconds": 100}, 1050, HEARTBEAT),
    ("States.HeartbeatTimeout", {"launcher": "external", "heartbeat_seconds": 5}, 1050, HEARTBEAT),
    ("States.Timeout", {"launcher": "external"}, 1050, TIMEOUT),
    ("ClientException", {"launcher": "external"}, 1050, UNEXPECTED),
    ("Lambda.Unknown", {"launcher": "external", "heartbeat_seconds": 5}, 1050, UNEXPECTED),
])
def test_timeouts_are_told_from_heartbeat_timeouts_by_the_deadline(error, template, now, recovery):
    assert recovery_for(error, run_state(TaskSpec.resolve(template)), now) == recovery


# ---- the state machine's wiring ----------------------------------------------------------------


def test_dispatch_routes_every_step_exactly_once():
    choices = ASL["States"]["Dispatch"]["Choices"]
    assert sorted(c["StringEquals"] for c in choices) == sorted(step.value for step in Step)
    assert all(c["Variable"] == "$.next" and c["Next"] in ASL["States"] for c in choices)
    assert ASL["States"]["Dispatch"]["Default"] == "Recover"


def test_only_real_failures_end_an_execution_failed():
    """A superseded run (killed, rerun, reset by someone else) ends in a Succeed state, so
    JobExecutionsFailedAlarm (ExecutionsFailed) counts only jobs that failed, recoveries that did, and
    executions that never owned their job (started outside start/rerun: nothing was run)."""
    routes = {c["StringEquals"]: c["Next"] for c in ASL["States"]["Dispatch"]["Choices"]}
    assert ASL["States"][routes[Step.SUPERSEDED]]["Type"] == "Succeed"
    assert ASL["States"][routes[Step.FAILED]] == {**ASL["States"]["Failed"], "Type": "Fail", "Error": "JobFailed"}
    not_claimed = ASL["States"][routes[Step.NOT_CLAIMED]]
    assert (not_claimed["Type"], not_claimed["Error"], not_claimed["CausePath"]) == ("Fail", "JobNotClaimed", "$.cause")
    assert {name for name, state in ASL["States"].items() if state["Type"] == "Fail"} == {
        "Failed", "RecoveryFailed", "NotClaimed"}


def test_every_launch_step_invokes_the_launch_action():
    routes = {c["StringEquals"]: c["Next"] for c in ASL["States"]["Dispatch"]["Choices"]}
    for step in LAUNCH_STEPS.values():
        assert ASL["States"][routes[step]]["Parameters"]["Payload"]["action"] == "launch"
    heartbeat = ASL["States"][routes[Step.LAUNCH_AWAIT_HEARTBEAT]]
    assert heartbeat["HeartbeatSecondsPath"] == "$.spec.heartbeat_seconds"
    assert "HeartbeatSecondsPath" not in ASL["States"][routes[Step.LAUNCH_AWAIT]]


def test_the_state_machine_calls_only_actions_the_handler_has():
    actions = {s["Parameters"]["Payload"]["action"] for s in ASL["States"].values()
               if s["Type"] == "Task" and "Payload" in s.get("Parameters", {})}
    assert actions == set(ACTIONS)


def test_every_task_that_can_fail_the_job_is_caught_by_recover():
    for name, state in ASL["States"].items():
        if state["Type"] == "Task" and name != "Recover":
            assert {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Recover"} in state["Catch"], name


def test_the_template_substitutes_every_placeholder_of_the_definition():
    resources = load_template(ROOT / "template.yaml")["Resources"]
    [machine] = [r for r in resources.values() if r["Type"] == "AWS::Serverless::StateMachine"]
    placeholders = set(re.findall(r"\$\{(\w+)\}", (ROOT / "statemachines" / "pipelinejob.asl.json").read_text()))
    assert set(machine["Properties"]["DefinitionSubstitutions"]) == placeholders
    assert machine["Properties"]["DefinitionUri"] == "statemachines/pipelinejob.asl.json"


def test_functions_that_apply_runners_events_may_settle_task_tokens():
    resources = load_template(ROOT / "template.yaml")["Resources"]
    for name in ("WebhookFunction", "EventsFunction"):
        assert {"Ref": "SettleTaskTokensPolicy"} in resources[name]["Properties"]["Policies"], name


@pytest.mark.parametrize("sample", sorted((ROOT / "functions" / "orchestrator" / "events").glob("*.json")),
                         ids=lambda p: p.name)
def test_sample_events_are_requests_the_handler_accepts(sample: Path):
    request = json.loads(sample.read_text())
    assert request["action"] == sample.stem and request["action"] in ACTIONS
    assert RunState.from_dict(request["state"]).to_dict() == request["state"]
