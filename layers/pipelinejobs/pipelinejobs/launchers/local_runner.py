"""Runs one local task and records how it ended: ``python local_runner.py DIR CMD...``.

Run by path, not with ``-m``, so it imports nothing of pipelinejobs and starts fast.

The command inherits this process's stdout and stderr (the attempt's files). Its
exit code, negative for a signal as in ``subprocess``, is written to DIR/exit_code
atomically (write, then rename), so a reader never sees half a number. A SIGTERM
sent to the group (cancel) reaches the command too; the runner then records it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

EXIT_CODE_FILE = "exit_code"


def main(directory: str, command: list[str]) -> int:
    signal.signal(signal.SIGTERM, lambda *_: None)  # outlive the command so its end is recorded
    try:
        code = subprocess.run(command, check=False).returncode
    except OSError as exc:  # e.g. the program does not exist
        print(f"pipelinejobs local runner: cannot run {command[0]!r}: {exc}", file=sys.stderr)
        code = 127
    partial = Path(directory) / f"{EXIT_CODE_FILE}.partial"
    partial.write_text(str(code))
    os.replace(partial, Path(directory) / EXIT_CODE_FILE)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
