"""Stream function (the table's DynamoDB Stream): the logic lives in pipelinejobs.notify."""

from pipelinejobs.notify import handler

__all__ = ["handler"]
