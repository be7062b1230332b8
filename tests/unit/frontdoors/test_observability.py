"""Tokens never reach the logs; metrics carry the event and the reason; tracing is optional."""

from __future__ import annotations

import inspect
import io
import json
import logging
import re
import uuid
from collections.abc import Iterator
from urllib.parse import quote, unquote

import pytest
from aws_lambda_powertools import Logger
from frontdoors import LambdaContext, callback_request, sample
from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws

import pipelinejobs
from pipelinejobs import api, events, observability
from pipelinejobs.errors import InvalidEvent


@pytest.mark.parametrize(("value", "expected"), [
    ({"token": "0123456789abcdef", "uuid": "u"}, {"token": "***", "uuid": "u"}),
    ({"nested": [{"Token": "abc"}, {"taskToken": "AAAA"}]}, {"nested": [{"Token": "***"}, {"taskToken": "***"}]}),
    ("/jobs/u/events?token=0123456789abcdef&status=RUNNING", "/jobs/u/events?token=***&status=RUNNING"),
    ("token=abc&x=1", "token=***&x=1"),
    ('{"uuid": "u", "token": "0123456789abcdef"}', '{"uuid": "u", "token": "***"}'),
    ("the tokenizer=keeps this", "the tokenizer=keeps this"),
    (42, 42),
    # by what the value is: a token-shaped run (16, 32 or 48 hex) wherever it is, whatever its key
    ({"token": ["15f2a0c4e6b8d9f1"], "x": {"y": "0123456789ABCDEF"}}, {"token": "***", "x": {"y": "***"}}),
    ({"data": ["see 0123456789abcdef0123456789abcdef and " + "a1" * 24]}, {"data": ["see *** and ***"]}),
    ({"0123456789abcdef": 1}, {"***": 1}),
    ('{"uuid": "u", "to\\u006ben": "0123456789abcdef"}', '{"uuid": "u", "token": "***"}'),
    ("/jobs/u/events?tok%65n=0123456789abcdef&status=RUNNING", "/jobs/u/events?token=***&status=RUNNING"),
    ("?token=%30123456789abcdef", "?token=***"),
    # by key, however spelled, for what has no shape: task tokens and credentials
    ({"taskToken": "AAAAKgAAAAIAAAAA", "task_token": "x", "X-Pipeline-Token": "y", "authorization": "Bearer z"},
     {"taskToken": "***", "task_token": "***", "X-Pipeline-Token": "***", "authorization": "***"}),
    ('{"task\\u0054oken": "AAAAKgAAAAIAAAAA"}', '{"taskToken": "***"}'),
    ({"action": "launch", "execution": "arn:aws:states:us-east-1:1:execution:m:x", "token": "AQCEAAAAKgAAAAMA+/="},
     {"action": "launch", "execution": "arn:aws:states:us-east-1:1:execution:m:x", "token": "***"}),  # orchestrator
    ("Authorization: Bearer abc.def", "Authorization: ***"),
    # ids and digests of other lengths survive
    *[(kept, kept) for kept in ["job 1b1a7d6e-5c43-5f0e-8a7b-3f2d9c4e6a10 run 0a1b2c3d4e5f", "verify_job_token:52"]],
    ("c-" + "0123456789" * 4, "c-" + "0123456789" * 4),
    ("sha256 " + "ab" * 32, "sha256 " + "ab" * 32),
])
def test_redact(value, expected):
    assert observability.redact(value) == expected


def test_a_problem_never_quotes_a_token_sent_where_it_does_not_belong():
    with pytest.raises(InvalidEvent) as refused:
        events.parse_event({"uuid": "1b1a7d6e-5c43-5f0e-8a7b-3f2d9c4e6a10", "event": ["0123456789abcdef"],
                            "token": ["15f2a0c4e6b8d9f1"], "id": {"k": "fedcba9876543210"}})
    assert refused.value.errors == [
        {"field": "event", "problem": "must be a string, not an array"},
        {"field": "event", "problem": f"an array is not one of {', '.join(pipelinejobs.fsm.EVENTS)}"},
        {"field": "id", "problem": "must be a string, not an object"},
        {"field": "token", "problem": "must be a string, not an array"}]
    with pytest.raises(InvalidEvent) as refused:
        events.parse_event({"uuid": "1b1a7d6e-5c43-5f0e-8a7b-3f2d9c4e6a10", "event": "0123456789abcdef"})
    assert "0123456789abcdef" not in str(refused.value)


# ---- the webhook with Powertools' event logging on: the issue's reproductions ---------------------------


@pytest.fixture
def logged(aws_env, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[io.StringIO, object]]:
    """The webhook's handler decorated afresh with POWERTOOLS_LOGGER_LOG_EVENT on (Powertools reads it when it
    decorates), the process logger writing into a buffer, and a table in moto."""
    monkeypatch.setenv("POWERTOOLS_LOGGER_LOG_EVENT", "true")
    buffer = io.StringIO()
    handler = observability.logger().registered_handler
    previous = handler.setStream(buffer)
    try:
        with mock_aws():
            pipelinejobs.create_tables()
            yield buffer, observability.lambda_entry(inspect.unwrap(api.handler))
    finally:
        handler.setStream(previous)


def _job() -> pipelinejobs.PipelineJob:
    return pipelinejobs.PipelineJob(pipelinejobs.register_pipeline("redacted").uuid, {"n": 1}).setup()


def _assert_no_token(output: str, token: str) -> None:
    assert '"rawPath"' in output  # the event itself was logged
    assert token not in output.lower()
    assert not re.search(r"(?<![0-9a-f])([0-9a-f]{16}|[0-9a-f]{32}|[0-9a-f]{48})(?![0-9a-f])", output.lower())


def test_a_token_sent_as_a_list_or_an_object_is_not_echoed(logged):
    buffer, webhook = logged
    job = _job()
    for token in ([job.token], {"value": job.token}):
        request = sample("webhook", "post-event", job.uuid)
        request["body"] = json.dumps({"uuid": job.uuid, "event": "run", "token": token})
        response = webhook(request, LambdaContext())
        assert response["statusCode"] == 400
        assert job.token not in response["body"]
    assert "event refused" in buffer.getvalue()
    _assert_no_token(buffer.getvalue(), job.token)


def test_a_json_key_spelled_with_a_unicode_escape_is_redacted(logged):
    buffer, webhook = logged
    job = _job()
    request = sample("webhook", "post-event", job.uuid)
    request["body"] = f'{{"uuid": "{job.uuid}", "event": "run", "to\\u006ben": "{job.token}"}}'
    assert webhook(request, LambdaContext())["statusCode"] == 200  # it is the token: the event is applied
    _assert_no_token(buffer.getvalue(), job.token)


def test_a_percent_encoded_query_key_is_redacted(logged):
    buffer, webhook = logged
    job = _job()
    request = callback_request(job.uuid, {"token": job.token, "status": "RUNNING"}, None)
    request["rawQueryString"] = f"tok%65n={quote(job.token)}&status=RUNNING"  # API Gateway decodes the key
    assert webhook(request, LambdaContext())["statusCode"] == 200
    _assert_no_token(buffer.getvalue(), job.token)


# ---- a property: whatever the structure and the spelling, no token-shaped value survives ----------------

TOKEN_SHAPED = re.compile(r"(?<![0-9a-f])(?:[0-9a-f]{48}|[0-9a-f]{32}|[0-9a-f]{16})(?![0-9a-f])")
tokens = st.sampled_from([16, 32, 48]).flatmap(lambda n: st.text("0123456789abcdef", min_size=n, max_size=n))
keys = st.sampled_from(["token", "Token", "TOKEN", "taskToken", "task_token", "x-pipeline-token", "authorization",
                        "data", "note", "", "to\\u006ben", "tok%65n", "%74oken"])


@st.composite
def spelled(draw, token: str) -> str:
    """``token`` as a sender or a log line may spell it: as it is, uppercased, percent-encoded character by
    character, with JSON unicode escapes, or inside text."""
    form = draw(st.sampled_from(["plain", "upper", "percent", "escaped", "text"]))
    if form == "upper":
        return token.upper()
    if form == "percent":
        return "".join(f"%{ord(c):02X}" if draw(st.booleans()) else c for c in token)
    if form == "escaped":
        return "".join(f"\\u{ord(c):04x}" if draw(st.booleans()) else c for c in token)
    if form == "text":
        return f"{draw(st.sampled_from(['', 'see ', '/x?', 'k=']))}{token}{draw(st.sampled_from(['', ' ok', '&a=b']))}"
    return token


@st.composite
def holding(draw) -> tuple[str, object]:
    """A token, and a structure holding it (spelled some way) under some key at some depth, or in raw JSON or
    query text."""
    token = draw(tokens)
    value: object = draw(spelled(token))
    for _ in range(draw(st.integers(0, 4))):
        wrap = draw(st.sampled_from(["dict", "list", "key", "json", "query"]))
        key = draw(keys)
        if wrap == "dict":
            value = {key: value, draw(st.text(max_size=5)): draw(st.text(max_size=5))}
        elif wrap == "list":
            value = [draw(st.integers()), value]
        elif wrap == "key" and isinstance(value, str):
            value = {value: draw(st.text(max_size=5))}
        elif wrap == "json":
            value = json.dumps({key: value}).replace('"token"', '"to\\u006ben"')
        elif wrap == "query" and isinstance(value, str):
            value = f"{quote(key)}={quote(value)}&status=RUNNING"
    return token, value


def _plain(text: str) -> str:
    """``text`` with percent-encoding and JSON unicode escapes undone, however deep."""
    for _ in range(4):
        text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m[1], 16)), unquote(text))
    return text


@given(holding())
def test_no_token_shaped_value_survives_redaction(case):
    token, value = case
    logged = _plain(json.dumps(observability.redact(value))).lower()
    assert token not in logged
    assert not TOKEN_SHAPED.search(logged)


def test_logged_events_and_messages_carry_no_token():
    assert isinstance(observability.logger().registered_formatter, observability.RedactingFormatter)
    buffer = io.StringIO()
    log = Logger(service=f"redaction-{uuid.uuid4().hex[:12]}", logger_handler=logging.StreamHandler(buffer),
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
