"""What the local stack's console says of a log record (its runs: tests/integration/test_local_stack.py)."""

from __future__ import annotations

import json
import logging
import threading

from pipelinejobs.local.console import JsonFormatter, ReadableFormatter, _tag, serving
from pipelinejobs.local.lambda_runtime import InProcessFunction, LambdaContext

UUID = "4eda8f66-650d-5f95-b89b-0cd5c56ab3ad"


def record(name: str, message: str, level: int = logging.INFO, **extra) -> logging.LogRecord:
    made = logging.makeLogRecord({"name": name, "msg": message, "levelno": level,
                                  "levelname": logging.getLevelName(level), **extra})
    _tag(made)
    return made


def test_a_functions_line_is_named_by_the_function_its_thread_runs_not_by_the_last_one_started():
    lines: dict[str, str] = {}

    def webhook(event, context):
        started.set()
        other.wait(5)  # the orchestrator starts meanwhile, on another thread
        lines["webhook"] = ReadableFormatter().format(record("pipelinejobs", "event refused", logging.WARNING,
                                                              uuid=UUID, status=401, token="secret"))

    def orchestrator(event, context):
        lines["orchestrator"] = ReadableFormatter().format(record("pipelinejobs", "run superseded"))
        other.set()

    started, other = threading.Event(), threading.Event()
    thread = threading.Thread(target=InProcessFunction("pipelinejobs-local-WebhookFunction", webhook), args=({},))
    thread.start()
    started.wait(5)
    InProcessFunction("pipelinejobs-local-OrchestratorFunction", orchestrator)({})
    thread.join(5)

    assert lines["webhook"].split()[1:] == ["Webhook", "WARNING", "event", "refused:", "uuid=4eda8f66", "status=401",
                                            "token=***"]
    assert lines["orchestrator"].split()[1:] == ["Orchestrator", "run", "superseded"]


def test_the_apis_line_is_the_apis_and_a_long_or_multiline_message_stays_one_short_line():
    with serving(LambdaContext("pipelinejobs-local-WebhookFunction")):  # even on a thread serving a function
        api = record("pipelinejobs.local.api", "POST /jobs/x/events?token=abc&status=RUNNING 401 (3 ms)")
    assert api.function == "pipelinejobs-local-WebhookFunction"
    api.function = None  # the API's own thread serves no function
    assert ReadableFormatter().format(api).split()[1:4] == ["api", "POST", "/jobs/x/events?token=***&status=RUNNING"]
    long = ReadableFormatter().format(record("moto.stepfunctions", "Exception=\n" + "x" * 5000, logging.ERROR))
    assert "\n" not in long and len(long) <= 240 and long.split()[1:3] == ["moto", "ERROR"]


def test_the_stacks_json_lines_carry_the_extras_and_no_token():
    line = json.loads(JsonFormatter().format(record("pipelinejobs.local.api", "GET /jobs/x?token=abc 200",
                                                    status=200)))
    assert line["logger"] == "pipelinejobs.local.api" and line["status"] == 200
    assert line["message"] == "GET /jobs/x?token=*** 200" and "function" not in line
