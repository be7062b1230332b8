"""Orchestrator function: the Step Functions task steps (launch, check, recover); the logic is in the layer."""

from pipelinejobs.orchestration.handlers import handler

__all__ = ["handler"]
