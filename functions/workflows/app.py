"""Workflows function (the table's DynamoDB Stream): releases workflows' jobs; the logic is in the layer."""

from pipelinejobs.workflows.release import handler

__all__ = ["handler"]
