"""The console script on a running ``pipelinejobs local``, as a person uses it: a pipeline by name, jobs by
prefix, a shell command as a task, an external job finished through the webhook, and the README's
orchestration example run from a shell that took the stack's environment from ``--local env``."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
import uuid as uuidlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from localstack_process import Stack, clean_env, running_stack
from sfn_harness import wait_until

from pipelinejobs.local import discovery

CONSOLE = str(Path(sys.executable).with_name("pipelinejobs"))
ROOT = Path(__file__).resolve().parents[2]
POLL = {"first": 1, "factor": 1, "cap": 1}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("cli-local-stack")) as running:
        yield running


def cli(stack: Stack, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CONSOLE, "--local", *args], capture_output=True, text=True, timeout=180,
                          env=clean_env({discovery.STATE_FILE_ENV: str(stack.state_file)}))


def ok(done: subprocess.CompletedProcess) -> str:
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    return done.stdout


def test_a_string_command_runs_with_sh_and_its_output_is_in_the_logs(stack: Stack):
    name = f"hello-{uuidlib.uuid4().hex[:6]}"
    task = {"launcher": "local", "params": {"command": "echo hello; echo there >&2"}, "poll": POLL}
    ok(cli(stack, "pipelines", "register", name, "--task", json.dumps(task)))

    run = json.loads(ok(cli(stack, "submit", name, "--json")))  # by name; --json after the command
    job = json.loads(ok(cli(stack, "wait", run["uuid"][:8], "--timeout", "60", "--poll", "0.5", "--json")))
    logs = ok(cli(stack, "logs", run["uuid"][:8]))

    assert job["state"] == "FINISHED"
    assert logs.splitlines()[1:] == ["stdout", "hello", "stderr", "there"]  # not "cannot run 'e'"


def test_an_external_job_finished_through_the_webhook_shows_a_succeeded_attempt(stack: Stack):
    name = f"ext-{uuidlib.uuid4().hex[:6]}"
    ok(cli(stack, "pipelines", "register", name, "--task", '{"launcher": "external", "timeout_seconds": 120}'))
    run = json.loads(ok(cli(stack, "--json", "submit", name)))
    uuid, token = run["uuid"], stack.token(run["uuid"])
    wait_until(lambda: json.loads(ok(cli(stack, "--json", "attempts", uuid))), timeout=60, what="the launch")
    for status in ("RUNNING", "FINISHED"):
        url = f"{stack.env['PIPELINEJOBS_API_URL']}/jobs/{uuid}/events?token={token}&status={status}"
        with urllib.request.urlopen(urllib.request.Request(url, data=b"{}", method="POST"), timeout=30) as answer:
            assert answer.status == 200

    [attempt] = json.loads(ok(cli(stack, "--json", "attempts", uuid)))
    table = ok(cli(stack, "attempts", uuid[:8]))

    assert (attempt["number"], attempt["launcher"], attempt["succeeded"]) == (1, "external", True)
    assert attempt["stopped"] and attempt["stopped"] >= attempt["started"]
    assert table.splitlines()[-1] == "1 attempt(s)" and " yes " in table


def test_the_readme_orchestration_example_runs_from_a_shell_given_local_env(stack: Stack):
    example = ROOT / "docs" / "examples" / "orchestration.py"
    text = example.read_text()
    assert text[text.index('"""', 3) + 3:].strip() in (ROOT / "README.md").read_text()

    shell = subprocess.run(["sh", "-c", f'eval "$("{CONSOLE}" --local env)" && exec "{sys.executable}" "{example}"'],
                           capture_output=True, text=True, timeout=300,
                           env=clean_env({discovery.STATE_FILE_ENV: str(stack.state_file)}))

    assert shell.returncode == 0, shell.stderr
    lines = shell.stdout.splitlines()
    assert lines[:3] == ["FINISHED 0", "hello from attempt 1", "FINISHED 2"]
    assert lines[3].startswith("job ") and lines[3].endswith(" had already ended (FINISHED): nothing to kill")
