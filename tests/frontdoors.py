"""Helpers shared by the front-door tests: sample events, a Lambda context, a loopback HTTP server, and the
webhook held to its OpenAPI document."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = ROOT / "functions"
#: The job uuid and token written in the sample events (tests swap in a real job's).
SAMPLE_UUID = "1b1a7d6e-5c43-5f0e-8a7b-3f2d9c4e6a10"
SAMPLE_TOKEN = "0123456789abcdef"


def sample(function: str, name: str, uuid: str = SAMPLE_UUID, token: str = SAMPLE_TOKEN) -> dict[str, Any]:
    """``functions/<function>/events/<name>.json`` with the sample uuid and token replaced."""
    text = (FUNCTIONS / function / "events" / f"{name}.json").read_text()
    return json.loads(text.replace(SAMPLE_UUID, uuid).replace(SAMPLE_TOKEN, token))


def engine_sample(engine: str, name: str) -> Any:
    """``events/engines/<engine>/<name>.json``: an engine's messages, written from its documented format."""
    return json.loads((ROOT / "events" / "engines" / engine / f"{name}.json").read_text())


def handler_module(function: str) -> ModuleType:
    """Import ``functions/<function>/app.py`` the way Lambda does (a file, not a package)."""
    spec = importlib.util.spec_from_file_location(f"function_{function}_app", FUNCTIONS / function / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def conforming_webhook() -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The webhook's handler, checking every answer on a documented route against the committed OpenAPI
    document: its status must be one the operation lists and its body must match that answer's schema. Tests
    that drive the webhook through this check the contract on every case they already make."""
    from jsonschema import Draft202012Validator
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    from pipelinejobs.api import contract

    document = contract.document()
    registry = Registry().with_resource("urn:openapi", DRAFT202012.create_resource(document))
    handler = handler_module("webhook").handler

    def answer_schema(route_key: str, status: int) -> dict[str, Any] | None:
        method, _, path = route_key.partition(" ")
        operation = document["paths"].get(path, {}).get(method.lower())
        if operation is None:
            return None  # not a documented route (/openapi.json, or a path the API does not have)
        answers = operation["responses"]
        assert str(status) in answers, f"{route_key} answered {status}, which its operation does not list"
        answer = answers[str(status)]
        if "$ref" in answer:
            answer = document["components"]["responses"][answer["$ref"].rsplit("/", 1)[1]]
        if "application/json" not in answer.get("content", {}):
            return None  # a page, a file, or a 304 (the dashboard's): no JSON body to check
        return {"$ref": "urn:openapi" + answer["content"]["application/json"]["schema"]["$ref"]}

    def webhook(request: dict[str, Any], context: Any) -> dict[str, Any]:
        response = handler(request, context)
        schema = answer_schema(request["routeKey"], response["statusCode"])
        if schema is not None:
            Draft202012Validator(schema, registry=registry).validate(json.loads(response["body"]))
        return response

    return webhook


def callback_request(uuid: str, query: dict[str, str], body: str | None, content_type: str = "application/json"):
    """The sample callback event with this job, query and body."""
    request = sample("webhook", "callback-json", uuid)
    request["queryStringParameters"] = query
    request["rawQueryString"] = urlencode(query)
    request["headers"]["content-type"] = content_type
    if body is None:
        request.pop("body")
    else:
        request["body"] = body
    return request


def sqs_event(received: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """The Lambda event for messages got with ReceiveMessage(AttributeNames=["All"]), as the SQS event
    source mapping builds it."""
    return {"Records": [
        {"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
         "attributes": m.get("Attributes", {}), "messageAttributes": {}, "md5OfBody": m["MD5OfBody"],
         "eventSource": "aws:sqs", "eventSourceARN": queue_arn, "awsRegion": queue_arn.split(":")[3]}
        for m in received]}


@dataclasses.dataclass
class LambdaContext:
    function_name: str = "pipelinejobs-test"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:pipelinejobs-test"
    aws_request_id: str = "00000000-0000-4000-8000-000000000000"
    log_group_name: str = "/aws/lambda/pipelinejobs-test"
    log_stream_name: str = "2026/11/22/[$LATEST]0123456789abcdef"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


class LoopbackServer:
    """An HTTP server on 127.0.0.1 answering every POST with ``respond(path, headers, body)``.

    Stands in for a completion-callback receiver, or fronts the webhook handler the way
    API Gateway would, for the WebhookTransport. Use as a context manager.
    """

    def __init__(self, respond: Callable[[str, dict[str, str], bytes], tuple[int, bytes]]):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                outer.requests.append((self.path, dict(self.headers), body))
                status, answer = respond(self.path, dict(self.headers), body)
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> LoopbackServer:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
