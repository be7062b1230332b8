"""Sweep function (every minute): fails the jobs that went silent; the logic lives in pipelinejobs.sweep."""

from pipelinejobs.sweep import handler

__all__ = ["handler"]
