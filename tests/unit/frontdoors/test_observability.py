"""Tokens never reach the logs; metrics carry the event and the reason; tracing is optional."""

from __future__ import annotations

import io
import json
import logging
import uuid

import pytest
from aws_lambda_powertools import Logger

from pipelinejobs import observability


@pytest.mark.parametrize(("value", "expected"), [
    ({"token": "0123456789abcdef", "uuid": "u"}, {"token": "***", "uuid": "u"}),
    ({"nested": [{"Token": "abc"}, {"taskToken": "AAAA"}]}, {"nested": [{"Token": "***"}, {"taskToken": "***"}]}),
    ("/jobs/u/events?token=0123456789abcdef&status=RUNNING", "/jobs/u/events?token=***&status=RUNNING"),
    ("token=abc&x=1", "token=***&x=1"),
    ('{"uuid": "u", "token": "0123456789abcdef"}', '{"uuid": "u", "token": "***"}'),
    ("the tokenizer=keeps this", "the tokenizer=keeps this"),
    (42, 42),
])
def test_redact(value, expected):
    assert observability.redact(value) == expected


def test_logged_events_and_messages_carry_no_token():
    assert isinstance(observability.logger().registered_formatter, observability.RedactingFormatter)
    buffer = io.StringIO()
    log = Logger(service=f"redaction-{uuid.uuid4().hex}", logger_handler=logging.StreamHandler(buffer),
                 logger_formatter=observability.RedactingFormatter())
    raw_event = {"rawQueryString": "token=0123456789abcdef&status=RUNNING",
                 "queryStringParameters": {"token": "0123456789abcdef"},
                 "body": '{"uuid": "u", "event": "run", "token": "fedcba9876543210"}'}
    log.info(raw_event)
    log.warning("callback https://api/x?token=0123456789abcdef failed", extra={"message_body": raw_event["body"]})
    output = buffer.getvalue()
    assert output.count("***") == 5
    assert "0123456789abcdef" not in output and "fedcba9876543210" not in output


def _emf(output: str) -> list[dict]:
    return [line for line in map(json.loads, output.splitlines()) if "_aws" in line]


def test_metrics_are_counted_by_event_source_and_reason(capsys):
    observability.count_applied("run", "webhook")
    observability.count_rejected("finish", "InvalidTransition", "sqs")
    observability.count_rejected("<script>", "InvalidEvent", "webhook")
    applied, refused, junk = _emf(capsys.readouterr().out)
    assert applied["EventsApplied"] == [1.0] and (applied["event"], applied["source"]) == ("run", "webhook")
    assert refused["EventsRejected"] == [1.0]
    assert (refused["event"], refused["reason"]) == ("finish", "InvalidTransition")
    assert refused["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["event", "reason", "source"]]
    assert junk["event"] == "invalid"  # sender-chosen strings never become dimension values


def test_without_aws_xray_sdk_the_tracer_is_a_no_op(monkeypatch):
    observability.tracer.cache_clear()
    monkeypatch.setattr(observability.importlib.util, "find_spec", lambda name: None)
    try:
        tracer = observability.tracer()

        def handler(event, context):
            return event

        assert tracer.capture_lambda_handler(handler) is handler
        assert tracer.capture_method(handler) is handler
    finally:
        observability.tracer.cache_clear()


def test_with_aws_xray_sdk_it_is_powertools_tracer():
    pytest.importorskip("aws_xray_sdk")
    from aws_lambda_powertools import Tracer

    observability.tracer.cache_clear()
    assert isinstance(observability.tracer(), Tracer)
