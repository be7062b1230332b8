"""Orchestrator: the task steps of the job state machine (statemachines/pipelinejob.asl.json).

One function serves every step, dispatching on the ``action`` each Task state puts
in its payload (launch, check, recover): the steps share their code, permissions
and warm containers, and a job's whole run needs one function's concurrency.
An error raised here reaches Step Functions as its type name (``errorType``), so
the state machine's Retry and Catch match on it.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from pipelinejobs.orchestration.handlers import handle

logging.getLogger().setLevel(os.environ.get("POWERTOOLS_LOG_LEVEL", "INFO"))


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event)
