"""The ``pipelinejobs`` command: see and steer jobs from a terminal or a script."""

from .app import main

__all__ = ["main"]
