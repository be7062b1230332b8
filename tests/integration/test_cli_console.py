"""The ``pipelinejobs`` console script as a person meets it, run as a subprocess against DynamoDB Local:
its exit status, what it prints, and the one line on stderr that says what went wrong."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from unittest import mock

import pytest
from sfn_harness import wait_until

import pipelinejobs as pj
from pipelinejobs.local import discovery

CONSOLE = str(Path(sys.executable).with_name("pipelinejobs"))
ROOT = Path(__file__).resolve().parents[2]
STATES = "CREATED, RUNNING, FAILED, FINISHED, INDEXING, VALIDATING, VALIDATED, REJECTED, FINALIZED, RETIRED, RESET"


@pytest.fixture(autouse=True)
def table(ddb_env):
    pj.create_tables()
    return ddb_env


def cli(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The console script with this test's environment (DynamoDB Local, its own table), or ``env``."""
    return subprocess.run([CONSOLE, *args], input=stdin, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ) if env is None else env)


def refused(done: subprocess.CompletedProcess, code: int) -> str:
    """The one line on stderr of a command that exited ``code`` having printed nothing on stdout."""
    assert (done.returncode, done.stdout) == (code, ""), done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    return done.stderr.rstrip("\n")


def job_of(pipeline: str = "hello", data: dict | None = None, components: list[str] | None = None) -> pj.PipelineJob:
    uuid = pj.register_pipeline(pipeline, components=components, task={"launcher": "external"}).uuid
    return pj.PipelineJob(uuid, data or {"n": 1}).setup()


# ---- 1, 2: pipelines ----------------------------------------------------------------------------


def test_a_task_template_is_checked_when_the_pipeline_is_registered():
    bad = cli("pipelines", "register", "hello", "--task", '{"launcher": "local", "params": {"command": 5}}')
    assert refused(bad, 2) == ("error: params.command: must be a list of strings (the program and its arguments) "
                               "or a string (a shell command line, run with /bin/sh -c)")
    assert pj.list_pipelines() == []  # nothing written

    good = cli("--json", "pipelines", "register", "hello", "--task",
               '{"launcher": "local", "params": {"command": "echo hello; sleep 20"}}')
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["task"]["params"]["command"] == "echo hello; sleep 20"


def test_pipelines_list_shows_each_pipelines_components_and_task():
    task = {"launcher": "external", "max_attempts": 2}
    registered = pj.register_pipeline("rnaseq", components=["align", "count"], task=task)

    listed = json.loads(cli("pipelines", "list", "--json").stdout)
    table = cli("pipelines", "list")

    assert [(p["uuid"], p["components"], p["task"]) for p in listed] == [(registered.uuid, ["align", "count"], task)]
    assert [(p.components, p.task) for p in pj.list_pipelines()] == [(["align", "count"], task)]
    row = next(line for line in table.stdout.splitlines() if "rnaseq" in line)
    assert re.search(rf"rnaseq\W+{registered.uuid[:8]}\W+align, count\W+external\W+yes", row), table.stdout


# ---- 4: kill ------------------------------------------------------------------------------------


def test_kill_of_a_job_that_has_ended_says_so_exits_0_and_writes_nothing():
    job = job_of().run().finish()
    before = len(job.history)

    done = cli("kill", job.uuid[:8])

    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == f"job {job.uuid} had already ended (FINISHED): nothing to kill\n"
    assert len(job.history) == before


# ---- 6, 9: the target, and errors said once, in one line or one JSON object ---------------------


def test_a_local_stack_that_died_is_said_to_be_not_running(monkeypatch, tmp_path):
    state = tmp_path / "local.json"
    monkeypatch.setenv(discovery.STATE_FILE_ENV, str(state))
    assert refused(cli("--local", "stat"), 1) == (
        f"error: no local stack is running (no {state}); start one with `pipelinejobs local`")
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(ended.stdout)  # a process that has ended (and been reaped): as a stack killed with -9 leaves it
    discovery.publish({"PIPELINEJOBS_TABLE": "pipelinejobs-local", "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}, pid)

    for command in (["stat"], ["pipelines", "list"], ["submit", "hello"], ["status", "0" * 8]):
        assert refused(cli("--local", *command), 1) == (
            f"error: the local stack is not running (its process {pid} has ended, leaving {state}); "
            "start one with `pipelinejobs local`")


def test_an_endpoint_that_does_not_answer_is_one_line_and_retry_later(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    assert refused(cli("stat"), 75) == ('error: DynamoDB is unavailable (Could not connect to the endpoint URL: '
                                        '"http://127.0.0.1:9/"); nothing was written, retry later')


def test_aws_sdk_errors_say_what_to_do_without_class_names(monkeypatch):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name)
    assert refused(cli("--stack", "pj", "stat"), 1) == (
        "error: You must specify a region. (set AWS_REGION, or a region in your AWS profile)")


def test_with_json_an_error_is_a_json_object_on_stderr_before_or_after_the_command():
    missing = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
    for args in (("--json", "status", missing), ("status", missing, "--json")):
        error = json.loads(refused(cli(*args), 3))
        assert error == {"error": "JobNotFound", "message": f"job {missing} not found", "exit_code": 3}
    usage = json.loads(refused(cli("stat", "--state", "BOGUS", "--json"), 2))
    assert usage["error"] == "UsageError" and usage["exit_code"] == 2 and "'BOGUS' is not a state" in usage["message"]


def test_wait_interrupted_by_ctrl_c_exits_130_quietly():
    job = job_of()
    waiting = subprocess.Popen([CONSOLE, "wait", job.uuid, "--poll", "0.2"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=dict(os.environ),
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    # Interrupted once it waits, i.e. once it has connected to DynamoDB Local (not while Python starts).
    wait_until(lambda: _has_a_socket(waiting.pid), timeout=60, what="the wait to read the job")
    waiting.send_signal(signal.SIGINT)
    out, err = waiting.communicate(timeout=30)
    assert (waiting.returncode, out, err) == (130, "", "\n")  # the newline ends the terminal's ^C


def _has_a_socket(pid: int) -> bool:
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            if os.readlink(fd).startswith("socket:"):
                return True
        except FileNotFoundError:  # closed meanwhile
            continue
    return False


def test_kill_all_says_how_many_jobs_before_asking():
    jobs = [job_of(data={"n": n}) for n in range(2)]
    jobs[1].run()

    declined = cli("kill-all", stdin="n\n")

    assert (declined.returncode, declined.stdout) == (1, "")
    assert declined.stderr == ("2 job(s) match (1 CREATED, 1 RUNNING)\nKill these 2 job(s)? [y/N]: "
                               "error: aborted: nothing was done\n")
    assert {job.refresh().state for job in jobs} == {"CREATED", "RUNNING"}
    accepted = cli("--json", "kill-all", stdin="y\n")
    assert accepted.returncode == 0 and accepted.stderr.startswith("2 job(s) match (1 CREATED, 1 RUNNING)\n")
    assert sorted(run["uuid"] for run in json.loads(accepted.stdout)) == sorted(job.uuid for job in jobs)
    assert {job.refresh().state for job in jobs} == {"FAILED"}
    assert cli("kill-all", "--yes").stdout == "no job matches: nothing to kill\n"


# ---- 7, 8: bad input is refused in one line, exit 2 ---------------------------------------------


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (("submit", "hello", "--data", '["a"]'),
         "error: Invalid value for '--data': must be a JSON object ({...}), not an array"),
        (("submit", "hello", "--each", "{each}"),
         "error: Invalid value for '--each': {each}, line 3: not valid JSON: Expecting value at column 1"),
        (("history", "{job}", "--limit", "-1"), "error: Invalid value for '--limit': -1 is not in the range x>=1."),
        (("stat", "--state", "BOGUS"), f"error: Invalid value for '--state': 'BOGUS' is not a state; the states are "
                                       f"{STATES}"),
        (("stat", "--since", "yesterday"),
         "error: Invalid value for '--since': 'yesterday' is neither an ISO 8601 time (2026-11-25, 2026-11-25T14:00, "
         "2026-11-25T14:00:00Z) nor an age (90m, 12h, 3d, 2w)"),
        (("wait", "{job}", "--state", "DONE"),
         f"error: Invalid value for '--state': 'DONE' is not a state; the states are {STATES}"),
        (("env",), "error: env prints what --local or --stack NAME sets: give one of them"),
    ],
)
def test_bad_input_is_refused_in_one_line_with_exit_2(args, line, tmp_path):
    job = job_of()
    each = tmp_path / "jobs.jsonl"
    each.write_text('{"n": 1}\n\nnot json\n')
    fill = {"{job}": job.uuid, "{each}": str(each)}
    words = [fill.get(a, a) for a in args]
    assert refused(cli(*words), 2) == line.replace("{each}", str(each))
    assert [j.uuid for j in pj.list_jobs()] == [job.uuid]  # nothing started


def test_filters_take_a_state_in_any_case_and_a_time_as_iso_or_an_age():
    job = job_of().run()
    for args in (("--state", "running"), ("--state", "Running", "--since", "1h"), ("--since", job.record.created)):
        done = cli("--json", "stat", *args)
        assert done.returncode == 0 and [j["uuid"] for j in json.loads(done.stdout)] == [job.uuid], args
    assert json.loads(cli("--json", "stat", "--since", "2999-01-01").stdout) == []


# ---- 10: names and prefixes ---------------------------------------------------------------------


def test_jobs_by_uuid_prefix_and_pipelines_by_name():
    job = job_of("rnaseq")
    other = job_of("other")

    status = cli("status", job.uuid[:8], "--json")
    listed = cli("stat", "--pipeline", "rnaseq", "--json")

    assert json.loads(status.stdout)["uuid"] == job.uuid
    assert [j["uuid"] for j in json.loads(listed.stdout)] == [job.uuid]
    assert [j["uuid"] for j in json.loads(cli("stat", "--pipeline", other.pipeline_uuid[:6], "--json").stdout)] == [
        other.uuid]
    assert refused(cli("stat", "--pipeline", "nope"), 3) == "error: pipeline nope not found"
    assert refused(cli("status", "nope"), 3) == "error: job nope not found"


def test_an_ambiguous_prefix_or_name_lists_the_candidates():
    by_first_digit = defaultdict(list)
    for n in range(17):  # 17 jobs, 16 hex digits: two share a first digit
        job = job_of(data={"n": n})
        by_first_digit[job.uuid[0]].append(job)
    digit, sharing = next((d, jobs) for d, jobs in by_first_digit.items() if len(jobs) > 1)

    error = json.loads(refused(cli("--json", "status", digit), 2))

    assert error["error"] == "AmbiguousName" and sorted(error["candidates"]) == sorted(j.uuid for j in sharing)
    assert error["message"].startswith(f"job prefix {digit} matches {len(sharing)}: ")
    assert error["message"].endswith("; give more of the uuid")
    twin = pj.register_pipeline("hello", components=["other"])
    line = refused(cli("stat", "--pipeline", "hello"), 2)
    assert line.startswith("error: pipeline name 'hello' matches 2: ") and twin.uuid in line


# ---- 11: tables that fit ------------------------------------------------------------------------


def test_stat_shows_names_short_uuids_local_times_durations_and_counts_and_is_not_cut_in_a_pipe():
    jobs = [job_of("a-pipeline-with-a-long-name-to-widen-the-table", {"n": n}) for n in range(3)]
    jobs[1].run()
    jobs[2].run().finish()

    table = cli("stat")
    wide = cli("stat", "--wide")

    lines = table.stdout.splitlines()
    assert lines[-1] == "3 job(s): 1 CREATED, 1 RUNNING, 1 FINISHED"
    row = next(line for line in lines if jobs[2].uuid[:8] in line)
    stored = datetime.fromisoformat(jobs[2].record.created.replace("Z", "+00:00"))
    created = re.escape(stored.astimezone().strftime("%Y-%m-%d %H:%M:%S"))  # this machine's time zone
    assert re.search(rf"{jobs[2].uuid[:8]}\W+a-pipeline-with-a-long-name-to-widen-the-table\W+FINISHED\W+finish\W+"
                     rf"{created}\W+[-\d: ]+\W+\d+s", row), row
    assert jobs[2].uuid not in table.stdout and jobs[2].uuid in wide.stdout
    rows = [line for line in wide.stdout.splitlines() if "\u2502" in line]  # one line a job: no cell folded
    assert len(rows) == 3 and all(job.uuid in "".join(rows) for job in jobs)
    assert max(map(len, rows)) > 120  # its natural width in a pipe, not rich's default of 80 columns


# ---- 12: the environment for the SDK -----------------------------------------------------------


def test_local_env_prints_the_exports_that_point_the_sdk_at_the_local_stack(tmp_path):
    discovery_file = str(tmp_path / "local.json")
    stack = {"PIPELINEJOBS_TABLE": os.environ["PIPELINEJOBS_TABLE"], "AWS_ENDPOINT_URL": os.environ["AWS_ENDPOINT_URL"],
             "PIPELINEJOBS_API_URL": "http://x y"}
    with_state_file = {discovery.STATE_FILE_ENV: discovery_file}
    with mock.patch.dict(os.environ, with_state_file):
        discovery.publish(stack)
    job = job_of()
    shell = {k: v for k, v in os.environ.items() if not k.startswith(("PIPELINEJOBS_", "AWS_ENDPOINT_URL"))}
    # A shell left pointing elsewhere: a table, a token secret and an SQS endpoint the stack does not give.
    shell |= with_state_file | {"PIPELINEJOBS_TABLE": "pj-elsewhere", "PIPELINEJOBS_TOKEN_SECRET": "other",
                                "AWS_ENDPOINT_URL_SQS": "http://elsewhere"}

    done = cli("--local", "env", env=shell)

    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.splitlines() == [
        "unset AWS_ENDPOINT_URL_SQS", "unset PIPELINEJOBS_TOKEN_SECRET",
        f"export AWS_ENDPOINT_URL={stack['AWS_ENDPOINT_URL']}", "export PIPELINEJOBS_API_URL='http://x y'",
        f"export PIPELINEJOBS_TABLE={stack['PIPELINEJOBS_TABLE']}"]
    sdk = "import pipelinejobs as pj, os; print(pj.list_jobs()[0].uuid, os.environ.get('AWS_ENDPOINT_URL_SQS'))"
    run = subprocess.run(["sh", "-c", f'eval "$("{CONSOLE}" --local env)" && "{sys.executable}" -c "{sdk}"'],
                         capture_output=True, text=True, timeout=120, env=shell)
    assert (run.returncode, run.stdout, run.stderr) == (0, f"{job.uuid} None\n", "")


# ---- 20: the README's SDK example ---------------------------------------------------------------


def test_the_readme_sdk_example_runs_top_to_bottom_and_again():
    example = ROOT / "docs" / "examples" / "sdk.py"
    assert _body(example) in (ROOT / "README.md").read_text()  # the README shows the file as it is
    for _ in range(2):  # a second run makes a job of its own, rather than finding the first one finished
        done = subprocess.run([sys.executable, str(example)], capture_output=True, text=True, timeout=120,
                              env=dict(os.environ))
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("FINISHED ['create', 'run', 'update', 'update', 'finish'] /products/v2/")
    assert [j.state for j in pj.list_jobs()] == ["FINISHED", "FINISHED"]


def _body(example: Path) -> str:
    """The example without its module docstring: the code the README shows."""
    text = example.read_text()
    return text[text.index('"""', 3) + 3:].strip()


# ---- issue 14, item 6: delete --------------------------------------------------------------------


def test_delete_asks_first_then_leaves_a_tombstone_that_status_reports_with_exit_3():
    job = job_of(data={"n": "deleted"})
    job.run().fail()

    declined = cli("delete", job.uuid, stdin="n\n")

    assert (declined.returncode, declined.stdout) == (1, "")
    assert declined.stderr == (f"job {job.uuid}: FAILED, 3 history entries\nDelete it and its history for good? "
                               "[y/N]: error: aborted: nothing was done\n")
    assert job.refresh().state == "FAILED"
    deleted = cli("--json", "delete", job.uuid[:8], "--yes")
    assert deleted.returncode == 0, deleted.stderr
    answer = json.loads(deleted.stdout)
    assert (answer["uuid"], answer["deleted"]) == (job.uuid, True) and answer["deleted_by"] and answer["deleted_at"]
    line = refused(cli("status", job.uuid), 3)
    assert line == f"error: job {job.uuid} was deleted by {answer['deleted_by']} at {answer['deleted_at']}"
    assert refused(cli("delete", job.uuid, "--yes"), 3) == line  # a second delete finds nothing to do
