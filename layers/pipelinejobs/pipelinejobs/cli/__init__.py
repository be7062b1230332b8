"""The ``pipelinejobs`` command: see and steer jobs from a terminal or a script.

Its dependencies come with the package's ``cli`` extra, which the SDK and the Lambda layer do without: the
command is imported only when it runs, so that without them it says in one line what to install, not a
traceback."""

from __future__ import annotations

import sys

#: What the command imports beyond the package's base dependencies: pyproject.toml's ``cli`` extra.
CLI_DEPENDENCIES = frozenset({"click", "rich", "graphviz"})


def main() -> None:
    """The console script's entry point (and ``python -m pipelinejobs``'s)."""
    try:
        from .app import main as run
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] not in CLI_DEPENDENCIES:
            raise
        sys.exit(f"error: {exc.name} is not installed: the pipelinejobs command needs the 'cli' extra "
                 "(pip install 'pipelinejobs[cli]'; in a checkout, pip install -e '.[cli]')")
    run()


__all__ = ["main"]
