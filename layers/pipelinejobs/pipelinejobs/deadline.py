"""The time a request may still spend: one deadline, set by the front door, honoured below it.

A Lambda function is killed at its timeout, and a killed function answers
nothing: the webhook's caller sees a 502 or a hang, and an SQS batch is
delivered again whole, healthy records included. So every front door sets the
deadline from the Lambda context (its remaining time, less a margin to answer
and flush logs), and everything that waits honours it: botocore's retries (see
:mod:`.clients`: no attempt is started that could outlive the deadline, no
backoff sleeps past it) and the store's optimistic-locking loop. What could not
be finished in time ends as :class:`~pipelinejobs.errors.OutOfTime`, a
retryable 503.

Outside Lambda (the SDK, the CLI) no front door sets a deadline; the store's
flow then gives each event :data:`DEFAULT_SECONDS`, and botocore's attempt
count bounds everything else.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from .errors import OutOfTime

#: Kept back from a Lambda's remaining time: to write the answer, log and flush metrics.
MARGIN_SECONDS = 1.0
#: The budget of one event applied outside Lambda (SDK, CLI): well above a healthy event's 10-50 ms.
DEFAULT_SECONDS = 20.0

_deadline: ContextVar[float | None] = ContextVar("pipelinejobs_deadline", default=None)


def _now() -> float:
    return time.monotonic()


@contextmanager
def at_most(seconds: float) -> Iterator[None]:
    """Within the block, the deadline is ``seconds`` from now, or the one already set if sooner."""
    current = _deadline.get()
    token = _deadline.set(min(_now() + seconds, current) if current is not None else _now() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


@contextmanager
def from_lambda(context: Any) -> Iterator[None]:
    """The front doors' deadline: the invocation's remaining time less :data:`MARGIN_SECONDS`.

    A context without ``get_remaining_time_in_millis`` (a test's stand-in, a direct call) sets none."""
    remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    if remaining_ms is None:
        yield
        return
    with at_most(max(0.0, remaining_ms() / 1000 - MARGIN_SECONDS)):
        yield


def remaining() -> float | None:
    """Seconds left before the deadline (never negative), or None when no deadline is set."""
    deadline = _deadline.get()
    return None if deadline is None else max(0.0, deadline - _now())


def ensure(seconds: float, doing: str) -> None:
    """Raise OutOfTime unless ``seconds`` are left for ``doing`` (always fine without a deadline)."""
    left = remaining()
    if left is not None and left < seconds:
        raise OutOfTime(f"{doing} could not be done in the {left:.1f} s the request had left; "
                        "retry later")


def sleep(seconds: float, then: float, doing: str) -> None:
    """Sleep ``seconds`` if there is time for that and ``then`` more seconds of work; else OutOfTime."""
    ensure(seconds + then, doing)
    time.sleep(seconds)
