"""Task templates checked when a pipeline is registered, a local command given as a string run by
/bin/sh -c, and the attempts of an external job its runner finished through the webhook (moto)."""

from __future__ import annotations

from pathlib import Path

import pytest
from moto import mock_aws
from sfn_harness import wait_until

import pipelinejobs as pj
from pipelinejobs import orchestration
from pipelinejobs.errors import InvalidTaskSpec
from pipelinejobs.launchers import LAUNCHERS, LaunchRequest, Phase

from support import table_items

UUID = "0b5e4c7e-6a47-5d1c-9f5a-3c2d1e0f9a8b"
SHELL_FORMS = "must be a list of strings (the program and its arguments) or a string (a shell command line, " \
              "run with /bin/sh -c)"


@pytest.fixture
def table(aws_env):
    with mock_aws():
        pj.create_tables()
        yield


@pytest.mark.parametrize(
    ("task", "field", "problem"),
    [
        ({"launcher": "local", "params": {"command": 5}}, "params.command", SHELL_FORMS),
        ({"launcher": "local", "params": {"command": []}}, "params.command", SHELL_FORMS),
        ({"launcher": "local", "params": {"command": ["echo", 1]}}, "params.command", SHELL_FORMS),
        ({"launcher": "local", "params": {"command": "true", "env": {"N": 1}}}, "params.env.N",
         "1 is not of type 'string'"),
        ({"launcher": "nope"}, "launcher", "'nope' is not one of batch, ecs, lambda, external, local"),
        ({"launcher": "local", "max_attempts": 0}, "max_attempts", "0 is less than the minimum of 1"),
    ],
)
def test_a_template_at_fault_is_refused_at_registration_naming_the_field_and_nothing_is_written(
        table, task, field, problem):
    before = table_items()
    with pytest.raises(InvalidTaskSpec) as refused:
        pj.register_pipeline("hello", task=task)
    assert refused.value.status_code == 400
    assert refused.value.errors == [{"field": field, "problem": problem}]
    assert table_items() == before


def test_a_template_may_leave_required_params_to_each_jobs_overrides(table):
    pipeline = pj.register_pipeline("hello", task={"launcher": "local"})  # no command yet

    assert pipeline.task == {"launcher": "local"}
    with pytest.raises(InvalidTaskSpec, match="launcher 'local' needs command"):
        orchestration.TaskSpec.resolve(pipeline.task)
    assert orchestration.TaskSpec.resolve(pipeline.task, {"params": {"command": "true"}}).params == {"command": "true"}


def test_a_string_command_is_a_shell_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PIPELINEJOBS_LOCAL_DIR", str(tmp_path))
    local = LAUNCHERS["local"]
    request = LaunchRequest(job_uuid=UUID, attempt=1, params={"command": "echo hello; echo $GREETING >&2; exit 3"},
                            env={"GREETING": "there"}, name=f"pj-{UUID}-1")

    launched = local.launch(request)
    status = wait_until(lambda: (s := local.check(launched.handle)).phase in (Phase.SUCCEEDED, Phase.FAILED) and s,
                        what="the task to end")

    assert (status.phase, status.exit_code) == (Phase.FAILED, 3)
    files = launched.log["files"]
    assert (Path(files["stdout"]).read_text(), Path(files["stderr"]).read_text()) == ("hello\n", "there\n")


def test_the_attempt_of_an_external_job_finished_through_the_webhook_succeeded_and_stopped(table):
    job = pj.PipelineJob(pj.register_pipeline("ext", task={"launcher": "external"}).uuid, {"n": 1}).setup()
    # What the launch step writes for an external task, then the runner's own callbacks (no attempt number).
    pj.handle_event({"uuid": job.uuid, "event": "resource", "data": {
        "attempt": 1, "launcher": "external", "status": "LAUNCHED", "handle": {}, "started": "2026-11-25T10:00:00Z"}},
        trusted=True)
    for event in ("run", "finish"):
        pj.handle_event({"uuid": job.uuid, "event": event, "data": {"status": event.upper()}, "token": job.token})
    finished = job.history[-1]

    [attempt] = orchestration.attempts(job.uuid)

    assert (attempt.number, attempt.launcher, attempt.succeeded) == (1, "external", True)
    assert (attempt.started, attempt.stopped) == ("2026-11-25T10:00:00Z", finished.date)
