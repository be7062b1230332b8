"""Events function (direct invoke, SQS, EventBridge Batch/ECS): the logic lives in pipelinejobs.intake."""

from pipelinejobs.intake import handler

__all__ = ["handler"]
