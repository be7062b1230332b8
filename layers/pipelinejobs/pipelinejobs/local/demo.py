"""``pipelinejobs demo``: the local stack, four jobs and a workflow through Step Functions, and a verdict.

It starts ``pipelinejobs local`` as a process of its own (so the demo is a client like any other,
reaching the stack through its discovery file), registers two pipelines and runs:

* ``checksum``: generates a file and checksums it (the local launcher, polled): FINISHED;
* ``flaky``: the same, but its first attempt exits 3: relaunched, then FINISHED on attempt 2;
* ``external``: an outside system's job (callback mode): the demo plays that system and POSTs
  ``status=RUNNING`` then ``status=FINISHED`` to the webhook with the job's token: FINISHED;
* ``killed``: a long task, killed once RUNNING: FAILED (reason ``killed``), its execution ABORTED;
* a workflow (:mod:`.demo_workflow`): a fan-out over generated files, a checksum job per file (one failing
  once, then succeeding on its retry), a fan-in report job reading their outputs: FINISHED.

It shows their progress live, then the stat table, one job's history, the workflow's graph (Mermaid) and
counters, and exits 0 only if every job, execution, checksum and the workflow ended as expected.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from . import demo_workflow, discovery
from .demo_task import FILE_NAME

#: The whole demo, stack start included, takes about a minute on a quiet machine (the workflow's three steps
#: one after another are most of it); this bounds it on a busy one.
DEADLINE_S = 150.0
READY_TIMEOUT_S = 60.0
TASK = [sys.executable, "-m", "pipelinejobs.local.demo_task", "--size-kib", "2048"]
#: Check a local task every second or two: the demo is about seconds, not the 10 s default.
POLL = {"first": 1, "factor": 1.5, "cap": 2}
#: What the history table shows of each entry's data.
HISTORY_KEYS = ("run_id", "attempt", "status", "exit_code", "reason")


@dataclass
class DemoJob:
    label: str
    expected_state: str
    #: How its execution may end. A killed job's is stopped (ABORTED), unless a step ran between kill's write
    #: and its StopExecution: that step, finding the job no longer its run's, ends it in Superseded (SUCCEEDED).
    expected_execution: tuple[str, ...]
    uuid: str = ""
    execution_arn: str | None = None
    #: What the demo itself did to the job (callbacks sent, kill).
    actions: list[str] = field(default_factory=list)
    state: str = "-"
    last_event: str = "-"
    attempt: int = 0
    execution: str = "-"

    @property
    def ended(self) -> bool:
        return self.state in ("FINISHED", "FAILED") and self.execution not in ("-", "RUNNING")


def _interrupted(*_: object) -> None:
    raise KeyboardInterrupt


def run(keep: bool = False) -> int:
    signal.signal(signal.SIGTERM, _interrupted)  # as Ctrl-C: the stack it started is stopped on the way out
    console = Console()
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="pipelinejobs-demo-"))
    state_file = None if keep else workdir / "local.json"  # --keep: where `pipelinejobs --local` looks
    try:
        with stack_process(workdir, state_file, console) as stack:
            workflow = demo_workflow.submit()  # first: its jobs start one after another, as their parents finish
            console.print(f"submitted workflow {workflow.name} ({workflow.uuid}): its jobs are released from the "
                          "table's stream as their parents finish")
            jobs = start_jobs(console)
            workflow = drive(jobs, workflow, console, started)
            ok = report(jobs, workflow, console)
            kept = keep or not ok  # a passing demo removes its directory: name its logs only if they stay
            console.print(f"[bold]{'demo passed' if ok else 'demo FAILED'}[/] in {time.monotonic() - started:.1f} s"
                          + (f" (the stack's output: {workdir / 'stack.log'}, its JSON log: {workdir / 'local.log'})"
                             if kept else ""))
            if keep:
                console.print("the stack keeps running: try `pipelinejobs --local stat`; Ctrl-C stops it")
                stack.wait()
    except KeyboardInterrupt:
        return 130
    except RuntimeError as exc:  # the stack did not start
        console.print(f"[red]error:[/] {exc}")
        return 1
    if ok and not keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


@contextmanager
def stack_process(workdir: Path, state_file: Path | None, console: Console) -> Iterator[subprocess.Popen]:
    """``pipelinejobs local --port 0`` in a process of its own; the demo takes its client environment."""
    log = workdir / "stack.log"
    env = {**os.environ, **({discovery.STATE_FILE_ENV: str(state_file)} if state_file else {})}
    if state_file:
        os.environ[discovery.STATE_FILE_ENV] = str(state_file)
    with console.status("starting the local stack (moto server, template.yaml's resources)"), log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "pipelinejobs", "local", "--port", "0",
                                    "--log-file", str(workdir / "local.log")], stdout=out,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                   start_new_session=True)  # Ctrl-C reaches the demo, which stops the stack
    try:
        banner = wait_for_ready(process, log)
        console.print(banner, highlight=False, markup=False, soft_wrap=True)
        os.environ.update(discovery.client_env())
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_for_ready(process: subprocess.Popen, log: Path) -> str:
    """The stack's banner, once it printed its "ready" line."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        lines = log.read_text(errors="replace").splitlines()
        if any(line.startswith("ready") for line in lines):
            return "\n".join(line for line in lines if not line.startswith("{"))
        if process.poll() is not None:
            raise RuntimeError(f"the local stack exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)
    raise RuntimeError(f"the local stack was not ready after {READY_TIMEOUT_S:.0f} s; see {log}")


def start_jobs(console: Console) -> list[DemoJob]:
    from .. import orchestration, register_pipeline

    local = register_pipeline("demo-checksum", "Generate a file and checksum it", ["generate", "checksum"],
                              task={"launcher": "local", "params": {"command": TASK}, "max_attempts": 2,
                                    "timeout_seconds": 120, "poll": POLL})
    outside = register_pipeline("demo-external", "A job run elsewhere, reporting through the webhook", ["remote"],
                                task={"launcher": "external", "timeout_seconds": 120})
    succeeded, stopped = ("SUCCEEDED",), ("ABORTED", "SUCCEEDED Superseded")
    jobs = [DemoJob("checksum", "FINISHED", succeeded), DemoJob("flaky", "FINISHED", succeeded),
            DemoJob("external", "FINISHED", succeeded), DemoJob("killed", "FAILED", stopped)]
    starts: dict[str, tuple[str, dict[str, Any], dict[str, Any] | None]] = {
        "checksum": (local.uuid, {"sample": "A1"}, None),
        "flaky": (local.uuid, {"sample": "B2"}, {"params": {"command": [*TASK, "--fail-on-attempt", "1"]}}),
        "external": (outside.uuid, {"sample": "C3"}, None),
        "killed": (local.uuid, {"sample": "D4"}, {"params": {"command": [*TASK, "--sleep", "600"]}}),
    }
    for job in jobs:
        pipeline_uuid, data, overrides = starts[job.label]
        run = orchestration.start(pipeline_uuid, data, overrides=overrides)
        job.uuid, job.execution_arn = run.uuid, run.execution_arn
    console.print(f"registered pipelines demo-checksum ({local.uuid}) and demo-external ({outside.uuid}); "
                  f"started {len(jobs)} jobs through Step Functions")
    return jobs


def drive(jobs: list[DemoJob], workflow: Any, console: Console, started: float) -> Any:
    """Watch the jobs and the workflow until all have ended, playing the outside system and the operator on the
    way; the workflow as it was last read."""
    from .. import workflows
    from ..launchers.aws import client

    stepfunctions = client("stepfunctions")

    def shown() -> Group:
        return Group(progress_table(jobs, started), demo_workflow.progress_table(workflow))

    with Live(shown(), console=console, refresh_per_second=4) as live:
        while not (all(job.ended for job in jobs) and workflow.ended) and time.monotonic() - started < DEADLINE_S:
            # Only what may still change: the stack serves every read on the same cores as the work it shows.
            for job in (job for job in jobs if not job.ended):
                observe(job, stepfunctions)
                act(job)
            if not workflow.ended:
                workflow = workflows.get(workflow.uuid)
            live.update(shown())
            time.sleep(0.5)
    console.print()
    return workflow


def observe(job: DemoJob, stepfunctions: Any) -> None:
    from .. import get_job

    record = get_job(job.uuid).record
    job.state, job.last_event, job.attempt = record.state, record.last_event, record.attempt
    if job.execution_arn:  # a demo of four jobs may describe them; `stat` never does (see docs/orchestration.md)
        job.execution = execution_end(stepfunctions, job.execution_arn)


def execution_end(stepfunctions: Any, arn: str) -> str:
    """An execution's status, with the error of a failed one (``FAILED JobFailed``), or ``SUCCEEDED Superseded``
    for one that ended because its run was killed or rerun by someone else (its output says why)."""
    execution = stepfunctions.describe_execution(executionArn=arn)
    status = execution["status"]
    if status == "SUCCEEDED" and "superseded" in json.loads(execution.get("output") or "{}"):
        return "SUCCEEDED Superseded"
    if status != "FAILED":
        return status
    last = stepfunctions.get_execution_history(executionArn=arn, reverseOrder=True, maxResults=1)["events"][0]
    return f"FAILED {last['executionFailedEventDetails']['error']}"


def act(job: DemoJob) -> None:
    """The external job's runner reports through the webhook; the operator kills the long job once it runs."""
    from .. import get_job, orchestration

    if job.label == "external" and len(job.actions) < 2:
        record = get_job(job.uuid).record
        if record.task_token:  # the launch step recorded the token Step Functions waits on
            status = ("RUNNING", "FINISHED")[len(job.actions)]
            job.actions.append(f"POST {status}: {callback(job.uuid, status)}")
    elif job.label == "killed" and job.state == "RUNNING" and not job.actions:
        orchestration.kill(job.uuid)
        job.actions.append("killed")


def callback(uuid: str, status: str) -> int:
    """What an outside system does: POST to the job's callback URL (it carries the job's token)."""
    from .. import get_job, runner_status

    url = get_job(uuid).callback.replace(runner_status.STATUS_PLACEHOLDER, status)
    body = json.dumps({"status": status, "host": "outside.example.org"}).encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return answer.status


def progress_table(jobs: list[DemoJob], started: float) -> Table:
    table = Table(title=f"jobs ({time.monotonic() - started:.0f} s)")
    for column in ("job", "uuid", "state", "last event", "attempt", "execution", "the demo did"):
        table.add_column(column, no_wrap=column != "the demo did")
    for job in jobs:
        colour = {"FINISHED": "green", "FAILED": "red", "RUNNING": "yellow"}.get(job.state, "white")
        table.add_row(job.label, job.uuid[:8], f"[{colour}]{job.state}[/]", job.last_event, str(job.attempt),
                      job.execution, "; ".join(job.actions))
    return table


def report(jobs: list[DemoJob], workflow: Any, console: Console) -> bool:
    """The stat table, the flaky job's history and attempts, the workflow's graph and counters, and whether
    everything ended as expected."""
    from .. import get_job, list_pipelines, orchestration
    from ..cli.workflow_graph import mermaid
    from ..cli.workflows import counts_text

    names = {pipeline.uuid: pipeline.name for pipeline in list_pipelines()}
    stat = Table(title="pipelinejobs stat (read from the table's index)")
    for column in ("uuid", "pipeline", "state", "last_event", "updated"):
        stat.add_column(column, no_wrap=column == "uuid")
    for row in orchestration.stat():
        stat.add_row(row.uuid, names.get(row.pipeline_uuid, row.pipeline_uuid), row.state, row.last_event,
                     row.updated[11:23])
    console.print(stat)
    flaky = next(job for job in jobs if job.label == "flaky")
    history = Table(title=f"history of the flaky job {flaky.uuid}")
    for column in ("seq", "time", "event", "state", "data (in part)"):
        history.add_column(column)
    for entry in get_job(flaky.uuid).history:
        data = {key: entry.data[key] for key in HISTORY_KEYS if key in entry.data}
        history.add_row(str(entry.seq), entry.date[11:23], entry.name if entry.applied else f"{entry.name} (refused)",
                        entry.state, ", ".join(f"{key}={value}" for key, value in data.items()))
    console.print(history)
    console.print(f"the workflow's graph (pipelinejobs --local workflow graph {workflow.uuid[:8]}):")
    console.print(mermaid(workflow.nodes, title=f"{workflow.name}: {workflow.state}"), markup=False, highlight=False,
                  end="")
    console.print(f"the workflow's counters (one read): {counts_text(workflow.counts)}")
    checks = verdict(jobs) + demo_workflow.verdict(workflow)
    for passed, text in checks:
        console.print(f"{'[green]✓' if passed else '[red]✗'}[/] {text}")
    return all(passed for passed, _ in checks)


def verdict(jobs: list[DemoJob]) -> list[tuple[bool, str]]:
    from .. import get_job, orchestration

    checks = [(job.state == job.expected_state and job.execution in job.expected_execution,
               f"{job.label}: job {job.state}, execution {job.execution}"
               + ("" if job.state == job.expected_state and job.execution in job.expected_execution else
                  f" (expected {job.expected_state}, {' or '.join(job.expected_execution)})")) for job in jobs]
    by_label = {job.label: job for job in jobs}
    attempts = orchestration.attempts(by_label["flaky"].uuid)
    checks.append((len(attempts) == 2 and attempts[0].exit_code == 3 and attempts[1].succeeded,
                   f"flaky: attempt 1 exited {attempts[0].exit_code if attempts else '-'}, attempt 2 "
                   f"{'succeeded' if len(attempts) > 1 and attempts[1].succeeded else 'did not succeed'}"))
    relaunch = next((entry for entry in get_job(by_label["flaky"].uuid).history
                     if entry.data.get("attempt") == 2 and entry.data.get("status") == "LAUNCHED"), None)
    checks.append((relaunch is not None and relaunch.state == "RUNNING",
                   f"flaky: {relaunch.state if relaunch else 'not'} when its attempt 2 was launched"))
    for label in ("checksum", "flaky"):
        checks.append(checksum_verified(label, orchestration.attempts(by_label[label].uuid)))
    killed = get_job(by_label["killed"].uuid).history[-1]
    checks.append((killed.name == "fail" and killed.data.get("reason") == "killed",
                   f"killed: last event {killed.name} with reason {killed.data.get('reason')}"))
    return checks


def checksum_verified(label: str, attempts: list[Any]) -> tuple[bool, str]:
    """The last attempt's data.bin hashes to what its data.bin.sha256 says (the task really ran)."""
    stdout = Path(((attempts[-1].log or {}).get("files") or {}).get("stdout", "")) if attempts else Path()
    data = stdout.parent / FILE_NAME
    written = data.with_name(f"{FILE_NAME}.sha256")
    if not (data.is_file() and written.is_file()):
        return False, f"{label}: no {FILE_NAME} and checksum beside {stdout}"
    actual = hashlib.sha256(data.read_bytes()).hexdigest()
    return written.read_text().split()[0] == actual, f"{label}: sha256 {actual[:16]}... of {data.stat().st_size} bytes"
