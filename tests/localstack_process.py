"""``pipelinejobs local`` as a process of its own, for tests that drive it as a user would.

A stack is started with ``python -m pipelinejobs local`` (the console script's command, run by this interpreter)
and its own discovery file; the CLI reaches it with ``--local``. Shared by tests/integration/test_local_stack.py
and tests/integration/test_schemathesis.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from pipelinejobs import tokens
from pipelinejobs.local import discovery

READY_TIMEOUT_S = 60


@dataclass
class Stack:
    process: subprocess.Popen
    output: Path
    state_file: Path

    @property
    def env(self) -> dict[str, str]:
        return json.loads(self.state_file.read_text())["env"]

    def cli(self, *args: str, expect: int = 0) -> Any:
        """``pipelinejobs --local --json ARGS``: its JSON output, after checking its exit status."""
        done = subprocess.run([sys.executable, "-m", "pipelinejobs", "--local", "--json", *args], env=clean_env(
            {discovery.STATE_FILE_ENV: str(self.state_file)}), capture_output=True, text=True, timeout=120)
        assert done.returncode == expect, f"{args}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
        return json.loads(done.stdout) if expect == 0 and done.stdout.strip() else done

    def http(self, method: str, path: str, body: bytes | None = None,
             content_type: str = "application/json") -> tuple[int, Any]:
        request = urllib.request.Request(self.env["PIPELINEJOBS_API_URL"] + path, data=body, method=method,
                                         headers={"content-type": content_type})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def client(self, service: str) -> Any:
        env = self.env
        endpoint = env.get("AWS_ENDPOINT_URL_DYNAMODB") if service == "dynamodb" else None
        return boto3.client(service, endpoint_url=endpoint or env["AWS_ENDPOINT_URL"], region_name="us-east-1",
                            aws_access_key_id="local", aws_secret_access_key="local")

    def token(self, uuid: str) -> str:
        return tokens.job_token(self.env["PIPELINEJOBS_TOKEN_SECRET"], uuid)


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    """This process's environment without anything that points at AWS or a table: only the stack's counts."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PIPELINEJOBS_"))}
    return {**kept, **extra}


def start_stack(directory: Path, *args: str) -> Stack:
    directory.mkdir(parents=True, exist_ok=True)
    state_file, output = directory / "local.json", directory / "stack.out"
    with output.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "pipelinejobs", "local", "--port", "0", *args], stdout=out,
                                   stderr=subprocess.STDOUT, env=clean_env({discovery.STATE_FILE_ENV: str(state_file)}))
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not any(line.startswith("ready") for line in output.read_text().splitlines()):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the local stack did not start:\n{output.read_text()[-4000:]}")
        time.sleep(0.1)
    return Stack(process, output, state_file)


@contextlib.contextmanager
def running_stack(directory: Path, *args: str) -> Iterator[Stack]:
    """A stack for the length of a ``with`` block (a module fixture's body), stopped cleanly however it ends,
    unless a test stopped or killed it first."""
    running = start_stack(directory, *args)
    try:
        yield running
    finally:
        if running.process.poll() is None:
            stop_stack(running)


def stop_stack(stack: Stack) -> None:
    """SIGTERM, as a user's Ctrl-C or a service manager would: a clean stop withdraws the discovery file."""
    stack.process.send_signal(signal.SIGTERM)
    assert stack.process.wait(timeout=60) == 0, stack.output.read_text()[-4000:]
    assert not stack.state_file.exists()
    said = stack.output.read_text().splitlines()
    assert any(line.startswith("stopping: ") and "the local tasks" in line for line in said), said[-5:]
    assert said[-1].startswith("stopped in "), said[-5:]  # and nothing after it: no interpreter clean-up to wait for
