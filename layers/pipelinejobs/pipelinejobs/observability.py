"""Logs, metrics and traces for the Lambda front doors (Powertools), with tokens kept out of logs.

Tokens travel in query strings (``?token=...``), headers (``Authorization``) and
message bodies (``"token": ...``), and Powertools can be told to log whole Lambda
events (``POWERTOOLS_LOGGER_LOG_EVENT``), so redaction happens in the formatter:
every record is scrubbed on its way out, whoever wrote it. It goes by what a value
*is*, not by how its key is spelled (a sender chooses the spelling: ``"to\\u006ben"``
in JSON text, ``tok%65n=`` in a query): see :mod:`.redaction`.

Metrics are one EMF line per event (``single_metric``), because each needs its
own dimensions (the event, and for rejections the reason) and EMF shares one
dimension set per flushed batch. Tracing is active only where ``aws-xray-sdk``
is installed (Powertools' Tracer cannot start without it); elsewhere a no-op
stands in, so handlers are decorated the same way everywhere.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from . import fsm
from .redaction import redact

NAMESPACE = "PipelineJobs"


class RedactingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON formatter, scrubbing tokens from every record before it is written."""

    def serialize(self, log: dict[str, Any]) -> str:
        return super().serialize(redact(log))


@functools.cache
def logger() -> Logger:
    """The one Powertools Logger of the process (service name from POWERTOOLS_SERVICE_NAME)."""
    return Logger(logger_formatter=RedactingFormatter())


def correlate(uuid: Any) -> None:
    """Tag every following log line with the job's uuid (cleared when there is none, or it is junk)."""
    logger().set_correlation_id(uuid if isinstance(uuid, str) and len(uuid) <= 64 else None)


def event_label(event: Any) -> str:
    """The event as a metric dimension or log field: only known names, so a sender's junk can
    neither explode metric cardinality nor flood the logs."""
    return event if isinstance(event, str) and event in fsm.EVENTS else "invalid"


def count_applied(event: str, source: str) -> None:
    with single_metric(name="EventsApplied", unit=MetricUnit.Count, value=1, namespace=NAMESPACE) as metric:
        metric.add_dimension("event", event_label(event))
        metric.add_dimension("source", source)


def count_rejected(event: Any, reason: str, source: str) -> None:
    with single_metric(name="EventsRejected", unit=MetricUnit.Count, value=1, namespace=NAMESPACE) as metric:
        metric.add_dimension("event", event_label(event))
        metric.add_dimension("reason", reason)
        metric.add_dimension("source", source)


class _NoTracer:
    """Stands in for Powertools' Tracer where aws-xray-sdk is not installed."""

    @staticmethod
    def capture_lambda_handler(handler: Callable) -> Callable:
        return handler

    @staticmethod
    def capture_method(method: Callable) -> Callable:
        return method


@functools.cache
def tracer() -> Any:
    """Powertools' Tracer when aws-xray-sdk is importable, else a no-op with the same decorators."""
    if importlib.util.find_spec("aws_xray_sdk") is None:
        return _NoTracer()
    from aws_lambda_powertools import Tracer

    return Tracer()


def lambda_entry(handler: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """Decorate a Lambda handler: Lambda context in the logs, cold-start flag, and a trace segment."""
    return logger().inject_lambda_context(tracer().capture_lambda_handler(handler))
