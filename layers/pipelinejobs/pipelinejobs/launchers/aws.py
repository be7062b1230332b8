"""boto3 clients for the launchers and orchestration: those of :mod:`pipelinejobs.clients` (one factory,
one retry policy, the region read one way)."""

from __future__ import annotations

from ..clients import client

__all__ = ["client"]
