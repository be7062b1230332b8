"""Local: run a command as a subprocess of this machine (the embedded stack, tests).

Each attempt gets its own directory, ``<root>/<job uuid>/<attempt>/``, holding
``stdout``, ``stderr`` and, once the command ends, ``exit_code``: a small runner
process writes it, as tibanna's jobs leave marker files, so any process (not only
the one that launched it) can check or cancel the task from the handle alone.

``params``: ``command``, a list of arguments (the program and its arguments, run as
they are) or a string (a shell command line, run with ``/bin/sh -c``); optional ``env``
(string values) and ``cwd``; ``root`` overrides PIPELINEJOBS_LOCAL_DIR.

A task reports its results by writing a JSON object to the file named by ``PIPELINEJOBS_OUTPUTS``
(``outputs.json`` in its attempt's directory): read when it exits 0, they become the ``outputs`` of the job's
``finish`` event, which a workflow's downstream jobs reference (``${<job>.outputs.<key>}``). A file that is
not a JSON object, or one too large for an event (MAX_OUTPUTS_BYTES, within the 32 KiB of an event's data),
fails the attempt, saying so.

The tasks a process launched end with it if it asks (:func:`stop_all`): the local
stack does, so a task does not run on once the stack that tracks it is gone.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from .. import failures
from ..config import MAX_DATA_BYTES, Config
from ..events import TOO_DEEP, compact_json, nested_too_deeply
from . import local_runner
from .base import Launched, Launcher, LaunchRequest, Phase, TaskStatus
from .local_runner import EXIT_CODE_FILE

#: The variable naming the file a task writes its outputs to (a JSON object), and the file's name.
OUTPUTS_ENV = "PIPELINEJOBS_OUTPUTS"
OUTPUTS_FILE = "outputs.json"
#: The most an outputs file may hold (compact JSON): the ``finish`` event's data carries it, and that data holds
#: at most MAX_DATA_BYTES; the rest is kept for the finish's own fields (attempt, status, exit code, log, time).
MAX_OUTPUTS_BYTES = MAX_DATA_BYTES - 1024
#: The runners this process launched, by pid, until they are seen to end (launch steps run on several threads).
_launched: dict[int, subprocess.Popen] = {}
_launched_lock = threading.Lock()


def default_root() -> Path:
    return Path(Config.current().local_dir or Path(tempfile.gettempdir()) / "pipelinejobs-local")


class LocalLauncher(Launcher):
    required_params = ("command",)
    params_schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "command": {
                "description": "must be a list of strings (the program and its arguments) "
                               "or a string (a shell command line, run with /bin/sh -c)",
                "anyOf": [{"type": "array", "items": {"type": "string"}, "minItems": 1},
                          {"type": "string", "minLength": 1}],
            },
            "env": {"type": "object", "additionalProperties": {"type": "string"}},
            "cwd": {"type": "string"},
            "root": {"type": "string"},
        },
    }

    def launch(self, request: LaunchRequest) -> Launched:
        params = request.params
        directory = Path(params.get("root") or default_root()) / request.job_uuid / str(request.attempt)
        directory.mkdir(parents=True, exist_ok=True)
        command = params["command"]
        argv = ["/bin/sh", "-c", command] if isinstance(command, str) else command
        with (open(directory / "stdout", "wb") as stdout, open(directory / "stderr", "wb") as stderr,
              _sigterm_blocked()):  # until the runner's handler is set: a cancel right away is recorded too
            process = subprocess.Popen(
                [sys.executable, local_runner.__file__, str(directory), *argv],
                stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL, cwd=params.get("cwd"),
                env={**os.environ, **(params.get("env") or {}), **request.env,
                     OUTPUTS_ENV: str(directory / OUTPUTS_FILE)},
                start_new_session=True,  # its own process group: cancel stops the command and its children
            )
        with _launched_lock:
            for pid in [pid for pid, runner in _launched.items() if runner.poll() is not None]:
                del _launched[pid]
            _launched[process.pid] = process
        log = {"files": {"stdout": str(directory / "stdout"), "stderr": str(directory / "stderr")}}
        return Launched(handle={"pid": process.pid, "directory": str(directory)}, log=log)

    def check(self, handle: dict[str, Any]) -> TaskStatus:
        exit_code = _exit_code(handle)
        if exit_code is None and _alive(handle["pid"]):
            return TaskStatus(Phase.RUNNING, "RUNNING")
        exit_code = _exit_code(handle)  # read again: it may have ended between the two looks
        if exit_code == 0:
            try:
                return TaskStatus(Phase.SUCCEEDED, "EXITED", exit_code=0, outputs=_outputs(handle))
            except ValueError as exc:  # the task's outputs file is not what it must be: its fault, no class fits
                return TaskStatus(Phase.FAILED, "EXITED", exit_code=0, reason=str(exc), failure="unknown")
        end = failures.local_end(exit_code)
        return TaskStatus(Phase.FAILED, "VANISHED" if exit_code is None else "EXITED",
                          exit_code=end.exit_code, reason=end.reason, failure=end.failure)

    def cancel(self, handle: dict[str, Any], reason: str) -> None:
        if _exit_code(handle) is not None:
            return  # it ended (its runner too, or nearly): its pid may be another process's by now
        try:
            os.killpg(handle["pid"], signal.SIGTERM)
        except ProcessLookupError:
            return  # already gone
        _alive(handle["pid"])  # reap it if it is our child, so it leaves no zombie


def stop_all(timeout_s: float = 5.0) -> int:
    """Stop (SIGTERM to its process group) every task this process launched that still runs, and wait for
    their runners to record how they ended. Returns how many were stopped."""
    with _launched_lock:
        running = [runner for runner in _launched.values() if runner.poll() is None]
        _launched.clear()
    for runner in running:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(runner.pid, signal.SIGTERM)
    for runner in running:
        try:
            runner.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(runner.pid, signal.SIGKILL)
    return len(running)


@contextlib.contextmanager
def _sigterm_blocked() -> Iterator[None]:
    """SIGTERM blocked in this thread, so a process started here starts with it blocked (the mask outlives
    exec; a signal sent meanwhile waits, pending). Other threads still take this process's own SIGTERMs."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _exit_code(handle: dict[str, Any]) -> int | None:
    try:
        return int((Path(handle["directory"]) / EXIT_CODE_FILE).read_text())
    except FileNotFoundError:
        return None


def _outputs(handle: dict[str, Any]) -> dict[str, Any] | None:
    """What the task wrote to its outputs file (None if it wrote none); ValueError if it is not a JSON object."""
    path = Path(handle["directory"]) / OUTPUTS_FILE
    try:
        outputs = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{OUTPUTS_FILE} is not JSON: {exc}") from exc
    if not isinstance(outputs, dict):
        raise ValueError(f"{OUTPUTS_FILE} must hold a JSON object, not {type(outputs).__name__}")
    # Checked here, so the attempt fails saying why, rather than its finish being refused by the event's limits.
    if nested_too_deeply(outputs):
        raise ValueError(f"{path} {TOO_DEEP}")
    size = len(compact_json(outputs).encode())
    if size > MAX_OUTPUTS_BYTES:
        raise ValueError(f"{path} is {size} bytes as compact JSON; outputs may take at most {MAX_OUTPUTS_BYTES} "
                         f"(a finish event's data holds {MAX_DATA_BYTES}): keep large results in files and "
                         "report their paths")
    return outputs


def _alive(pid: int) -> bool:
    """Whether the runner process still exists; reaps it when it is our own child."""
    try:
        reaped, _ = os.waitpid(pid, os.WNOHANG)
        if reaped:
            return False
    except ChildProcessError:
        pass  # not our child (launched by another process): only the kernel can tell
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
