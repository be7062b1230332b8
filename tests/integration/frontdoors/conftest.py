"""Fixtures for the front-door tests on DynamoDB Local: a table made from template.yaml, a job, and
the three doors an event can come through, each driven with the sample events beside its function."""

from __future__ import annotations

import json
import uuid as uuidlib
from collections.abc import Callable
from typing import Any

import pytest
from frontdoors import LambdaContext, callback_request, conforming_webhook, handler_module, sample

import pipelinejobs
from pipelinejobs import PipelineJob

import support

#: A door takes (uuid, event, token, data) and returns (status code, body as a dict).
Door = Callable[[str, str, "str | None", dict[str, Any]], tuple[int, dict[str, Any]]]


@pytest.fixture
def tables(ddb_env):
    pipelinejobs.create_tables()
    return ddb_env


@pytest.fixture
def job(tables) -> PipelineJob:
    return support.new_job("frontdoor-tests", {"case": uuidlib.uuid4().hex})


@pytest.fixture
def table_items(tables) -> Callable[[], list[dict]]:
    """Every item in the test's table, sorted: compare two calls to see what was written."""
    return support.table_items


@pytest.fixture(scope="session")
def webhook():
    return conforming_webhook()


@pytest.fixture(scope="session")
def events_function():
    return handler_module("events").handler


def _http_answer(response: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return response["statusCode"], json.loads(response["body"])


@pytest.fixture(params=["callback", "post_events", "direct_invoke"])
def door(request, webhook, events_function) -> Door:
    """Each way an event reaches a job from outside AWS (all three check tokens)."""

    def via_callback(uuid, event, token, data):
        query = {"event": event, **({"token": token} if token else {})}
        return _http_answer(webhook(callback_request(uuid, query, json.dumps(data)), LambdaContext()))

    def message(uuid, event, token, data):
        return {"uuid": uuid, "event": event, "data": data, **({"token": token} if token else {})}

    def via_post_events(uuid, event, token, data):
        http = sample("webhook", "post-event")
        http["body"] = json.dumps(message(uuid, event, token, data))
        return _http_answer(webhook(http, LambdaContext()))

    def via_direct_invoke(uuid, event, token, data):
        answer = events_function(message(uuid, event, token, data), LambdaContext())
        return answer["statusCode"], answer["body"]

    return {"callback": via_callback, "post_events": via_post_events, "direct_invoke": via_direct_invoke}[
        request.param]
