"""Where a running local stack tells the CLI how to reach it.

``pipelinejobs local`` writes a small JSON file with the environment a client
needs (endpoint, table, state machine ARN, API URL, the stack's token secret,
fake credentials); ``pipelinejobs --local ...`` reads it. The file holds a local,
throwaway secret only; a deployed stack is reached with ``--stack NAME`` instead.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import ConfigurationError

#: Overrides where the file lives (e.g. one per test).
STATE_FILE_ENV = "PIPELINEJOBS_LOCAL_STATE"


def state_file() -> Path:
    if os.environ.get(STATE_FILE_ENV):
        return Path(os.environ[STATE_FILE_ENV])
    return Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "pipelinejobs" / "local.json"


def publish(env: dict[str, str], pid: int | None = None) -> Path:
    """Record the running stack's client environment (readable by this user only)."""
    path = state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.write_text(json.dumps({"pid": pid or os.getpid(), "env": env}, indent=2))
    return path


def withdraw() -> None:
    state_file().unlink(missing_ok=True)


def client_env() -> dict[str, str]:
    """The environment of the running local stack. ConfigurationError if none is running: no file, or
    the process that wrote it has ended (a stack killed uncleanly leaves its file behind)."""
    path = state_file()
    start = "start one with `pipelinejobs local`"
    if not path.exists():
        raise ConfigurationError(f"no local stack is running (no {path}); {start}")
    state = json.loads(path.read_text())
    if not _alive(state["pid"]):
        raise ConfigurationError(f"the local stack is not running (its process {state['pid']} has ended, "
                                 f"leaving {path}); {start}")
    return state["env"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        return True
    return True
