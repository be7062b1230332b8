"""Runs one local task and records how it ended: ``python local_runner.py DIR CMD...``.

Run by path, not with ``-m``, so it imports nothing of pipelinejobs and starts fast.

The command inherits this process's stdout and stderr (the attempt's files). Its
exit code, negative for a signal as in ``subprocess``, is written to DIR/exit_code
atomically (write, then rename), so a reader never sees half a number. A SIGTERM
sent to the group (cancel) reaches the command too; the runner then records it.

A SIGTERM may come at any moment, even before this interpreter has started: the
launcher starts the runner with SIGTERM blocked (a blocked signal waits, pending,
and the mask outlives exec), and the runner unblocks it only once its handler is
set. So a cancel right after the launch is recorded like any other: a SIGTERM that
came before the command started means the command never runs (-15 is recorded);
one that came while it was being started is passed on to it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

EXIT_CODE_FILE = "exit_code"
SIGTERM = {signal.SIGTERM}


def main(directory: str, command: list[str]) -> int:
    signal.pthread_sigmask(signal.SIG_BLOCK, SIGTERM)  # as the launcher started it; a runner started otherwise too
    signal.signal(signal.SIGTERM, lambda *_: None)  # outlive the command so its end is recorded
    code = -signal.SIGTERM if signal.SIGTERM in signal.sigpending() else run(command)
    partial = Path(directory) / f"{EXIT_CODE_FILE}.partial"
    partial.write_text(str(code))
    os.replace(partial, Path(directory) / EXIT_CODE_FILE)
    return 0


def run(command: list[str]) -> int:
    """The command's exit code; SIGTERM is blocked on entry, and unblocked once the command exists."""
    try:
        process = subprocess.Popen(command, preexec_fn=_default_sigterm)
    except OSError as exc:  # e.g. the program does not exist
        print(f"pipelinejobs local runner: cannot run {command[0]!r}: {exc}", file=sys.stderr)
        return 127
    came_while_starting = signal.SIGTERM in signal.sigpending()
    signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGTERM)
    if came_while_starting:  # the command may have been started just after it: it must not miss it
        process.send_signal(signal.SIGTERM)
    return process.wait()


def _default_sigterm() -> None:
    """In the command's process, before exec: SIGTERM's default action (it ends the command), then unblocked.
    (Safe here: the runner has one thread.)"""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGTERM)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
