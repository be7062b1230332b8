"""The webhook API served locally: HTTP requests as API Gateway HTTP API (payload 2.0) events.

moto's API Gateway does not call Lambda proxy integrations, so the local stack fronts the
webhook function itself, with the same routes (the function's ``HttpApi`` events in
template.yaml) and the same handler. The adapter is thin on purpose: it builds the event API
Gateway would (lower-cased headers with repeats joined by commas, cookies apart, repeated query
parameters joined by commas, a body that is not text in base64) and writes the function's answer
back. Locally the API has the ``$default`` stage, so it is served from the root of its URL.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from ..observability import redact
from .lambda_runtime import ACCOUNT_ID

log = logging.getLogger("pipelinejobs.local")
#: One line per request, as API Gateway's access log: the API's, not a function's (see local/console.py).
access_log = logging.getLogger("pipelinejobs.local.api")

#: API Gateway's own limit on a request's payload.
MAX_BODY_BYTES = 10 * 1024 * 1024
API_ID = "local"
_TEXT_TYPES = re.compile(r"^(text/|application/([\w.+-]*\+)?(json|xml|javascript|x-www-form-urlencoded)\b)", re.I)


@dataclass(frozen=True)
class Route:
    """One route of the API: ``POST /jobs/{uuid}/events`` served by ``function``."""

    method: str
    path: str
    function: Callable[[Any], Any]

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """The path parameters if this route serves the request, else None."""
        if self.method not in (method, "ANY"):
            return None
        found = _pattern(self.path).fullmatch(path)
        return {name: unquote(value) for name, value in found.groupdict().items()} if found else None


def _pattern(path: str) -> re.Pattern[str]:
    """``/jobs/{uuid}`` -> a regex; ``{name+}`` (greedy) matches across slashes."""
    parts = re.split(r"(\{[^}]+\})", path)
    return re.compile("".join(
        (f"(?P<{p[1:-2]}>.+)" if p.endswith("+}") else f"(?P<{p[1:-1]}>[^/]+)") if p.startswith("{") else re.escape(p)
        for p in parts))


@dataclass(frozen=True)
class Request:
    method: str
    target: str  # path and query, as on the request line
    headers: list[tuple[str, str]]
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"


def to_event(request: Request, route: Route, path_parameters: dict[str, str]) -> dict[str, Any]:
    """The API Gateway HTTP API payload 2.0 event for ``request`` on ``route``."""
    split = urlsplit(request.target)
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        if name.lower() == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
        else:
            headers[name.lower()] = f"{headers[name.lower()]},{value}" if name.lower() in headers else value
    query: dict[str, str] = {}
    for name, value in parse_qsl(split.query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    now = time.time()
    host = headers.get("host", "127.0.0.1")
    event: dict[str, Any] = {
        "version": "2.0", "routeKey": route.key, "rawPath": split.path, "rawQueryString": split.query,
        "headers": headers,
        "requestContext": {
            "accountId": ACCOUNT_ID, "apiId": API_ID, "domainName": host, "domainPrefix": host.split(".")[0],
            "http": {"method": request.method, "path": split.path, "protocol": request.protocol,
                     "sourceIp": request.source_ip, "userAgent": headers.get("user-agent", "")},
            "requestId": secrets.token_urlsafe(12), "routeKey": route.key, "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)), "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = path_parameters
    if request.body:
        event["body"], event["isBase64Encoded"] = _body(request.body, headers.get("content-type"))
    return event


def _body(body: bytes, content_type: str | None) -> tuple[str, bool]:
    """Text as it is; anything else (binary, or text that is not UTF-8) in base64, as API Gateway sends it."""
    if content_type is None or _TEXT_TYPES.match(content_type):
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode("ascii"), True


@dataclass(frozen=True)
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def from_result(result: Any) -> Response:
    """A function's answer as API Gateway turns it into HTTP (payload 2.0: without a ``statusCode``,
    the answer itself is the JSON body of a 200)."""
    if not isinstance(result, dict) or "statusCode" not in result:
        return Response(200, [("content-type", "application/json")], json.dumps(result).encode())
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    headers = [(name, str(value)) for name, value in (result.get("headers") or {}).items()]
    headers += [(name, str(value)) for name, values in (result.get("multiValueHeaders") or {}).items()
                for value in values]
    headers += [("set-cookie", cookie) for cookie in result.get("cookies") or []]
    return Response(int(result["statusCode"]), headers, raw)


def _message(status: int, message: str) -> Response:
    return Response(status, [("content-type", "application/json")], json.dumps({"message": message}).encode())


def dispatch(request: Request, routes: Iterable[Route]) -> Response:
    """Route, invoke, answer: API Gateway's part, and its answers when no route or the function fails."""
    path = urlsplit(request.target).path
    for route in routes:
        parameters = route.match(request.method, path)
        if parameters is not None:
            break
    else:
        return _message(404, "Not Found")
    try:
        return from_result(route.function(to_event(request, route, parameters)))
    except Exception:
        log.exception("%s: the function failed", route.key)
        return _message(500, "Internal Server Error")


class ApiServer:
    """``routes`` served on http://HOST:PORT by a threading HTTP server (port 0: a free one)."""

    def __init__(self, routes: list[Route], host: str = "127.0.0.1", port: int = 0):
        self.routes = routes

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                started = time.monotonic()
                length = int(self.headers.get("content-length") or 0)
                if length > MAX_BODY_BYTES:
                    answer = _message(413, "Request Entity Too Large")
                    self.close_connection = True
                else:
                    request = Request(self.command, self.path, list(self.headers.items()), self.rfile.read(length),
                                      self.client_address[0], self.request_version)
                    answer = dispatch(request, routes)
                # Logged before the answer is sent: a client that has its answer finds the line written (the
                # request threads are daemons, which stopping the server does not wait for).
                access_log.info("%s %s %d (%.0f ms)", self.command, redact(self.path), answer.status,
                                (time.monotonic() - started) * 1000)  # callbacks carry ?token=
                self.send_response(answer.status)
                for name, value in answer.headers:
                    if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(name, value)
                self.send_header("content-length", str(len(answer.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(answer.body)

            def __getattr__(self, name: str) -> Any:
                """Every method, TRACE and made-up ones too, is routed: API Gateway answers a method no route
                has with its JSON 404, where http.server would send a 501 HTML page."""
                if name.startswith("do_"):
                    return self._serve
                raise AttributeError(name)

            def log_request(self, *args: Any) -> None:
                """Logged by _serve, once the answer is made."""

            def log_message(self, format: str, *args: Any) -> None:
                """What http.server says of a request it could not parse."""
                log.warning("%s %s", self.address_string(), redact(format % args))

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ApiServer:
        self._thread = threading.Thread(target=self._server.serve_forever, name="webhook-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
