"""DynamoDB faults injected with botocore ``before-send`` hooks on the store's client (DynamoDB Local).

A hook answers in place of the engine (throttling), fails before sending (a connection reset),
or sends the request for real and then drops the answer (a lost answer: DynamoDB did the write,
the caller never heard). Under moto this cannot work: moto's own hook runs first and applies the
request, so a "throttled" write would really have happened.

The store's client is shared by every store of the process (one per region and endpoint), so
each hook is removed when its test ends: use the ``dynamodb_faults`` fixture.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectionClosedError

import pipelinejobs as pj
from pipelinejobs import deadline

#: Decides, from a request, whether a fault applies to it.
Matcher = Callable[[Any], bool]


class _Raw:
    def __init__(self, body: bytes):
        self._body = body

    def stream(self, **_: Any):
        yield self._body


def operation(name: str) -> Matcher:
    """Requests of one DynamoDB operation (e.g. ``TransactWriteItems``)."""
    return lambda request: request.headers.get("X-Amz-Target", b"").decode().endswith(f".{name}")


def naming(text: str) -> Matcher:
    """Requests whose body mentions ``text`` (a job uuid, say)."""
    return lambda request: text.encode() in (request.body or b"")


class DynamoDBFaults:
    """Faults on the store's DynamoDB client; each method returns the counts of matching requests and faults."""

    def __init__(self) -> None:
        self.client = pj.service.get_store()._connection.client
        self._hooks: list[str] = []

    def _add(self, matches: Matcher, times: int, fault: Callable[[Any], Any]) -> dict[str, int]:
        seen = {"calls": 0, "faults": 0}

        def before_send(request: Any, **_: Any) -> Any:
            if not matches(request):
                return None
            seen["calls"] += 1
            if seen["faults"] >= times:
                return None
            seen["faults"] += 1
            return fault(request)

        unique_id = f"fault-{id(before_send)}"
        self.client.meta.events.register_first("before-send.dynamodb", before_send, unique_id=unique_id)
        self._hooks.append(unique_id)
        return seen

    def throttle(self, matches: Matcher, times: int = 10**6) -> dict[str, int]:
        """Answer like a throttled table."""
        def fault(request: Any) -> AWSResponse:
            body = json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                               "message": "Rate of requests exceeds the allowed throughput."}).encode()
            return AWSResponse(request.url, 400, {"Content-Type": "application/x-amz-json-1.0"}, _Raw(body))

        return self._add(matches, times, fault)

    def reset(self, matches: Matcher, times: int = 10**6) -> dict[str, int]:
        """The connection is reset before DynamoDB sees the request."""
        def fault(request: Any) -> None:
            raise ConnectionClosedError(endpoint_url=request.url)

        return self._add(matches, times, fault)

    def lose_answer(self, matches: Matcher, times: int = 10**6) -> dict[str, int]:
        """DynamoDB gets the request and acts on it; its answer is lost on the way back."""
        def fault(request: Any) -> None:
            answer = self.client._endpoint.http_session.send(request)
            assert answer.content is not None  # read whole: the engine has finished with it
            raise ConnectionClosedError(endpoint_url=request.url)

        return self._add(matches, times, fault)

    def clear(self) -> None:
        for unique_id in self._hooks:
            self.client.meta.events.unregister("before-send.dynamodb", unique_id=unique_id)
        self._hooks.clear()


class VirtualClock:
    """Sleeping costs no wall time: ``time.sleep`` advances this clock instead, and the deadline reads real
    time plus what was slept. So backoff (botocore's and the store's) is counted in full against the deadline,
    and a test of the budget asserts on ``elapsed()``, not on how fast the machine is."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, frozen: bool = False):
        """``frozen``: real time does not count either, only what was slept (for a budget with a margin too
        thin for a loaded machine's real time between two lines)."""
        self.slept = 0.0
        self._start = time.monotonic()
        self._frozen = frozen
        monkeypatch.setattr(time, "sleep", self._sleep)
        monkeypatch.setattr(deadline, "_now", self.now)

    def _sleep(self, seconds: float) -> None:
        self.slept += seconds

    def now(self) -> float:
        return (self._start if self._frozen else time.monotonic()) + self.slept

    def elapsed(self) -> float:
        return self.now() - self._start


class LambdaContext:
    """A Lambda context whose remaining time runs down on ``clock``."""

    function_name = "pipelinejobs-test"
    function_version = "$LATEST"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:pipelinejobs-test"
    aws_request_id = "00000000-0000-4000-8000-000000000000"
    log_group_name = "/aws/lambda/pipelinejobs-test"
    log_stream_name = "2026/11/22/[$LATEST]0123456789abcdef"

    def __init__(self, clock: VirtualClock, timeout_seconds: float):
        self.clock, self.timeout = clock, timeout_seconds
        self._end = clock.now() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._end - self.clock.now()) * 1000))
