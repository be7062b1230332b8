"""The CLI's run commands (submit, attempts, logs, kill, rerun, rerun-many, kill-all) on the real ASL under moto."""

from __future__ import annotations

import json
import sys

from click.testing import CliRunner
from sfn_harness import Harness, wait_until

import pipelinejobs
from pipelinejobs.cli.app import cli


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def flaky_pipeline() -> str:
    command = [sys.executable, "-c", "import os, sys; n = int(os.environ['PIPELINEJOBS_ATTEMPT']); "
               "print('attempt', n); sys.exit(0 if n >= 2 else 3)"]
    return pipelinejobs.register_pipeline("cli-flaky", task={"launcher": "local", "params": {"command": command},
                                                             "max_attempts": 2}).uuid


def test_submit_attempts_and_logs(sfn: Harness):
    code, out, _ = run("--json", "submit", flaky_pipeline(), "--data", '{"n": 1}')
    assert code == 0
    started = json.loads(out)
    assert sfn.finish(started["execution_arn"])["status"] == "SUCCEEDED"

    code, out, _ = run("--json", "attempts", started["uuid"])
    tried = json.loads(out)
    assert [(a["number"], a["exit_code"], a["succeeded"]) for a in tried] == [(1, 3, False), (2, 0, True)]
    code, out, _ = run("logs", started["uuid"], "--attempt", "2")
    assert code == 0 and "attempt 2" in out and "stdout" in out
    code, _, err = run("logs", started["uuid"], "--attempt", "7")
    assert code == 1 and "no attempt 7" in err


def test_submit_each_line_of_a_file_with_progress(sfn: Harness, tmp_path):
    lines = tmp_path / "jobs.jsonl"
    lines.write_text("\n".join(json.dumps({"n": n}) for n in range(3)) + "\n")
    code, out, _ = run("--json", "submit", flaky_pipeline(), "--each", str(lines))
    assert code == 0
    runs = json.loads(out)
    assert len({r["uuid"] for r in runs}) == 3 and all(r["started"] and not r["error"] for r in runs)
    sfn.finish_all()


def test_kill_then_rerun_then_rerun_many_and_kill_all(sfn: Harness):
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    pipeline = pipelinejobs.register_pipeline("cli-sleep", task={"launcher": "local", "params": {"command": sleeper}})
    code, out, _ = run("--json", "submit", pipeline.uuid)
    uuid = json.loads(out)["uuid"]
    wait_until(lambda: pipelinejobs.get_job(uuid).state == "RUNNING", what="the job to run")

    code, _, err = run("rerun", uuid)
    assert code == 4 and "kill it first" in err
    assert run("--json", "kill", uuid, "--reason", "operator")[0] == 0
    assert pipelinejobs.get_job(uuid).state == "FAILED"

    code, out, _ = run("--json", "rerun-many", "--pipeline", pipeline.uuid)
    assert code == 0 and [r["uuid"] for r in json.loads(out)] == [uuid]
    wait_until(lambda: pipelinejobs.get_job(uuid).state == "RUNNING", what="the rerun to run")
    code, out, _ = run("--json", "kill-all", "--pipeline", pipeline.uuid, "--yes")
    assert code == 0 and [r["uuid"] for r in json.loads(out)] == [uuid]
    record = pipelinejobs.get_job(uuid).record
    assert (record.state, record.attempt) == ("FAILED", 2)
    sfn.finish_all()
